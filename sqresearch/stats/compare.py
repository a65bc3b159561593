"""Comparing a metric between two periods (after vs before), independent or paired.

Each test returns a one-row tidy DataFrame with the same columns (``COLUMNS``), so results of
different tests stack into one table: the test, its statistic and p-value, the difference
(after − before) with its CI, an effect size with its CI, and the reason the test was chosen.
Every test follows the R function named in its docstring, so numbers can be checked against R
(tests/reference_before_after.R, tests/reference_smallfix.R). A CI sits beside the test it
agrees with: the Hodges–Lehmann interval with the rank tests, Tango's score interval with the
uncorrected McNemar test, the adjusted NPS interval with its own z statistic.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.describe import wilson_ci

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
    else normal with continuity correction); the Hodges–Lehmann shift with its CI as R
    ``wilcox.test(after, before, conf.int = TRUE, conf.level = 1 - alpha)``; rank-biserial r
    with a Hanley–McNeil CI.

    Notes
    -----
    U counts pairs where after > before (ties ½); r = 2U/(n_a n_b) − 1, so r < 0 means lower
    values after. The CI of r comes from the AUC = U/(n_a n_b) and its Hanley–McNeil (1982) SE.

    The Hodges–Lehmann shift is the median of all n_a·n_b differences after − before. Its exact
    CI (same rule as the p-value) is the pair of order statistics R takes from ``qwilcox``; the
    normal-approximation CI is the limit of R's root search (``tol.root`` → 0): R looks for
    where its continuity-corrected rank statistic crosses ±z, a step function that jumps only at
    pairwise differences, so the limit is an order statistic (R's default ``tol.root = 1e-4``
    stops up to ~5e-5 short of it). No n_a × n_b matrix is built: order statistics come from a
    selection on the sorted samples (see ``_kth_pairwise_sum``).
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
    est, lo, hi, level = _hl_two_sample(b, a, exact, alpha)
    note = "" if abs(level - (1 - alpha)) < 1e-12 else \
        f" (the requested level is not reachable: {100 * level:.1f} % CI)"
    return _row(test="Mann–Whitney U", statistic_name="W", statistic=res.statistic,
                p_value=res.pvalue, estimate_name="Hodges–Lehmann shift", estimate=est,
                ci_low=lo, ci_high=hi, effect_name="rank-biserial r", effect=r,
                effect_low=max(-1.0, r - 2 * z * se), effect_high=min(1.0, r + 2 * z * se),
                n_before=b.size, n_after=a.size,
                method="Mann–Whitney U (" + ("exact" if exact else "normal approximation with "
                                             "continuity correction") + "); Hodges–Lehmann "
                "shift (median of all pairwise differences after − before) with its " +
                ("exact" if exact else "normal-approximation") + " CI as R wilcox.test" +
                note + "; rank-biserial r, Hanley–McNeil CI")


def wilcoxon_signed_rank(before, after, alpha: float = 0.05) -> pd.DataFrame:
    """Wilcoxon signed-rank test on unit pairs with R's rules (``wilcox.test(paired = TRUE)``:
    zeros dropped; exact below 50 pairs without ties or zeros, else normal with continuity
    correction); the pseudo-median (Hodges–Lehmann: median of the Walsh averages of the
    non-zero differences, as R) with its CI as R ``wilcox.test(after, before, paired = TRUE,
    conf.int = TRUE)``; matched-pairs rank-biserial r = (V⁺ − V⁻)/(V⁺ + V⁻), with an approximate
    CI from the normal approximation of V⁺ (SE = √(n(n+1)(2n+1)/24)) mapped to the r scale.

    The normal-approximation CI is the limit of R's root search (see ``mann_whitney``), including
    R's widening of alpha when a small sample cannot reach the requested level."""
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
    est, lo, hi, level = _hl_one_sample(nz, exact, alpha)
    note = "" if abs(level - (1 - alpha)) < 1e-12 else \
        f" (the requested level is not reachable: {100 * level:.1f} % CI)"
    return _row(test="Wilcoxon signed-rank", statistic_name="V", statistic=v_plus,
                p_value=res.pvalue, estimate_name="pseudo-median of paired differences",
                estimate=est, ci_low=lo, ci_high=hi, effect_name="rank-biserial r", effect=r,
                effect_low=max(-1.0, r - half), effect_high=min(1.0, r + half),
                n_before=d.size, n_after=d.size,
                method="Wilcoxon signed-rank (" + ("exact" if exact else "normal approximation "
                                                   "with continuity correction") +
                       "), zero differences dropped; Hodges–Lehmann pseudo-median (median of "
                       "the Walsh averages) with its " +
                       ("exact" if exact else "normal-approximation") + " CI as R wilcox.test" +
                       note)


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


