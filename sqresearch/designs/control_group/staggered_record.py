"""Every number a staggered-adoption control-group report shows, recorded for results.json
(keys ``staggered.*`` documented in docs/results-schema.md)."""

from __future__ import annotations

from sqresearch.designs.control_group import record, sensitivity
from sqresearch.report.results import Results


def _metric(res: Results, study, name: str, r) -> None:
    p, label = study.params, r.metric.label
    unit = "log points" if r.metric.log else r.metric.unit
    boot = f"multiplier bootstrap clustered by unit (B={p.bootstrap.resamples}, seed {p.seed})"
    cmp = f"comparison: {study.comparison_words}, base period: {p.base_period}"
    o = r.overall
    res.add(f"staggered.{name}.overall", f"{label}: Callaway–Sant'Anna overall ATT",
            o["estimate"], ci=(o["ci_low"], o["ci_high"]), p_value=o["p_value"], unit=unit,
            n=len(study.cohort), method=f"simple aggregation of ATT(g, t) over the treated "
                                        f"cells; {cmp}; {boot}; se {o['se']:.6g}")
    for x in r.att_gt.itertuples():
        g, t = study.cohort_label(x.group), study.periods[int(x.time) - 1]
        res.add(f"staggered.{name}.att_gt.g={g}.t={t}", f"{label}: ATT(g = {g}, t = {t})",
                x.att, ci=(x.ci_low, x.ci_high), p_value=x.p_value, n=x.n_treated, unit=unit,
                method=f"2 × 2 from base period {study.periods[int(x.base) - 1]}, "
                       f"{x.n_comparison} comparison units; {cmp}; {boot}")
    for x in r.group[r.group["level"].notna()].itertuples():
        g = study.cohort_label(x.level)
        res.add(f"staggered.{name}.cohort.{g}", f"{label}: ATT of the cohort adopting {g}",
                x.estimate, ci=(x.ci_low, x.ci_high), p_value=x.p_value, unit=unit,
                method=f"mean of the cohort's post-adoption ATT(g, t); {boot}; simultaneous "
                       f"band {x.band_low:.6g} to {x.band_high:.6g}")
    for x in r.dynamic[r.dynamic["level"].notna()].itertuples():
        e = int(x.level)
        res.add(f"staggered.{name}.event.e={e}", f"{label}: effect {e} {study.period_word}s "
                "from adoption", x.estimate, ci=(x.ci_low, x.ci_high), p_value=x.p_value,
                unit=unit, method=f"cohort-size-weighted mean of ATT(g, g + e) over "
                                  f"{int(x.cohorts)} cohort(s); {boot}")
        res.add(f"staggered.{name}.event.e={e}.band", f"{label}: simultaneous band at {e}",
                x.estimate, ci=(x.band_low, x.band_high), unit=unit,
                method=f"sup-t band over the event times, critical value {x.crit:.4g}; {boot}")
    dyn = r.dynamic.iloc[-1]
    res.add(f"staggered.{name}.event_average", f"{label}: mean of the event-time effects e ≥ 0",
            dyn["estimate"], ci=(dyn["ci_low"], dyn["ci_high"]), p_value=dyn["p_value"],
            unit=unit, method=f"dynamic aggregation's overall effect; {boot}")
    tw = r.twfe
    res.add(f"staggered.{name}.twfe", f"{label}: naive two-way fixed-effects estimate",
            tw["estimate"], ci=(tw["ci_low"], tw["ci_high"]), statistic=tw["t"],
            statistic_name="t", p_value=tw["p_value"], unit=unit,
            method=f"y ~ unit + period + D, CR1 clustered by unit, t with {tw['df']:g} df; "
                   "shown beside the verdict, not deciding it")
    for x in r.bacon.itertuples():
        tr = study.cohort_label(x.treated)
        ct = "never" if x.control == 0 else study.cohort_label(x.control)
        kind = x.type.replace(" ", "_")
        res.add(f"staggered.{name}.bacon.{kind}.{tr}.{ct}", f"{label}: Bacon 2 × 2, {x.type} "
                f"({tr} vs {ct})", x.estimate, unit=unit,
                method=f"Goodman-Bacon decomposition; weight {x.weight:.6g}")


def results(study) -> Results:
    p = study.params
    res = Results.for_study(p, study.table, study.summary_lines())
    for name, r in study.results_by_metric.items():
        record._verdict(res, study.verdict(name), name, {})
        _metric(res, study, name, r)
    for e in study.effects[study.effects.segment != "all"].itertuples():
        record._verdict(res, e, f"{e.metric}.{e.segment}", dict([e.segment.split("=", 1)]))
    sensitivity.record(res, study)
    for b in study.balance.itertuples():
        res.add(f"balance.{b.key}", f"SMD of {b.variable}", b.smd, verdict=b.flag,
                method=f"adopting-unit mean {b.treated_mean:.6g} (n = {b.n_treated}), "
                       f"never-treated mean {b.control_mean:.6g} (n = {b.n_control}), "
                       "before adoption")
    return record.goals_targets_headline(res, study)
