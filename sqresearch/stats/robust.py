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

Nothing here builds an n_g × n_g matrix: the CR2 adjustment matrices are applied through the thin
SVD of each cluster's rows of Q (X = QR), so a cluster of 100,000 tickets costs O(n_g·k²) time
and O(n_g·k) memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.io.errors import DataError, Problem

#: Eigenvalues of I − H_gg at or below this are treated as zero (their inverse square root is
#: set to 0), as in clubSandwich's ``matrix_power(x, -1/2)`` (``tol = -12``, i.e. 1e-12).
EIGEN_TOL = 1e-12
#: A column whose part orthogonal to the columns before it has a norm below this fraction of its
#: own norm is collinear with them (R's ``lm`` uses the same relative tolerance, 1e-7).
COLLINEAR_TOL = 1e-7

VCOV_TYPES = ("CR1", "CR2")


class ClusterDesignError(DataError):
    """A design matrix, response or clustering that cluster-robust OLS cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> ClusterDesignError:
    return ClusterDesignError("cluster-robust regression", Problem(where, what, fix))


# --------------------------------------------------------------------------------------------
# input handling


def _cluster_codes(clusters, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Integer codes 0..G−1 for each clustering column (one or two columns)."""
    if isinstance(clusters, pd.DataFrame):
        cols = [clusters.iloc[:, j] for j in range(clusters.shape[1])]
        labels = [str(c) for c in clusters.columns]
    else:
        arr = np.asarray(clusters, dtype=object) if not isinstance(clusters, pd.Series) \
            else clusters.to_numpy(dtype=object)
        if arr.ndim == 1:
            cols, labels = [arr], ["cluster"]
        elif arr.ndim == 2:
            cols = [arr[:, j] for j in range(arr.shape[1])]
            labels = [f"cluster {j + 1}" for j in range(arr.shape[1])]
        else:
            raise _fail(f"clusters has {arr.ndim} dimensions.", "pass one or two columns.")
    if len(cols) not in (1, 2):
        raise _fail(f"clusters has {len(cols)} columns; one-way or two-way clustering only.",
                    "pass one column, or two for two-way clustering.")
    out = []
    for col, label in zip(cols, labels, strict=True):
        codes, uniques = pd.factorize(np.asarray(col, dtype=object), use_na_sentinel=True)
        if len(codes) != n:
            raise _fail(f"{label} has {len(codes)} values but the data have {n} rows.",
                        "pass one cluster label per row.")
        if (codes < 0).any():
            raise _fail(f"{label} is missing for {int((codes < 0).sum())} rows.",
                        "drop those rows or give them a cluster.")
        if len(uniques) < 2:
            raise _fail(f"{label} has {len(uniques)} cluster; cluster-robust errors need at "
                        "least 2 (and many more to be trustworthy).",
                        "cluster on a unit with more levels.")
        out.append(codes.astype(np.int64))
    return out, labels


def _design(y, X) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not isinstance(X, pd.DataFrame):
        raise _fail("X must be a pandas DataFrame (its column names name the coefficients).",
                    "wrap the design in pd.DataFrame(..., columns=names); add a 'const' "
                    "column of ones for an intercept.")
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        raise _fail("X has duplicated column names.", "give every column its own name.")
    problems = []
    for c in X.columns:
        if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])):
            problems.append(Problem(f"column '{c}'", f"is not numeric ({X[c].dtype}).",
                                    "code categories as 0/1 dummy columns."))
    if problems:
        raise ClusterDesignError("cluster-robust regression", problems)
    xm = X.to_numpy(dtype=float)
    yv = np.asarray(y, dtype=float).reshape(-1)
    n, k = xm.shape
    if yv.shape[0] != n:
        raise _fail(f"y has {yv.shape[0]} values but X has {n} rows.", "align y and X.")
    bad = [Problem(f"column '{names[j]}'", f"{int((~np.isfinite(xm[:, j])).sum())} rows are "
                   "missing or infinite.", "drop or fill those rows first.")
           for j in range(k) if not np.isfinite(xm[:, j]).all()]
    if not np.isfinite(yv).all():
        bad.append(Problem("y", f"{int((~np.isfinite(yv)).sum())} values are missing or "
                           "infinite.", "drop those rows first."))
    if bad:
        raise ClusterDesignError("cluster-robust regression", bad)
    if k == 0:
        raise _fail("X has no columns.", "add at least an intercept ('const' = 1).")
    if n <= k:
        raise _fail(f"{n} rows for {k} coefficients.", "use fewer columns or more data.")
    return yv, xm, names


