"""Cluster-robust least squares with small-sample corrections, in time and memory linear in N.

Tickets of one week (or one agent, one branch) share shocks, so their errors are correlated and
the naive OLS standard error is too small by the square root of the design effect. This module
fits OLS and estimates the covariance of the coefficients from cluster sums:

- ``CR1``: the sandwich with the factor G/(G − 1)·(N − 1)/(N − K) — R
  ``sandwich::vcovCL(fit, cluster = ~g, type = "HC1")`` — and t tests with G − 1 df. Two
  clustering columns give the two-way (Cameron–Gelbach–Miller) version.
- ``CR2``: the Bell–McCaffrey bias-reduced sandwich — R ``clubSandwich::vcovCR(fit, cluster = g,
  type = "CR2")`` — with Satterthwaite (Bell–McCaffrey) degrees of freedom per coefficient or
  contrast (``clubSandwich::coef_test(test = "Satterthwaite")``) and the Hotelling-T² Wald test
  (``clubSandwich::Wald_test(test = "HTZ")``). The small-sample correction of choice with few
  clusters.

Nothing here builds an n_g × n_g matrix, nor a second n × k copy of X: R (X = QR) comes from the
QR of blocks of rows, and the CR2 adjustment matrices are applied through the thin SVD of each
cluster's rows of Q = XR^{-1}, a batch of clusters at a time, so a cluster of 100,000 tickets
costs O(n_g·k²) time and O(n_g·k) memory and what is kept is O(G·k²).

This module holds the fit (``cluster_fit`` → ``ClusterFit``); the CR2 machinery is in
``bell_mccaffrey``, the input checks and ``ClusterDesignError`` in ``robust_checks``, the joint
tests (``wald_test``) in ``wald``, and ``cluster_summary`` / ``design_effect`` in
``clustering``. Every public name stays importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.bell_mccaffrey import EIGEN_TOL, _BellMcCaffrey
from sqresearch.stats.clustering import cluster_summary, design_effect
from sqresearch.stats.robust_checks import (
    COLLINEAR_TOL,
    ClusterDesignError,
    _cluster_codes,
    _design,
    _r_checked,
)
from sqresearch.stats.wald import wald_test

__all__ = ["ClusterDesignError", "ClusterFit", "cluster_fit", "cluster_summary",
           "design_effect", "wald_test",
           # tolerances, kept importable from here
           "COLLINEAR_TOL", "EIGEN_TOL", "VCOV_TYPES"]


VCOV_TYPES = ("CR1", "CR2")


@dataclass
class ClusterFit:
    """OLS coefficients with a cluster-robust covariance.

    Attributes
    ----------
    names : list of str
        Coefficient names (the columns of X).
    beta : ndarray
        OLS coefficients.
    vcov : ndarray
        Cluster-robust covariance (``vcov_type``). Two-way CR1 need not be positive
        semi-definite (as in sandwich with ``fix = FALSE``); a negative variance gives a NaN
        standard error.
    n : int
        Rows.
    clusters : int
        Number of clusters G (two-way: the smaller of the two counts).
    residuals : ndarray
        OLS residuals, in the input row order.
    vcov_type : str
        ``"CR1"`` or ``"CR2"``.
    cluster_counts : tuple of int
        Clusters per clustering column (two entries for two-way clustering).
    """

    names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    n: int
    clusters: int
    residuals: np.ndarray
    vcov_type: str
    cluster_counts: tuple[int, ...] = ()
    _bm: _BellMcCaffrey | None = field(default=None, repr=False, compare=False)
    _df_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def se(self) -> np.ndarray:
        """Standard errors, sqrt(diag(vcov)) (NaN where a two-way variance is negative)."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self.vcov))

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise KeyError(f"no coefficient {name!r}; the coefficients are {self.names}")
        return self.names.index(name)

    def _contrast(self, contrast) -> np.ndarray:
        if isinstance(contrast, dict):
            c = np.zeros(len(self.names))
            for name, weight in contrast.items():
                c[self._index(name)] = float(weight)
            return c
        c = np.asarray(contrast, dtype=float).reshape(-1)
        if c.shape[0] != len(self.names):
            raise ValueError(f"contrast has {c.shape[0]} entries for {len(self.names)} "
                             "coefficients")
        return c

    def df_bm(self, contrast) -> float:
        """Bell–McCaffrey (Satterthwaite) degrees of freedom of the contrast c'β under CR2.

        Parameters
        ----------
        contrast : array_like or dict
            k weights, or ``{name: weight}`` (missing names weigh 0).

        Returns
        -------
        float
            ν = (tr P)² / tr(P²), R ``clubSandwich::coef_test(fit, vcov = "CR2", cluster = g,
            test = "Satterthwaite")$df_Satt`` for a unit contrast.

        Notes
        -----
        Under the working model (errors independent with equal variance σ²) the CR2 variance
        of c'β is a quadratic form Σ_j (g_j'y)² with g_j = (I − H)_{·,j} A_j X_j M c and
        M = (X'X)^{-1}. With G = [g_1 … g_J] and P = G'G (J × J),
        E = σ² tr P, Var = 2σ⁴ tr(P²), and matching a scaled χ² gives ν = (tr P)² / tr(P²).
        Because (I − H) is idempotent, with w_j = A_j X_j M c and y_j = X_j'w_j,
        P_hj = δ_hj w_j'w_j − y_h' M y_j,
        so tr P and tr(P²) = Σ_j d_j² − 2 Σ_j d_j y_j'My_j + tr((M Σ_j y_j y_j')²) (d_j =
        w_j'w_j) cost O(N·k + J·k²) — P is never formed. This is clubSandwich's formula
        (``get_P_array`` and ``Satterthwaite``, target = identity) in closed form.
        """
        if self._bm is None:
            raise ValueError("Bell–McCaffrey degrees of freedom need a CR2 fit "
                             "(cluster_fit(..., vcov='CR2')).")
        c = self._contrast(contrast)
        mo = self._bm.moments(c[:, None])
        tr_p = float(mo.omega()[0, 0])
        tr_p2 = mo.tr2(0, 0, 0, 0)
        return tr_p ** 2 / tr_p2 if tr_p2 > 0 else float("nan")

    def default_df(self, name: str) -> float:
        """The df a test of one coefficient uses: BM df for CR2, G − 1 for CR1."""
        i = self._index(name)
        if self.vcov_type == "CR2":
            if i not in self._df_cache:
                self._df_cache[i] = self.df_bm(np.eye(len(self.names))[i])
            return self._df_cache[i]
        return float(self.clusters - 1)

    def term(self, name: str, alpha: float = 0.05, df: float | None = None) -> dict:
        """Estimate, SE, t test and 1 − α CI of one coefficient.

        Parameters
        ----------
        name : str
            Coefficient (column of X).
        alpha : float
            Two-sided level; the CI is estimate ± t_{1−α/2, df}·SE.
        df : float, optional
            Degrees of freedom; default :meth:`default_df` (Bell–McCaffrey for CR2, G − 1 for
            CR1).

        Returns
        -------
        dict
            term, estimate, se, t, df, p_value, ci_low, ci_high.

        Notes
        -----
        t = β̂_j / SE_j, p = 2·P(T_df > |t|).
        """
        i = self._index(name)
        b, s = float(self.beta[i]), float(self.se[i])
        df = self.default_df(name) if df is None else float(df)
        t = b / s if s > 0 else float("nan")
        crit = float(stats.t.ppf(1 - alpha / 2, df))
        return {"term": name, "estimate": b, "se": s, "t": t, "df": df,
                "p_value": float(2 * stats.t.sf(abs(t), df)), "ci_low": b - crit * s,
                "ci_high": b + crit * s}

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient: the columns of :meth:`term` with default df."""
        return pd.DataFrame([self.term(n, alpha) for n in self.names])


def cluster_fit(y, X: pd.DataFrame, clusters, vcov: str = "CR1") -> ClusterFit:
    """OLS with a cluster-robust covariance (CR1 one- or two-way, or CR2).

    Parameters
    ----------
    y : array_like
        Response, N values.
    X : DataFrame
        Design, N × k, numeric; include a column of ones for an intercept. Column names name
        the coefficients.
    clusters : array_like, Series or DataFrame
        One cluster label per row; a DataFrame with two columns (or an N × 2 array) for two-way
        clustering (CR1 only).
    vcov : {"CR1", "CR2"}
        Small-sample correction.

    Returns
    -------
    ClusterFit

    Raises
    ------
    ClusterDesignError
        (a ``ValueError``) for mismatched lengths, missing values, fewer than 2 clusters,
        non-numeric or rank-deficient columns (the first collinear column is named).

    Notes
    -----
    β̂ = (X'X)^{-1}X'y, e = y − Xβ̂, M = (X'X)^{-1}, and the sandwich V = M (Σ_g s_g s_g') M.

    CR1 (R ``sandwich::vcovCL(fit, cluster = ~g, type = "HC1")``): s_g = X_g'e_g and
    V = G/(G − 1)·(N − 1)/(N − K)·M (Σ_g s_g s_g') M.

    Two-way CR1 (Cameron, Gelbach & Miller 2011; R ``vcovCL(fit, cluster = ~g1 + g2, type =
    "HC1")`` with its defaults ``cadjust = TRUE, multi0 = FALSE, fix = FALSE``):
    V = (N − 1)/(N − K)·M [c_1 Ω_1 + c_2 Ω_2 − c_12 Ω_12] M, with Ω_d the meat clustered by
    dimension d, Ω_12 by the intersection cells and c_d = G_d/(G_d − 1) for each of the three
    (G_12 = the number of non-empty cells). V is not forced to be positive semi-definite.
    Default df min(G_1, G_2) − 1.

    CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018; R ``clubSandwich::vcovCR(fit,
    cluster = g, type = "CR2")``, working model identity): s_g = X_g'A_g e_g with
    A_g = (I − H_gg)^{-1/2}, H_gg = X_g M X_g'. With X = QR, H_gg = Q_g Q_g'; from the thin SVD
    Q_g = U Σ V', A_g = I + U diag((1 − σ²)^{-1/2} − 1) U', so no n_g × n_g matrix is built.
    Eigenvalues 1 − σ² ≤ 1e-12 (a cluster that alone determines a coefficient, e.g. a dummy for
    one cluster) get the pseudo-inverse square root 0, exactly as clubSandwich's
    ``matrix_power(x, -1/2)``: A_g then projects that direction out (the residual there is 0
    anyway). No further factor.
    """
    if vcov not in VCOV_TYPES:
        raise ValueError(f"vcov must be one of {VCOV_TYPES}, not {vcov!r}")
    yv, xm, names = _design(y, X)
    n, k = xm.shape
    codes, _ = _cluster_codes(clusters, n)
    if len(codes) == 2 and vcov != "CR1":
        raise ValueError("two-way clustering is implemented for CR1 only")
    r, qty = _r_checked(xm, yv, names)
    # numpy's solve, not scipy's solve_triangular: for k × k right-hand sides the latter goes
    # to multi-threaded BLAS trsm, which costs milliseconds on a busy machine
    beta = np.linalg.solve(r, qty)
    r_inv = np.linalg.solve(r, np.eye(k))
    m = r_inv @ r_inv.T
    residuals = yv - xm @ beta
    counts = tuple(int(c.max()) + 1 for c in codes)
    bm = None
    if vcov == "CR1":
        meat = np.zeros((k, k))
        dims = [(c, g, 1.0) for c, g in zip(codes, counts, strict=True)]
        if len(codes) == 2:
            cell = pd.factorize(codes[0] * counts[1] + codes[1])[0]
            dims.append((cell, int(cell.max()) + 1, -1.0))
        score = xm * residuals[:, None]
        for code, g, sign in dims:
            s = np.stack([np.bincount(code, weights=score[:, j], minlength=g)
                          for j in range(k)], axis=1)
            meat += sign * g / (g - 1) * (s.T @ s)
        v = (n - 1) / (n - k) * (m @ meat @ m)
    else:
        order = np.argsort(codes[0], kind="stable")  # rows cluster by cluster
        starts = np.r_[0, np.cumsum(np.bincount(codes[0]))[:-1]]
        bm, s = _BellMcCaffrey.build(xm, residuals, order, starts, r, m)
        v = m @ (s.T @ s) @ m
    v = (v + v.T) / 2
    return ClusterFit(names, beta, v, n, min(counts), residuals, vcov, counts, bm)
