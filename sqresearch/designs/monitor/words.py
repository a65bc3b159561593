"""The monitor's sentences: each problem in plain words, the summary and the five-line meeting
summary (Markdown, written beside the report as summary.md)."""

from __future__ import annotations

import math

from scipy import stats

from sqresearch.report.tables import count

ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth",
           7: "seventh", 8: "eighth"}


def scale(kind: str, value: float) -> float:
    """A check's value on the metric's own scale (durations: geometric mean, minutes)."""
    return math.exp(value) if kind == "duration" else value


def shown(kind: str, unit: str, value: float) -> str:
    v = scale(kind, value)
    if unit == "share":
        return f"{100 * v:.1f} %"
    if kind == "duration":
        return f"{v:.1f} {unit}"
    return f"{v:.2f}" if unit == "score" else f"{v:.1f} {unit}".strip()


def change(r, alpha: float) -> tuple[str, float, float, float]:
    """(words, estimate, ci_low, ci_high) of this week against the baseline: a ratio for
    durations, a difference otherwise (percentage points for shares), with the 1 − alpha
    interval from the check's expected SE (which holds the baseline's uncertainty)."""
    z = stats.norm.isf(alpha / 2)
    d, se = r.this_week - r.baseline, r.expected_se
    lo, hi = d - z * se, d + z * se
    if r.kind == "duration":
        e, lo, hi = math.exp(d), math.exp(lo), math.exp(hi)
        return f"× {e:.2f} ({100 * (1 - alpha):.0f} % CI × {lo:.2f} to × {hi:.2f})", e, lo, hi
    if r.unit == "share":
        return (f"{100 * d:+.1f} points ({100 * (1 - alpha):.0f} % CI {100 * lo:+.1f} to "
                f"{100 * hi:+.1f})"), d, lo, hi
    return f"{d:+.2f} ({100 * (1 - alpha):.0f} % CI {lo:+.2f} to {hi:+.2f})", d, lo, hi


def age(n: int) -> str:
    return "new this week" if n <= 1 else f"{ORDINAL.get(n, f'{n}th')} week running"


def impact_words(r) -> str:
    what = {"rate": "tickets with a bad outcome", "duration": "slower than the baseline's "
            "median", "score": "scores below the baseline's median"}[r.kind]
    if r.type == "nps":
        what = "detractors"
    elif r.kind == "rate":
        what = {"fcr": "not resolved at first contact", "reopen": "reopened",
                "complaint": "complaints"}.get(r.kpi, "missing the target")
    s = f"{r.excess:+.0f} tickets {what} beyond the baseline rate"
    if r.kind == "duration" and not math.isnan(r.excess_hours):
        s += f" ({r.excess_hours:+.1f} customer-hours of waiting)"
    return s


def driver_words(r) -> str:
    if not r.driver_by:
        return "the cell itself changed (no finer segment to split it by)"
    if r.driver == "mix":
        return (f"mix: more tickets came from {r.driver_by} {r.driver_top}, whose level "
                f"differs; the rates within each {r.driver_by} explain less "
                f"(mix {r.mix_effect:+.3g}, rate {r.rate_effect:+.3g} on the metric's scale)")
    return (f"rate: the {r.driver_by} levels themselves got worse, most of all "
            f"{r.driver_top} (rate {r.rate_effect:+.3g}, mix {r.mix_effect:+.3g})")


def problem_sentence(r, alpha: float) -> str:
    ch = change(r, alpha)[0]
    return (f"**{r.label}, {r.cell}** — {shown(r.kind, r.unit, r.this_week)} this week against "
            f"{shown(r.kind, r.unit, r.baseline)} at baseline, {ch}; {age(r.age)}. "
            f"{impact_words(r)}.")


def summary_lines(study) -> list[str]:
    a, p, top = study.alerts, study.params, study.top
    out = [f"Week {study.week}: {a.n_judged} of {a.n_cells} metric × cell checks judged; "
           f"{count(int(a.table['alert'].sum()), 'alert')}, about {a.expected_false:g} expected "
           f"by chance when nothing changed ({_control(a)}); "
           f"{count(len(study.problems), 'problem')} "
           "after grouping."]
    for i, r in enumerate(top.itertuples(), 1):
        out.append(f"{i}. {problem_sentence(r, p.alpha)} Driver: {driver_words(r)}.")
    better = a.table[a.table["direction"] == "better"]
    if len(better):
        cells = ", ".join(f"{study.label(k)} ({c})" for k, c in
                          better[["kpi", "cell"]].head(5).itertuples(index=False))
        out.append(f"Better than baseline (good news, not alerts): {cells}.")
    if not len(top):
        out.append("No cell is worse than its baseline beyond the limits this week.")
    return out


def _control(a) -> str:
    if a.control == "bh":
        return f"Benjamini–Hochberg across cells, FDR {a.expected_false:g}"
    return f"each cell judged at the one-sided level {a.level:.2g}"


#: what Markdown (and chat renderers) read as markup or mentions (a data value never starts a
#: line here, so list and heading marks in it are harmless)
_MARKUP = set("\\`*_{}[]()#!|<>~@")


def md(value) -> str:
    """Text from the data or the params, literal in Markdown: each markup character escaped
    with a backslash (CommonMark escapes any ASCII punctuation), "://" (a bare link) and "&"
    before a letter or "#" (an HTML entity) escaped too, line breaks as spaces: a segment value
    or a complaint term cannot bold, link, mention or break a line."""
    text = " ".join(str(value).split())
    out = []
    for i, c in enumerate(text):
        nxt = text[i + 1:i + 3]
        if c in _MARKUP or (c == ":" and nxt == "//") or \
                (c == "&" and nxt[:1] and (nxt[0].isalpha() or nxt[0] == "#")):
            out.append("\\")
        out.append(c)
    return "".join(out)


def meeting_summary(study) -> str:
    """Five lines of Markdown for the meeting chat: the week, up to three problems, and the
    improvement log (or the text's rising theme). Everything taken from the data, the params
    or the log is escaped (``md``)."""
    a, p = study.alerts, study.params
    lines = [f"**{md(study.params.title)} — week {study.week}**: "
             f"{count(int(a.table['alert'].sum()), 'alert')} in {a.n_judged} checks "
             + (f"(at most {a.expected_false:g} expected by chance)." if a.control == "per_cell"
                else f"(chance of any false alert at most {100 * a.expected_false:g} %).")]
    for i, r in enumerate(study.top.head(3).itertuples(), 1):
        lines.append(f"{i}. {md(r.label)} ({md(r.cell)}): {change(r, p.alpha)[0]}, {age(r.age)}; "
                     f"{impact_words(r)}.")
    while len(lines) < 4:
        lines.append(f"{len(lines)}. —")
    checks = study.pdca
    if checks:
        due = [c for c in checks if c.get("act")]
        lines.append(f"PDCA: {count(len(checks), 'open item')}; {len(due)} checked this week"
                     + (": " + "; ".join(f"{md(c['id'])} → {md(c['act'])}" for c in due[:2])
                        if due else "."))
    elif study.text is not None and study.text.terms is not None:
        rose = study.text.terms
        rose = rose[(rose["direction"] == "rose") & (rose["p_holm"] <= p.alpha)]
        lines.append("Complaint terms rising: " + (", ".join(map(md, rose["term"].head(5)))
                                                   or "none")
                     + ".")
    else:
        lines.append("No improvement items are open.")
    return "\n".join(lines[:5]) + "\n"
