"""Everything the weekly report concludes, as results.json entries (docs/results-schema.md,
"Monitor keys"): the week, every alert and better-than-baseline cell, the problems with their
impact, the drift charts, the text terms and themes, the ranking and the PDCA checks."""

from __future__ import annotations

from sqresearch.designs.monitor import words
from sqresearch.report.results import Results
from sqresearch.report.tables import count


def results(study) -> Results:
    p, a = study.params, study.alerts
    res = Results.for_study(p, study.table, words.summary_lines(study))
    res.add("monitor.week", f"report week {study.week}", None, unit="ISO week",
            method=f"report week {study.week} (week: {p.week})", group={"week": study.week})
    res.add("monitor.checks", "metric × cell checks judged", a.n_judged, n=a.n_cells,
            unit="checks", method=words._control(a))
    res.add("monitor.expected_false_alerts", "stated bound on false alerts when nothing changed",
            a.expected_false, unit="alerts", method=words._control(a))
    res.add("monitor.alerts", "alerts this week", int(a.table["alert"].sum()), unit="alerts")
    unit = {m.name: m.spec.unit for m in study.metrics}
    for r in a.table[a.table["judged"] & (a.table["direction"] != "none")].itertuples():
        key = f"alert.{r.kpi}.{r.cell}"
        res.add(key, f"{study.label(r.kpi)}, {r.cell}: this week", words.scale(r.kind,
                r.this_week), ci=(words.scale(r.kind, r.lower), words.scale(r.kind, r.upper)),
                ci_level=1 - 2 * a.level if a.control == "per_cell" else None,
                statistic=r.statistic, statistic_name="z" if r.df == float("inf") else "t",
                p_value=r.p_value, n=r.n, unit=unit[r.kpi],
                method=f"{r.method}; ci = the control limits", verdict=r.direction,
                group={"cell": r.cell, "week": study.week})
    for i, r in enumerate(study.problems.itertuples(), 1):
        _, est, lo, hi = words.change(r, p.alpha)
        res.add(f"problem.{i}", f"problem {i}: {r.label}, {r.cell}", est, ci=(lo, hi),
                n=r.n, unit="ratio" if r.kind == "duration" else unit[r.kpi],
                method=f"this week vs baseline ({'ratio' if r.kind == 'duration' else 'difference'}"
                f"); age {count(r.age, 'week')}; driver {r.driver}"
                + (f" by {r.driver_by} ({r.driver_top})" if r.driver_by else ""),
                verdict="worse", group={"metric": r.kpi, "cell": r.cell})
        res.add(f"problem.{i}.impact", f"problem {i}: excess tickets", r.excess, n=r.n,
                unit="tickets", method=words.impact_words(r))
    for r in study.drifts.itertuples():  # none when no metric is watched
        res.add(f"drift.{r.kpi}.{r.cell}", f"{study.label(r.kpi)}, {r.cell}: drift statistic",
                r.statistic, statistic=r.statistic, statistic_name=r.method, n=int(r.weeks),
                unit="chart statistic", method=f"one-sided {r.method.upper()} of weekly "
                f"scores against the first baseline weeks, limit {r.limit:.4g} (in-control "
                f"ARL {r.arl0:.0f} weeks, estimated baseline); restarted after each signal",
                verdict="signal" if r.alert else "no signal",
                group={"cell": r.cell, "signals": int(r.signals),
                       "signal_weeks": r.signal_weeks, "week": study.week})
    t = study.text
    if t is not None and t.terms is not None:
        for r in t.terms[t.terms["p_holm"] <= p.alpha].head(20).itertuples():
            res.add(f"text.term.{r.term}", f"complaint term {r.term!r} {r.direction}",
                    r.delta, statistic=r.z, statistic_name="z", p_value=r.p,
                    p_adjusted=r.p_holm, n=int(r.count_week), unit="log-odds ratio",
                    method="log-odds ratio, informative Dirichlet prior (Monroe et al. 2008); "
                    "Holm", verdict=r.direction)
    if t is not None and t.themes is not None:
        for r in t.themes.themes.itertuples():
            res.add(f"text.theme.{r.theme}", f"complaint theme {r.theme}: {r.label}", r.change,
                    ci=(r.ci_low, r.ci_high), statistic=r.z, statistic_name="z", p_value=r.p,
                    n=int(r.n_week), unit="share of texts (recent − baseline)",
                    method=f"NMF on TF-IDF, fitted on the {r.fitted_on}; {t.themes.rule}",
                    group={"terms": r.terms, "texts_recent": int(r.volume_week),
                           "texts_baseline": int(r.volume_base)})
    if study.ranking is not None:
        f = study.ranking["funnel"]
        for r in f.table.itertuples():
            res.add(f"ranking.{r.unit}", f"{study.ranking['by']} {r.unit}", r.value,
                    ci=(r.lower_998, r.upper_998), ci_level=0.998, n=r.n,
                    unit=study.ranking["metric"].spec.unit, method=f.method, verdict=r.flag,
                    group={study.ranking["by"]: r.unit})
    for c in study.pdca or []:
        res.add(f"pdca.{c['id']}", f"improvement item {c['id']}", c.get("estimate"),
                ci=(c.get("ci_low"), c.get("ci_high")), unit=c.get("unit", ""),
                method=c.get("method", ""), verdict=c.get("act") or c.get("status"),
                group={"item": c["id"]})
    res.meeting_summary = words.meeting_summary(study)
    top = study.top
    alerts = count(int(a.table["alert"].sum()), "alert")
    res.headline = (f"week {study.week}: {alerts}; top problem "
                    f"{top['label'].iloc[0]} ({top['cell'].iloc[0]})" if len(top) else
                    f"week {study.week}: no alerts")
    return res
