"""Synthetic control for one treated unit (Abadie, Diamond & Hainmueller 2010).

The treated unit's outcome path is matched, over the pre-periods, by a weighted average of the
donor units with weights on the simplex (w ≥ 0, Σw = 1); after the intervention the weighted
average is the counterfactual and the gap (treated − synthetic) the effect. Inference is by
placebos (:mod:`sqresearch.stats.synth_placebo`); several treated units with a common date use
synthetic difference-in-differences (:mod:`sqresearch.stats.sdid`).

The weights solve a quadratic programme exactly, by non-negative least squares (Lawson–Hanson,
an active-set method that terminates at the exact optimum): :func:`simplex_lstsq`. Checked
against R ``quadprog::solve.QP`` in tests/reference_synth.R.

A panel comes either wide (a DataFrame indexed by unit, one column per period, periods in
order) or tidy (a DataFrame plus the names of its unit, period and outcome columns); the
post-period starts at ``first_post`` (periods ≥ it) or is the complement of a boolean ``pre``
mask over the periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from sqresearch.io.errors import DataError, Problem

#: ``poor_fit`` is raised when the pre-period RMSPE exceeds this share of the standard deviation
#: of the treated unit's own pre-period outcomes (the synthetic unit then explains less than
#: 1 − 0.5² = 75 % of the treated unit's pre-period variation around its mean).
POOR_FIT_SHARE = 0.5


class SynthDataError(DataError):
    """A panel a synthetic control cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> SynthDataError:
    return SynthDataError("synthetic control", Problem(where, what, fix))


def simplex_lstsq(a, b, ridge: float = 0.0) -> np.ndarray:
    """argmin over the simplex of ‖a w − b‖² + ridge·‖w‖² (w ≥ 0, Σw = 1).

    Notes
    -----
    On the simplex a w − b = (a − b 1ᵀ) w, so with C = [a − b 1ᵀ; √ridge·I] the problem is the
    nearest point to the origin in the convex hull of C's columns. Let v ≥ 0 minimise
    ‖C v‖² + (1ᵀv − 1)² (an ordinary NNLS problem on C with a row of ones appended). Writing
    v = s·w with s = 1ᵀv, the objective is s²‖C w‖² + (s − 1)², so w = v / s minimises ‖C w‖²
    over the simplex whatever s is (and s = 1/(1 + min‖Cw‖²) > 0). The NNLS is solved by
    Lawson–Hanson's active-set method (``scipy.optimize.nnls``), which is exact up to rounding.

    R: ``quadprog::solve.QP(crossprod(a) + ridge * diag(J), crossprod(a, b),
    cbind(1, diag(J)), c(1, rep(0, J)), meq = 1)$solution``.
    """
    a = np.atleast_2d(np.asarray(a, dtype=float))
    b = np.asarray(b, dtype=float).ravel()
    if a.shape[0] != b.size:
        raise ValueError(f"a has {a.shape[0]} rows but b has {b.size} values")
    j = a.shape[1]
    if j == 1:
        return np.ones(1)
    c = a - b[:, None]
    if ridge > 0:
        c = np.vstack([c, math.sqrt(ridge) * np.eye(j)])
    scale = math.sqrt(float(np.mean(c ** 2)))
    if scale > 0:
        c = c / scale
    v, _ = nnls(np.vstack([c, np.ones((1, j))]), np.r_[np.zeros(c.shape[0]), 1.0],
                maxiter=50 * j)
    return v / v.sum()


def panel_matrix(data: pd.DataFrame, unit: str, period: str, outcome: str) -> pd.DataFrame:
    """A tidy panel as a wide matrix: one row per unit, one column per period (sorted). Every
    unit needs exactly one value for every period."""
    for c in (unit, period, outcome):
        if c not in data.columns:
            raise _fail(f"column {c!r} is not in the data (columns: {list(data.columns)}).",
                        "name the unit, period and outcome columns of the panel.")
    dup = data.duplicated([unit, period])
    if dup.any():
        first = data.loc[dup, [unit, period]].iloc[0].tolist()
        raise _fail(f"{int(dup.sum())} unit-period pair(s) appear more than once, e.g. "
                    f"{first}.", "aggregate to one value per unit and period first.",
                    f"columns {unit!r}, {period!r}")
    wide = data.pivot(index=unit, columns=period, values=outcome).sort_index(axis=1)
    return wide.astype(float)


@dataclass(frozen=True)
class Panel:
    """A checked wide panel: outcomes (units × periods), the pre-period mask."""

    y: pd.DataFrame
    pre: np.ndarray

    @property
    def periods(self) -> list:
        return list(self.y.columns)

    def row(self, label) -> int:
        return self.y.index.get_loc(label)


