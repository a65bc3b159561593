"""Two-period t-tests (after vs before): Welch, paired, and the ratio of geometric means.

Each returns the one-row table of ``testrow`` and follows R ``t.test`` (tests/reference.R,
tests/reference_before_after.R); Hedges' g and g_av with their t-based CIs as pingouin.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.testrow import _clean, _row


def welch(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """Welch's t-test, difference of means with CI, Hedges' g with CI (R ``t.test``).

    Notes
    -----
    g = J · (x̄_a − x̄_b) / s_pooled with J = 1 − 3 / (4(n_a + n_b) − 9); its CI is
    g ± t(n_a + n_b − 2) · √((n_a + n_b)/(n_a n_b) + g² / (2(n_a + n_b))), as R
    ``effsize::cohen.d(noncentral = FALSE)`` and pingouin compute it.
    """
    b, a = _clean(before), _clean(after)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    g, g_lo, g_hi = hedges_g(b, a, alpha)
    return _row(test="Welch t-test", statistic_name="t", statistic=res.statistic, df=res.df,
                p_value=res.pvalue, estimate_name="difference in means", estimate=a.mean() -
                b.mean(), ci_low=ci.low, ci_high=ci.high, effect_name="Hedges' g", effect=g,
                effect_low=g_lo, effect_high=g_hi, n_before=b.size, n_after=a.size,
                method="Welch t-test (unequal variances); Hedges' g with its t-based CI")


def hedges_g(before, after, alpha: float = 0.05) -> tuple[float, float, float]:
    b, a = _clean(before), _clean(after)
    nb, na = b.size, a.size
    sp = math.sqrt(((nb - 1) * b.var(ddof=1) + (na - 1) * a.var(ddof=1)) / (nb + na - 2))
    g = (1 - 3 / (4 * (nb + na) - 9)) * (a.mean() - b.mean()) / sp
    se = math.sqrt((na + nb) / (na * nb) + g * g / (2 * (na + nb)))
    crit = stats.t.ppf(1 - alpha / 2, na + nb - 2)
    return g, g - crit * se, g + crit * se


def paired_t(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """Paired t-test on unit pairs (R ``t.test(after, before, paired = TRUE)``); Hedges' g_av.

    Notes
    -----
    g_av = J · mean(d) / √((s_b² + s_a²)/2) with J = 1 − 3/(4(n − 1) − 1); its CI is
    g ± t(n − 1) · √(1/n + g²/(2n)), the paired interval pingouin uses.
    """
    b, a = np.asarray(before, float), np.asarray(after, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    b, a = b[keep], a[keep]
    res = stats.ttest_rel(a, b)
    ci = res.confidence_interval(1 - alpha)
    n = a.size
    g = (1 - 3 / (4 * (n - 1) - 1)) * (a - b).mean() / math.sqrt((a.var(ddof=1) +
                                                                  b.var(ddof=1)) / 2)
    half = stats.t.ppf(1 - alpha / 2, n - 1) * math.sqrt(1 / n + g * g / (2 * n))
    return _row(test="paired t-test", statistic_name="t", statistic=res.statistic, df=res.df,
                p_value=res.pvalue, estimate_name="mean paired difference",
                estimate=(a - b).mean(), ci_low=ci.low, ci_high=ci.high,
                effect_name="Hedges' g_av", effect=g, effect_low=g - half,
                effect_high=g + half, n_before=n, n_after=n,
                method="paired t-test on units measured in both periods; Hedges' g_av")


def log_ratio(before, after, paired: bool = False, alpha: float = 0.05) -> pd.DataFrame:
    """Ratio of geometric means (after / before) from a t-test on log values, back-transformed.

    "Response time fell 24 % (95 % CI 20–28 %)" reads from ``estimate`` = 0.76. Values must be
    positive (durations); R: ``exp(t.test(log(after), log(before))$conf.int)``.
    """
    b, a = np.asarray(before, float), np.asarray(after, float)
    if paired:
        keep = ~(np.isnan(a) | np.isnan(b))
        b, a = b[keep], a[keep]
    else:
        b, a = _clean(b), _clean(a)
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("the ratio of geometric means needs positive values")
    la, lb = np.log(a), np.log(b)
    res = stats.ttest_rel(la, lb) if paired else stats.ttest_ind(la, lb, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    est = math.exp((la - lb).mean() if paired else la.mean() - lb.mean())
    return _row(test="t-test on log values", statistic_name="t", statistic=res.statistic,
                df=res.df, p_value=res.pvalue, estimate_name="ratio of geometric means",
                estimate=est, ci_low=math.exp(ci.low), ci_high=math.exp(ci.high),
                n_before=b.size, n_after=a.size,
                method=("paired" if paired else "Welch") + " t-test on log values, "
                "back-transformed to a ratio (after / before)")