class NPSInterval(NamedTuple):
    """An NPS (points, −100…100) with its CI, standard error, n and the method used."""

    value: float
    low: float
    high: float
    se: float
    n: int
    method: str


_NPS_SMALL_N = 100
_NPS_FEW = 5


def _nps_counts(scores) -> tuple[int, int, int]:
    a = _clean(scores)
    return int((a >= 9).sum()), int((a <= 6).sum()), int(a.size)


def _nps_needs_adjustment(pro: int, det: int, n: int) -> bool:
    """Adjusted interval when n < 100 or promoters or detractors are near 0 % or 100 % (fewer
    than 5 of them, or fewer than 5 answers outside the group)."""
    return n < _NPS_SMALL_N or min(pro, det, n - pro, n - det) < _NPS_FEW


def _nps_moments(pro: float, det: float, n: float) -> tuple[float, float]:
    p, d = pro / n, det / n
    return 100 * (p - d), 100 * math.sqrt(max((p + d) - (p - d) ** 2, 0.0) / n)


def nps_ci(scores, alpha: float = 0.05, adjust: str | bool = "auto") -> NPSInterval:
    """NPS of one period with a CI that holds for small n.

    ``adjust``: "auto" (default) uses the adjusted Wald interval when n < 100 or promoters or
    detractors are fewer than 5 (or all but fewer than 5); True always, False never (plain Wald,
    Var = 100²((p + d) − (p − d)²)/n, as ``describe.nps``).

    The adjusted Wald interval is the one Rocks (2016, "Interval estimation for the 'Net
    Promoter Score'", The American Statistician 70(4):365–372) found to perform best: add 3
    pseudo-answers spread as ¾ promoter, 1½ passive, ¾ detractor (the NPS = 0 trinomial) —
    p' = (x_pro + ¾)/(n + 3), d' = (x_det + ¾)/(n + 3) — and use the Wald formula with n + 3.
    The point estimate stays the plain NPS; only the interval (centred on 100(p' − d')) moves.
    The recipe (¾ to promoters, ¾ to detractors, 3 to n, then the variance of the difference of
    two proportions) is also how Lewis & Sauro state it (MeasuringU, "Evaluating NPS confidence
    intervals with real-world data", 2021), who confirmed Rocks's finding on two data sets.
    """
    pro, det, n = _nps_counts(scores)
    if n == 0:
        return NPSInterval(math.nan, math.nan, math.nan, math.nan, 0, "no answers")
    value, se = _nps_moments(pro, det, n)
    use = _nps_needs_adjustment(pro, det, n) if adjust == "auto" else bool(adjust)
    z = _z(alpha)
    if not use:
        return NPSInterval(value, value - z * se, value + z * se, se, n,
                           "Wald CI, Var = 100²((p+d) − (p−d)²)/n")
    centre, se = _nps_moments(pro + 0.75, det + 0.75, n + 3)
    return NPSInterval(value, max(-100.0, centre - z * se), min(100.0, centre + z * se), se, n,
                       "adjusted Wald CI (Rocks 2016: ¾ promoter, 1½ passive and ¾ detractor "
                       "added, n + 3)")


