"""Minimum detectable effects at a given power for the sample at hand.

A before/after study reports the smallest true change it could have detected at 80 % power
(two-sided, at the study's alpha), so a "no significant change" is read with its resolution.
"""

from __future__ import annotations

import math

from scipy import optimize, stats


def mde_means(n_before: int, n_after: int, sd: float, alpha: float = 0.05, power: float = 0.8,
              paired: bool = False) -> float:
    """Smallest difference in means detectable with a two-sided t-test (R ``power.t.test(...,
    power = 0.8)$delta``, which counts only the rejection tail in the effect's direction; unequal
    groups use the same noncentral-t power with df = n_b + n_a − 2)."""
    if paired:
        n = n_before
        df, scale = n - 1, math.sqrt(1 / n)
    else:
        df, scale = n_before + n_after - 2, math.sqrt(1 / n_before + 1 / n_after)
    crit = stats.t.ppf(1 - alpha / 2, df)

    def gap(delta):  # as R with strict = FALSE: the far rejection tail is not counted
        return stats.nct.sf(crit, df, delta / scale) - power

    return float(optimize.brentq(gap, 1e-9, 12 * scale)) * sd  # ncp 12 is far past any power


def mde_proportions(p_before: float, n_before: int, n_after: int, alpha: float = 0.05,
                    power: float = 0.8, direction: int = 1) -> float:
    """Smallest change in a share detectable with the two-proportion test (the power formula of
    R ``power.prop.test``, with separate group sizes). ``direction`` +1 looks for a rise, −1 for
    a fall; the result is the absolute change."""
    za = stats.norm.ppf(1 - alpha / 2)

    def achieved(delta):
        p1 = p_before + direction * delta
        pbar = (p_before * n_before + p1 * n_after) / (n_before + n_after)
        pooled = math.sqrt(pbar * (1 - pbar) * (1 / n_before + 1 / n_after))
        sep = math.sqrt(p_before * (1 - p_before) / n_before + p1 * (1 - p1) / n_after)
        return stats.norm.cdf((delta - za * pooled) / sep) - power

    limit = (1 - p_before if direction > 0 else p_before) - 1e-9
    if limit <= 0 or achieved(limit) < 0:
        return math.nan
    return float(optimize.brentq(achieved, 1e-9, limit))