def prepare(data: pd.DataFrame, first_post=None, pre=None, unit: str | None = None,
            period: str | None = None, outcome: str | None = None,
            treated=()) -> Panel:
    """The wide panel and pre-period mask, checked: ``treated`` units present, no missing
    values, at least two pre-periods and one post-period."""
    if unit is not None or period is not None or outcome is not None:
        if None in (unit, period, outcome):
            raise ValueError("a tidy panel needs unit, period and outcome column names")
        y = panel_matrix(data, unit, period, outcome)
    else:
        y = data.astype(float)
    if (first_post is None) == (pre is None):
        raise ValueError("give exactly one of first_post and pre (a pre-period mask)")
    periods = np.asarray(y.columns)
    mask = (periods < first_post) if pre is None else np.asarray(pre, dtype=bool)
    if mask.size != periods.size:
        raise ValueError(f"the pre mask has {mask.size} values for {periods.size} periods")
    missing = [u for u in treated if u not in y.index]
    if missing:
        raise _fail(f"treated unit(s) {missing} are not in the panel.",
                    "name units that appear in the unit column.")
    holes = y.isna()
    if holes.to_numpy().any():
        u = holes.any(axis=1)
        raise _fail(f"{int(holes.to_numpy().sum())} unit-period value(s) are missing, for "
                    f"units {list(y.index[u][:5])}.", "fill or drop those units (the panel "
                    "must be balanced).")
    if mask.sum() < 2 or (~mask).sum() < 1:
        raise _fail(f"{int(mask.sum())} pre-period(s) and {int((~mask).sum())} post-period(s).",
                    "a synthetic control needs at least two pre-periods (many more to be "
                    "credible) and one post-period.")
    if len(y.index) - len(treated) < 1:
        raise _fail("no donor units are left.", "add untreated units to the panel.")
    return Panel(y, mask)


