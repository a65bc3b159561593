"""Restricted mean survival times compared between two periods: their difference and their
ratio, each arm's RMST from ``survival.rmst`` (R ``survival``, ``survRM2::rmst2``); the one-row
table of ``testrow``.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from sqresearch.stats.testrow import _row, _z


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
