"""Improvement goals judged on the CI of the change, and the minimum detectable effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sqresearch.designs.before_after.comparisons import Comparison
from sqresearch.kpi.targets import judge_goal
from sqresearch.report import tables
from sqresearch.stats import power


def achieved_change(c: Comparison, v, unit: str, alpha: float
                    ) -> tuple[float, float, float, str]:
    """The change a goal is judged on, with its (1 − α) CI and where it comes from: the effect the
    verdict rests on (clustered and adjusted as the study says) when the goal is on its scale —
    percent goals on a log-scale effect (as a % change), absolute goals on a linear one — else
    the bootstrap % change or difference in the median, which treats rows as independent."""
    inf = v.inference
    lo, hi = inf.interval(1 - alpha)
    if unit == "percent" and inf.scale == "log":
        return (*(100 * math.expm1(x) for x in (inf.estimate, lo, hi)), "verdict effect")
    if unit == "absolute" and inf.scale == "linear":
        return inf.estimate, lo, hi, "verdict effect"
    boot = {r.estimate_name: r for r in c.tests.itertuples() if r.test == "bootstrap"}
    name = "% change in the median" if unit == "percent" else "difference in medians"
    row = boot.get(name)
    if row is None:
        return math.nan, math.nan, math.nan, "not available on this scale"
    return row.estimate, row.ci_low, row.ci_high, f"bootstrap {name} (rows independent)"


def goals(study) -> pd.DataFrame:
    """One row per goal: goal, metric, change, unit, estimate, ci_low, ci_high, status, basis."""
    rows = []
    for g in study.params.goals:
        c = study.comparison(g.metric)
        est, lo, hi, basis = achieved_change(c, study.verdict(g.metric), g.unit,
                                             study.params.alpha)
        unit = "%" if g.unit == "percent" else c.metric.unit
        rows.append({"goal": g.label or f"{c.metric.label} {g.change:+g} {unit}",
                     "metric": g.metric, "change": g.change, "unit": g.unit, "estimate": est,
                     "ci_low": lo, "ci_high": hi, "status": judge_goal(g.change, lo, hi),
                     "basis": basis})
    return pd.DataFrame(rows, columns=["goal", "metric", "change", "unit", "estimate", "ci_low",
                                       "ci_high", "status", "basis"])


def _mde_row(spec, b, a, paired: bool, alpha: float, pw: float) -> tuple[float, str]:
    if spec.type == "duration" and (b > 0).all() and (a > 0).all():
        sd = np.std(np.log(a) - np.log(b), ddof=1) if paired else math.sqrt(
            (np.var(np.log(b), ddof=1) + np.var(np.log(a), ddof=1)) / 2)
        d = power.mde_means(b.size, a.size, sd, alpha, pw, paired)
        value = 100 * (math.exp(-d if spec.direction == "lower" else d) - 1)
        return value, f"{tables.signed(value, '%')} (ratio of geometric means)"
    if spec.type in ("continuous", "nps") or (spec.type == "binary" and paired):
        sd = np.std(a - b, ddof=1) if paired else math.sqrt(
            (np.var(b, ddof=1) + np.var(a, ddof=1)) / 2)
        if spec.type == "nps" and not paired:
            sd = 100 * math.sqrt((np.mean(b >= 9) + np.mean(b <= 6)) -
                                 (np.mean(b >= 9) - np.mean(b <= 6)) ** 2)
        value = power.mde_means(b.size, a.size, sd, alpha, pw, paired)
        return value, f"{tables.fmt(value, spec.unit)} (difference)"
    if spec.type == "binary":
        value = power.mde_proportions(float(np.mean(b)), b.size, a.size, alpha, pw,
                                      1 if spec.direction == "higher" else -1)
        return value, f"{100 * value:.1f} percentage points"
    return math.nan, "not computed for censored durations"


def mde(study) -> pd.DataFrame:
    """Minimum detectable effect at the study's power, per metric (whole sample): metric, label,
    mde, text."""
    p, rows = study.params, []
    for spec in study.specs:
        b, a, *_ = study.values(spec.name)
        b, a = b[~np.isnan(b)], a[~np.isnan(a)]
        paired = p.design == "paired" and spec.type != "censored"
        value, text = _mde_row(spec, b, a, paired, p.alpha, p.power)
        rows.append({"metric": spec.name, "label": spec.label, "mde": value, "text": text})
    return pd.DataFrame(rows)
