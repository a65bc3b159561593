"""Net Promoter Score intervals: one period (``nps_ci``, Wald or the adjusted Wald interval of
Rocks 2016 for small samples) and the difference between two periods (``nps_difference``, a
z-test whose CI agrees with its p-value; the one-row table of ``testrow``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pandas as pd
from scipy import stats

from sqresearch.stats.testrow import _clean, _row, _z


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
    return nps_ci_from_counts(*_nps_counts(scores), alpha, adjust)


def nps_ci_from_counts(pro: int, det: int, n: int, alpha: float = 0.05,
                       adjust: str | bool = "auto") -> NPSInterval:
    """``nps_ci`` from the counts of promoters (9–10), detractors (0–6) and answers."""
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
