"""Every number the control-group report shows, recorded for results.json (keys documented in
docs/results-schema.md)."""

from __future__ import annotations

import pandas as pd

from sqresearch.designs.control_group import sensitivity
from sqresearch.designs.control_group.words import fmt_value
from sqresearch.kpi.targets import verdict_word
from sqresearch.report.results import Results


def _verdict(res: Results, e, key: str, group: dict) -> None:
    res.add(f"verdict.{key}", f"{e.label}: effect ({e.estimator})", e.estimate,
            ci=(e.ci_low, e.ci_high), ci_level=e.ci_level, p_value=e.p_value,
            p_adjusted=e.p_adjusted if e.family == "confirmatory" else None,
            n=e.inference.n, unit="log ratio" if e.scale == "log" else e.unit,
            method=e.method_text, verdict=e.verdict, decided_by=e.method, family=e.family,
            sesoi=e.sesoi, clusters={"total": e.clusters, "treated": e.treated_clusters,
                                     "control": e.control_clusters}, group=group)


def _metric(res: Results, name: str, r, alpha: float) -> None:
    label = r.metric.label
    for i, row in enumerate(r.estimates.itertuples()):
        key = f"effect.{name}" if i == 0 else f"estimate.{name}.{i}"
        res.add(key, f"{label}: {row.estimator}", row.estimate, ci=(row.ci_low, row.ci_high),
                statistic=row.estimate / row.se if row.se > 0 else None, statistic_name="t",
                p_value=row.p_value, n=row.n,
                unit="log points" if row.scale == "log" else r.metric.unit,
                method=f"{row.estimator}; {row.clusters} clusters; t with {row.df:g} df")
    for arm, row in r.means.iterrows():
        for when in ("before", "after", "change"):
            if not pd.isna(row[when]):
                res.add(f"means.{name}.{arm}.{when}", f"{label}: {arm}, {when}", row[when],
                        unit=r.metric.unit, method="geometric means, change as a ratio"
                        if r.metric.log else "means, change as a difference")
    if r.event is not None:
        for ev in r.event.itertuples():
            res.add(f"event.{name}.k={ev.k}", f"{label}: event-study coefficient at {ev.k}",
                    ev.estimate, ci=(ev.ci_low, ev.ci_high), p_value=ev.p_value,
                    method="reference period k = −1 (fixed at 0)")
    if r.pretrend:
        pt = r.pretrend
        res.add(f"pretrend.{name}", f"{label}: treated − control pre-period slope",
                pt["estimate"], ci=(pt["ci_low"], pt["ci_high"]), statistic=pt["t"],
                statistic_name="t", p_value=pt["p_value"],
                method="unit and period fixed effects + treated × trend, pre period only, "
                       f"cluster-robust, t with {pt['df']} df")
    if r.placebo:
        pl = r.placebo
        res.add(f"placebo.{name}", f"{label}: placebo at {pl['date']}", pl["estimate"],
                ci=(pl["ci_low"], pl["ci_high"]), p_value=pl["p_value"])
    if r.loo is not None and len(r.loo):
        for row in r.loo.itertuples():
            res.add(f"loo.{name}.{row.left_out}", f"{label}: without {row.left_out}",
                    row.estimate, ci=(row.ci_low, row.ci_high), p_value=row.p_value)
    if r.mixed is not None:
        for row in r.mixed.itertuples():
            res.add(f"mixed_anova.{name}.{row.Source}", f"{label}: mixed ANOVA, {row.Source}",
                    row.F, statistic=row.F, statistic_name="F", p_value=row.p_unc,
                    method=f"pingouin mixed_anova, df {row.DF1:g} and {row.DF2:g}; partial "
                           f"eta squared {row.np2:.4g}")


def results(study) -> Results:
    p = study.params
    res = Results.for_study(p, study.table, study.summary_lines())
    for name, r in study.results_by_metric.items():
        _verdict(res, study.verdict(name), name, {})
        _metric(res, name, r, p.alpha)
    sensitivity.record(res, study)
    for e in study.effects[study.effects.segment != "all"].itertuples():
        _verdict(res, e, f"{e.metric}.{e.segment}", dict([e.segment.split("=", 1)]))
    for b in study.balance.itertuples():
        res.add(f"balance.{b.key}", f"SMD of {b.variable}", b.smd, verdict=b.flag,
                method=f"treated mean {b.treated_mean:.6g} (n = {b.n_treated}), control mean "
                       f"{b.control_mean:.6g} (n = {b.n_control})")
    return goals_targets_headline(res, study)


def goals_targets_headline(res: Results, study) -> Results:
    """The goals, the targets and the headline (the confirmatory verdicts) of ``res``."""
    for i, gl in enumerate(study.goals.itertuples()):
        res.add(f"goal.{i}.{gl.metric}", gl.goal, gl.estimate, ci=(gl.ci_low, gl.ci_high),
                verdict=gl.status)
    for t in study.targets.itertuples():
        res.add(f"target.{t.kpi}{t.op}{t.value:g}.{t.group}", t.target, t.estimate,
                ci=(t.ci_low, t.ci_high), n=t.n, verdict=verdict_word(t.status, t.certainty))
    first = study.effects[study.effects.family == "confirmatory"]
    res.headline = "; ".join(
        f"{r.label}: {r.verdict} ({fmt_value(study.metric(r.metric), r.estimate, r.scale)})"
        for r in first.itertuples())
    return res
