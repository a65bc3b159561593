"""Hodges–Lehmann estimates and R ``wilcox.test``'s intervals for them.

The shift of two samples (median of all pairwise differences) and the pseudo-median of paired
differences (median of the Walsh averages), with R's exact interval (order statistics from
``qwilcox``/``qsignrank``) or the limit of its normal-approximation root search. No n_a × n_b
matrix is built: order statistics of pairwise sums come from a selection on the sorted samples
(``_kth_pairwise_sum``). Used by ``ranktests``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sqresearch.stats.testrow import _z

_MAX_CELLS = 2_000_000  # pairwise sums materialised at once; above, selection narrows them first


def _count_less(u, v, lo, hi, pivot, strict: bool, runs=None) -> np.ndarray:
    """Per row i, how many of fl(u[i] + v[j]) for j in [lo[i], hi[i]) are < (or <=) ``pivot``.

    v is sorted, so each row is non-decreasing in j: ``searchsorted`` of pivot − u[i] finds the
    boundary up to rounding, and exact steps on fl(u[i] + v[j]) itself settle it, a run of tied
    v values at a time (``runs``: each index's run start and end; O(rows · log n) time in C,
    O(rows) memory)."""
    start, end = runs if runs is not None else (np.searchsorted(v, v, "left"),
                                                np.searchsorted(v, v, "right"))
    with np.errstate(invalid="ignore", over="ignore"):
        a = np.searchsorted(v, pivot - u, side="left" if strict else "right")
    a = np.clip(a, lo, hi)
    last = v.size - 1

    def counts(j):  # does fl(u[i] + v[j]) count? (j clipped; callers mask the rows out of range)
        s = u + v[np.clip(j, 0, last)]
        return s < pivot if strict else s <= pivot

    while True:  # step left over runs whose sum does not count
        back = (a > lo) & ~counts(a - 1)
        if not back.any():
            break
        a[back] = np.maximum(start[np.clip(a[back] - 1, 0, last)], lo[back])
    while True:  # step right over runs whose sum still counts
        ahead = (a < hi) & counts(a)
        if not ahead.any():
            break
        a[ahead] = np.minimum(end[np.clip(a[ahead], 0, last)], hi[ahead])
    return a - lo


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
    runs = (np.searchsorted(v, v, "left"), np.searchsorted(v, v, "right"))  # tied values
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
        lt = _count_less(u, v, lo, hi, pivot, strict=True, runs=runs)
        le = _count_less(u, v, lo, hi, pivot, strict=False, runs=runs)
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
