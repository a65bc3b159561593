"""The Satorra–Bentler scaled χ² of a covariance-structure model fitted by ML (robust ML for
non-normal data such as 5–7-point items): R ``lavaan::cfa(…, estimator = "MLM")``,
``fitMeasures(fit, c("chisq", "chisq.scaled", "chisq.scaling.factor"))``.

With p observed variables, p* = p(p + 1)/2, the model-implied Σ̂, the Jacobian
Δ = ∂vech Σ(θ)/∂θᵀ at the estimate, V = ½ Dᵀ(Σ̂⁻¹ ⊗ Σ̂⁻¹)D (D the duplication matrix) and Γ
the asymptotic covariance of vech S estimated from the fourth moments of the centred data
(divisor N, as lavaan's default):

    U = V − VΔ(ΔᵀVΔ)⁻¹ΔᵀV,   c = tr(UΓ)/df,   χ²_SB = χ²_ML / c,

with χ²_ML = N · F_ML (the normal likelihood, lavaan's ``chisq`` under MLM). vech stacks the
lower triangle column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of vech (lower triangle, column by column)."""
    rows, cols = zip(*[(i, j) for j in range(p) for i in range(j, p)], strict=True)
    return np.array(rows), np.array(cols)


def duplication(p: int) -> np.ndarray:
    """D with vec(A) = D vech(A) for symmetric A (p² × p*)."""
    rows, cols = vech_indices(p)
    d = np.zeros((p * p, len(rows)))
    for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
        d[j * p + i, k] = d[i * p + j, k] = 1.0
    return d


def adf_gamma(x: np.ndarray) -> np.ndarray:
    """Γ: the covariance (divisor N) of vech(z_i z_iᵀ) over the centred rows z_i."""
    z = x - x.mean(axis=0)
    rows, cols = vech_indices(x.shape[1])
    prod = z[:, rows] * z[:, cols]
    return np.cov(prod, rowvar=False, bias=True)


def normal_weight(sigma: np.ndarray) -> np.ndarray:
    """V = ½ Dᵀ(Σ⁻¹ ⊗ Σ⁻¹)D, the normal-theory weight of vech S (its inverse is Γ under
    normality)."""
    dup = duplication(sigma.shape[0])
    inv = np.linalg.inv(sigma)
    return 0.5 * dup.T @ np.kron(inv, inv) @ dup


def scaling_factor(gamma: np.ndarray, sigma: np.ndarray, delta: np.ndarray, df: float
                   ) -> float:
    """c = tr(UΓ)/df with U = V − VΔ(ΔᵀVΔ)⁻¹ΔᵀV (c = 1 when Γ = V⁻¹, normal data)."""
    v = normal_weight(sigma)
    vd = v @ delta
    u = v - vd @ np.linalg.solve(delta.T @ vd, vd.T)
    return float(np.trace(u @ gamma) / df)


@dataclass(frozen=True)
class ScaledChi2:
    chi2: float
    df: float
    scaling: float
    chi2_scaled: float
    p_value: float
    p_value_scaled: float


def satorra_bentler(x: np.ndarray, sigma: np.ndarray, delta: np.ndarray, chi2: float,
                    df: float) -> ScaledChi2:
    """The scaling factor c and the scaled χ² (see the module notes). ``x``: the complete data
    (N × p); ``sigma``: Σ̂; ``delta``: p* × q Jacobian of vech Σ(θ); ``chi2``: N · F_ML."""
    c = scaling_factor(adf_gamma(x), sigma, delta, df)
    return ScaledChi2(chi2, df, c, chi2 / c, float(stats.chi2.sf(chi2, df)),
                      float(stats.chi2.sf(chi2 / c, df)))