def nps_difference(before, after, alpha: float = 0.05, adjust: str | bool = "auto"
                   ) -> pd.DataFrame:
    """NPS after − before; the variances of the two independent periods add (z-test).

    With ``adjust`` "auto" (default) the adjusted Wald interval of ``nps_ci`` is used in both
    periods when either period has n < 100 or promoters/detractors near 0 % or 100 %; then the
    interval is centred on the difference of the adjusted NPS and the z statistic and p-value
    come from the same adjusted quantities, so the CI excludes 0 exactly when p < alpha. The
    estimate is always the plain difference. ``method`` says which interval was used.
    """
    pb, db, nb = _nps_counts(before)
    pa, da, na = _nps_counts(after)
    if nb == 0 or na == 0:
        return _row(test="NPS difference z-test", statistic_name="z",
                    estimate_name="difference in NPS points", n_before=nb, n_after=na,
                    method="no answers in a period")
    v0, se0 = _nps_moments(pb, db, nb)
    v1, se1 = _nps_moments(pa, da, na)
    d = v1 - v0
    use = (_nps_needs_adjustment(pb, db, nb) or _nps_needs_adjustment(pa, da, na)
           if adjust == "auto" else bool(adjust))
    if use:
        c0, se0 = _nps_moments(pb + 0.75, db + 0.75, nb + 3)
        c1, se1 = _nps_moments(pa + 0.75, da + 0.75, na + 3)
        centre = c1 - c0
        method = ("adjusted Wald (Rocks 2016: ¾ promoter, 1½ passive, ¾ detractor added to each "
                  "period, n + 3), variances added; used because a period has n < 100 or "
                  "promoters/detractors near 0 % or 100 %")
    else:
        centre = d
        method = "Var(NPS) = 100²((p+d) − (p−d)²)/n per period, variances added"
    se = math.sqrt(se0 ** 2 + se1 ** 2)
    z = centre / se if se > 0 else math.nan
    half = _z(alpha) * se
    return _row(test="NPS difference z-test", statistic_name="z", statistic=z,
                p_value=2 * stats.norm.sf(abs(z)) if se > 0 else math.nan,
                estimate_name="difference in NPS points", estimate=d,
                ci_low=max(-200.0, centre - half), ci_high=min(200.0, centre + half),
                n_before=nb, n_after=na, method=method)


_BOOT_CELLS = 4_000_000  # resampled values held at once (bootstrap batches)


def _loo_medians(x: np.ndarray) -> np.ndarray:
    """The n leave-one-out medians of x in O(n log n): leaving out one point of a sorted sample
    moves the median to one of (at most) three values."""
    n = x.size
    order = np.argsort(x, kind="stable")
    s = x[order]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)  # rank (0-based) of each point in the sorted sample
    if n < 2:
        return np.full(n, np.nan)
    if n % 2 == 0:  # n − 1 odd: the median is the m-th of the rest, m = n/2 (1-based)
        m = n // 2
        return np.where(pos < m, s[m], s[m - 1])
    m = n // 2  # n = 2m + 1: the rest has 2m points
    if m == 0:
        return np.full(n, np.nan)
    out = np.where(pos < m, (s[m] + s[m + 1]) / 2, (s[m - 1] + s[m]) / 2)
    out[pos == m] = (s[m - 1] + s[m + 1]) / 2
    return out


