"""Rank tests between two periods with the Hodges–Lehmann estimate and its interval.

Mann–Whitney U (independent periods) and the Wilcoxon signed-rank test (unit pairs) with R
``wilcox.test``'s rules, the Hodges–Lehmann shift or pseudo-median with R's ``conf.int = TRUE``
interval (computed in ``hodges_lehmann``, so the CI agrees with the test) and rank-biserial r.
Each returns the one-row table of ``testrow``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.hodges_lehmann import _hl_one_sample, _hl_two_sample
from sqresearch.stats.testrow import _clean, _row, _z


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
