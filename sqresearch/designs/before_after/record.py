"""Every number the before/after report shows, recorded for results.json (keys documented in
docs/results-schema.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.kpi.targets import verdict_word
from sqresearch.report.results import Results

_DESCRIPTIVES = ("n", "missing", "mean", "sd", "p50", "p90", "median", "median_low",
                 "median_high", "nps", "events", "open_share")


def _cluster_counts(study, segment: str) -> dict[str, int] | None:
    cols = study.clustering.columns
    if not cols or study.params.design == "paired":
        return None
    df = study.frame if segment == "all" else study.segment_frame(segment)
    return {c.replace("_week", "week"): int(df[c].nunique()) for c in cols}


def _comparison(res: Results, study, c, v) -> None:
    grp = {} if c.segment == "all" else dict([c.segment.split("=", 1)])
    suffix = "" if c.segment == "all" else f".{c.segment}"
    name, label = c.metric.name, c.metric.label
    res.add(f"verdict.{name}{suffix}", f"{label}: change", v.estimate,
            ci=(v.ci_low, v.ci_high), ci_level=v.ci_level,
            statistic=v.estimate / v.se if v.se > 0 else None,
            statistic_name="t" if np.isfinite(v.df) else "z", p_value=v.p_value,
            p_adjusted=v.p_adjusted if v.family == "confirmatory" else None,
            n=v.inference.n, unit="log ratio" if v.inference.scale == "log" else
            ("share" if v.kind == "share" else c.metric.unit), method=v.method_text,
            verdict=v.verdict, decided_by=v.method, family=v.family, sesoi=v.sesoi,
            clusters=_cluster_counts(study, c.segment), group=grp)
    if np.isfinite(v.df):
        res.add(f"verdict.{name}{suffix}.df", f"{label}: degrees of freedom of the verdict test",
                v.df, group=grp)
    if not pd.isna(v.design_effect):
        res.add(f"verdict.{name}{suffix}.design_effect", f"{label}: design effect",
                v.design_effect, method=f"1 + (m − 1)·ICC within {study.clustering.label}",
                group=grp)
    for t in c.tests.itertuples():
        key = f"effect.{name}{suffix}" if t.role == "primary" else \
            f"test.{name}{suffix}.{t.test}.{t.estimate_name}".replace(" ", "_")
        res.add(key, f"{label}: {t.estimate_name}", t.estimate, ci=(t.ci_low, t.ci_high),
                statistic=t.statistic, statistic_name=t.statistic_name or None,
                p_value=t.p_value, n=t.n_before + t.n_after, unit=c.metric.unit,
                method=t.method, group=grp)
        if t.effect_name:
            res.add(f"{key}.effect_size", f"{label}: {t.effect_name}", t.effect,
                    ci=(t.effect_low, t.effect_high), group=grp, method=t.test)
    for d in c.descriptives.itertuples():
        for stat in _DESCRIPTIVES:
            value = getattr(d, stat, None)
            if value is not None and not pd.isna(value):
                res.add(f"desc.{name}{suffix}.{d.period}.{stat}",
                        f"{label}, {d.period}: {stat}", value, n=d.n, unit=c.metric.unit,
                        group=grp)


def results(study) -> Results:
    """The study's results.json content."""
    p = study.params
    res = Results.for_study(p, study.table, study.summary_lines())
    for c, v in zip(study.comparisons, study.verdicts.itertuples(), strict=True):
        _comparison(res, study, c, v)
    for m in study.mde.itertuples():
        res.add(f"mde.{m.metric}", f"{m.label}: minimum detectable effect", m.mde,
                method=f"{100 * p.power:g} % power, two-sided alpha {p.alpha:g}: {m.text}")
    for i, g in enumerate(study.goals.itertuples()):
        res.add(f"goal.{i}.{g.metric}", g.goal, g.estimate, ci=(g.ci_low, g.ci_high),
                unit="%" if g.unit == "percent" else "", verdict=g.status,
                method=f"goal {g.change:+g} ({g.unit}) judged on the CI of the {g.basis}")
    for r in study.targets.itertuples():
        res.add(f"target.{r.kpi}{r.op}{r.value:g}.period={r.group}", r.target, r.estimate,
                ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit,
                verdict=verdict_word(r.status, r.certainty), group={"period": r.group})
    study.timeseries.record(res)
    overall = study.verdicts[study.verdicts["family"] == "confirmatory"]
    res.headline = "; ".join(f"{r.label}: {r.verdict}" for r in overall.itertuples())
    return res
