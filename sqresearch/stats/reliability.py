"""Reliability beyond Cronbach's α: McDonald's ω from a one-factor model, the reliability of a
difference score, composite reliability and AVE of a fitted factor, and the HTMT ratio.

ω here is *omega total of the unit-weighted sum of the raw items*, from a one-factor model
fitted by maximum likelihood to the items' covariance matrix (loadings λ, residual variances θ,
factor variance fixed at 1):

    ω = (Σ λ)² / ((Σ λ)² + Σ θ)

— R ``lavaan::cfa("f =~ x1 + … + xk", data, std.lv = TRUE)`` (estimator ML) with ω computed
from ``parameterEstimates(fit)``, which is ``semTools::compRelSEM(fit)``. ML is scale-free, so
the covariance divisor (N or N − 1) does not change ω. ``psych::omega`` is a different estimator
(a minres factor of the correlation matrix, the standardized sum) and is not matched here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize


@dataclass(frozen=True)
class OneFactor:
    """A one-factor ML fit: loadings and residual variances per item, ω, n, k."""

    items: tuple[str, ...]
    loadings: tuple[float, ...]
    residuals: tuple[float, ...]
    omega: float
    n: int
    converged: bool

    def summary(self) -> pd.DataFrame:
        """item, loading, residual, std_loading (λ/σ of the fitted item variance)."""
        lam, th = np.array(self.loadings), np.array(self.residuals)
        return pd.DataFrame({"item": self.items, "loading": lam, "residual": th,
                             "std_loading": lam / np.sqrt(lam ** 2 + th)})


def _ml_objective(x: np.ndarray, s: np.ndarray):
    """F = log|Σ| + tr(S Σ⁻¹) with Σ = λλᵀ + diag(θ), and its gradient in (λ, θ)."""
    k = s.shape[0]
    lam, th = x[:k], x[k:]
    sigma = np.outer(lam, lam) + np.diag(th)
    sign, logdet = np.linalg.slogdet(sigma)
    if sign <= 0:
        return np.inf, np.zeros_like(x)
    inv = np.linalg.inv(sigma)
    g = inv - inv @ s @ inv
    return logdet + np.trace(s @ inv), np.concatenate([2 * g @ lam, np.diag(g)])


def one_factor_ml(items: pd.DataFrame) -> OneFactor:
    """Fit one factor by ML to the covariance (divisor N) of the complete rows of ``items``;
    ω = (Σλ)²/((Σλ)² + Σθ). Heywood cases (θ < 0) are left as they are, as lavaan does.
    Fewer than three items do not identify the model: ω is NaN.

    R: ``lavaan::cfa(model, data, std.lv = TRUE)`` → ``semTools::compRelSEM(fit)``
    (tests/reference_gap_model.R)."""
    x = items.dropna().to_numpy(dtype=float)
    n, k = x.shape
    names = tuple(map(str, items.columns))
    if k < 3 or n <= k:
        nan = (math.nan,) * k
        return OneFactor(names, nan, nan, math.nan, n, False)
    s = np.cov(x, rowvar=False, ddof=0)
    vals, vecs = np.linalg.eigh(s)
    lam0 = vecs[:, -1] * math.sqrt(vals[-1]) * 0.9
    lam0 *= np.sign(lam0.sum()) or 1.0
    th0 = np.maximum(np.diag(s) - lam0 ** 2, 0.1 * np.diag(s))
    res = optimize.minimize(_ml_objective, np.concatenate([lam0, th0]), args=(s,), jac=True,
                            method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    # polish with Newton steps on a finite-difference Hessian of the exact gradient
    xk = res.x
    for _ in range(3):
        grad = _ml_objective(xk, s)[1]
        h = np.empty((2 * k, 2 * k))
        for j in range(2 * k):
            e = np.zeros(2 * k)
            e[j] = 1e-6
            h[:, j] = (_ml_objective(xk + e, s)[1] - _ml_objective(xk - e, s)[1]) / 2e-6
        xk = xk - np.linalg.solve((h + h.T) / 2, grad)
    lam, th = xk[:k] * (np.sign(xk[:k].sum()) or 1.0), xk[k:]
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + th.sum())
    ok = bool(np.max(np.abs(_ml_objective(xk, s)[1])) < 1e-8)
    return OneFactor(names, tuple(lam), tuple(th), float(omega), n, ok)


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's ω of the unit-weighted sum (see :func:`one_factor_ml`)."""
    return one_factor_ml(items).omega


