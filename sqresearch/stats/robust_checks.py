"""Input checks of cluster-robust OLS: the design matrix, the response and the clustering.

Every problem is a ``ClusterDesignError`` (a ``DataError``) that names the column and the fix:
mismatched lengths, missing values, fewer than 2 clusters, non-numeric columns, and the first
column the columns before it already determine (rank deficiency, R ``lm``'s tolerance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem

#: A column whose part orthogonal to the columns before it has a norm below this fraction of its
#: own norm is collinear with them (R's ``lm`` uses the same relative tolerance, 1e-7).
COLLINEAR_TOL = 1e-7


class ClusterDesignError(DataError):
    """A design matrix, response or clustering that cluster-robust OLS cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> ClusterDesignError:
    return ClusterDesignError("cluster-robust regression", Problem(where, what, fix))


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


#: rows of [X y] factored at a time by ``_r_checked``
QR_BLOCK = 1 << 16


def _r_checked(xm: np.ndarray, yv: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """R of the thin QR of X (X = QR) and Q'y, a block of rows at a time: the R of the stacked
    blocks' R factors of [X y] is [[R, Q'y], [0, ρ]] (TSQR), so memory holds one block, never a
    copy of X or its n × k Q. Names the first column that the columns before it already
    determine."""
    n, k = xm.shape
    parts, sq = [], np.zeros(k)
    for start in range(0, n, QR_BLOCK):
        block = np.column_stack([xm[start:start + QR_BLOCK], yv[start:start + QR_BLOCK]])
        sq += np.einsum("ij,ij->j", block[:, :k], block[:, :k])
        parts.append(np.linalg.qr(block, mode="r"))
    raug = np.linalg.qr(np.vstack(parts), mode="r") if len(parts) > 1 else parts[0]
    r, qty = raug[:k, :k], raug[:k, k]
    norms = np.sqrt(sq)
    for j, name in enumerate(names):
        if norms[j] == 0 or abs(r[j, j]) <= COLLINEAR_TOL * norms[j]:
            before = ", ".join(f"'{c}'" for c in names[:j]) or "nothing"
            what = ("is all zeros." if norms[j] == 0 else
                    f"is a linear combination of the columns before it ({before}): the "
                    "design is rank-deficient.")
            raise _fail(what, "drop the column or one of those it duplicates (e.g. one dummy "
                        "per categorical variable, or a cluster-level dummy that fixed effects "
                        "already absorb).", where=f"column '{name}'")
    return r, qty
