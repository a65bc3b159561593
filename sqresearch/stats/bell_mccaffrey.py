"""The CR2 machinery of cluster-robust OLS: the Bell–McCaffrey adjustment matrices and the
moments behind their degrees of freedom and the HTZ Wald test.

A_g = (I − H_gg)^{-1/2} is applied through the thin SVD of each cluster's rows of Q (X = QR), so
no n_g × n_g matrix is built; ``_Moments`` holds the pieces of P_st = G_s'G_t (never formed) that
``ClusterFit.df_bm`` and ``wald.wald_test`` need, as R clubSandwich computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Eigenvalues of I − H_gg at or below this are treated as zero (their inverse square root is
#: set to 0), as in clubSandwich's ``matrix_power(x, -1/2)`` (``tol = -12``, i.e. 1e-12).
EIGEN_TOL = 1e-12


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
