"""Staggered adoption: group-time average treatment effects ATT(g, t) (Callaway & Sant'Anna
2021) on a balanced unit × period panel, with per-unit influence functions and the multiplier
bootstrap clustered by unit.

A cohort g is the units first treated in period g; never-treated units have no cohort (NaN or 0;
a cohort after the last period counts as never treated, as in R ``did``). For each cohort g and
period t the 2 × 2 comparison runs from a base period b to t:

- without covariates, ATT(g, t) = mean(Y_t − Y_b | cohort g) − mean(Y_t − Y_b | comparison);
- with covariates (taken at the base period), the doubly robust panel estimator of Sant'Anna &
  Zhao (2020): a logit propensity score of cohort g against the comparison units and a linear
  regression of Y_t − Y_b on the covariates in the comparison units (R ``DRDID::drdid_panel``).

Base period: ``"varying"`` uses b = t − 1 before treatment and b = g − 1 after it; ``"universal"``
uses b = g − 1 throughout (and reports the row t = g − 1 as 0). Comparison: ``"never"`` the
never-treated units, ``"notyet"`` those plus the units whose cohort is later than max(t, b).

Inference is the multiplier bootstrap only (R ``did``'s default; there is no t or
normal-theory alternative here, and with few units per cohort the bootstrap is the only
inference there is): each unit's influence function is multiplied by an i.i.d. Mammen or
Rademacher weight, so the draws are clustered by unit. The standard error is the bootstrap
interquartile range / 1.349, pointwise CIs are θ̂ ± z·SE and the simultaneous band uses the
1 − α quantile of the bootstrap sup-t over the estimates. Unlike R ``did``, the influence
functions carry small-sample factors (n/(n − 1) within each cohort and comparison group, under
a square root; ``small_sample=False`` drops them). Calibration
(``benchmarks/calibration_staggered.py``, three cohorts and a never-treated group of n units,
8 periods): the overall ATT rejects 4.8–5.2 % under no effect for n = 5, 10, 25 (R ``did``'s
divisor: 7.5, 6.3, 5.7 %), but the simultaneous event-time band over 11 estimates is too narrow
with few units (familywise error 13 %, 8 %, 6 %). A cohort of one unit contributes no variance
of its own (``GroupTime.caveats``).

The input checks (``StaggeredDesignError``, ``as_panel``) are in ``staggered_checks``;
aggregations (overall, per cohort, by event time, by calendar period) in ``staggered_agg``; the
two-way fixed-effects estimate, the Goodman-Bacon decomposition and the de Chaisemartin–
D'Haultfœuille weights in ``staggered_twfe``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.staggered_checks import (
    Panel,
    StaggeredDesignError,
    _fail,
    as_panel,
)

__all__ = ["BASES", "COMPARISONS", "WEIGHTS", "GroupTime", "Panel", "StaggeredDesignError",
           "as_panel", "att_gt", "att_gt_panel", "bootstrap_table", "multiplier_bootstrap"]

COMPARISONS = ("never", "notyet")
BASES = ("varying", "universal")
WEIGHTS = ("mammen", "rademacher")
_PHI = (1 + math.sqrt(5)) / 2
_BATCH_ELEMENTS = 1_000_000  # draw × unit cells held in memory at once


@dataclass(frozen=True)
class GroupTime:
    """Group-time average treatment effects and their influence functions.

    Attributes
    ----------
    table : DataFrame
        One row per (g, t): group, time, event_time (t − g), base (the base period), post
        (t ≥ g), att, n_treated, n_comparison.
    influence : ndarray
        Units × rows of ``table``: ψ_i with ATT̂ − ATT ≈ mean_i ψ_i over all N units (zero for
        units outside a cell's comparison).
    units : ndarray
        Unit ids, in the row order of ``influence``.
    unit_cohort : ndarray
        Each unit's cohort (0 = never treated).
    periods : ndarray
        The panel's periods (consecutive integers).
    comparison, base : str
        The choices made.
    covariates : tuple of str
    caveats : tuple of str
        Cohorts of one unit, cells without comparison units, propensity scores near 1.
    """

    table: pd.DataFrame
    influence: np.ndarray
    units: np.ndarray
    unit_cohort: np.ndarray
    periods: np.ndarray
    comparison: str
    base: str
    covariates: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default=())

    def summary(self, *, resamples: int = 999, seed: int | None, alpha: float = 0.05,
                weights: str = "mammen") -> pd.DataFrame:
        """``table`` with bootstrap inference (:func:`bootstrap_table`); the simultaneous band
        covers every ATT(g, t) at once."""
        draws = multiplier_bootstrap(self.influence, resamples=resamples, seed=seed,
                                     weights=weights)
        inf = bootstrap_table(self.table["att"].to_numpy(), draws, alpha=alpha)
        return pd.concat([self.table, inf.drop(columns="estimate")], axis=1)


def att_gt(panel: pd.DataFrame, unit: str = "unit", period: str = "period",
           value: str = "value", cohort: str = "cohort", *, comparison: str = "never",
           base: str = "varying", covariates=(), small_sample: bool = True) -> GroupTime:
    """Group-time average treatment effects ATT(g, t) (Callaway & Sant'Anna 2021).

    Parameters
    ----------
    panel : DataFrame
        Balanced long panel: one row per unit and period.
    unit, period, value, cohort : str
        Columns: unit id, period (consecutive integers), outcome, first treated period (NaN or 0
        for never treated; constant within a unit).
    comparison : {"never", "notyet"}
        Never-treated units, or never-treated plus not-yet-treated (cohort > max(t, b)).
    base : {"varying", "universal"}
        Base period b: t − 1 before adoption and g − 1 after ("varying"), or g − 1 always.
    covariates : sequence of str
        Columns used at the base period in the doubly robust estimator (none: the unconditional
        2 × 2 difference of mean changes).
    small_sample : bool
        Scale each cell's influence function by √(n₁/(n₁ − 1)) on its cohort's units and
        √(n₀/(n₀ − k − 1)) on its comparison units (k covariates), so that without covariates
        Σψ²/N² is the Welch variance s₁²/n₁ + s₀²/n₀. ``False`` reproduces R ``did``, whose
        divisor n makes the bootstrap over-reject with few units per cohort (see
        ``benchmarks/calibration_staggered.py``).

    Returns
    -------
    GroupTime
        ``table`` (group, time, event_time, base, post, att, n_treated, n_comparison) and the
        per-unit influence functions.

    Notes
    -----
    No covariates, with n₁ treated and n₀ comparison units in the cell and ΔY = Y_t − Y_b:
    ATT = ΔȲ₁ − ΔȲ₀, ψ_i = N·(ΔY_i − ΔȲ₁)/n₁ for cohort g and −N·(ΔY_i − ΔȲ₀)/n₀ for
    comparison units (R ``did::att_gt(est_method = "dr")`` with ``xformla = ~1``), before the
    ``small_sample`` factors.

    Covariates: the doubly robust estimator and influence function of ``DRDID::drdid_panel``
    (logit p(X), OLS of ΔY on X in the comparison units, weights D and p(X)(1 − D)/(1 − p(X))),
    rescaled to all N units. The R check is ``tests/reference_staggered.R`` (``glm``, ``lm``).
    Cells with no comparison units (possible with ``"notyet"``) are left out, with a caveat.
    """
    if comparison not in COMPARISONS:
        raise _fail(f"comparison {comparison!r} is not one of {COMPARISONS}.",
                    "choose 'never' (never-treated units) or 'notyet'.")
    if base not in BASES:
        raise _fail(f"base {base!r} is not one of {BASES}.", "choose 'varying' or 'universal'.")
    covariates = tuple(covariates)
    pn = as_panel(panel, unit, period, value, cohort, covariates)
    return att_gt_panel(pn, comparison=comparison, base=base, covariates=covariates,
                        small_sample=small_sample)


def att_gt_panel(pn: Panel, *, comparison: str = "never", base: str = "varying",
                 covariates=(), small_sample: bool = True) -> GroupTime:
    """:func:`att_gt` on an already checked :class:`Panel` (the calibration's fast path)."""
    g_unit, periods, n = pn.cohort, pn.periods, pn.cohort.size
    cohorts = np.unique(g_unit[g_unit > 0])
    caveats = []
    if cohorts.size == 0:
        raise _fail("no unit is ever treated.", "give the adoption period of the treated units.")
    if comparison == "never" and not np.any(g_unit == 0):
        raise _fail("there are no never-treated units to compare with.",
                    "choose comparison 'notyet' (not-yet-treated units), or add never-treated "
                    "units.")
    for g in cohorts:
        if np.sum(g_unit == g) == 1:
            caveats.append(f"cohort {g} has one unit: its ATT(g, t) standard errors leave out "
                           "that unit's own variation and are too small.")
    rows, infs, skipped = [], [], []
    t0 = periods[0]
    for g in cohorts:
        for t in periods:
            if base == "universal":
                b = g - 1
            elif t < g:
                b = t - 1
            else:
                b = g - 1
            if b < t0:
                continue
            treat = g_unit == g
            if comparison == "never":
                comp = g_unit == 0
            else:
                comp = (g_unit == 0) | ((g_unit > max(t, b)) & (g_unit != g))
            if not comp.any():
                skipped.append(f"({g}, {t})")
                continue
            dy = pn.y[:, t - t0] - pn.y[:, b - t0]
            if t == b:
                att, psi = 0.0, np.zeros(n)
            elif covariates:
                sub = treat | comp
                att, psi_sub, ps_max = _dr_panel(dy[sub], treat[sub].astype(float),
                                                 pn.x[sub, b - t0, :])
                psi = np.zeros(n)
                psi[sub] = psi_sub * n / sub.sum()
                if ps_max > 0.995:
                    caveats.append(f"ATT({g}, {t}): a comparison unit has propensity score "
                                   f"{ps_max:.3f}; overlap is poor and the estimate leans on "
                                   "few units.")
            else:
                m1, m0 = dy[treat].mean(), dy[comp].mean()
                att = m1 - m0
                psi = np.zeros(n)
                psi[treat] = n * (dy[treat] - m1) / treat.sum()
                psi[comp] = -n * (dy[comp] - m0) / comp.sum()
            if small_sample:
                n1, n0 = treat.sum(), comp.sum()
                psi[treat] *= math.sqrt(n1 / (n1 - 1)) if n1 > 1 else 1.0
                k = len(covariates) + 1
                psi[comp] *= math.sqrt(n0 / (n0 - k)) if n0 > k else 1.0
            rows.append((g, t, t - g, b, t >= g, att, int(treat.sum()), int(comp.sum())))
            infs.append(psi)
    if skipped:
        caveats.append(f"no not-yet-treated comparison units for cells {', '.join(skipped)}: "
                       "they are left out.")
    table = pd.DataFrame(rows, columns=["group", "time", "event_time", "base", "post", "att",
                                        "n_treated", "n_comparison"])
    influence = np.column_stack(infs) if infs else np.zeros((n, 0))
    return GroupTime(table, influence, pn.ids, g_unit, periods, comparison, base,
                     tuple(covariates),
                     tuple(caveats))


def _logit(d: np.ndarray, x: np.ndarray, tol: float = 1e-12, max_iter: int = 100):
    """Logit by Newton–Raphson: coefficients, fitted probabilities and (X'WX)^{-1}."""
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, x.T @ (d - p))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        raise _fail("the propensity score (logit of cohort on the covariates) does not "
                    "converge: the covariates separate the cohort from its comparison units.",
                    "use fewer or coarser covariates, or none.")
    p = 1 / (1 + np.exp(-(x @ beta)))
    w = p * (1 - p)
    return beta, p, np.linalg.inv((x * w[:, None]).T @ x)


def _dr_panel(dy: np.ndarray, d: np.ndarray, cov: np.ndarray):
    """Doubly robust DiD for panel data (Sant'Anna & Zhao 2020, ``DRDID::drdid_panel``):
    ATT, the influence function on the n units given (ATT̂ − ATT ≈ mean ψ) and the largest
    propensity score among comparison units."""
    n = dy.size
    x = np.column_stack([np.ones(n), cov])
    if np.linalg.matrix_rank(x[d == 0]) < x.shape[1]:
        raise _fail("the covariates are collinear (or constant) among the comparison units.",
                    "drop the redundant covariates.")
    _, p, hinv = _logit(d, x)
    p = np.minimum(p, 1 - 1e-16)
    c = d == 0
    coef = np.linalg.lstsq(x[c], dy[c], rcond=None)[0]
    r = dy - x @ coef
    w1, w0 = d, p * (1 - d) / (1 - p)
    eta1 = np.mean(w1 * r) / np.mean(w1)
    eta0 = np.mean(w0 * r) / np.mean(w0)
    xtx_inv = np.linalg.inv((x * (1 - d)[:, None]).T @ x / n)
    alr_ols = ((1 - d) * r)[:, None] * x @ xtx_inv
    alr_ps = ((d - p)[:, None] * x) @ (hinv * n)
    inf_t = (w1 * (r - eta1) - alr_ols @ np.mean(w1[:, None] * x, axis=0)) / np.mean(w1)
    inf_c = (w0 * (r - eta0) + alr_ps @ np.mean((w0 * (r - eta0))[:, None] * x, axis=0)
             - alr_ols @ np.mean(w0[:, None] * x, axis=0)) / np.mean(w0)
    return eta1 - eta0, inf_t - inf_c, float(p[c].max()) if c.any() else 0.0


def multiplier_bootstrap(influence: np.ndarray, *, resamples: int = 999, seed: int | None,
                         weights: str = "mammen") -> np.ndarray:
    """Draws of θ̂* − θ̂ = mean_i(V_i·ψ_i) for estimates with influence functions ψ (units ×
    estimates): one i.i.d. weight V_i per unit and draw, so the draws are clustered by unit.

    ``weights``: ``"mammen"`` (−(√5 − 1)/2 with probability (√5 + 1)/(2√5), else (√5 + 1)/2:
    mean 0, variance 1, third moment 1 — R ``did``'s choice) or ``"rademacher"`` (±1).
    Returns a resamples × estimates array; the seed makes it reproducible.
    """
    if weights not in WEIGHTS:
        raise _fail(f"bootstrap weights {weights!r} are not one of {WEIGHTS}.",
                    "choose 'mammen' or 'rademacher'.")
    if resamples < 99:
        raise _fail(f"{resamples} bootstrap resamples are too few for a band.",
                    "use 999 or more.")
    psi = np.asarray(influence, dtype=float)
    n = psi.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, psi.shape[1]))
    step = max(1, _BATCH_ELEMENTS // max(n, 1))
    lo_val, hi_val = 1 - _PHI, _PHI
    p_lo = _PHI / math.sqrt(5)
    for start in range(0, resamples, step):
        m = min(step, resamples - start)
        u = rng.random((m, n))
        if weights == "mammen":
            v = np.where(u < p_lo, lo_val, hi_val)
        else:
            v = np.where(u < 0.5, -1.0, 1.0)
        out[start:start + m] = v @ psi / n
    return out


def bootstrap_table(estimates, draws: np.ndarray, *, alpha: float = 0.05,
                    band=None) -> pd.DataFrame:
    """Standard errors, pointwise CIs, the simultaneous band and p-values from bootstrap draws.

    Parameters
    ----------
    estimates : array_like
        K estimates θ̂.
    draws : ndarray
        Resamples × K draws of θ̂* − θ̂ (:func:`multiplier_bootstrap`).
    alpha : float
        Two-sided level.
    band : array_like of bool, optional
        Which estimates the simultaneous band covers (default all).

    Returns
    -------
    DataFrame
        estimate, se, ci_low, ci_high, band_low, band_high (NaN outside ``band``), p_value,
        crit (the band's critical value, the same on every row).

    Notes
    -----
    As R ``did::mboot``: SE = (q̂₀.₇₅ − q̂₀.₂₅)/(z₀.₇₅ − z₀.₂₅) of the draws (type-1 quantiles),
    CI = θ̂ ± z_{1−α/2}·SE, p = 2·Φ(−|θ̂|/SE) (so p < α exactly when the CI excludes 0), band
    θ̂ ± c·SE with c the 1 − α quantile of max_k |θ̂*_k − θ̂_k|/SE_k over the band's estimates
    of non-zero SE. An estimate whose draws are all 0 (the reference period) has SE 0.
    """
    est = np.asarray(estimates, dtype=float)
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    live = np.any(draws != 0, axis=0)
    se = np.where(live, se, 0.0)
    z = stats.norm.ppf(1 - alpha / 2)
    inband = np.ones(est.size, bool) if band is None else np.asarray(band, bool)
    use = inband & live & (se > 0)
    if use.any():
        tmax = np.max(np.abs(draws[:, use] / se[use]), axis=1)
        crit = float(np.quantile(tmax, 1 - alpha, method="inverted_cdf"))
    else:
        crit = math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * stats.norm.sf(np.abs(est) / se), np.nan)
    width = np.where(inband, crit * se, np.nan)
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - z * se,
                         "ci_high": est + z * se, "band_low": est - width,
                         "band_high": est + width, "p_value": p, "crit": crit})
