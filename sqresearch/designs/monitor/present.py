"""The monitor's report sections: tables, paragraphs and figures, one per template cell."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.designs.monitor import words
from sqresearch.designs.monitor.weekly import ALL, shift_week
from sqresearch.designs.scorecard.display import Bundle, Figure, Table, Text
from sqresearch.report import tables


def summary_text(study) -> Text:
    return Text("\n\n".join(words.summary_lines(study)))


def alert_overview(study) -> Table:
    s = study.alerts.summary().iloc[0]
    a = study.alerts
    rows = [("Report week", study.week),
            ("Baseline", _baseline_words(study)),
            ("Checks (metric × cell)", f"{s['cells']:,}"),
            ("Judged", f"{s['judged']:,} (the rest: too few tickets or baseline weeks)"),
            ("False-alarm control", words._control(a)),
            ("Alerts by chance when nothing changed" if a.control == "per_cell" else
             "Chance of any alert when nothing changed", f"at most {a.expected_false:g}"),
            ("Alerts (worse)", f"{s['alerts']}"), ("Better than baseline", f"{s['better']}")]
    return Table(pd.DataFrame(rows, columns=["", "value"]),
                 "How this week was judged. Durations are compared on the log scale (limits "
                 "that widen in a week with few tickets), rates on a p-chart with an exact tail "
                 "(Laney p′ when the baseline weeks vary more than binomial), scores by their "
                 "mean and standard error. Calibration on simulated years without planted "
                 "changes (benchmarks/calibration_monitor.py) found 0.41 false alerts per report "
                 "where at most 0.5 is stated (per-cell control) and a false alert in 3 % of "
                 "reports where at most 5 % is stated (Benjamini–Hochberg).")


def _baseline_words(study) -> str:
    b = study.params.baseline
    if b.start:
        return f"fixed: weeks {b.start} to {b.end}"
    return (f"the {b.weeks} weeks before the report week (weeks of an alert still running "
            "are left out of that cell's baseline)"
            + ("; and the same week last year" if b.seasonal else ""))


def problem_sections(study):
    """One block per top problem: the sentence, driver, themes and quotes, the action."""
    top, out = study.top, []
    if top.empty:
        return Text("No problem this week: no cell is worse than its baseline beyond the "
                    "limits.")
    for i, r in enumerate(top.itertuples(), 1):
        txt = study.problem_text(r.cell)
        lines = [f"### {i}. {r.label} — {r.cell}",
                 words.problem_sentence(r, study.params.alpha),
                 f"*Driver:* {words.driver_words(r)}."]
        if r.also:
            lines.append("*Also moved with it:* " + "; ".join(r.also) + ".")
        if txt["texts"]:
            lines.append(f"*Complaints in this cell this week:* {txt['texts']}"
                         + (f"; themes: {', '.join(txt['themes'])}" if txt["themes"] else "")
                         + ".")
            lines += [f"> {q}" for q in txt["quotes"]]
        lines.append(f"*Suggested action (playbook):* {r.action}" if r.action else
                     "*Suggested action:* none in the playbook for this metric and driver — "
                     "add one under `playbook` in the study file.")
        if study.params.pdca is not None:
            from sqresearch.designs.monitor.pdca_view import open_command_block

            lines.append("*Open an improvement item:*\n\n" +
                         open_command_block(study, r.kpi, r.cell))
        out.append(Text("\n\n".join(lines)))
        if r.decomposition is not None:
            from sqresearch.designs.monitor import views

            fig = views.decomposition_figure(r.decomposition, unit=r.unit,
                                             log=r.kind == "duration")
            out.append(Figure(fig, f"Mix and rate parts of the change in {r.label} "
                              f"({r.cell}) by {r.driver_by}"))
    return Bundle(out)


def sparklines(study):
    from sqresearch.designs.monitor import views

    top = study.top
    if top.empty:
        return Text("")
    weeks = [shift_week(study.week, -k) for k in range(11, -1, -1)]
    w = study.weekly
    parts = []
    for i, r in enumerate(top.itertuples(), 1):
        s = w[(w["kpi"] == r.kpi) & (w["cell"] == r.cell) & w["week"].isin(weeks)]
        v = s["successes"] / s["n"] if r.kind == "rate" else s["value"]
        if r.kind == "duration":
            v = v.map(math.exp)
        last = s["week"] == study.week
        lo = words.scale(r.kind, r.lower) if r.kind == "duration" else r.lower
        hi = words.scale(r.kind, r.upper) if r.kind == "duration" else r.upper
        parts.append(pd.DataFrame({
            "problem": f"{i}. {r.label} ({r.cell})", "week": s["week"].to_numpy(),
            "value": v.to_numpy(dtype=float),
            "lower": [lo if x else float("nan") for x in last],
            "upper": [hi if x else float("nan") for x in last],
            "in_baseline": [r.baseline_first <= x <= r.baseline_last for x in s["week"]],
            "unit": r.unit}))
    fig = views.sparklines(pd.concat(parts, ignore_index=True))
    return Figure(fig, "Twelve-week sparklines of the top problems, baseline weeks shaded, "
                  "this week's limits on the last point")


def alert_table(study) -> Table | Text:
    a = study.alerts.table
    t = a[a["alert"] | (a["direction"] == "better")].copy()
    if t.empty:
        return Text("No cell moved beyond its limits this week.")
    unit = {m.name: m.spec.unit for m in study.metrics}
    rows = []
    for r in t.itertuples():
        u = unit[r.kpi]
        rows.append({"metric": study.label(r.kpi), "cell": r.cell,
                     "direction": "worse" if r.alert else "better",
                     "this week": words.shown(r.kind, u, r.this_week),
                     "baseline": words.shown(r.kind, u, r.baseline),
                     "limits": f"{words.shown(r.kind, u, r.lower)} – "
                               f"{words.shown(r.kind, u, r.upper)}",
                     "age": words.age(study.ages.get((r.kpi, r.cell), 1)) if r.alert else "",
                     "p (one-sided, worse)": tables.fmt_p(r.p_value),
                     "n": f"{int(r.n):,}", "method": r.method})
    return Table(pd.DataFrame(rows), "Every cell beyond its limits this week (alerts are the "
                 "worse ones; the limits are at the level the false-alarm control used).")


def not_judged(study) -> Text:
    a = study.alerts.table
    t = a[~a["judged"]]
    if t.empty:
        return Text("Every cell was judged.")
    by = t.groupby("reason")["cell"].apply(lambda c: sorted(set(c)))
    lines = [f"- {reason}: {tables.count(len(cells), 'cell')}, e.g. {', '.join(cells[:6])}"
             for reason, cells in by.items()]
    return Text("Not judged this week (no alert possible there):\n\n" + "\n".join(lines))


def text_section(study):
    t = study.text
    if t is None:
        return Text("No complaint text column is set (`text` in the study file).")
    parts = [Text(f"Texts of weeks {t.recent[0]}–{t.recent[-1]} ({int(t.docs['recent'].sum())})"
                  f" against the {len(t.base)} weeks before "
                  f"({int((~t.docs['recent']).sum())}); every text masked at load. "
                  + t.note)]
    if t.terms is None:
        return Bundle(parts)
    for direction in ("rose", "fell"):
        top = t.terms[t.terms["direction"] == direction].head(10)
        parts.append(Table(pd.DataFrame({
            "term": top["term"], "recent": top["count_week"].astype(int),
            "baseline": top["count_base"].astype(int),
            "log-odds ratio": top["delta"].map(lambda v: f"{v:+.2f}"),
            "z": top["z"].map(lambda v: f"{v:+.2f}"),
            "p (Holm)": top["p_holm"].map(tables.fmt_p)}),
            f"Terms that {direction} most (log-odds ratio with an informative Dirichlet "
            "prior, Monroe et al. 2008; Holm-adjusted across terms)."))
    th = t.themes
    if th is not None:
        rows = th.themes.assign(
            **{"recent share": th.themes["share_week"].map(lambda v: f"{100 * v:.1f} %"),
               "baseline share": th.themes["share_base"].map(lambda v: f"{100 * v:.1f} %"),
               "change": [tables.fmt_ci(lo * 100, hi * 100, "points") for lo, hi in
                          zip(th.themes["ci_low"], th.themes["ci_high"], strict=True)],
               "p": th.themes["p"].map(tables.fmt_p)})
        parts.append(Table(rows[["theme", "terms", "recent share", "baseline share", "change",
                                 "p"]], f"{th.k} themes (NMF on TF-IDF, seeded; k: {th.rule})."))
        ex = th.examples.merge(th.themes[["theme", "label"]], on="theme")
        parts.append(Table(ex[["label", "quote"]].rename(columns={"label": "theme"}),
                           "Masked example quotes of this period's texts, per theme."))
    return Bundle(parts)


def heatmaps(study):
    from sqresearch.designs.monitor import views

    weeks = [shift_week(study.week, -k) for k in range(3, -1, -1)]
    fig = views.hour_weekday_heatmaps(study.frame, weeks)
    return Figure(fig, f"Tickets and median first-response time by hour and weekday, weeks "
                  f"{weeks[0]} to {weeks[-1]}")


def deviation(study):
    from sqresearch.designs.monitor import views

    p = study.params
    seg = p.ranking.by if p.ranking else p.segments[0]
    metric = p.ranking.metric if p.ranking and p.ranking.metric in p.metrics else p.metrics[0]
    weeks = [shift_week(study.week, -k) for k in range(11, -1, -1)]
    w = study.weekly
    rows = w[(w["kpi"] == metric) & (w["level"] == seg)]
    from sqresearch.designs.monitor.problems import judge_week

    parts = []
    for wk in weeks:
        if wk not in set(w["week"]):
            continue
        a = judge_week(rows, wk, p).table
        sign = 1.0 if rows["direction"].iloc[0] == "lower" else -1.0
        parts.append(a.assign(week=wk, statistic=sign * a["statistic"]))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["cell", "week", "statistic"])
    fig = views.deviation_heatmap(table, title=f"{study.label(metric)}: deviation from each "
                                  f"{seg}'s baseline, last 12 weeks")
    return Figure(fig, f"{seg} × week heatmap of the deviation of {study.label(metric)} from "
                  "baseline")


def ranking_section(study):
    r = study.ranking
    if r is None:
        return Text("No ranking is set (`ranking` in the study file).")
    from sqresearch.designs.monitor import ranking as ranking_mod
    from sqresearch.designs.monitor import views

    m = r["metric"]
    f = r["funnel"]
    claims = ranking_mod.claims(r)
    flagged = f.table[f.table["flag"] != "within"]
    lines = [f"{r['by'].capitalize()}s on {m.spec.label} over weeks {r['weeks'][0]} to "
             f"{r['weeks'][-1]}: {f.method}."]
    lines.append("Beyond the 99.8 % limits: " + (", ".join(
        f"{u} ({fl})" for u, fl in flagged[["unit", "flag"]].itertuples(index=False))
        or "none") + ".")
    best = claims[claims["supported_now"]]
    lines.append("Best " + r["by"] + " supported by its rank interval: " + (
        ", ".join(best["unit"]) or "none (no rank interval is {1})") + "; "
        + ("for every one of the last "
           f"{int(claims['periods'].iloc[0])} periods: "
           + (", ".join(claims.loc[claims["supported_all_periods"], "unit"]) or "none") + "."))
    table = claims.assign(rank_interval=[f"{lo:.0f}–{hi:.0f}" for lo, hi in
                                         zip(claims["rank_low"], claims["rank_high"],
                                             strict=True)])
    return Bundle([Text(" ".join(lines)),
                   Figure(views.funnel_figure(f, title=f"{m.spec.label} by {r['by']}",
                                              ylabel=f"{m.spec.label} ({m.spec.unit})",
                                              xlabel="tickets"),
                          f"Funnel plot of {m.spec.label} by {r['by']}"),
                   Figure(views.rank_figure(r["ranks"], title=f"Rank of each {r['by']}"),
                          f"Rank intervals of each {r['by']}"),
                   Table(table[["unit", "estimate", "rank", "rank_interval", "p_top1"]],
                         "Rank (1 = best) with its 95 % bootstrap interval; p_top1 = share of "
                         "resamples ranked first.")])


RECENT = 8  # weeks of earlier drift signals the report lists below this week's


def drift_table(study) -> Bundle | Text:
    """This week's drift signals (the alarms the stated rate counts) and, apart, the cells that
    signalled in the previous ``RECENT`` weeks, with the wording of what a signal means."""
    d = study.drifts
    n, ef = study.params.baseline.weeks, study.params.alerts.expected_false
    if (d is None or d.empty) and study.params.drift:
        return Text(f"The drift charts start after their fixed baseline, the first {n} weeks of "
                    "the data, and need four weeks of data after it: not yet this week.")
    if d is None or d.empty:
        return Text("No metric is watched for slow drifts (`drift` in the study file).")
    note = (f"EWMA (λ = 0.2) of each cell's weekly normal score against a fixed baseline: the "
            f"first {n} weeks of the data, not the recent weeks — a drift signal says the "
            "cell has moved since then, and a seasonal change or a holiday period counts as "
            "drift. The limits allow for the baseline being estimated from those weeks (all "
            "of a cell's weeks share its error), so about "
            f"{ef:g} false drift signals come a week across the {int((d['weeks'] > 0).sum()):,} "
            "cells with judged weeks once the "
            f"charts are running (each cell: one in {d['arl0'].iloc[0]:,.0f} weeks; fewer "
            "in the first weeks after the baseline). A signal restarts the cell's chart at 0.")
    now = d[d["alert"]]
    earlier = d[~d["alert"] & (d["weeks_since"] > 0) & (d["weeks_since"] <= RECENT)]
    cols = ["kpi", "cell", "statistic", "limit", "signals", "first_signal"]
    parts: list = [Text(note)]
    parts.append(Text("No cell signals a drift this week.") if now.empty else Table(
        now[cols].assign(kpi=[study.label(k) for k in now["kpi"]]),
        "Drift signals this week (the signals the stated rate counts); signals = signals "
        "since the baseline, first_signal = the week of the first."))
    if not earlier.empty:
        e = earlier.sort_values("last_signal", ascending=False)
        parts.append(Table(
            e[["kpi", "cell", "last_signal", "first_signal", "signals"]].assign(
                kpi=[study.label(k) for k in e["kpi"]]),
            f"Earlier drift signals, in the {RECENT} weeks before this one (not this week's "
            "alarms; their charts restarted at the signal)."))
    return Bundle(parts)


def definitions(study) -> Table:
    rows = [{"metric": m.spec.label, "checked as": {"rate": "rate (p-chart / Laney p′)",
             "duration": "log duration (weighted prediction limits)",
             "score": "mean score (z or t)"}[
                 m.kind], "unit": m.spec.unit, "better": m.spec.direction}
            for m in study.metrics]
    rows.append({"metric": "cell", "checked as": f"{ALL}, each segment level, and the levels "
                 "crossed", "unit": "", "better": ""})
    return Table(pd.DataFrame(rows), "What is monitored and how.")
