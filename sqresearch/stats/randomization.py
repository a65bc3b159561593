"""Randomization inference for a difference-in-differences on units: treatment re-assigned
across units with the number treated kept, exact when all assignments can be listed (otherwise
seeded draws); the CI inverts the test under a constant additive effect (``inversion``). Valid
with 1–4 treated units, where the wild cluster bootstrap fails too; p-values are coarse
(1 / number of assignments).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.stats.inversion import _count_ge, _invert


@dataclass
class RIResult:
    """A randomization (permutation) test of the treatment effect, with its inverted CI."""

    estimate: float
    null: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    assignments: int  # assignments compared (all of them when exact, else draws + observed)
    total_assignments: int  # C(G, G1)
    exact: bool
    granularity: float  # 1 / assignments: the step between attainable p-values
    min_p: float  # the smallest p-value any data could give (= granularity)
    can_reject: bool  # min_p < alpha
    clusters: int
    treated_clusters: int
    method: str
    note: str
    _p: Callable = field(repr=False, compare=False, default=None)
    _stats: tuple = field(repr=False, compare=False, default=None)

    def p_at(self, beta0):
        """The randomization p-value of H0: constant effect β0 (scalar or array)."""
        return self._p(beta0)

    def interval(self, level: float) -> tuple[float, float]:
        """The CI at any confidence level by test inversion under a constant additive effect
        (needs the result of a call with ``ci=True``)."""
        est, dz = self._stats
        if dz is None:
            raise ValueError("the randomization CI needs randomization_inference(..., ci=True)")
        return _invert(self.p_at, *_ri_start(est, dz), 1 - level)

    def estimates(self) -> np.ndarray:
        """The estimate under every assignment compared (the observed one first)."""
        return self._stats[0]

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "estimate": self.estimate, "null": self.null, "p_value": self.p_value,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "alpha": self.alpha,
            "assignments": self.assignments, "total_assignments": self.total_assignments,
            "exact": self.exact, "granularity": self.granularity, "min_p": self.min_p,
            "can_reject": self.can_reject, "clusters": self.clusters,
            "treated_clusters": self.treated_clusters, "method": self.method,
            "note": self.note}])


def _assignments(z_obs: np.ndarray, resamples: int, seed: int | None) -> tuple[np.ndarray, bool]:
    """Rows of 0/1 treatment vectors, the observed one first."""
    n_g, n_t = len(z_obs), int(z_obs.sum())
    total = math.comb(n_g, n_t)
    if total <= resamples:
        z = np.zeros((total, n_g))
        for i, idx in enumerate(itertools.combinations(range(n_g), n_t)):
            z[i, list(idx)] = 1.0
        obs = np.nonzero((z == z_obs).all(axis=1))[0][0]
        return np.concatenate([z[[obs]], np.delete(z, obs, axis=0)]), True
    rng = np.random.default_rng(seed)
    z = rng.permuted(np.tile(z_obs, (resamples, 1)), axis=1)
    return np.concatenate([z_obs[None, :], z]), False


def did_2x2_stats(panel: pd.DataFrame, z: np.ndarray, *, unit: str, outcome: str, post: str,
                  codes: np.ndarray | None = None) -> np.ndarray:
    """The 2×2 DiD for each treatment vector (rows of ``z``, one 0/1 per unit in factorize
    order of ``panel[unit]``), from per-unit sums and counts before and after.

    It is the interaction coefficient of y ~ treated + post + treated:post (the model is
    saturated, so the fit is the four cell means): (ȳ₁₁ − ȳ₁₀) − (ȳ₀₁ − ȳ₀₀) with cell means
    over observations — on a balanced panel the mean of the unit-level changes.
    """
    if codes is None:
        codes = pd.factorize(panel[unit])[0]
    n_g = int(codes.max()) + 1
    y = panel[outcome].to_numpy(dtype=float)
    after = panel[post].to_numpy(dtype=float) == 1
    sums = np.zeros((n_g, 4))  # sum pre, n pre, sum post, n post
    np.add.at(sums, (codes, np.where(after, 2, 0)), y)
    np.add.at(sums, (codes, np.where(after, 3, 1)), 1.0)
    zt, zc = z @ sums, (1.0 - z) @ sums
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (zt[:, 2] / zt[:, 3] - zt[:, 0] / zt[:, 1]) - (zc[:, 2] / zc[:, 3]
                                                             - zc[:, 0] / zc[:, 1])
    return est


def randomization_inference(panel: pd.DataFrame, *, unit: str, treated: str = "treated",
                            estimator: str | Callable[[pd.DataFrame], float] = "did_2x2",
                            outcome: str = "value", post: str = "post",
                            resamples: int = 9999, seed: int | None, alpha: float = 0.05,
                            ci: bool = True, null: float = 0.0) -> RIResult:
    """Randomization inference for a treatment effect: re-assign treatment across units.

    Keeps the number of treated units G1 of G. Exact when C(G, G1) ≤ resamples (every
    assignment listed); otherwise ``resamples`` seeded random assignments plus the observed
    one. p-value = share of the compared assignments (observed included) with
    |estimate*| ≥ |estimate| (ties within TIE_RTOL count), so p ≥ 1/assignments.

    estimator: "did_2x2" (built in, vectorised: the 2×2 DiD from unit-level sums, balanced or
    not) or a callable taking the panel with the ``treated`` column re-assigned and returning
    the estimate (e.g. the TWFE interaction coefficient). ``outcome`` and ``post`` name the
    outcome and after-period 0/1 columns (used by the built-in and for the CI).

    CI (test inversion under a constant additive effect β0): the sharp null says untreated
    outcomes are y − β0·D with D = treated·post under the *observed* assignment; p(β0) is the
    test above on those outcomes, and the CI is {β0 : p(β0) ≥ α}. The estimator must be linear
    in the outcome (every OLS coefficient is; checked), so est_z(y − β0·D) = est_z(y) − β0·
    est_z(D) and two estimates per assignment serve every β0. The CI is (−inf, inf) when the
    smallest attainable p is ≥ α.
    """
    codes, levels = pd.factorize(panel[unit])
    if (codes < 0).any():
        raise ValueError(f"{unit!r} has missing values")
    n_g = len(levels)
    per_unit = panel.groupby(codes)[treated].agg(["min", "max"])
    if (per_unit["min"] != per_unit["max"]).any():
        raise ValueError(f"{treated!r} must be constant within each unit")
    z_obs = per_unit["max"].to_numpy(dtype=float)
    if not np.isin(z_obs, (0.0, 1.0)).all():
        raise ValueError(f"{treated!r} must be 0/1")
    n_t = int(z_obs.sum())
    if n_t in (0, n_g):
        raise ValueError("randomization inference needs treated and control units")
    z, exact = _assignments(z_obs, resamples, seed)
    d_col = (z_obs[codes] * panel[post].to_numpy(dtype=float))

    if estimator == "did_2x2":
        est = did_2x2_stats(panel, z, unit=unit, outcome=outcome, post=post, codes=codes)
        dz = did_2x2_stats(panel.assign(**{outcome: d_col}), z, unit=unit, outcome=outcome,
                           post=post, codes=codes) if (ci or null) else None
        name = "2×2 DiD"
    elif callable(estimator):
        def run(frame):
            work = frame.copy()
            out = np.empty(len(z))
            for i, row in enumerate(z):
                work[treated] = row[codes]
                out[i] = estimator(work)
            return out
        est = run(panel)
        dz = run(panel.assign(**{outcome: d_col})) if (ci or null) else None
        name = getattr(estimator, "__name__", "estimator")
        if dz is not None:  # the inversion relies on linearity in the outcome: check it
            shift = 1.0 + abs(est[0])
            moved = estimator(panel.assign(**{outcome: panel[outcome] - shift * d_col}))
            if not math.isclose(moved, est[0] - shift * dz[0], rel_tol=1e-8,
                                abs_tol=1e-10 * shift):
                raise ValueError("the estimator is not linear in the outcome; the CI by "
                                 "inversion under a constant effect needs it (ci=False, "
                                 "null=0 to test only)")
    else:
        raise ValueError("estimator must be 'did_2x2' or a callable")
    if not np.isfinite(est).all():
        raise ValueError("the estimate is undefined under some assignment (a unit group with "
                         "no observations before or after)")
    n_a = len(z)

    def pfun(beta0):
        b0 = np.atleast_1d(np.asarray(beta0, dtype=float))
        if dz is None:
            p = _count_ge(np.broadcast_to(est, (len(b0), n_a)), est[0]) / n_a
        else:
            stat = est[None, :] - b0[:, None] * dz[None, :]
            p = _count_ge(stat, stat[:, 0]) / n_a
        return p if np.ndim(beta0) else float(p[0])

    lo = hi = math.nan
    if ci:
        lo, hi = _invert(pfun, *_ri_start(est, dz), alpha)
    total = math.comb(n_g, n_t)
    min_p = 1.0 / n_a
    can = min_p < alpha
    how = (f"all {total:,} assignments of {n_t} treated among {n_g} units (exact)" if exact
           else f"{n_a - 1:,} random assignments of {n_t} treated among {n_g} units "
                f"(seed {seed}) plus the observed one, of {total:,} possible")
    note = f"p-values move in steps of 1/{n_a:,} = {min_p:.3g}."
    if not can:
        note += (f" The smallest attainable p ({min_p:.3g}) is not below α = {alpha:g}: this "
                 f"design can never reject at that level, and the CI is unbounded.")
    if n_t < 5:
        note += f" The estimate rests on {n_t} treated unit{'s' * (n_t > 1)}."
    method = (f"randomization inference ({name}), {how}; two-sided, |estimate|; CI by test "
              f"inversion under a constant additive effect")
    return RIResult(float(est[0]), null, pfun(null), lo, hi, alpha, n_a, total, exact, min_p,
                    min_p, can, n_g, n_t, method, note, pfun, (est, dz))


def _ri_start(est: np.ndarray, dz: np.ndarray) -> tuple[float, float]:
    """Where the inversion of the randomization test starts (the β0 where the observed
    statistic is 0, so p = 1) and its first step (the spread of the estimates)."""
    center = est[0] / dz[0] if dz[0] != 0 else est[0]
    return float(center), float(np.std(est)) or abs(float(est[0])) or 1.0
