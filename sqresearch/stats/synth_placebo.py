"""Placebo-in-space inference for a synthetic control (Abadie, Diamond & Hainmueller 2010).

Every donor is in turn treated as if it had received the intervention and given its own
synthetic control; the treated unit's post/pre RMSPE ratio is ranked among all the units'
ratios. Under the null of no effect, and with units exchangeable, the rank is uniform on
1 … J + 1, so p = rank / (J + 1) is an exact permutation p-value — which can only take the
values 1/(J+1), 2/(J+1), …: with 15 donors the smallest is 1/16 = 0.0625, and P(p ≤ 0.1) =
1/16 under the null. The calibration (benchmarks/calibration_synth.py) shows both donor pools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.stats.synth import SynthResult, fit_unit, prepare


@dataclass(frozen=True)
class PlaceboTest:
    """The treated unit's RMSPE ratio ranked among the placebos'.

    ``table``: unit, role ("treated" / "placebo"), pre_rmspe, post_rmspe, ratio, excluded,
    rank (1 = largest ratio; NaN when excluded). ``gaps``: unit, period, post, gap (for the
    placebo gap plot).
    """

    treated: object
    table: pd.DataFrame
    gaps: pd.DataFrame
    rank: int
    n_units: int  # units ranked (the treated unit and the placebos kept)
    p_value: float  # rank / n_units
    pool: str
    exclude_mspe: float | None
    method: str = "placebo-in-space (rank of the post/pre RMSPE ratio)"

    def summary(self) -> pd.DataFrame:
        """One row: treated, rank, n_units, p_value, smallest_p (1/n_units), excluded
        (placebos dropped for a poor pre-fit), pool, exclude_mspe, method."""
        return pd.DataFrame([{
            "treated": self.treated, "rank": self.rank, "n_units": self.n_units,
            "p_value": self.p_value, "smallest_p": 1 / self.n_units,
            "excluded": int(self.table["excluded"].sum()), "pool": self.pool,
            "exclude_mspe": self.exclude_mspe, "method": self.method}])


def placebo_in_space(data: pd.DataFrame, treated, first_post=None, *, pre=None,
                     unit: str | None = None, period: str | None = None,
                     outcome: str | None = None, donors=None,
                     covariates: pd.DataFrame | None = None, pool: str = "donors",
                     exclude_mspe: float | None = None,
                     fit: SynthResult | None = None) -> PlaceboTest:
    """Placebo-in-space test of a synthetic control.

    Parameters
    ----------
    data, treated, first_post, pre, unit, period, outcome, donors, covariates :
        as for :func:`sqresearch.stats.synth.synth_control`
    pool : {"donors", "all"}
        A placebo unit's donor pool: "donors" — the other donors, the treated unit left out
        (Abadie et al. 2010; its post-period gap would contaminate the placebos); "all" — every
        other unit, the treated one included, which makes the test an exact permutation test
        under the null (each unit fitted from the J others).
    exclude_mspe : float, optional
        Drop placebos whose pre-period MSPE exceeds this multiple of the treated unit's
        (Abadie et al. 2010 show 20, 5 and 2; 5 is the usual choice). Default: keep all.
    fit : the treated unit's fit, if already computed

    Returns
    -------
    PlaceboTest
        table of every unit's RMSPEs and ratio, rank, n_units, p_value = rank / n_units.

    Notes
    -----
    ratio_i = RMSPE_post,i / RMSPE_pre,i; rank = #{kept units i : ratio_i ≥ ratio_treated}
    (ties counted against the treated unit: conservative); p = rank / n_units, with n_units =
    1 + the placebos kept.
    """
    if pool not in ("donors", "all"):
        raise ValueError(f"pool must be 'donors' or 'all', not {pool!r}")
    panel = prepare(data, first_post, pre, unit, period, outcome, treated=[treated])
    donor_list = ([u for u in panel.y.index if u != treated] if donors is None
                  else list(donors))
    if fit is None:
        fit = fit_unit(panel, treated, donor_list, covariates)
    fits = {treated: fit}
    for j in donor_list:
        others = [u for u in donor_list if u != j] + ([treated] if pool == "all" else [])
        fits[j] = fit_unit(panel, j, others, covariates)
    units = list(fits)
    pre_r = np.array([fits[u].pre_rmspe for u in units])
    post_r = np.array([fits[u].post_rmspe for u in units])
    with np.errstate(divide="ignore"):
        ratio = np.where(pre_r > 0, post_r / pre_r, math.inf)
    excluded = np.zeros(len(units), dtype=bool)
    if exclude_mspe is not None:
        excluded = pre_r ** 2 > exclude_mspe * pre_r[0] ** 2
        excluded[0] = False
    kept = ~excluded
    rank = int(np.sum(ratio[kept] >= ratio[0]))
    n = int(kept.sum())
    order = pd.Series(ratio).where(kept).rank(ascending=False, method="max")
    table = pd.DataFrame({"unit": units, "role": ["treated"] + ["placebo"] * (len(units) - 1),
                          "pre_rmspe": pre_r, "post_rmspe": post_r, "ratio": ratio,
                          "excluded": excluded, "rank": order.to_numpy()})
    gaps = pd.concat([fits[u].gaps[["period", "post", "gap"]].assign(unit=u) for u in units],
                     ignore_index=True)[["unit", "period", "post", "gap"]]
    return PlaceboTest(treated, table, gaps, rank, n, rank / n, pool, exclude_mspe)
