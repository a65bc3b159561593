"""The staggered-adoption control-group study in words: the plain summary (the roll-out's average
effect and how it moved with time since adoption) and the caveats."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.designs.control_group import sensitivity
from sqresearch.designs.control_group.words import fmt_effect, fmt_value
from sqresearch.report import tables
from sqresearch.stats import verdicts

_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
            8: "eight", 9: "nine", 10: "ten"}


def waves(k: int) -> str:
    return f"{_NUMBERS.get(k, k)} roll-out wave" + ("s" if k != 1 else "")


def _size(m, value: float, scale: str) -> str:
    """The size of an effect without its sign: '18 %', '0.12 points'."""
    return fmt_value(m, value, scale).lstrip("+−-")


def last_event(dynamic: pd.DataFrame) -> pd.Series | None:
    """The latest event time (≥ 0) estimated from two or more cohorts (the last one from a
    single cohort when no later one has two)."""
    post = dynamic[dynamic["level"].notna() & (dynamic["level"] >= 0)]
    if post.empty:
        return None
    several = post[post["cohorts"] >= 2]
    return (several if len(several) else post).iloc[-1]


def plain_sentence(study, m) -> str:
    """'The roll-out reduced first-response time by 18 % on average across the three roll-out
    waves; the effect grew from 9 % in the first month to 24 % by month 6.'"""
    r, e = study.results_by_metric[m.name], study.verdict(m.name)
    scale, word = e.scale, study.period_word
    k = len(study.cohort_sizes)
    est = e.estimate
    if not math.isfinite(est):
        return f"The effect on {m.label} could not be estimated."
    label = m.label[0].lower() + m.label[1:]
    if e.verdict == "equivalent":  # a change too small to matter: no verb claiming one
        out = (f"The roll-out left {label} within the smallest effect of interest "
               f"({fmt_value(m, est, scale)} on average across the {waves(k)})")
    else:
        verb = "reduced" if est < 0 else "increased"
        out = (f"The roll-out {verb} {label} by {_size(m, est, scale)} on average across the "
               f"{waves(k)}")
    if e.verdict == "inconclusive":
        out += " — but the interval also holds no change"
    dyn = r.dynamic
    if dyn is None:
        return out + "."
    first = dyn[dyn["level"] == 0]
    last = last_event(dyn)
    if first.empty or last is None or int(last["level"]) == 0:
        return out + "."
    a, b = float(first["estimate"].iloc[0]), float(last["estimate"])
    same = a * b > 0
    how = "grew" if same and abs(b) > abs(a) else "shrank" if same else "went"
    show = (lambda v: _size(m, v, scale)) if same else (lambda v: fmt_value(m, v, scale))
    return (out + f"; the effect {how} from {show(a)} in the first {word} to {show(b)} by "
            f"{word} {int(last['level']) + 1}" + ("" if last["cohorts"] >= 2 else
                                                  " (the earliest wave only)") + ".")


def summary_lines(study) -> list[str]:
    p, sizes = study.params, study.cohort_sizes
    n_t = int(sizes.sum())
    n_c = int((study.cohort == 0).sum())
    lines = [f"**What was compared.** {n_t} units ({p.unit}) adopting in "
             f"{waves(len(sizes))} (" + ", ".join(f"{g}: {n}" for g, n in sizes.items())
             + f") and {n_c} never-treated units, {len(study.periods)} {study.period_word}s "
             f"({study.periods[0]} to {study.periods[-1]}). Each wave is compared with the "
             f"{study.comparison_words} units over the same {study.period_word}s (Callaway & "
             f"Sant'Anna), never with units treated earlier; units ({p.unit}) are the clusters. "
             "The primary metrics form the confirmatory family (Holm); segments are "
             "exploratory."]
    for m in study.metrics:
        e = study.verdict(m.name)
        fam = (f"confirmatory, Holm-adjusted {tables.fmt_p(e.p_adjusted)}"
               if e.family == "confirmatory" else f"exploratory, {tables.fmt_p(e.p_value)}")
        lines.append(f"- **{m.label}**: {fmt_value(m, e.estimate, e.scale)} "
                     f"({100 * e.ci_level:.3g} % CI {fmt_value(m, e.ci_low, e.scale)} "
                     f"to {fmt_value(m, e.ci_high, e.scale)}; {fam}; overall ATT, multiplier "
                     f"bootstrap on {e.clusters} units, {e.treated_clusters} treated; smallest "
                     f"effect of interest {verdicts.fmt_sesoi(e.sesoi, e.sesoi_unit)}) — "
                     f"**{e.verdict}**. {plain_sentence(study, m)}")
    lines += [f"Goal *{gl.goal}*: **{gl.status}**." for gl in study.goals.itertuples()]
    lines.append(sensitivity.sentence(study))
    n_cav = tables.count(len(caveats(study)), "caveat").capitalize()
    lines.append(f"{n_cav} to read (see Caveats).")
    return lines