def _qr_checked(xm: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR of X; name the first column that the columns before it already determine."""
    q, r = np.linalg.qr(xm)
    norms = np.linalg.norm(xm, axis=0)
    for j, name in enumerate(names):
        if norms[j] == 0 or abs(r[j, j]) <= COLLINEAR_TOL * norms[j]:
            before = ", ".join(f"'{c}'" for c in names[:j]) or "nothing"
            what = ("is all zeros." if norms[j] == 0 else
                    f"is a linear combination of the columns before it ({before}): the "
                    "design is rank-deficient.")
            raise _fail(what, "drop the column or one of those it duplicates (e.g. one dummy "
                        "per categorical variable, or a cluster-level dummy that fixed effects "
                        "already absorb).", where=f"column '{name}'")
    return q, r


# --------------------------------------------------------------------------------------------
# CR2 machinery: adjustment matrices from per-cluster thin SVDs, moments for the BM df


@dataclass
class _BellMcCaffrey:
    """What CR2 and its degrees of freedom need, rows sorted by cluster.

    ``groups`` holds, for each distinct cluster size n, the row indices (c × n), the left
    singular vectors U (c × n × r) of the clusters' rows of Q and δ = (1 − σ²)^{-1/2} − 1
    (c × r), so that A_g = I + U diag(δ) U'.
    """

    x: np.ndarray  # N × k, sorted by cluster
    m: np.ndarray  # (X'X)^{-1}
    starts: np.ndarray  # first row of each cluster
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]

    @classmethod
    def build(cls, xs: np.ndarray, qs: np.ndarray, m: np.ndarray,
              starts: np.ndarray) -> _BellMcCaffrey:
        n = xs.shape[0]
        sizes = np.diff(np.append(starts, n))
        groups = []
        for size in np.unique(sizes):
            idx = starts[sizes == size][:, None] + np.arange(size)
            u, s, _ = np.linalg.svd(qs[idx], full_matrices=False)
            lam = (1.0 - s) * (1.0 + s)  # eigenvalues of I − H_gg besides the 1s
            with np.errstate(divide="ignore", invalid="ignore"):
                a_eig = np.where(lam > EIGEN_TOL, 1.0 / np.sqrt(np.where(lam > 0, lam, 1.0)),
                                 0.0)
            groups.append((idx, u, a_eig - 1.0))
        return cls(xs, m, starts, groups)

    def apply_a(self, v: np.ndarray) -> np.ndarray:
        """Block-diagonal A = diag(A_g) times v (N × m), in O(N·k·m)."""
        out = v.copy()
        for idx, u, delta in self.groups:
            vg = v[idx]
            out[idx] += u @ (delta[:, :, None] * (np.swapaxes(u, 1, 2) @ vg))
        return out

    def sums(self, v: np.ndarray) -> np.ndarray:
        """Per-cluster column sums of v (N × m) → J × m."""
        return np.add.reduceat(v, self.starts, axis=0)

    def moments(self, c: np.ndarray) -> _Moments:
        """Pieces of P_st = G_s'G_t (J × J, never formed) for the contrast columns of c (k × q).

        With w_s = A X M c_s, D_st,j = w_sj'w_tj and y_sj = X_j'w_sj:
        P_st = diag(D_st) − Y_s' M Y_t.
        """
        w = self.apply_a(self.x @ (self.m @ c))
        q = c.shape[1]
        d = np.empty((q, q, len(self.starts)))
        for a in range(q):
            for b in range(a, q):
                d[a, b] = d[b, a] = self.sums(w[:, a] * w[:, b])
        y = np.stack([self.sums(self.x * w[:, [a]]) for a in range(q)])  # q × J × k
        my = y @ self.m
        mm = np.einsum("ajk,bjk->abj", my, y)  # y_aj' M y_bj
        kk = np.einsum("ajk,bjl->abkl", y, y)  # Σ_j y_aj y_bj'
        return _Moments(d, mm, kk, self.m)


@dataclass
class _Moments:
    d: np.ndarray  # q × q × J
    mm: np.ndarray  # q × q × J
    kk: np.ndarray  # q × q × k × k
    m: np.ndarray

    def omega(self) -> np.ndarray:
        """Ω_ab = tr P_ab (q × q)."""
        return (self.d - self.mm).sum(axis=2)

    def tr2(self, a: int, b: int, c: int, e: int) -> float:
        """tr(P_ab P_ce) in O(J + k³)."""
        d, mm, m = self.d, self.mm, self.m
        return float(d[a, b] @ d[c, e] - d[a, b] @ mm[c, e] - d[c, e] @ mm[a, b]
                     + np.sum((m @ self.kk[b, c]) * (m @ self.kk[e, a]).T))


def _power_sym(x: np.ndarray, p: float) -> np.ndarray:
    """Symmetric matrix power, eigenvalues ≤ 1e-12 sent to 0 (clubSandwich matrix_power)."""
    val, vec = np.linalg.eigh(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        vp = np.where(val > EIGEN_TOL, np.abs(val) ** p, 0.0)
    return (vec * vp) @ vec.T


# --------------------------------------------------------------------------------------------
# the fit


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
    order = np.argsort(codes[0], kind="stable")
    xs, ys, g_sorted = xm[order], yv[order], codes[0][order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    qs, r = _qr_checked(xs, names)
    # numpy's solve, not scipy's solve_triangular: for k × k right-hand sides the latter goes
    # to multi-threaded BLAS trsm, which costs milliseconds on a busy machine
    beta = np.linalg.solve(r, qs.T @ ys)
    r_inv = np.linalg.solve(r, np.eye(k))
    m = r_inv @ r_inv.T
    es = ys - xs @ beta
    residuals = np.empty(n)
    residuals[order] = es
    counts = tuple(int(c.max()) + 1 for c in codes)
    bm = None
    if vcov == "CR1":
        meat = np.zeros((k, k))
        dims = [(c, g, 1.0) for c, g in zip(codes, counts, strict=True)]
        if len(codes) == 2:
            cell = pd.factorize(codes[0] * counts[1] + codes[1])[0]
            dims.append((cell, int(cell.max()) + 1, -1.0))
        score = xm * (yv - xm @ beta)[:, None]
        for code, g, sign in dims:
            s = np.stack([np.bincount(code, weights=score[:, j], minlength=g)
                          for j in range(k)], axis=1)
            meat += sign * g / (g - 1) * (s.T @ s)
        v = (n - 1) / (n - k) * (m @ meat @ m)
    else:
        bm = _BellMcCaffrey.build(xs, qs, m, starts)
        s = bm.sums(xs * bm.apply_a(es[:, None]))
        v = m @ (s.T @ s) @ m
    v = (v + v.T) / 2
    return ClusterFit(names, beta, v, n, min(counts), residuals, vcov, counts, bm)


# --------------------------------------------------------------------------------------------
# joint tests


def wald_test(fit: ClusterFit, names: list[str], test: str | None = None) -> dict:
    """Joint test that several coefficients are all zero, with the cluster-robust covariance.

    Parameters
    ----------
    fit : ClusterFit
    names : list of str
        The q coefficients tested.
    test : {"HTZ", "F"}, optional
        ``"HTZ"`` (default for CR2): clubSandwich's Hotelling-T² approximation; ``"F"`` (default
        for CR1, allowed for both): W/q against F(q, G − 1).

    Returns
    -------
    dict
        test, names, q, wald (W), statistic (the F statistic), df_num, df_denom, p_value.

    Notes
    -----
    W = (Cβ̂)'(C V C')^{-1}(Cβ̂) with C selecting the q coefficients.

    ``"F"``: F = W/q ~ F(q, G − 1) — R ``clubSandwich::Wald_test(fit, constraints, vcov =
    "CR1S", test = "Naive-F")`` for a CR1 fit (CR1S is sandwich's HC1 factor).

    ``"HTZ"`` (Pustejovsky & Tipton 2018; ``Wald_test(..., vcov = "CR2", test = "HTZ")``):
    with P_st = G_s'G_t built as in :meth:`ClusterFit.df_bm` for the rows c_s of C,
    Ω = [tr P_st], B_st the P's of the rows of Ω^{-1/2}C, and
    ν = q(q + 1) / Σ_{s,t} [tr(B_st B_st) + tr(B_ss B_tt)],
    F = (ν − q + 1)/(ν q)·W ~ F(q, ν − q + 1). For q = 1 ν is the BM df and F = t².
    """
    idx = [fit._index(n) for n in names]
    if len(set(idx)) != len(idx) or not idx:
        raise ValueError("name each coefficient once, at least one")
    q = len(idx)
    test = test or ("HTZ" if fit.vcov_type == "CR2" else "F")
    if test not in ("HTZ", "F"):
        raise ValueError(f"test must be 'HTZ' or 'F', not {test!r}")
    b = fit.beta[idx]
    v = fit.vcov[np.ix_(idx, idx)]
    try:
        wald = float(np.sum(np.linalg.solve(np.linalg.cholesky(v), b) ** 2))
    except np.linalg.LinAlgError as exc:
        raise ValueError("the covariance of these coefficients is not positive definite; "
                         "a Wald test is not possible") from exc
    if test == "F":
        df2 = float(fit.clusters - 1)
        f = wald / q
        return {"test": "F", "names": list(names), "q": q, "wald": wald, "statistic": f,
                "df_num": q, "df_denom": df2, "p_value": float(stats.f.sf(f, q, df2))}
    if fit._bm is None:
        raise ValueError("the HTZ test needs a CR2 fit (cluster_fit(..., vcov='CR2'))")
    c = np.eye(len(fit.names))[:, idx]
    omega_nsqrt = _power_sym(fit._bm.moments(c).omega(), -0.5)
    mo = fit._bm.moments(c @ omega_nsqrt)
    total = sum(mo.tr2(s, t, s, t) + mo.tr2(s, s, t, t) for s in range(q) for t in range(q))
    nu = q * (q + 1) / total
    df2 = nu - q + 1
    f = max(df2 / nu, 0.0) * wald / q
    p = float(stats.f.sf(f, q, df2)) if df2 > 0 else float("nan")
    return {"test": "HTZ", "names": list(names), "q": q, "wald": wald, "statistic": f,
            "df_num": q, "df_denom": df2, "p_value": p}


# --------------------------------------------------------------------------------------------
# describing the clustering


def cluster_summary(clusters) -> dict:
    """Number of clusters and their sizes.

    Returns
    -------
    dict
        clusters (G), n, min, median, max and mean cluster size.
    """
    codes = pd.factorize(np.asarray(clusters, dtype=object))[0]
    if (codes < 0).any():
        raise _fail(f"{int((codes < 0).sum())} cluster labels are missing.",
                    "drop those rows or give them a cluster.")
    sizes = np.bincount(codes)
    return {"clusters": int(len(sizes)), "n": int(sizes.sum()), "min": int(sizes.min()),
            "median": float(np.median(sizes)), "max": int(sizes.max()),
            "mean": float(sizes.mean())}


def design_effect(y, clusters) -> dict:
    """Intraclass correlation (one-way ANOVA estimator) and the design effect of cluster means.

    Parameters
    ----------
    y : array_like
        Outcome, one value per row.
    clusters : array_like
        Cluster label per row.

    Returns
    -------
    dict
        icc, design_effect, n0 (the cluster size used), clusters (G), n, msb, msw.

    Notes
    -----
    MSB = Σ_g n_g (ȳ_g − ȳ)² / (G − 1), MSW = Σ_g Σ_i (y_gi − ȳ_g)² / (N − G),
    n0 = (N − Σ_g n_g² / N) / (G − 1) (Donner's adjusted average size; the plain mean N/G when
    clusters are equal, smaller when they are unequal),
    ICC = (MSB − MSW) / (MSB + (n0 − 1)·MSW) and design effect = 1 + (n0 − 1)·ICC: the factor by
    which clustering inflates the variance of a mean over the naive one. The ICC is returned as
    estimated; it can be negative by sampling error (then the design effect is below 1).
    """
    yv = np.asarray(y, dtype=float).reshape(-1)
    codes, _ = _cluster_codes(clusters, len(yv))
    code = codes[0]
    if not np.isfinite(yv).all():
        raise _fail(f"y has {int((~np.isfinite(yv)).sum())} missing or infinite values.",
                    "drop those rows first.")
    n = len(yv)
    sizes = np.bincount(code).astype(float)
    g = len(sizes)
    if n <= g:
        raise _fail("every cluster has a single row; the ICC is not estimable.")
    means = np.bincount(code, weights=yv) / sizes
    msb = float(np.sum(sizes * (means - yv.mean()) ** 2) / (g - 1))
    msw = float(np.sum((yv - means[code]) ** 2) / (n - g))
    n0 = float((n - np.sum(sizes ** 2) / n) / (g - 1))
    denom = msb + (n0 - 1) * msw
    icc = (msb - msw) / denom if denom > 0 else float("nan")
    return {"icc": icc, "design_effect": 1 + (n0 - 1) * icc, "n0": n0, "clusters": g, "n": n,
            "msb": msb, "msw": msw}


__all__ = ["ClusterDesignError", "ClusterFit", "cluster_fit", "cluster_summary",
           "design_effect", "wald_test"]
