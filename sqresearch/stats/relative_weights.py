"""Derived importance by Johnson's (2000) relative weights.

With correlated predictors the standardized OLS coefficients do not split R² among them (they
can be negative for a predictor that matters). Johnson's relative weights do: with the
predictors' correlation matrix R_xx = Q Λ Qᵀ and its symmetric root Λ* = Q Λ^½ Qᵀ (the
correlations of the predictors with their closest orthogonal counterparts Z),

    β_Z = Λ*⁻¹ r_xy          (y regressed on the orthogonal Z)
    ε_j = Σ_k Λ*_jk² β_Zk²   (predictor j's raw relative weight)

and Σ ε_j = R². R (base, the closed form in tests/reference_gap_model.R):
``e <- eigen(Rxx); L <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors);
b <- solve(L, rxy); eps <- (L^2) %*% b^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RelativeWeights:
    """Raw weights (sum to R²), their shares of R² (sum to 1), the standardized OLS
    coefficients beside them, R² and n."""

    predictors: tuple[str, ...]
    weights: tuple[float, ...]
    betas: tuple[float, ...]
    r2: float
    n: int

    def summary(self) -> pd.DataFrame:
        """predictor, weight (raw ε), share (ε / R²), beta (standardized OLS), rank."""
        w = np.array(self.weights)
        out = pd.DataFrame({"predictor": self.predictors, "weight": w,
                            "share": w / self.r2 if self.r2 > 0 else np.nan,
                            "beta": self.betas})
        out["rank"] = out["weight"].rank(ascending=False, method="min").astype(int)
        return out


def relative_weights(data: pd.DataFrame, y: str, xs: list[str]) -> RelativeWeights:
    """Johnson's relative weights of ``xs`` for ``y`` on the complete rows of ``data``."""
    d = data[[y, *xs]].dropna().astype(float)
    corr = d.corr().to_numpy()
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    vals, vecs = np.linalg.eigh(rxx)
    root = vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    beta_z = np.linalg.solve(root, rxy)
    eps = (root ** 2) @ (beta_z ** 2)
    betas = np.linalg.solve(rxx, rxy)
    return RelativeWeights(tuple(xs), tuple(map(float, eps)), tuple(map(float, betas)),
                           float(rxy @ betas), len(d))