@dataclass(frozen=True)
class SynthResult:
    """A synthetic-control fit.

    ``weights``: donor, weight. ``gaps``: period, post, treated, synthetic, gap (treated −
    synthetic). ``poor_fit``: pre_rmspe > POOR_FIT_SHARE × treated_pre_sd.
    """

    treated: object
    weights: pd.DataFrame
    gaps: pd.DataFrame
    pre_rmspe: float
    post_rmspe: float
    effect: float  # the average post-period gap
    treated_pre_sd: float
    poor_fit: bool
    caveats: tuple[str, ...] = ()
    method: str = "synthetic control (simplex weights fitted to pre-period outcomes)"

    @property
    def ratio(self) -> float:
        """post/pre RMSPE."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else math.inf

    def summary(self) -> pd.DataFrame:
        """One row: treated, donors, n_pre, n_post, pre_rmspe, post_rmspe, ratio, effect,
        treated_pre_sd, poor_fit, method."""
        return pd.DataFrame([{
            "treated": self.treated, "donors": int((self.weights["weight"] > 0).sum()),
            "n_pre": int((~self.gaps["post"]).sum()), "n_post": int(self.gaps["post"].sum()),
            "pre_rmspe": self.pre_rmspe, "post_rmspe": self.post_rmspe, "ratio": self.ratio,
            "effect": self.effect, "treated_pre_sd": self.treated_pre_sd,
            "poor_fit": self.poor_fit, "method": self.method}])


def _rmspe(g: np.ndarray) -> float:
    return math.sqrt(float(np.mean(g ** 2))) if g.size else math.nan


def _covariate_rows(cov: pd.DataFrame, y_pre: np.ndarray) -> np.ndarray:
    """Covariates (units × k; ``y_pre``: units × pre-periods) rescaled so each has the
    cross-unit SD of the pre-period outcomes: each then weighs as much as one pre-period
    (V = diag(1, …, 1, s_y²/s_k²))."""
    s_y = float(np.sqrt(np.mean(np.var(y_pre, axis=0, ddof=1))))
    x = cov.to_numpy(dtype=float)
    s_k = x.std(axis=0, ddof=1)
    s_k[s_k == 0] = 1.0
    return ((x - x.mean(axis=0)) / s_k * s_y).T  # k × units


def fit_unit(panel: Panel, treated, donors, covariates: pd.DataFrame | None = None,
             method: str | None = None) -> SynthResult:
    """The synthetic control of one unit from the given donors (labels in ``panel.y``)."""
    y = panel.y.to_numpy()
    i = panel.row(treated)
    d = [panel.row(u) for u in donors]
    pre = panel.pre
    target, pool = y[i, pre], y[d][:, pre].T  # T0, T0 × J
    if covariates is not None:
        rows = _covariate_rows(covariates.loc[panel.y.index], y[:, pre])
        target, pool = np.r_[target, rows[:, i]], np.vstack([pool, rows[:, d]])
    w = simplex_lstsq(pool, target)
    synth = w @ y[d]
    gap = y[i] - synth
    pre_rmspe, post_rmspe = _rmspe(gap[pre]), _rmspe(gap[~pre])
    sd = float(np.std(y[i, pre], ddof=1))
    caveats = []
    if pre.sum() < len(d):
        caveats.append(f"{int(pre.sum())} pre-periods for {len(d)} donors: the weights may "
                       "not be unique and the fit may be over-fitted; prefer fewer donors.")
    poor = bool(pre_rmspe > POOR_FIT_SHARE * sd)
    if poor:
        caveats.append(f"poor pre-period fit: RMSPE {pre_rmspe:.4g} is more than "
                       f"{POOR_FIT_SHARE:.0%} of the treated unit's own pre-period SD "
                       f"({sd:.4g}); the donors cannot reproduce its path and the gap is not "
                       "a credible effect.")
    weights = pd.DataFrame({"donor": list(donors), "weight": w})
    gaps = pd.DataFrame({"period": panel.periods, "post": ~pre, "treated": y[i],
                         "synthetic": synth, "gap": gap})
    return SynthResult(treated, weights, gaps, pre_rmspe, post_rmspe,
                       float(np.mean(gap[~pre])), sd, poor, tuple(caveats),
                       method or SynthResult.method)


def synth_control(data: pd.DataFrame, treated, first_post=None, *, pre=None,
                  unit: str | None = None, period: str | None = None,
                  outcome: str | None = None, donors=None,
                  covariates: pd.DataFrame | None = None) -> SynthResult:
    """Synthetic control of one treated unit.

    Parameters
    ----------
    data : wide panel (index unit, one column per period) or tidy panel with ``unit``,
        ``period`` and ``outcome`` columns
    treated : the treated unit's label
    first_post : the first post-period (periods ≥ it are post); or ``pre``, a boolean mask
    donors : the donor pool (default: every other unit)
    covariates : optional predictors, a DataFrame indexed by unit (e.g. pre-period means);
        each is standardised and stacked under the pre-period outcomes with the weight of one
        pre-period (see Notes). Default: outcomes only.

    Returns
    -------
    SynthResult
        weights (donor, weight), gaps per period, pre_rmspe, post_rmspe, ratio, effect (the
        average post-period gap), poor_fit, caveats.

    Notes
    -----
    w = argmin_{w ∈ simplex} Σ_{t pre} (Y_1t − Σ_j w_j Y_jt)² (+ covariate rows):
    :func:`simplex_lstsq`. RMSPE = √(mean of squared gaps) over the pre- or post-periods.
    Covariate k is rescaled to z_k · s_y with s_y the root mean cross-unit variance of the
    pre-period outcomes: Abadie's V = diag(1, …, 1, s_y²/s_k²), not the data-driven V of
    ``Synth::synth`` (which is nested and fragile). The ``poor_fit`` rule: pre-RMSPE >
    POOR_FIT_SHARE (0.5) × SD of the treated unit's pre-period outcomes.
    """
    panel = prepare(data, first_post, pre, unit, period, outcome, treated=[treated])
    pool = [u for u in panel.y.index if u != treated] if donors is None else list(donors)
    if treated in pool or not pool or any(u not in panel.y.index for u in pool):
        raise _fail(f"the donor pool {pool[:5]} is empty, holds the treated unit or names "
                    "units not in the panel.", "list untreated units of the panel as donors.")
    return fit_unit(panel, treated, pool, covariates)


def in_time_placebo(data: pd.DataFrame, treated, first_post=None, shift: int = 1, *, pre=None,
                    unit: str | None = None, period: str | None = None,
                    outcome: str | None = None, donors=None,
                    covariates: pd.DataFrame | None = None) -> SynthResult:
    """The synthetic control refitted as if the intervention had happened ``shift`` periods
    earlier, on the pre-period data only: its ``effect`` (the average gap over those ``shift``
    periods) should be near 0, and its ratio unremarkable, if the design is sound."""
    panel = prepare(data, first_post, pre, unit, period, outcome, treated=[treated])
    before = panel.y.loc[:, panel.pre]
    if shift < 1 or before.shape[1] - shift < 2:
        raise _fail(f"shift={shift} leaves {before.shape[1] - shift} pre-period(s) of "
                    f"{before.shape[1]}.", "shift by at least 1 and leave two or more "
                    "pre-periods before the placebo date.")
    mask = np.arange(before.shape[1]) < before.shape[1] - shift
    fake = Panel(before, mask)
    pool = [u for u in panel.y.index if u != treated] if donors is None else list(donors)
    return fit_unit(fake, treated, pool, covariates,
                    method=f"in-time placebo: intervention moved {shift} period(s) earlier, "
                           "pre-period data only")