def bootstrap(before, after, statistic: str = "median_difference", resamples: int = 2000,
              method: str = "BCa", seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Seeded bootstrap CI for the median difference or the % change in the median.

    ``statistic``: ``median_difference`` (after − before) or ``median_pct_change``
    (100 × (median_after / median_before − 1)). Periods are resampled independently.

    ``method``: "percentile" or "BCa" (Efron 1987; formulas as ``scipy.stats.bootstrap``:
    bias correction from the mid-rank share of resampled statistics below the estimate,
    acceleration from the two-sample jackknife). BCa rests on a smooth statistic; the median of
    a sample with ties is not even locally smooth: its jackknife values collapse onto one or two
    numbers and the acceleration (and so the interval) becomes arbitrary. So when BCa is asked
    for and either period has tied values, the percentile interval is used instead and
    ``method`` says so; without ties BCa is kept, with the jackknife done in O(n log n) (the
    leave-one-out median of a sorted sample takes at most three values).

    Resamples are drawn in batches of at most ~4·10⁶ values, so memory stays bounded; with one
    batch (small samples) the draws and the interval equal ``scipy.stats.bootstrap``'s for the
    same seed.
    """
    b, a = _clean(before), _clean(after)
    pct = statistic != "median_difference"

    def fn(mb, ma):
        return 100 * (ma / mb - 1) if pct else ma - mb

    rng = np.random.default_rng(seed)
    batch = max(1, _BOOT_CELLS // (b.size + a.size))
    theta = np.empty(resamples)
    for start in range(0, resamples, batch):
        k = min(batch, resamples - start)
        mb = np.median(b[rng.integers(0, b.size, (k, b.size))], axis=-1)
        ma = np.median(a[rng.integers(0, a.size, (k, a.size))], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta[start:start + k] = fn(mb, ma)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = fn(np.median(b), np.median(a))
    ties = (np.unique(b).size < b.size) or (np.unique(a).size < a.size)
    used = method
    if method.lower() == "bca" and ties:
        used = "percentile"
        how = (f"percentile bootstrap (BCa requested; the median's jackknife is unreliable with "
               f"tied values), {resamples:,} resamples, seed {seed}")
    else:
        how = f"{method} bootstrap, {resamples:,} resamples, seed {seed}"
    levels = np.array([alpha / 2, 1 - alpha / 2])
    if used.lower() == "bca":
        z0 = stats.norm.ppf(((theta < est).sum() + (theta <= est).sum()) / (2 * resamples))
        with np.errstate(divide="ignore", invalid="ignore"):
            jack = [fn(_loo_medians(b), np.median(a)), fn(np.median(b), _loo_medians(a))]
        u = [(j.size - 1) * (j.mean() - j) for j in jack]
        num = sum((ui ** 3).sum() / ui.size ** 3 for ui in u)
        den = sum((ui ** 2).sum() / ui.size ** 2 for ui in u)
        acc = num / den ** 1.5 / 6 if den > 0 else 0.0
        zq = stats.norm.ppf(levels)
        levels = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
    if np.isnan(levels).any():
        lo = hi = math.nan
    else:
        lo, hi = np.percentile(theta, 100 * levels)
    name = ("difference in medians" if statistic == "median_difference" else
            "% change in the median")
    return _row(test="bootstrap", estimate_name=name, estimate=est, ci_low=lo, ci_high=hi,
                n_before=b.size, n_after=a.size, method=how)


def rmst_difference(before, events_before, after, events_after, tau: float | None = None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Difference in restricted mean survival time, after − before, up to the same ``tau``.

    Each arm's RMST (area under its Kaplan–Meier curve to tau) and SE follow R ``survival``
    (``survival.rmst``); the arms are independent, so Var = Var_after + Var_before, with a z CI
    and two-sided p. ``tau`` None means the default rule of R ``survRM2::rmst2``: the smaller of
    the two arms' largest observed times (event or censored), so neither curve is extrapolated
    (``survival.default_tau``). Callers who pick tau should pick it before looking at effects.
    """
    from sqresearch.stats.survival import default_tau, rmst

    if tau is None:
        tau = default_tau(before, after)
    rb = rmst(before, events_before, tau, alpha)
    ra = rmst(after, events_after, tau, alpha)
    d = ra.estimate - rb.estimate
    se = math.hypot(ra.se, rb.se)
    z = d / se if se > 0 else math.nan
    half = _z(alpha) * se
    return _row(test="RMST difference", statistic_name="z", statistic=z,
                p_value=2 * stats.norm.sf(abs(z)) if se > 0 else math.nan,
                estimate_name="difference in RMST", estimate=d, ci_low=d - half,
                ci_high=d + half, n_before=rb.n, n_after=ra.n,
                method=f"restricted mean survival time to τ = {tau:g} (area under each "
                       "Kaplan–Meier curve, variance as R survival); arms independent, "
                       "variances added; z CI")


def rmst_ratio(before, events_before, after, events_after, tau: float | None = None,
               alpha: float = 0.05) -> pd.DataFrame:
    """Ratio of restricted mean survival times, after / before, with a CI on the log scale
    (SE of log RMST = SE / RMST per arm, variances added; as R ``survRM2::rmst2``'s ratio)."""
    from sqresearch.stats.survival import default_tau, rmst

    if tau is None:
        tau = default_tau(before, after)
    rb = rmst(before, events_before, tau, alpha)
    ra = rmst(after, events_after, tau, alpha)
    lr = math.log(ra.estimate / rb.estimate)
    se = math.hypot(ra.se / ra.estimate, rb.se / rb.estimate)
    z = lr / se if se > 0 else math.nan
    half = _z(alpha) * se
    return _row(test="RMST ratio", statistic_name="z", statistic=z,
                p_value=2 * stats.norm.sf(abs(z)) if se > 0 else math.nan,
                estimate_name="ratio of RMST", estimate=math.exp(lr),
                ci_low=math.exp(lr - half), ci_high=math.exp(lr + half), n_before=rb.n,
                n_after=ra.n,
                method=f"restricted mean survival time to τ = {tau:g}; ratio after / before "
                       "with a z CI on the log scale (delta method)")


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


# --- Hodges–Lehmann estimates: order statistics of pairwise sums without the full matrix ---------

_MAX_CELLS = 2_000_000  # pairwise sums materialised at once; above, selection narrows them first


def _count_less(u, v, lo, hi, pivot, strict: bool) -> np.ndarray:
    """Per row i, how many of fl(u[i] + v[j]) for j in [lo[i], hi[i]) are < (or <=) ``pivot``.

    v is sorted, so each row is non-decreasing in j and the count is found by a binary search
    run on all rows at once (O(rows · log n) time, O(rows) memory)."""
    a, b = lo.copy(), hi.copy()
    rows = np.arange(u.size)
    while True:
        act = np.flatnonzero(a < b)
        if act.size == 0:
            return a - lo
        mid = (a[act] + b[act]) // 2
        s = u[act] + v[mid]
        ok = s < pivot if strict else s <= pivot
        a[rows[act[ok]]] = mid[ok] + 1
        b[rows[act[~ok]]] = mid[~ok]


def _kth_pairwise_sum(u, v, k: int, walsh: bool = False, max_cells: int = _MAX_CELLS) -> float:
    """The k-th smallest (0-based) of the sums fl(u[i] + v[j]) over all pairs (over j >= i when
    ``walsh``), for sorted u and v, in O((m + n) log) memory.

    Selection in the style of Johnson & Mizoguchi (1978) / Monahan (1984): each row's candidates
    are an index range [lo, hi) of v; the pivot is the weighted median of the row medians, so each
    round drops at least a quarter of the candidates; counting below the pivot is a binary search
    per row. Once at most ``max_cells`` candidates remain they are listed and partitioned. The
    result is exactly the value numpy/R would find by sorting the full matrix.
    """
    m, n = u.size, v.size
    lo = np.arange(m, dtype=np.int64) if walsh else np.zeros(m, dtype=np.int64)
    hi = np.full(m, n, dtype=np.int64)
    below = 0  # sums known to lie below every remaining candidate
    while True:
        width = hi - lo
        total = int(width.sum())
        if total <= max_cells:
            rows = np.repeat(np.arange(m), width)
            offset = np.repeat(lo - (np.cumsum(width) - width), width)
            s = u[rows] + v[np.arange(total) + offset]
            return float(np.partition(s, k - below)[k - below])
        live = np.flatnonzero(width > 0)
        vals = u[live] + v[(lo[live] + hi[live]) // 2]
        order = np.argsort(vals, kind="stable")
        cum = np.cumsum(width[live][order])
        pivot = vals[order][np.searchsorted(cum, total / 2)]
        lt = _count_less(u, v, lo, hi, pivot, strict=True)
        le = _count_less(u, v, lo, hi, pivot, strict=False)
        if k < below + lt.sum():
            hi = lo + lt
        elif k < below + le.sum():
            return float(pivot)
        else:
            below += int(le.sum())
            lo = lo + le


def _order_stat(u, v, k1: int, walsh: bool = False) -> float:
    """The k1-th smallest (1-based) pairwise sum; see ``_kth_pairwise_sum``."""
    return _kth_pairwise_sum(u, v, k1 - 1, walsh)


def _median_of_sums(u, v, total: int, walsh: bool = False) -> float:
    half = (total + 1) // 2
    if total % 2:
        return _order_stat(u, v, half, walsh)
    return (_order_stat(u, v, half, walsh) + _order_stat(u, v, half + 1, walsh)) / 2


def _poly_counts(factors) -> list[int]:
    """Coefficients of a product of polynomials in q, exactly (Python integers)."""
    out = [1]
    for f in factors:
        out = f(out)
    return out


def _wilcox_counts(m: int, n: int) -> list[int]:
    """Number of orderings giving each value 0..mn of the Mann–Whitney U (no ties): the
    coefficients of the Gaussian binomial [m + n choose m]_q, as R's ``cwilcox``."""
    p = [1] + [0] * (m * n)
    for i in range(1, m + 1):  # multiply by (1 - q^(n+i)) / (1 - q^i)
        s = n + i
        for k in range(m * n, s - 1, -1):
            p[k] -= p[k - s]
        for k in range(i, m * n + 1):
            p[k] += p[k - i]
    return p


def _signrank_counts(n: int) -> list[int]:
    """Number of sign patterns giving each value 0..n(n+1)/2 of V (R's ``csignrank``)."""
    top = n * (n + 1) // 2
    p = [1] + [0] * top
    for i in range(1, n + 1):  # multiply by (1 + q^i)
        for k in range(top, i - 1, -1):
            p[k] += p[k - i]
    return p


def _r_quantile(counts: list[int], prob: float) -> int:
    """R's ``qwilcox``/``qsignrank`` for prob <= 0.5: the smallest q with P(X <= q) >= prob,
    summed in floating point as R sums it (with R's 10·DBL_EPSILON fuzz)."""
    total = sum(counts)
    target = prob - 10 * np.finfo(float).eps
    p = 0.0
    for q, c in enumerate(counts):
        p += c / total
        if p >= target:
            return q
    return len(counts) - 1


def _hl_two_sample(b: np.ndarray, a: np.ndarray, exact: bool, alpha: float):
    """Hodges–Lehmann shift (after − before) with R ``wilcox.test(after, before, conf.int =
    TRUE)``'s interval. Returns (estimate, low, high, achieved confidence level)."""
    na, nb = a.size, b.size
    total = na * nb
    u, v = np.sort(a), np.sort(-b)  # a_i + (−b_j) == a_i − b_j exactly in floating point
    if u.size > v.size:
        u, v = v, u
    est = _median_of_sums(u, v, total)
    if exact:
        counts = _wilcox_counts(na, nb)
        qu = _r_quantile(counts, alpha / 2) or 1
        ql = total - qu
        achieved = 2 * sum(counts[:qu]) / sum(counts)
        level = 1 - achieved if achieved - alpha > alpha / 2 else 1 - alpha
        return est, _order_stat(u, v, qu), _order_stat(u, v, ql + 1), level
    # normal approximation with continuity correction: R finds where its rank statistic of
    # (a − d, b) crosses ±z by uniroot; that step function jumps only at pairwise differences,
    # so the limit of the root is an order statistic D_(k), found here directly.
    ties = np.concatenate([np.unique(a, return_counts=True)[1],
                           np.unique(b, return_counts=True)[1]]).astype(float)
    nn = na + nb
    sigma = math.sqrt(na * nb / 12 * ((nn + 1) - np.sum(ties ** 3 - ties) / (nn * (nn - 1))))
    if sigma == 0:
        return est, math.nan, math.nan, 1 - alpha
    z = _z(alpha)

    def w_at(d):  # R's W(d) at a point, ties between the samples included
        r = stats.rankdata(np.concatenate([a - d, b]))
        _, t = np.unique(r, return_counts=True)
        dz = r[:na].sum() - na * (na + 1) / 2 - na * nb / 2
        s = math.sqrt(na * nb / 12 * ((nn + 1) - np.sum(t ** 3.0 - t) / (nn * (nn - 1))))
        return (dz - math.copysign(0.5, dz) * (dz != 0)) / s

    mumin, mumax = float(a.min() - b.max()), float(a.max() - b.min())
    w_min, w_max = w_at(mumin), w_at(mumax)

    def root(zq, k):
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return _order_stat(u, v, min(max(k, 1), total))

    low = root(z, math.floor(total / 2 - z * sigma - 0.5) + 1)
    high = root(-z, math.floor(total / 2 + z * sigma + 0.5) + 1)
    return est, low, high, 1 - alpha


def _hl_one_sample(x: np.ndarray, exact: bool, alpha: float):
    """Pseudo-median (median of the Walsh averages) of the non-zero paired differences with R
    ``wilcox.test(after, before, paired = TRUE, conf.int = TRUE)``'s interval.
    Returns (estimate, low, high, achieved confidence level)."""
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    total = n * (n + 1) // 2
    u = np.sort(x)
    # Walsh averages (x_i + x_j)/2: the sums are formed first and halved (exact), as R does
    est = _median_of_sums(u, u, total, walsh=True) / 2
    if exact:
        counts = _signrank_counts(n)
        qu = _r_quantile(counts, alpha / 2) or 1
        ql = total - qu
        achieved = 2 * sum(counts[:qu]) / 2 ** n
        level = 1 - achieved if achieved - alpha > alpha / 2 else 1 - alpha
        return (est, _order_stat(u, u, qu, True) / 2, _order_stat(u, u, ql + 1, True) / 2,
                level)

    def w_at(d):  # R's W(d): signed-rank statistic of x − d, zeros dropped
        xd = x - d
        xd = xd[xd != 0]
        m = xd.size
        r = stats.rankdata(np.abs(xd))
        _, t = np.unique(r, return_counts=True)
        zd = r[xd > 0].sum() - m * (m + 1) / 4
        s = math.sqrt(m * (m + 1) * (2 * m + 1) / 24 - np.sum(t ** 3.0 - t) / 48)
        if s == 0:
            return math.nan
        return (zd - math.copysign(0.5, zd) * (zd != 0)) / s

    w_min = w_at(float(u[0]))
    w_max = w_at(float(u[-1])) if math.isfinite(w_min) else math.nan
    if not math.isfinite(w_max):
        return float((u[0] + u[-1]) / 2), math.nan, math.nan, 0.0
    a2 = alpha
    while w_min - _z(a2) < 0 or w_max + _z(a2) > 0:  # R widens alpha until the ends bracket
        a2 *= 2
        if a2 >= 1:
            break
    level = 1 - min(1.0, a2) if (a2 >= 1 or alpha < a2 * 0.75) else 1 - alpha
    if a2 >= 1:
        med = float(np.median(x))
        return est, med, med, level
    _, t = np.unique(x, return_counts=True)  # away from the jumps only equal values tie
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(t ** 3.0 - t) / 48)
    z = _z(a2)
    k_low = math.floor(total / 2 - z * sigma - 0.5) + 1
    k_high = math.floor(total / 2 + z * sigma + 0.5) + 1
    low = _order_stat(u, u, min(max(k_low, 1), total), True) / 2
    high = _order_stat(u, u, min(max(k_high, 1), total), True) / 2
    return est, low, high, level
