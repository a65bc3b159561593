"""Inference that holds with few clusters, and with few *treated* clusters.

Analytic cluster-robust (CR1/HC1) t-tests over-reject when clusters are few and, worse, when
few of them are treated: with 2 treated of 12 units a DiD t-test rejects a true null about a
quarter of the time (MacKinnon & Webb 2017, 2018). Three tools:

- :func:`wild_cluster_restricted` — the wild cluster bootstrap-t with the null imposed (WCR;
  Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017) computed as in Roodman, MacKinnon,
  Nielsen & Webb (2019, "Fast and wild", Stata's ``boottest``): the cluster-level score
  contributions are precomputed once, so a bootstrap draw costs O(G·k) (or O(G²)), never a refit
  over the N rows; the CI is the set of β0 the same test does not reject (test inversion), so
  CI and p-value always agree.
- :func:`randomization_inference` — re-assign treatment across units (keeping the number
  treated), exact when all assignments can be listed; the CI inverts the test under a constant
  additive effect. This stays valid with 1–4 treated units, where WCR fails too, but its
  p-values are coarse (1 / number of assignments).
- :func:`choose_inference` — which of the three a design calls for, with the reason.

**Decision rule used everywhere here:** reject at level α when p < α; a CI is the set of β0 with
p(β0) ≥ α. So "the CI excludes β0" and "p(β0) < α" are the same statement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])
#: Relative tolerance under which a draw's |statistic| counts as a tie with the observed one.
TIE_RTOL = 1e-10
_BATCH_ELEMENTS = 1_000_000  # cluster × draw cells held in memory at once


def _count_ge(draws: np.ndarray, observed) -> np.ndarray:
    """How many |draws| are ≥ |observed| along the last axis; ties within TIE_RTOL count."""
    obs = np.abs(np.asarray(observed, dtype=float))[..., None]
    return np.count_nonzero(np.abs(draws) >= obs * (1 - TIE_RTOL), axis=-1)


def _group_sum(g: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(out, g, values)
    return out


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


# --- wild cluster bootstrap, null imposed ------------------------------------------------------

class _Weights:
    """Bootstrap weights handed out in batches (draws × clusters), so memory stays bounded.

    Rademacher with 2^G ≤ resamples: all 2^G sign vectors, row i holding (−1)^(bit g of i) —
    deterministic, the first row all +1 (it reproduces the sample). Otherwise ``resamples``
    seeded draws: Webb's six-point distribution ±√(1/2), ±1, ±√(3/2) or Rademacher ±1, each
    value equally likely, drawn once as small integer codes by
    ``numpy.random.default_rng(seed).integers`` (one byte per draw and cluster).
    """

    def __init__(self, n_clusters: int, kind: str, resamples: int, seed: int | None):
        if kind not in ("webb", "rademacher"):
            raise ValueError(f"weights must be 'webb', 'rademacher' or 'auto', not {kind!r}")
        if resamples < 1:
            raise ValueError("resamples must be at least 1")
        self.n_clusters, self.kind = n_clusters, kind
        self.enumerated = kind == "rademacher" and 2 ** n_clusters <= resamples
        if self.enumerated:
            self.draws = 2 ** n_clusters
        else:
            rng = np.random.default_rng(seed)
            self._codes = rng.integers(0, 6 if kind == "webb" else 2,
                                       size=(resamples, n_clusters), dtype=np.int8)
            self.draws = resamples

    def batch(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self.draws)
        if self.enumerated:
            i = np.arange(start, stop)[:, None]
            return 1.0 - 2.0 * ((i >> np.arange(self.n_clusters)[None, :]) & 1)
        codes = self._codes[start:stop]
        return WEBB[codes] if self.kind == "webb" else 2.0 * codes - 1.0


def wild_weights(n_clusters: int, kind: str, resamples: int, seed: int | None
                 ) -> tuple[np.ndarray, bool]:
    """All the weights :func:`wild_cluster_restricted` uses, one row per draw:
    (draws × clusters, enumerated?). See ``_Weights``."""
    w = _Weights(n_clusters, kind, resamples, seed)
    return w.batch(0, w.draws), w.enumerated


class _WCR:
    """Precomputed WCR bootstrap for one coefficient; t*(β0) for any β0 from five numbers per
    draw.

    Model y = Xβ + u, clusters g = 1..G, a = row j of (X'X)⁻¹. For H0: β_j = β0 the restricted
    residuals are ũ(β0) = u₀ − β0·r, with u₀ the residuals of y on X₋ⱼ and r those of x_j on
    X₋ⱼ. A draw v (one weight per cluster) makes y* = X₋ⱼβ̃ + β0·x_j + ũ(β0)∘v, so
    β̂*_j − β0 = Σ_g v_g a'X_g'ũ_g and the bootstrap residual scores of the CR1 variance are
    a'X_h'û*_h = v_h a'X_h'ũ_h − a'X_h'X_h(X'X)⁻¹ Σ_g v_g X_g'ũ_g. Both are linear in β0, so
    with S = Σ_g-level scores of u₀ and of r: numerator = A − β0·B and
    Var* = f·(P − 2β0·Q + β0²·R), f = G/(G−1)·(N−1)/(N−k).
    """

    def __init__(self, y, x: pd.DataFrame, clusters, term: str, weights: str, resamples: int,
                 seed: int | None):
        y = np.asarray(y, dtype=float)
        xm = x.to_numpy(dtype=float)
        names = list(x.columns)
        if term not in names:
            raise ValueError(f"term {term!r} is not a column of the design")
        j = names.index(term)
        g, levels = pd.factorize(np.asarray(clusters))
        if (g < 0).any():
            raise ValueError("clusters contain missing values")
        n, k = xm.shape
        n_g = len(levels)
        if n_g < 2:
            raise ValueError("the wild cluster bootstrap needs at least 2 clusters")
        self.n, self.k, self.clusters = n, k, n_g
        self.factor = n_g / (n_g - 1) * (n - 1) / (n - k)
        xtx_inv = np.linalg.pinv(xm.T @ xm)
        beta = xtx_inv @ xm.T @ y
        a = xtx_inv[j]
        e = y - xm @ beta
        c_obs = _group_sum(g, n_g, xm * e[:, None]) @ a
        self.estimate = float(beta[j])
        self.se = math.sqrt(self.factor * float(c_obs @ c_obs))
        xr = np.delete(xm, j, axis=1)
        if xr.shape[1]:
            coef = np.linalg.lstsq(xr, np.column_stack([y, xm[:, j]]), rcond=None)[0]
            resid = np.column_stack([y, xm[:, j]]) - xr @ coef
        else:
            resid = np.column_stack([y, xm[:, j]])
        s0 = _group_sum(g, n_g, xm * resid[:, [0]])  # G × k scores of u₀
        sx = _group_sum(g, n_g, xm * resid[:, [1]])  # G × k scores of r
        c0, cx = s0 @ a, sx @ a
        q = _group_sum(g, n_g, xm * (xm @ a)[:, None]) @ xtx_inv  # rows a'X_h'X_h(X'X)⁻¹
        use_gg = n_g <= 2 * k  # G × G matrices are cheaper than going through k
        m0, mx = (q @ s0.T, q @ sx.T) if use_gg else (None, None)

        kind = ("webb" if n_g < 12 else "rademacher") if weights == "auto" else weights
        source = _Weights(n_g, kind, resamples, seed)
        self.kind, self.enumerated, self.draws = kind, source.enumerated, source.draws
        out = np.empty((5, self.draws))
        batch = max(16, _BATCH_ELEMENTS // n_g)
        for start in range(0, self.draws, batch):
            v = source.batch(start, start + batch).T  # G × b
            if use_gg:
                d = c0[:, None] * v - m0 @ v
                ex = cx[:, None] * v - mx @ v
            else:
                d = c0[:, None] * v - q @ (s0.T @ v)
                ex = cx[:, None] * v - q @ (sx.T @ v)
            sl = slice(start, start + v.shape[1])
            out[0, sl], out[1, sl] = c0 @ v, cx @ v
            out[2, sl] = np.einsum("gb,gb->b", d, d)
            out[3, sl] = np.einsum("gb,gb->b", d, ex)
            out[4, sl] = np.einsum("gb,gb->b", ex, ex)
        self._a, self._b, self._p, self._q, self._r = out

    def t_obs(self, beta0):
        return (self.estimate - np.asarray(beta0, dtype=float)) / self.se

    def t_draws(self, beta0) -> np.ndarray:
        """t* for each draw (last axis) at each β0 (leading axes)."""
        b0 = np.asarray(beta0, dtype=float)[..., None]
        var = self.factor * (self._p - 2 * b0 * self._q + b0 * b0 * self._r)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self._a - b0 * self._b) / np.sqrt(np.maximum(var, 0.0))

    def pvalue(self, beta0):
        b0 = np.atleast_1d(np.asarray(beta0, dtype=float))
        p = np.empty(b0.shape)
        for i in range(0, len(b0), 32):  # bounded memory: 32 × draws at a time
            part = b0[i:i + 32]
            p[i:i + 32] = _count_ge(self.t_draws(part), self.t_obs(part)) / self.draws
        return p if np.ndim(beta0) else float(p[0])


@dataclass
class WildResult:
    """A WCR wild cluster bootstrap-t test of one coefficient, with its test-inversion CI."""

    term: str
    estimate: float
    se: float  # CR1 (HC1) cluster-robust standard error
    t: float  # (estimate − null) / se
    null: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    weights: str
    resamples: int  # number of bootstrap draws used (2^G when enumerated)
    enumerated: bool  # True: all 2^G Rademacher sign vectors, no randomness
    clusters: int
    n: int
    method: str
    _engine: _WCR = field(repr=False, compare=False, default=None)

    @property
    def draws_label(self) -> str:
        if self.enumerated:
            return f"all 2^{self.clusters} = {self.resamples:,} sign vectors"
        return f"{self.resamples:,} draws"

    def p_at(self, beta0):
        """The WCR p-value of H0: β = β0, with the same draws (scalar or array)."""
        return self._engine.pvalue(beta0)

    def interval(self, level: float) -> tuple[float, float]:
        """The CI at any confidence level by test inversion with the same draws:
        {β0 : p(β0) ≥ 1 − level}."""
        half = stats.t.ppf(0.975, self.clusters - 1) * self.se
        return _invert(self.p_at, self.estimate, half, 1 - level)

    def t_draws(self, beta0: float | None = None) -> np.ndarray:
        """The bootstrap t* = (β̂* − β0)/se* for every draw, under H0: β = β0 (default: null)."""
        return self._engine.t_draws(self.null if beta0 is None else beta0)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "term": self.term, "estimate": self.estimate, "se": self.se, "t": self.t,
            "null": self.null, "p_value": self.p_value, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "alpha": self.alpha, "weights": self.weights,
            "resamples": self.resamples, "enumerated": self.enumerated,
            "clusters": self.clusters, "n": self.n, "method": self.method}])


def wild_cluster_restricted(y, X: pd.DataFrame, clusters, term: str = "treated:post", *,
                            weights: str = "auto", resamples: int = 9999, seed: int | None,
                            alpha: float = 0.05, ci: bool = True,
                            null: float = 0.0) -> WildResult:
    """Wild cluster restricted (WCR) bootstrap-t for one coefficient, CI by test inversion.

    The test of H0: β_term = β0 imposes the null: regress y − β0·x_term on the other columns,
    keep fitted values and residuals ũ, and build y* = fitted + β0·x_term + ũ·v_g with one
    weight v_g per cluster. Each bootstrap sample is refitted (algebraically — see ``_WCR``)
    and its t* = (β̂* − β0)/se*(CR1) compared with the sample t = (β̂ − β0)/se(CR1).

    weights: "auto" = Webb six-point when G < 12, Rademacher otherwise; or "webb" /
    "rademacher". Rademacher with 2^G ≤ resamples enumerates all 2^G sign vectors
    (deterministic; ``resamples`` then reports 2^G).

    p-value (symmetric): the share of draws with |t*| ≥ |t|, i.e. count / number of draws —
    the convention of boottest and fwildclusterboot; the observed sample is not added as an
    extra draw. Ties count as ≥ (relative tolerance TIE_RTOL = 1e-10 against rounding); under
    enumeration the draws v = +1 and v = −1 reproduce |t| exactly, so p ≥ 2/2^G.

    CI: {β0 : p(β0) ≥ α}, found by bisection on the step function p(β0) with the same draws for
    every β0 (see ``_invert``); bounds may be ±inf when no finite β0 is rejected (possible
    with very few treated clusters). It agrees with the p-value: 0 is outside iff p(0) < α.
    """
    eng = _WCR(y, X, clusters, term, weights, resamples, seed)
    if not eng.se > 0:
        raise ValueError(f"the cluster-robust standard error of {term!r} is zero")
    p = eng.pvalue(null)
    lo = hi = math.nan
    if ci:
        half = stats.t.ppf(1 - alpha / 2, eng.clusters - 1) * eng.se
        lo, hi = _invert(eng.pvalue, eng.estimate, half, alpha)
    draws = (f"all 2^{eng.clusters} Rademacher sign vectors" if eng.enumerated
             else f"{eng.draws:,} {eng.kind} draws (seed {seed})")
    method = (f"wild cluster bootstrap-t, null imposed (WCR), CR1 t, {eng.clusters} clusters, "
              f"{draws}; CI by test inversion")
    return WildResult(term, eng.estimate, eng.se, float(eng.t_obs(null)), null, p, lo, hi,
                      alpha, eng.kind, eng.draws, eng.enumerated, eng.clusters, eng.n, method,
                      eng)


# --- randomization inference --------------------------------------------------------------------

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


# --- which inference ----------------------------------------------------------------------------

def choose_inference(n_clusters: int, n_treated: int, n_control: int) -> tuple[str, str]:
    """The inference a clustered comparison calls for, and the reason in one sentence.

    - "cluster_robust_t": ≥ 30 clusters with ≥ 10 treated and ≥ 10 control — the analytic CR1
      t with G − 1 df is then close to its nominal level.
    - "wild_cluster_bootstrap_wcr": fewer clusters, or fewer than 10 treated or control, but at
      least 5 of each — WCR stays close to its level down to about 5 treated clusters
      (MacKinnon & Webb 2017, 2018), where analytic t-tests over-reject.
    - "randomization_inference": fewer than 5 treated or fewer than 5 control clusters — even
      WCR over- or under-rejects badly there (MacKinnon & Webb 2018); re-assigning treatment
      across units is exact when units are exchangeable (domain.md §7).
    """
    if min(n_clusters, n_treated, n_control) < 0 or n_treated + n_control != n_clusters:
        raise ValueError("n_treated + n_control must equal n_clusters")
    few = min(n_treated, n_control)
    side = "treated" if n_treated <= n_control else "control"
    if few < 5:
        return ("randomization_inference",
                f"Only {few} {side} cluster{'s' * (few != 1)} of {n_clusters}: analytic "
                f"cluster-robust p-values are far too small and even the wild cluster "
                f"bootstrap is unreliable below 5, so treatment is re-assigned across units "
                f"(randomization inference) — and the effect rests on very few units.")
    if n_clusters >= 30 and few >= 10:
        return ("cluster_robust_t",
                f"{n_clusters} clusters ({n_treated} treated, {n_control} control) are enough "
                f"for the cluster-robust t-test with {n_clusters - 1} degrees of freedom.")
    return ("wild_cluster_bootstrap_wcr",
            f"With {n_clusters} clusters ({n_treated} treated, {n_control} control) analytic "
            f"cluster-robust p-values are too small; the wild cluster bootstrap with the null "
            f"imposed (WCR) and its test-inversion CI hold their level down to about 5 "
            f"treated clusters.")
