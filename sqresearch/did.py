"""Difference-in-differences with cluster-robust errors, and the checks that go with it.

Regressions are plain least squares with the cluster-robust (sandwich) covariance and the usual
small-sample factor G/(G−1)·(N−1)/(N−K) — R ``sandwich::vcovCL(fit, cluster, type = "HC1")``,
Stata's default. Tests use t with G − 1 degrees of freedom (few clusters make normal p-values too
small). With few clusters a wild cluster bootstrap gives a p-value and CI beside the analytic
ones (Webb weights below 12 clusters, Rademacher above).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


@dataclass
class ClusterFit:
    names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    n: int
    clusters: int
    residuals: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    @property
    def df(self) -> int:
        return self.clusters - 1

    def term(self, name: str, alpha: float = 0.05) -> dict:
        i = self.names.index(name)
        b, s = self.beta[i], self.se[i]
        t = b / s
        crit = stats.t.ppf(1 - alpha / 2, self.df)
        return {"term": name, "estimate": b, "se": s, "t": t, "df": self.df,
                "p_value": 2 * stats.t.sf(abs(t), self.df), "ci_low": b - crit * s,
                "ci_high": b + crit * s}

    def wald(self, names: list[str]) -> tuple[float, float, int]:
        """Joint test that the named coefficients are all zero: (F, p, q) with F(q, G − 1)."""
        idx = [self.names.index(n) for n in names]
        b = self.beta[idx]
        v = self.vcov[np.ix_(idx, idx)]
        q = len(idx)
        f = float(b @ np.linalg.solve(v, b)) / q
        return f, float(stats.f.sf(f, q, self.df)), q


def cluster_ols(y, x: pd.DataFrame, clusters) -> ClusterFit:
    """OLS with the HC1 cluster-robust covariance (R ``vcovCL(type = "HC1")``)."""
    y = np.asarray(y, dtype=float)
    xm = x.to_numpy(dtype=float)
    g = pd.factorize(np.asarray(clusters))[0]
    n, k = xm.shape
    xtx_inv = np.linalg.pinv(xm.T @ xm)
    beta = xtx_inv @ xm.T @ y
    e = y - xm @ beta
    n_g = g.max() + 1
    scores = np.zeros((n_g, k))
    np.add.at(scores, g, xm * e[:, None])
    meat = scores.T @ scores
    factor = n_g / (n_g - 1) * (n - 1) / (n - k)
    return ClusterFit(list(x.columns), beta, factor * xtx_inv @ meat @ xtx_inv, n, n_g, e)


def design_2x2(df: pd.DataFrame, covariates: list[str] = ()) -> pd.DataFrame:
    """y ~ treated + post + treated:post (+ covariates)."""
    x = pd.DataFrame({"const": 1.0, "treated": df["treated"].astype(float),
                      "post": df["post"].astype(float)}, index=df.index)
    x["treated:post"] = x["treated"] * x["post"]
    for c in covariates:
        x[c] = df[c].astype(float)
    return x


def design_twfe(df: pd.DataFrame, unit: str, period: str) -> pd.DataFrame:
    """y ~ unit + period fixed effects + treated:post (the interaction is the effect)."""
    x = pd.DataFrame({"treated:post": (df["treated"] * df["post"]).astype(float)},
                     index=df.index)
    u = pd.get_dummies(df[unit].astype(str), prefix="unit", drop_first=False, dtype=float)
    t = pd.get_dummies(df[period].astype(str), prefix="period", drop_first=True, dtype=float)
    return pd.concat([x, u, t], axis=1)


def design_event(df: pd.DataFrame, unit: str, period: str, rel: str,
                 reference: int = -1) -> tuple[pd.DataFrame, list[str]]:
    """Unit and period fixed effects plus treated × relative-period dummies (reference left
    out); returns the design and the names of the event-time terms in order."""
    base = design_twfe(df, unit, period).drop(columns="treated:post")
    terms = []
    for k in sorted(df[rel].dropna().unique()):  # control units have no relative time
        if k == reference:
            continue
        name = f"event:{int(k)}"
        base[name] = ((df[rel] == k) & (df["treated"] == 1)).astype(float)
        terms.append(name)
    return base, terms


def wild_cluster_bootstrap(y, x: pd.DataFrame, clusters, term: str = "treated:post",
                           resamples: int = 999, weights: str = "auto", seed: int = 0,
                           alpha: float = 0.05) -> dict:
    """Wild cluster bootstrap for one coefficient.

    p-value: restricted bootstrap-t (WCR, the null imposed), the share of |t*| ≥ |t|.
    CI: unrestricted bootstrap-t (WCU), β̂ − q* · se with the quantiles of t* = (β* − β̂)/se*.
    Weights: Webb's six-point below 12 clusters, Rademacher otherwise ("auto").
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=float)
    g = pd.factorize(np.asarray(clusters))[0]
    n_g = g.max() + 1
    kind = ("webb" if n_g < 12 else "rademacher") if weights == "auto" else weights
    full = cluster_ols(y, x, g)
    j = full.names.index(term)
    t_obs = full.beta[j] / full.se[j]
    restricted = cluster_ols(y, x.drop(columns=term), g)
    fitted_r = y - restricted.residuals

    def draw():
        if kind == "webb":
            return WEBB[rng.integers(0, 6, n_g)]
        return rng.choice([-1.0, 1.0], n_g)

    t_null, t_unres = np.empty(resamples), np.empty(resamples)
    for b in range(resamples):
        w = draw()[g]
        fit = cluster_ols(fitted_r + restricted.residuals * w, x, g)
        t_null[b] = fit.beta[j] / fit.se[j]
        fit_u = cluster_ols(y - full.residuals + full.residuals * w, x, g)
        t_unres[b] = (fit_u.beta[j] - full.beta[j]) / fit_u.se[j]
    lo_q, hi_q = np.quantile(t_unres, [alpha / 2, 1 - alpha / 2])
    return {"p_value": float(np.mean(np.abs(t_null) >= abs(t_obs))),
            "ci_low": full.beta[j] - hi_q * full.se[j],
            "ci_high": full.beta[j] - lo_q * full.se[j], "weights": kind,
            "resamples": resamples, "clusters": int(n_g)}


def smd(treated, control) -> float:
    """Standardized mean difference (x̄₁ − x̄₀)/√((s₁² + s₀²)/2)."""
    a, b = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return (a.mean() - b.mean()) / pooled if pooled > 0 else math.nan


def balance_flag(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "good" if abs(value) < 0.1 else ("acceptable" if abs(value) <= 0.25 else "imbalanced")
