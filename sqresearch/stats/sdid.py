"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021) for
several treated units with a common intervention date.

Unit weights ω make the controls' pre-period path parallel to the treated units' average (up to
a constant, with a ridge penalty ζ); time weights λ make the controls' pre-period average
parallel to their post-period average; the estimate is the weighted double difference. The
variance comes from placebos (the paper's Algorithm 4): the jackknife is not defined with one
treated unit and the bootstrap needs many.

The weights are the exact solutions of the paper's quadratic programmes (:func:`simplex_lstsq`),
not the R package ``synthdid``'s Frank–Wolfe iterations with sparsification, so its weights
differ from ours in the 3rd–4th digit; the definitions (ζ, σ̂, intercepts) are the package's.
Checked against R ``quadprog::solve.QP`` in tests/reference_synth.R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.synth import _fail, prepare, simplex_lstsq


def noise_level(y_co_pre: np.ndarray) -> float:
    """σ̂: the standard deviation (ddof 1) of the controls' first differences over the
    pre-periods (R ``sd(apply(Y[1:N0, 1:T0], 1, diff))``)."""
    return float(np.std(np.diff(y_co_pre, axis=1).ravel(), ddof=1))


def unit_weights(y_co_pre: np.ndarray, target: np.ndarray, zeta: float) -> np.ndarray:
    """ω = argmin_{ω ∈ simplex, ω₀} ‖ω₀ + Y_co,preᵀ ω − target‖² + ζ² T₀ ‖ω‖²; the intercept is
    profiled out by centring over the pre-periods."""
    a = y_co_pre.T - y_co_pre.T.mean(axis=0)
    return simplex_lstsq(a, target - target.mean(), ridge=zeta ** 2 * y_co_pre.shape[1])


def time_weights(y_co_pre: np.ndarray, y_co_post_mean: np.ndarray, zeta: float) -> np.ndarray:
    """λ = argmin_{λ ∈ simplex, λ₀} ‖λ₀ + Y_co,pre λ − ȳ_co,post‖² + ζ² N₀ ‖λ‖²; the intercept
    is profiled out by centring over the control units."""
    a = y_co_pre - y_co_pre.mean(axis=0)
    b = y_co_post_mean - y_co_post_mean.mean()
    return simplex_lstsq(a, b, ridge=zeta ** 2 * y_co_pre.shape[0])


def sdid_estimate(y: np.ndarray, n_co: int, t0: int, omega=None, lam=None) -> dict:
    """The estimate on a matrix whose first ``n_co`` rows are controls and first ``t0`` columns
    pre-periods. ``omega`` / ``lam`` fix the weights (uniform weights give the plain DiD).

    τ̂ = (ȳ_tr,post − λᵀ ȳ_tr,pre) − ωᵀ(ȳ_co,post − Y_co,pre λ), ζ_ω = (N_tr T_post)^{1/4} σ̂,
    ζ_λ = 10⁻⁶ σ̂ (R ``synthdid_estimate`` defaults).
    """
    y = np.asarray(y, dtype=float)
    n_tr, t1 = y.shape[0] - n_co, y.shape[1] - t0
    co_pre, co_post = y[:n_co, :t0], y[:n_co, t0:].mean(axis=1)
    tr_pre, tr_post = y[n_co:, :t0].mean(axis=0), y[n_co:, t0:].mean()
    sigma = noise_level(co_pre)
    zeta_omega = (n_tr * t1) ** 0.25 * sigma
    zeta_lambda = 1e-6 * sigma
    omega = (unit_weights(co_pre, tr_pre, zeta_omega) if omega is None
             else np.asarray(omega, dtype=float))
    lam = time_weights(co_pre, co_post, zeta_lambda) if lam is None else np.asarray(lam, float)
    tau = (tr_post - lam @ tr_pre) - omega @ (co_post - co_pre @ lam)
    return {"estimate": float(tau), "omega": omega, "lam": lam, "zeta_omega": zeta_omega,
            "zeta_lambda": zeta_lambda, "noise_level": sigma}


@dataclass(frozen=True)
class SynthDiD:
    """A synthetic DiD estimate with its placebo standard error.

    ``unit_weights``: unit, weight (controls). ``time_weights``: period, weight (pre-periods).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    unit_weights: pd.DataFrame
    time_weights: pd.DataFrame
    zeta_omega: float
    zeta_lambda: float
    noise_level: float
    n_treated: int
    n_control: int
    placebo_reps: int
    method: str = ("synthetic DiD (Arkhangelsky et al. 2021), placebo standard error, normal "
                   "CI")

    def summary(self) -> pd.DataFrame:
        """One row: estimate, se, ci_low, ci_high, p_value, n_treated, n_control, n_pre,
        n_post, zeta_omega, placebo_reps, method."""
        return pd.DataFrame([{
            "estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "p_value": self.p_value, "n_treated": self.n_treated,
            "n_control": self.n_control, "n_pre": len(self.time_weights),
            "zeta_omega": self.zeta_omega, "placebo_reps": self.placebo_reps,
            "method": self.method}])


def placebo_se(y_co: np.ndarray, n_tr: int, t0: int, reps: int, seed) -> float:
    """Algorithm 4: reassign ``n_tr`` controls at random as treated, re-estimate (weights
    refitted) on the controls only; SE = √(mean of squared deviations) over ``reps`` draws
    (R ``synthdid::vcov(method = "placebo")``)."""
    rng = np.random.default_rng(seed)
    n_co = y_co.shape[0]
    taus = np.empty(reps)
    for b in range(reps):
        order = rng.permutation(n_co)
        taus[b] = sdid_estimate(y_co[order], n_co - n_tr, t0)["estimate"]
    return float(np.sqrt(np.mean((taus - taus.mean()) ** 2)))


def synth_did(data: pd.DataFrame, treated, first_post=None, *, pre=None,
              unit: str | None = None, period: str | None = None,
              outcome: str | None = None, placebo_reps: int = 200, seed=0,
              alpha: float = 0.05) -> SynthDiD:
    """Synthetic difference-in-differences for units treated from a common date.

    Parameters
    ----------
    data : wide panel (index unit, one column per period) or tidy panel with ``unit``,
        ``period`` and ``outcome`` columns
    treated : the treated units' labels
    first_post : the first post-period; or ``pre``, a boolean mask over the periods
    placebo_reps : placebo draws for the standard error (the paper uses 200+)
    seed : seed of the placebo draws
    alpha : 1 − confidence level of the normal CI τ̂ ± z·SE

    Returns
    -------
    SynthDiD

    Notes
    -----
    See :func:`sdid_estimate`. The placebo SE needs more controls than treated units; it
    assumes the controls are exchangeable with the treated units under the null (homoskedastic
    across units), as the paper states.
    """
    treated = list(treated)
    panel = prepare(data, first_post, pre, unit, period, outcome, treated=treated)
    controls = [u for u in panel.y.index if u not in treated]
    if len(controls) <= len(treated):
        raise _fail(f"{len(controls)} control unit(s) for {len(treated)} treated: the placebo "
                    "standard error needs more controls than treated units.",
                    "add control units, or use a synthetic control per treated unit.")
    cols = np.r_[np.flatnonzero(panel.pre), np.flatnonzero(~panel.pre)]
    if not np.all(np.diff(np.flatnonzero(panel.pre)) == 1) or panel.pre[-1]:
        raise _fail("the pre-periods are not one block before the post-periods.",
                    "mark the periods before the intervention as pre.")
    y = panel.y.loc[controls + treated].to_numpy()[:, cols]
    t0 = int(panel.pre.sum())
    fit = sdid_estimate(y, len(controls), t0)
    se = placebo_se(y[:len(controls)], len(treated), t0, placebo_reps, seed)
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(fit["estimate"]) / se)) if se > 0 else math.nan
    return SynthDiD(fit["estimate"], se, fit["estimate"] - z * se, fit["estimate"] + z * se, p,
                    alpha, pd.DataFrame({"unit": controls, "weight": fit["omega"]}),
                    pd.DataFrame({"period": np.asarray(panel.periods)[panel.pre],
                                  "weight": fit["lam"]}),
                    fit["zeta_omega"], fit["zeta_lambda"], fit["noise_level"], len(treated),
                    len(controls), placebo_reps)
