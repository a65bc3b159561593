"""Shares between two periods: the two-proportion z-test with Newcombe's interval, and
McNemar's test for paired 0/1 outcomes with Tango's score interval (the same statistic
inverted, so p and CI agree). R: ``prop.test(correct = FALSE)``, ``mcnemar.test(correct =
FALSE)``; each test returns the one-row table of ``testrow``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.describe import wilson_ci
from sqresearch.stats.testrow import _row, _z


def two_proportions(x_before: int, n_before: int, x_after: int, n_after: int,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Difference of two shares (after − before): Newcombe's hybrid score CI (method 10) and the
    two-proportion z-test (R ``prop.test(correct = FALSE)``, whose X² = z²)."""
    p1, l1, u1 = wilson_ci(x_after, n_after, alpha)
    p0, l0, u0 = wilson_ci(x_before, n_before, alpha)
    d = p1 - p0
    lo = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (x_after + x_before) / (n_after + n_before)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_after + 1 / n_before))
    z = d / se if se > 0 else math.nan
    p = 2 * stats.norm.sf(abs(z)) if se > 0 else math.nan
    return _row(test="two-proportion z-test", statistic_name="z", statistic=z, p_value=p,
                estimate_name="difference in shares", estimate=d, ci_low=lo, ci_high=hi,
                n_before=n_before, n_after=n_after,
                method="two-proportion z-test (no continuity correction); Newcombe hybrid "
                       "score CI")


def mcnemar(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """McNemar's test for paired 0/1 outcomes and Tango's score CI for the paired difference in
    shares (after − before); test and interval come from the same score statistic.

    The p-value is R ``mcnemar.test(table, correct = FALSE)``: X² = (g − l)²/(g + l) with g units
    changed 0→1 and l changed 1→0. Tango's (1998, Stat Med 17:891) interval inverts the score
    statistic T(Δ) = (g − l − nΔ) / √(n(2q̂ + Δ(1 − Δ))), q̂ the restricted maximum-likelihood
    share of 1→0 pairs under the difference Δ; T(0)² is McNemar's uncorrected X², so the CI
    excludes 0 exactly when p < alpha.
    """
    b, a = np.asarray(before, float), np.asarray(after, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    b, a = b[keep].astype(int), a[keep].astype(int)
    n = a.size
    lost = int(((b == 1) & (a == 0)).sum())  # 1 before, 0 after
    gained = int(((b == 0) & (a == 1)).sum())
    chi2 = (gained - lost) ** 2 / (gained + lost) if gained + lost else 0.0
    p = float(stats.chi2.sf(chi2, 1)) if gained + lost else 1.0
    d = (gained - lost) / n if n else math.nan
    lo, hi = tango_ci(gained, lost, n, alpha) if n else (math.nan, math.nan)
    return _row(test="McNemar", statistic_name="X²", statistic=chi2, df=1, p_value=p,
                estimate_name="difference in shares", estimate=d, ci_low=lo, ci_high=hi,
                n_before=n, n_after=n,
                method=f"McNemar's test without continuity correction ({gained} units changed "
                       f"0→1, {lost} 1→0); Tango's score CI for the paired difference, which "
                       "inverts the same statistic")


def _tango_statistic(delta: float, gained: int, lost: int, n: int) -> tuple[float, float]:
    """Numerator and variance of Tango's score statistic at the difference ``delta``."""
    w = -gained - lost + (2 * n - gained + lost) * delta
    c = lost * delta * (1 - delta)
    root = math.sqrt(max(w * w + 8 * n * c, 0.0))
    # restricted MLE of P(1→0): the positive root of 2n q² + w q − c = 0, in a stable form
    q = (root - w) / (4 * n) if w <= 0 else 2 * c / (root + w)
    return gained - lost - n * delta, max(n * (2 * q + delta * (1 - delta)), 0.0)


def tango_ci(gained: int, lost: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Tango's (1998) score CI for the paired difference in shares (gained − lost)/n, solved to
    machine precision (root of (g − l − nΔ) ∓ z·√Var(Δ) on each side of the estimate)."""
    z = _z(alpha)
    est = (gained - lost) / n
    if gained == lost == 0:  # closed form: |Δ| = z²/(n + z²)
        h = z * z / (n + z * z)
        return -h, h

    def side(delta, sign):
        num, var = _tango_statistic(delta, gained, lost, n)
        return num - sign * z * math.sqrt(var)

    from scipy.optimize import brentq

    lo = -1.0 if est <= -1 or side(-1.0, 1) <= 0 else \
        brentq(side, -1.0, est, args=(1,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
    hi = 1.0 if est >= 1 or side(1.0, -1) >= 0 else \
        brentq(side, est, 1.0, args=(-1,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return lo, hi
