"""What the few-cluster tests share: p-values counted from draws (ties within ``TIE_RTOL``
count as ≥) and confidence intervals by test inversion (the set of β0 the same test does not
reject), so CI and p-value always agree. Used by ``wildboot`` and ``randomization``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: Relative tolerance under which a draw's |statistic| counts as a tie with the observed one.
TIE_RTOL = 1e-10


def _count_ge(draws: np.ndarray, observed) -> np.ndarray:
    """How many |draws| are ≥ |observed| along the last axis; ties within TIE_RTOL count."""
    obs = np.abs(np.asarray(observed, dtype=float))[..., None]
    return np.count_nonzero(np.abs(draws) >= obs * (1 - TIE_RTOL), axis=-1)


def _invert(pfun: Callable[[np.ndarray], np.ndarray], center: float, scale: float,
            alpha: float, max_doublings: int = 60) -> tuple[float, float]:
    """The bounds of {β0 : p(β0) ≥ α} around ``center`` (where p = 1).

    p(β0) is a step function (the same draws for every β0). On each side: double the distance
    from ``center`` until p < α, scan the last doubling interval on a 64-step grid for the
    outermost point with p ≥ α, then bisect to adjacent floating-point numbers. The bound
    returned is the last point *inside* (p ≥ α). If p stays ≥ α out to 2^60 scales the bound is
    infinite. Should p dip below α and come back (a confidence set with holes) the hull is
    reported.
    """
    bounds = []
    for sign in (-1.0, 1.0):
        inside, outside, step = center, None, scale
        for _ in range(max_doublings):
            x = center + sign * step
            if pfun(np.array([x]))[0] < alpha:
                outside = x
                break
            inside, step = x, step * 2
        if outside is None:
            bounds.append(sign * math.inf)
            continue
        grid = np.linspace(inside, outside, 65)
        ok = np.nonzero(pfun(grid) >= alpha)[0]
        last = ok.max()
        inside, outside = grid[last], grid[last + 1]
        while True:
            mid = 0.5 * (inside + outside)
            if mid in (inside, outside):
                break
            if pfun(np.array([mid]))[0] >= alpha:
                inside = mid
            else:
                outside = mid
        bounds.append(float(inside))
    return bounds[0], bounds[1]
