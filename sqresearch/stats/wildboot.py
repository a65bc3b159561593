"""The wild cluster bootstrap-t with the null imposed (WCR; Cameron, Gelbach & Miller 2008;
MacKinnon & Webb 2017), computed as in Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and
wild", Stata's ``boottest``): the cluster-level score contributions are precomputed once, so a
draw costs O(G·k) (or O(G²)), never a refit over the N rows. Rademacher (all 2^G sign vectors
when that is fewer than the resamples) or Webb weights, handed out in bounded batches; the CI
inverts the same test (``inversion``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.inversion import _count_ge, _invert

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


_BATCH_ELEMENTS = 1_000_000  # cluster × draw cells held in memory at once


def _group_sum(g: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(out, g, values)
    return out


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
