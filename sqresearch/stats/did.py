"""Difference-in-differences with cluster-robust errors, and the checks that go with it.

Regressions are plain least squares with the cluster-robust (sandwich) covariance and the usual
small-sample factor G/(G−1)·(N−1)/(N−K) — R ``sandwich::vcovCL(fit, cluster, type = "HC1")``,
Stata's default. Tests use t with G − 1 degrees of freedom (few clusters make normal p-values too
small). With few clusters the verdicts use the wild cluster bootstrap or randomization inference
of ``fewclusters`` instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sqresearch.stats import robust


def cluster_ols(y, x: pd.DataFrame, clusters) -> robust.ClusterFit:
    """OLS with the HC1 cluster-robust covariance (R ``vcovCL(type = "HC1")``) and t with
    G − 1 df: :func:`robust.cluster_fit` with ``vcov="CR1"``."""
    return robust.cluster_fit(np.asarray(y, dtype=float), x, np.asarray(clusters), vcov="CR1")


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
