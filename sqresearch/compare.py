"""Comparing a metric between two periods (after vs before), independent or paired.

Each function returns a one-row tidy DataFrame with the same columns (``COLUMNS``), so results of
different tests stack into one table: the test, its statistic and p-value, the difference
(after − before) with its CI, an effect size with its CI, and the reason the test was chosen.
Every test follows the R function named in its docstring, so numbers can be checked against R.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .describe import wilson_ci

COLUMNS = ["test", "statistic_name", "statistic", "df", "p_value", "estimate_name", "estimate",
           "ci_low", "ci_high", "effect_name", "effect", "effect_low", "effect_high", "n_before",
           "n_after", "method"]


def _row(**kw) -> pd.DataFrame:
    return pd.DataFrame([{c: kw.get(c, math.nan if c not in ("test", "statistic_name",
                                                             "estimate_name", "effect_name",
                                                             "method") else "")
                          for c in COLUMNS}])


def _clean(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[~np.isnan(a)]


def _z(alpha: float) -> float:
    return stats.norm.ppf(1 - alpha / 2)


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


def mann_whitney(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """Mann–Whitney U with R's rules (``wilcox.test``: exact below 50 per group without ties,
    else normal with continuity correction); rank-biserial r with a Hanley–McNeil CI.

    Notes
    -----
    U counts pairs where after > before (ties ½); r = 2U/(n_a n_b) − 1, so r < 0 means lower
    values after. The CI comes from the AUC = U/(n_a n_b) and its Hanley–McNeil (1982) SE.
    """
    b, a = _clean(before), _clean(after)
    ties = np.unique(np.concatenate([a, b])).size < a.size + b.size
    exact = a.size < 50 and b.size < 50 and not ties
    res = stats.mannwhitneyu(a, b, alternative="two-sided",
                             method="exact" if exact else "asymptotic", use_continuity=True)
    auc = res.statistic / (a.size * b.size)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt((auc * (1 - auc) + (a.size - 1) * (q1 - auc ** 2) +
                    (b.size - 1) * (q2 - auc ** 2)) / (a.size * b.size))
    r = 2 * auc - 1
    z = _z(alpha)
    return _row(test="Mann–Whitney U", statistic_name="W", statistic=res.statistic,
                p_value=res.pvalue, estimate_name="difference in medians",
                estimate=np.median(a) - np.median(b), effect_name="rank-biserial r", effect=r,
                effect_low=max(-1.0, r - 2 * z * se), effect_high=min(1.0, r + 2 * z * se),
                n_before=b.size, n_after=a.size,
                method="Mann–Whitney U (" + ("exact" if exact else "normal approximation with "
                                             "continuity correction") + "); rank-biserial r, "
                "Hanley–McNeil CI")


def wilcoxon_signed_rank(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """Wilcoxon signed-rank test on unit pairs with R's rules (``wilcox.test(paired = TRUE)``:
    zeros dropped; exact below 50 pairs without ties, else normal with continuity correction);
    matched-pairs rank-biserial r = (V⁺ − V⁻)/(V⁺ + V⁻), with an approximate CI from the normal
    approximation of V⁺ (SE = √(n(n+1)(2n+1)/24)) mapped to the r scale."""
    b, a = np.asarray(before, float), np.asarray(after, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    d = a[keep] - b[keep]
    nz = d[d != 0]
    ranks = stats.rankdata(np.abs(nz))
    v_plus = ranks[nz > 0].sum()
    ties = np.unique(np.abs(nz)).size < nz.size
    exact = nz.size < 50 and not ties and nz.size == d.size
    res = stats.wilcoxon(nz, method="exact" if exact else "approx", correction=not exact)
    total = ranks.sum()
    r = (2 * v_plus - total) / total if total else math.nan
    m = nz.size
    half = 2 * _z(alpha) * math.sqrt(m * (m + 1) * (2 * m + 1) / 24) / total if total else \
        math.nan
    return _row(test="Wilcoxon signed-rank", statistic_name="V", statistic=v_plus,
                p_value=res.pvalue, estimate_name="median paired difference",
                estimate=float(np.median(d)), effect_name="rank-biserial r", effect=r,
                effect_low=max(-1.0, r - half), effect_high=min(1.0, r + half),
                n_before=d.size, n_after=d.size,
                method="Wilcoxon signed-rank (" + ("exact" if exact else "normal approximation "
                                                   "with continuity correction") +
                       "), zero differences dropped")


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
    """McNemar's test for paired 0/1 outcomes (R ``mcnemar.test``, continuity-corrected) and the
    paired difference in shares with a Wald CI."""
    b, a = np.asarray(before, float), np.asarray(after, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    b, a = b[keep].astype(int), a[keep].astype(int)
    n = a.size
    lost = int(((b == 1) & (a == 0)).sum())  # 1 before, 0 after
    gained = int(((b == 0) & (a == 1)).sum())
    chi2 = (abs(gained - lost) - 1) ** 2 / (gained + lost) if gained + lost else 0.0
    p = stats.chi2.sf(chi2, 1) if gained + lost else 1.0
    d = (gained - lost) / n
    se = math.sqrt(gained + lost - (gained - lost) ** 2 / n) / n
    return _row(test="McNemar", statistic_name="X²", statistic=chi2, df=1, p_value=p,
                estimate_name="difference in shares", estimate=d, ci_low=d - _z(alpha) * se,
                ci_high=d + _z(alpha) * se, n_before=n, n_after=n,
                method=f"McNemar's test with continuity correction ({gained} units changed "
                       f"0→1, {lost} 1→0); Wald CI for the paired difference")


def nps_difference(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """NPS after − before; the variances of the two independent periods add (z-test)."""
    from .describe import nps

    v0, _, _, se0, n0 = nps(before, alpha)
    v1, _, _, se1, n1 = nps(after, alpha)
    se = math.sqrt(se0 ** 2 + se1 ** 2)
    d = v1 - v0
    z = d / se if se > 0 else math.nan
    return _row(test="NPS difference z-test", statistic_name="z", statistic=z,
                p_value=2 * stats.norm.sf(abs(z)) if se > 0 else math.nan,
                estimate_name="difference in NPS points", estimate=d, ci_low=d - _z(alpha) * se,
                ci_high=d + _z(alpha) * se, n_before=n0, n_after=n1,
                method="Var(NPS) = 100²((p+d) − (p−d)²)/n per period, variances added")


def bootstrap(before, after, statistic: str = "median_difference", resamples: int = 2000,
              method: str = "BCa", seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Seeded bootstrap CI for the median difference or the % change in the median.

    ``statistic``: ``median_difference`` (after − before) or ``median_pct_change``
    (100 × (median_after / median_before − 1)). Periods are resampled independently.
    """
    b, a = _clean(before), _clean(after)

    def diff(x, y, axis=-1):
        return np.median(y, axis=axis) - np.median(x, axis=axis)

    def pct(x, y, axis=-1):
        return 100 * (np.median(y, axis=axis) / np.median(x, axis=axis) - 1)

    fn = diff if statistic == "median_difference" else pct
    res = stats.bootstrap((b, a), fn, n_resamples=resamples, method=method.lower(),
                          confidence_level=1 - alpha, vectorized=True,
                          rng=np.random.default_rng(seed))
    name = ("difference in medians" if statistic == "median_difference" else
            "% change in the median")
    return _row(test="bootstrap", estimate_name=name, estimate=fn(b, a),
                ci_low=res.confidence_interval.low, ci_high=res.confidence_interval.high,
                n_before=b.size, n_after=a.size,
                method=f"{method} bootstrap, {resamples:,} resamples, seed {seed}")


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (R ``p.adjust(p, "holm")``); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    order = np.argsort(q, kind="mergesort")
    m = q.size
    adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