def twfe_differs(r) -> bool:
    """The naive TWFE estimate lies outside the CS overall ATT's CI, or the CS CI excludes no
    effect and TWFE differs from it by more than 25 %."""
    o, tw = r.overall, r.twfe["estimate"]
    cs = float(o["estimate"])
    if not (o["ci_low"] <= tw <= o["ci_high"]):
        return True
    return (o["ci_low"] > 0 or o["ci_high"] < 0) and abs(tw - cs) > 0.25 * abs(cs)


def twfe_caveat(study, r) -> str:
    m, alpha = r.metric, study.params.alpha
    scale = "log" if m.log else "linear"
    later = r.bacon.loc[r.bacon["type"] == "later vs earlier", "weight"].sum()
    tw, o = r.twfe, r.overall
    return (f"**The naive two-way fixed-effects estimate misleads here.** {m.label}: TWFE gives "
            f"{fmt_effect(m, tw['estimate'], tw['ci_low'], tw['ci_high'], scale, alpha)}"
            ", the Callaway–Sant'Anna overall ATT "
            f"{fmt_effect(m, o['estimate'], o['ci_low'], o['ci_high'], scale, alpha)}"
            f". {100 * later:.0f} % of the TWFE weight is on comparisons of later-adopting units "
            "against units already treated (Goodman-Bacon decomposition); when effects grow "
            "with time since adoption these comparisons pull TWFE toward zero or past it. The "
            "verdict rests on the Callaway–Sant'Anna estimate.")


def caveats(study) -> list[str]:
    p, out = study.params, []
    smallest = int(study.cohort_sizes.min())
    if smallest < 25:
        out.append(f"**Event-time band too narrow with few units per cohort.** The smallest "
                   f"cohort has {tables.count(smallest, 'unit')}. With fewer than about 25 "
                   "units per cohort the simultaneous band over the event times covers all of "
                   "them less often than it says (familywise error 13 % at 5 units per cohort, "
                   "8 % at 10, in the calibration of stats/staggered): read the band as "
                   "indicative. The overall effect's interval is calibrated (4.8–5.2 % false "
                   "positives with 5 to 25 units per cohort).")
    seen = set()
    for r in study.results_by_metric.values():
        for c in r.caveats:
            if c not in seen:
                seen.add(c)
                out.append(f"**{r.metric.label}.** {c[0].upper() + c[1:]}")
        if r.twfe is not None and twfe_differs(r):
            out.append(twfe_caveat(study, r))
        pre = r.dynamic[(r.dynamic["level"] < 0) & r.dynamic["level"].notna()] \
            if r.dynamic is not None else pd.DataFrame()
        off = pre[(pre["band_low"] > 0) | (pre["band_high"] < 0)]
        if len(off):
            out.append(f"**Differences before adoption.** {r.metric.label}: the event-time "
                       f"estimates at {', '.join(str(int(k)) for k in off['level'])} "
                       f"{study.period_word}s before adoption lie outside the simultaneous "
                       "band around 0; the units did not move in parallel before adopting, and "
                       "the effect estimates may carry that difference.")
    out.append("**Parallel trends and no anticipation are assumptions.** Each wave's change is "
               f"compared with the {study.comparison_words} units' change; the estimate is "
               "unbiased only if the waves would have moved like them without the roll-out, and "
               "if nothing changed in a unit before its adoption date.")
    if study.tickets:
        out.append(f"**Adoption inside a {p.panel_freq}.** The {p.panel_freq} holding a unit's "
                   "adoption date is its first treated period (event time 0); an adoption late "
                   "in that period makes its event-time-0 effect look smaller.")
    out.append("**Spill-over.** If units share staff, customers or queues, the comparison units "
               "are partly treated and the effect is understated.")
    out.append("**Adoption order not randomized.** If the first waves were chosen for their "
               "outcomes (e.g. the slowest regions first), regression to the mean can pass for "
               "an effect.")
    return out
