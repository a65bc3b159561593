"""Which of two non-nested linear models predicts an outcome better — e.g. overall quality on
the five SERVQUAL gap scores vs on the five SERVPERF perception scores.

Each model is OLS with an intercept on the complete rows both models share (R ``lm``):

- R² and adjusted R² = 1 − (1 − R²)(n − 1)/(n − k − 1);
- Vuong's (1989) test of equal fit: with the normal log-likelihood of each respondent under
  each model (σ̂² = RSS/n) and m_i = ℓ_Ai − ℓ_Bi, z = (Σ m_i − (k_A − k_B) log(n)/2) /
  (√n · s_m), s_m² = Σ(m_i − m̄)²/n; z > 0 favours A, two-sided p from N(0, 1). R base:
  ``m <- dnorm(resid(a), 0, sqrt(mean(resid(a)^2)), log = TRUE) - dnorm(resid(b), …)``;
- the J test (Davidson & MacKinnon 1981) both ways: the t of B's fitted values added to A
  (``lm(y ~ XA + fitted(b))``; significant: A misses what B captures), and vice versa;
- ΔR² = R²_B − R²_A with a percentile bootstrap CI (rows resampled, ``seed``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def _ols(y: np.ndarray, x: np.ndarray):
    xc = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(xc, y, rcond=None)
    resid = y - xc @ beta
    return beta, resid, xc


def _r2(y: np.ndarray, resid: np.ndarray) -> float:
    return 1 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean()))


def _j_test(y: np.ndarray, x_a: np.ndarray, x_b: np.ndarray) -> tuple[float, float]:
    """t and p of B's fitted values added to model A (H0: A is adequate)."""
    _, rb, xb = _ols(y, x_b)
    fitted_b = y - rb
    beta, resid, xc = _ols(y, np.column_stack([x_a, fitted_b]))
    df = len(y) - xc.shape[1]
    cov = (resid @ resid) / df * np.linalg.inv(xc.T @ xc)
    t = beta[-1] / math.sqrt(cov[-1, -1])
    return float(t), float(2 * stats.t.sf(abs(t), df))


@dataclass(frozen=True)
class ModelComparison:
    """R², adjusted R² of A and B, Vuong z and p, the two J tests, ΔR² = R²_B − R²_A with its
    bootstrap CI; n, k_A, k_B; names of A and B."""

    names: tuple[str, str]
    r2: tuple[float, float]
    adj_r2: tuple[float, float]
    k: tuple[int, int]
    n: int
    vuong_z: float
    vuong_p: float
    j_a: tuple[float, float]  # t, p: B's fit added to A
    j_b: tuple[float, float]  # t, p: A's fit added to B
    delta_r2: float
    ci: tuple[float, float]
    ci_level: float
    n_boot: int

    def summary(self) -> pd.DataFrame:
        """model, predictors, r2, adj_r2, n, j_t, j_p (the other model's fit added to it)."""
        return pd.DataFrame({"model": self.names, "predictors": self.k, "r2": self.r2,
                             "adj_r2": self.adj_r2, "n": self.n,
                             "j_t": (self.j_a[0], self.j_b[0]),
                             "j_p": (self.j_a[1], self.j_b[1])})

    @property
    def better(self) -> str | None:
        """The model Vuong's test favours at the CI level, else None."""
        if self.vuong_p >= 1 - self.ci_level:
            return None
        return self.names[0] if self.vuong_z > 0 else self.names[1]


def compare_models(data: pd.DataFrame, y: str, xs_a: list[str], xs_b: list[str],
                   names: tuple[str, str] = ("A", "B"), alpha: float = 0.05,
                   n_boot: int = 2000, seed: int = 0) -> ModelComparison:
    """Compare y ~ xs_a with y ~ xs_b (see the module notes) on their common complete rows."""
    d = data[[y, *dict.fromkeys([*xs_a, *xs_b])]].dropna().astype(float)
    yv = d[y].to_numpy()
    xa, xb = d[xs_a].to_numpy(), d[xs_b].to_numpy()
    n, ka, kb = len(d), len(xs_a), len(xs_b)
    _, ra, _ = _ols(yv, xa)
    _, rb, _ = _ols(yv, xb)
    r2 = (_r2(yv, ra), _r2(yv, rb))
    adj = tuple(1 - (1 - r) * (n - 1) / (n - k - 1) for r, k in zip(r2, (ka, kb), strict=True))
    la = stats.norm.logpdf(ra, 0, math.sqrt(ra @ ra / n))
    lb = stats.norm.logpdf(rb, 0, math.sqrt(rb @ rb / n))
    m = la - lb
    z = (m.sum() - (ka - kb) * math.log(n) / 2) / (math.sqrt(n) * m.std(ddof=0))
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for b in range(n_boot):
        i = rng.integers(0, n, n)
        boot[b] = _r2(yv[i], _ols(yv[i], xb[i])[1]) - _r2(yv[i], _ols(yv[i], xa[i])[1])
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return ModelComparison(names, r2, adj, (ka, kb), n, float(z), float(2 * stats.norm.sf(
        abs(z))), _j_test(yv, xa, xb), _j_test(yv, xb, xa), r2[1] - r2[0], (float(lo),
                                                                               float(hi)),
        1 - alpha, n_boot)
