"""One metric, before vs after: pick the tests that fit the design and the metric type, run
them, and say why.

A metric has a type: ``duration`` (positive, right-skewed: minutes, hours), ``continuous``
(scores), ``binary`` (0/1: FCR, SLA met, complaint), ``nps`` (0-10 answers) or ``censored``
(durations of cases that may still be open: resolution time). ``compare_metric`` returns a
:class:`Comparison` with per-period descriptives and a tidy table of tests, the first of which is
the primary one used for the headline, Holm adjustment and goals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.kpi.metrics import MetricSpec
from sqresearch.stats import compare, describe
from sqresearch.stats.survival import kaplan_meier, km_median, logrank


@dataclass
class Comparison:
    metric: MetricSpec
    segment: str  # "all" or "<column>=<value>"
    design: str
    descriptives: pd.DataFrame  # period, n, missing, mean, sd, median, p90 (or KM columns)
    tests: pd.DataFrame  # compare.COLUMNS + role (primary/secondary) + reason

    @property
    def primary(self) -> pd.Series:
        return self.tests.iloc[0]

    def improved(self) -> bool | None:
        """Whether the primary estimate moved the good way (None for no change)."""
        p = self.primary
        neutral = 1.0 if p.estimate_name in RATIO_NAMES else 0.0
        if not np.isfinite(p.estimate) or p.estimate == neutral:
            return None
        up = p.estimate > neutral
        return up if self.metric.direction == "higher" else not up


RATIO_NAMES = {"ratio of geometric means", "ratio of medians"}


def describe_period(values, spec: MetricSpec, events=None, alpha: float = 0.05) -> dict:
    """Descriptives of one period: n, missing, mean, SD, median, p90 (KM median for censored)."""
    v = np.asarray(values, dtype=float)
    if spec.type == "censored":
        e = np.asarray(events, dtype=float)
        keep = ~np.isnan(v)
        km = kaplan_meier(v[keep], e[keep] == 1, alpha)
        med, lo, hi = km.median()
        return {"n": km.n, "missing": int((~keep).sum()), "events": km.events,
                "open_share": km.censored_share, "median": med, "median_low": lo,
                "median_high": hi}
    row = describe.summary(v).iloc[0].to_dict()
    if spec.type == "nps":
        row["nps"] = describe.nps(v, alpha)[0]
    return row


def compare_metric(before, after, spec: MetricSpec, design: str = "independent",
                   alpha: float = 0.05, seed: int = 0, resamples: int = 2000,
                   boot_method: str = "BCa", events_before=None, events_after=None,
                   one_per_unit: bool = False, segment: str = "all") -> Comparison:
    """Run the tests that fit ``spec.type`` and ``design`` on one metric.

    For the paired design ``before[i]`` and ``after[i]`` belong to the same unit (already
    aggregated per unit; ``one_per_unit`` says each unit had a single 0/1 outcome per period,
    which makes McNemar the test for a binary metric).
    """
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if design == "paired":
        keep = ~(np.isnan(a) | np.isnan(b))
        b, a = b[keep], a[keep]
    rows = _tests(b, a, spec, design, alpha, seed, resamples, boot_method, events_before,
                  events_after, one_per_unit)
    tests = pd.concat([r for r, _ in rows], ignore_index=True)
    tests.insert(0, "role", ["primary"] + ["secondary"] * (len(rows) - 1))
    tests["reason"] = [why for _, why in rows]
    desc = pd.DataFrame([{"period": "before", **describe_period(b, spec, events_before, alpha)},
                         {"period": "after", **describe_period(a, spec, events_after, alpha)}])
    return Comparison(spec, segment, design, desc, tests)


def _tests(b, a, spec, design, alpha, seed, resamples, boot_method, eb, ea, one_per_unit):
    paired = design == "paired"
    boot = dict(resamples=resamples, method=boot_method, seed=seed, alpha=alpha)
    if spec.type == "censored":
        return _censored(b, a, eb, ea, alpha, seed, resamples)
    if spec.type == "duration":
        if (a <= 0).any() or (b <= 0).any():
            first = (compare.paired_t(b, a, alpha) if paired else compare.welch(b, a, alpha),
                     "some durations are zero, so no log ratio: difference in means")
        else:
            first = (compare.log_ratio(b, a, paired, alpha),
                     "durations are right-skewed: the ratio of geometric means (t-test on log "
                     "values) reads as a % change")
        if paired:
            return [first, (compare.wilcoxon_signed_rank(b, a, alpha),
                            "rank test on unit pairs, robust to skew and outliers")]
        return [first,
                (compare.mann_whitney(b, a, alpha), "rank test, robust to skew and outliers"),
                (compare.bootstrap(b, a, "median_difference", **boot),
                 "the change in the typical (median) case, with a bootstrap CI"),
                (compare.bootstrap(b, a, "median_pct_change", **boot),
                 "the % change in the median, with a bootstrap CI"),
                (compare.welch(b, a, alpha), "difference in means, for reference")]
    if spec.type == "binary" and not (paired and not one_per_unit):
        if paired:
            return [(compare.mcnemar(b, a, alpha), "paired 0/1 outcomes: one per unit and "
                                                   "period")]
        return [(compare.two_proportions(int(np.nansum(b)), b.size, int(np.nansum(a)), a.size,
                                         alpha),
                 "a share in two independent periods: difference with the Newcombe CI")]
    if spec.type == "nps" and not paired:
        return [(compare.nps_difference(b, a, alpha),
                 "NPS is a difference of two shares: its variance formula gives the CI")]
    if paired:
        why = ("unit-level shares (several outcomes per unit)" if spec.type == "binary" else
               "unit-level values")
        return [(compare.paired_t(b, a, alpha), f"{why} measured in both periods: paired t"),
                (compare.wilcoxon_signed_rank(b, a, alpha), "rank test on the unit pairs")]
    return [(compare.welch(b, a, alpha), "difference in means; Welch does not assume equal "
                                         "variances"),
            (compare.mann_whitney(b, a, alpha), "scores are ordinal: rank test as a check")]


def _censored(b, a, eb, ea, alpha, seed, resamples):
    eb, ea = np.asarray(eb, dtype=float), np.asarray(ea, dtype=float)
    d = np.concatenate([b, a])
    e = np.concatenate([eb, ea]) == 1
    g = np.array(["before"] * b.size + ["after"] * a.size)
    chi2, p, _ = logrank(d, e, g)
    mb = kaplan_meier(b, eb == 1, alpha).median()[0]
    ma = kaplan_meier(a, ea == 1, alpha).median()[0]
    lo, hi = _km_ratio_ci(b, eb, a, ea, alpha, seed, resamples)
    row = compare._row(test="log-rank", statistic_name="X²", statistic=chi2, df=1, p_value=p,
                       estimate_name="ratio of medians", estimate=ma / mb if mb else math.nan,
                       ci_low=lo, ci_high=hi, n_before=b.size, n_after=a.size,
                       method=f"log-rank test; Kaplan–Meier medians, percentile bootstrap CI of "
                              f"their ratio ({resamples:,} resamples, seed {seed})")
    rmst = compare.rmst_difference(b, eb == 1, a, ea == 1, alpha=alpha)
    return [(row, "open cases are censored: Kaplan–Meier medians and the log-rank test"),
            (rmst, "the mean time to resolution up to a common horizon τ (restricted mean, "
                   "RMST): its difference and CI measure what the verdict measures")]


def _km_ratio_ci(b, eb, a, ea, alpha, seed, resamples) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    ratios = np.empty(resamples)
    for i in range(resamples):
        ib = rng.integers(0, b.size, b.size)
        ia = rng.integers(0, a.size, a.size)
        mb, ma = km_median(b[ib], eb[ib]), km_median(a[ia], ea[ia])
        ratios[i] = ma / mb if mb else np.nan
    ok = ratios[np.isfinite(ratios)]
    if ok.size < 0.9 * resamples:  # medians not reached too often: no honest interval
        return math.nan, math.nan
    return tuple(np.quantile(ok, [alpha / 2, 1 - alpha / 2]))
