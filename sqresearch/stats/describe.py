"""Descriptive statistics and the confidence intervals the KPI engine reports.

Every function takes plain arrays and returns numbers or a tidy DataFrame; none reads params.
Conventions (stated in reports): quantiles are R's type 7 (linear interpolation, numpy's default);
variances are two-pass with n - 1 in the denominator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats


def _clean(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[~np.isnan(a)]


def summary(x, probs=(0.5, 0.9)) -> pd.DataFrame:
    """n, missing, mean, SD, min, quantiles and max of one variable.

    Returns
    -------
    DataFrame with one row and columns ``n`` (non-missing), ``missing``, ``mean``, ``sd``
    (n - 1 denominator, two-pass), ``min``, ``p50``/``p90``… (R type 7) and ``max``.

    Examples
    --------
    >>> summary([10000001, 10000003, 10000002])[["mean", "sd"]].iloc[0].tolist()
    [10000002.0, 1.0]
    """
    raw = np.asarray(x, dtype=float)
    a = _clean(raw)
    row = {"n": a.size, "missing": int(raw.size - a.size)}
    row["mean"] = float(np.mean(a)) if a.size else math.nan
    row["sd"] = float(np.std(a, ddof=1)) if a.size > 1 else math.nan
    row["min"] = float(a.min()) if a.size else math.nan
    for p in probs:
        row[f"p{round(p * 100):d}"] = float(np.quantile(a, p)) if a.size else math.nan
    row["max"] = float(a.max()) if a.size else math.nan
    return pd.DataFrame([row])


def mean_ci(x, alpha: float = 0.05) -> tuple[float, float, float, int]:
    """Mean with its t-based confidence interval: (mean, low, high, n)."""
    a = _clean(x)
    if a.size == 0:
        return mean_ci_from_moments(0, math.nan, math.nan, alpha)
    sd = float(np.std(a, ddof=1)) if a.size > 1 else math.nan
    return mean_ci_from_moments(a.size, float(np.mean(a)), sd, alpha)


def mean_ci_from_moments(n: int, mean: float, sd: float,
                         alpha: float = 0.05) -> tuple[float, float, float, int]:
    """``mean_ci`` from a sample's size, mean and SD (n - 1 denominator), e.g. aggregates
    computed in a database: (mean, low, high, n); mean NaN when n = 0, interval NaN when n < 2."""
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    if n < 2:
        return mean, math.nan, math.nan, n
    half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, n


def quantile_ci(x, p: float, alpha: float = 0.05) -> tuple[float, float, float, int]:
    """Quantile (R type 7) with a distribution-free order-statistic CI: (q, low, high, n).

    Notes
    -----
    With B ~ Binomial(n, p), the interval is [x_(l), x_(u)] with l = qbinom(alpha/2, n, p) and
    u = qbinom(1 - alpha/2, n, p) + 1 (1-based ranks, clipped to 1…n); its coverage is at least
    1 - alpha whenever neither end is clipped (Conover, *Practical Nonparametric Statistics*,
    3rd ed., §3.2). An end that would fall outside the sample is returned as NaN.
    """
    a = np.sort(_clean(x))
    return quantile_from_order_stats(lambda rank: float(a[rank - 1]), a.size, p, alpha)


class QuantileRanks(NamedTuple):
    """The 1-based ranks ``quantile_ci`` reads: ``below``/``above`` the type-7 interpolation
    (equal when (n - 1)·p is whole), ``frac`` its weight, ``low``/``high`` the interval's
    ends (None where outside 1…n)."""

    below: int
    above: int
    frac: float
    low: int | None
    high: int | None

    def needed(self) -> set[int]:
        return {r for r in (self.below, self.above, self.low, self.high) if r is not None}


def quantile_ranks(n: int, p: float, alpha: float = 0.05) -> QuantileRanks:
    """The order statistics a type-7 quantile and its order-statistic interval need, for a
    sample of n >= 1 (see ``quantile_ci``): a database can fetch just these ranks."""
    h = (n - 1) * p  # numpy's virtual index for method "linear"
    below = math.floor(h)
    frac = h - below
    lo_rank = int(stats.binom.ppf(alpha / 2, n, p))
    hi_rank = int(stats.binom.ppf(1 - alpha / 2, n, p)) + 1
    return QuantileRanks(below + 1, below + 1 + (frac > 0), frac,
                         lo_rank if lo_rank >= 1 else None, hi_rank if hi_rank <= n else None)


def quantile_from_order_stats(stat: Callable[[int], float], n: int, p: float,
                              alpha: float = 0.05) -> tuple[float, float, float, int]:
    """``quantile_ci`` from the sample's order statistics, ``stat(rank)`` the value of 1-based
    rank (only the ranks of ``quantile_ranks(n, p, alpha)`` are asked for): (q, low, high, n)."""
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    r = quantile_ranks(n, p, alpha)
    # numpy's own interpolation between the two order statistics: bit for bit np.quantile
    q = float(np.quantile(np.array([stat(r.below), stat(r.above)]), r.frac))
    lo = stat(r.low) if r.low is not None else math.nan
    hi = stat(r.high) if r.high is not None else math.nan
    return q, lo, hi, n


def wilson_ci(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Share with the Wilson score interval (R ``prop.test(x, n, correct = FALSE)``)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = stats.norm.ppf(1 - alpha / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def poisson_rate_ci(events: int, exposure: float, per: float = 1000.0,
                    alpha: float = 0.05) -> tuple[float, float, float]:
    """Rate per ``per`` units of exposure with the exact (Garwood) interval.

    Matches R ``poisson.test(events, exposure)$conf.int * per``.
    """
    if exposure <= 0:
        return math.nan, math.nan, math.nan
    lo = 0.0 if events == 0 else stats.chi2.ppf(alpha / 2, 2 * events) / 2
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    scale = per / exposure
    return events * scale, lo * scale, hi * scale


def nps(scores, alpha: float = 0.05) -> tuple[float, float, float, float, int]:
    """Net Promoter Score with its CI: (nps, low, high, se, n).

    Notes
    -----
    With p promoters (9-10) and d detractors (0-6) as shares of n answers,
    NPS = 100 (p - d) and Var(NPS) = 100² ((p + d) - (p - d)²) / n (the Wald interval). For
    small samples (n < 100, or fewer than 5 promoters or detractors) the interval is the
    adjusted Wald interval of Rocks (2016), which holds its level there
    (:func:`sqresearch.stats.compare.nps_ci`).
    """
    from sqresearch.stats.compare import nps_ci  # compare builds on this module

    r = nps_ci(scores, alpha)
    return r.value, r.low, r.high, r.se, r.n


def lre(estimate: float, certified: float) -> float:
    """Log relative error: about the number of correct significant digits (NIST StRD)."""
    if estimate == certified:
        return 15.0
    if certified == 0:
        return -math.log10(abs(estimate))
    return -math.log10(abs(estimate - certified) / abs(certified))