def difference_reliability(var_p: float, var_e: float, r_pp: float, r_ee: float,
                           r_pe: float) -> float:
    """Reliability of D = P − E from the parts (Lord 1958; Peter, Churchill & Brown 1993):

        r_DD = (σ²_P r_PP + σ²_E r_EE − 2 r_PE σ_P σ_E) / (σ²_P + σ²_E − 2 r_PE σ_P σ_E).

    It falls below both r_PP and r_EE as the correlation of P and E rises."""
    sp, se = math.sqrt(var_p), math.sqrt(var_e)
    cross = 2 * r_pe * sp * se
    return (var_p * r_pp + var_e * r_ee - cross) / (var_p + var_e - cross)


def difference_score_reliability(e_score, p_score, r_ee: float, r_pp: float) -> dict:
    """The parts' SDs (ddof 1) and correlation on the rows with both scores, and r_DD of
    P − E (:func:`difference_reliability`) with n."""
    d = pd.DataFrame({"e": np.asarray(e_score, dtype=float),
                      "p": np.asarray(p_score, dtype=float)}).dropna()
    var_e, var_p = d["e"].var(ddof=1), d["p"].var(ddof=1)
    r_pe = float(np.corrcoef(d["e"], d["p"])[0, 1]) if len(d) > 2 else math.nan
    return {"sd_E": math.sqrt(var_e), "sd_P": math.sqrt(var_p), "r_PE": r_pe,
            "r_EE": r_ee, "r_PP": r_pp,
            "r_DD": difference_reliability(var_p, var_e, r_pp, r_ee, r_pe), "n": len(d)}


def composite_reliability(loadings, residuals) -> float:
    """ω (composite reliability) of one factor from its loadings (factor variance 1) and
    residual variances: (Σλ)²/((Σλ)² + Σθ). R: ``semTools::compRelSEM(fit, obs.var = FALSE)``
    (the default obs.var = TRUE divides by the observed variance of the sum instead)."""
    lam, th = np.asarray(loadings, dtype=float), np.asarray(residuals, dtype=float)
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + th.sum()))


def ave(loadings, residuals) -> float:
    """Average variance extracted (Fornell & Larcker 1981): Σλ² / (Σλ² + Σθ), the share of the
    items' model-implied variance that the factor explains — the mean squared standardized
    loading when the items have equal variances; ≥ 0.5 is the usual bar.
    R: ``semTools::AVE(fit, obs.var = FALSE)``."""
    lam2 = np.asarray(loadings, dtype=float) ** 2
    return float(lam2.sum() / (lam2.sum() + np.asarray(residuals, dtype=float).sum()))


def htmt(items: pd.DataFrame, blocks: dict[str, list[str]]) -> pd.DataFrame:
    """Heterotrait–monotrait ratio (Henseler, Ringle & Sarstedt 2015) for every pair of
    blocks, from the absolute Pearson correlations of the complete rows:

        HTMT_ij = mean |r| between the items of i and j
                  / √(mean |r| among i's items × mean |r| among j's items).

    Square DataFrame (blocks × blocks, 1 on the diagonal). Above 0.85 (0.90 for conceptually
    close constructs) signals a lack of discriminant validity.
    R: ``semTools::htmt(model, data)`` (absolute = TRUE)."""
    cols = [c for b in blocks.values() for c in b]
    r = items[cols].dropna().astype(float).corr().abs()
    names = list(blocks)

    def mono(b):
        sub = r.loc[blocks[b], blocks[b]].to_numpy()
        return sub[np.triu_indices_from(sub, k=1)].mean()

    mt = {b: mono(b) for b in names}
    out = pd.DataFrame(1.0, index=names, columns=names)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ht = r.loc[blocks[a], blocks[b]].to_numpy().mean()
            out.loc[a, b] = out.loc[b, a] = ht / math.sqrt(mt[a] * mt[b])
    return out
