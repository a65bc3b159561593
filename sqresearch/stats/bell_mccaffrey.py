"""The CR2 machinery of cluster-robust OLS: the Bell–McCaffrey adjustment matrices and the
moments behind their degrees of freedom and the HTZ Wald test.

With X = QR and the thin SVD Q_g = U Σ V' of a cluster's rows of Q, A_g = (I − H_gg)^{-1/2} =
I + U diag(δ) U' with δ = (1 − σ²)^{-1/2} − 1. Everything CR2 needs is a k × k piece per
cluster: X_g'A_g e_g = X_g'e_g + R'V diag(σδ) U'e_g (computed while U is at hand, a batch of
clusters at a time), and A_g Q_g h = Q_g B_g h with B_g = I + V diag(δ) V' for the contrasts of
the degrees of freedom. So memory beyond X and Q is O(J·k²) and a batch of rows, never
n × k per piece; ``_Moments`` holds the pieces of P_st = G_s'G_t (never formed) that
``ClusterFit.df_bm`` and ``wald.wald_test`` need, as R clubSandwich computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Eigenvalues of I − H_gg at or below this are treated as zero (their inverse square root is
#: set to 0), as in clubSandwich's ``matrix_power(x, -1/2)`` (``tol = -12``, i.e. 1e-12).
EIGEN_TOL = 1e-12

#: rows of Q a batch of equal-size clusters holds at once (a larger cluster is its own batch)
BATCH_ROWS = 1 << 18


def _batches(starts: np.ndarray, n: int):
    """(first rows, size) of clusters of one size, at most ``BATCH_ROWS`` rows a batch."""
    sizes = np.diff(np.append(starts, n))
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        step = max(1, BATCH_ROWS // int(size))
        for i in range(0, len(which), step):
            yield which[i:i + step], starts[which[i:i + step]], int(size)


def _rows(a: np.ndarray, order: np.ndarray, first: np.ndarray, size: int) -> np.ndarray:
    """The rows of the clusters starting at ``first`` (all of one size) in the cluster-sorted
    row ``order``: c × size × …"""
    return a[order[first[:, None] + np.arange(size)]]


@dataclass
class _BellMcCaffrey:
    """What CR2 and its degrees of freedom need, per cluster (J clusters, k coefficients):
    the right singular vectors V' of the cluster's rows of Q (J × k × k, rows beyond the rank
    zero), σ and δ = (1 − σ²)^{-1/2} − 1 (J × k, zero beyond the rank), and R (X = QR)."""

    r: np.ndarray  # k × k
    m: np.ndarray  # (X'X)^{-1}
    vt: np.ndarray  # J × k × k
    sigma: np.ndarray  # J × k
    delta: np.ndarray  # J × k

    @classmethod
    def build(cls, x: np.ndarray, e: np.ndarray, order: np.ndarray, starts: np.ndarray,
              r: np.ndarray, m: np.ndarray) -> tuple[_BellMcCaffrey, np.ndarray]:
        """The per-cluster pieces and the CR2 scores s_g = X_g'A_g e_g (G × k) of the
        residuals ``e``; ``order`` lists the rows cluster by cluster, ``starts`` where each
        cluster begins in it (clusters in code order)."""
        n, k = x.shape
        j = len(starts)
        r_inv = np.linalg.solve(r, np.eye(k))
        vt, sigma = np.zeros((j, k, k)), np.zeros((j, k))
        delta, scores = np.zeros((j, k)), np.empty((j, k))
        for which, first, size in _batches(starts, n):
            xg = _rows(x, order, first, size)
            u, s, v = np.linalg.svd(xg @ r_inv, full_matrices=False)  # Q_g = U Σ V'
            lam = (1.0 - s) * (1.0 + s)  # eigenvalues of I − H_gg besides the 1s
            with np.errstate(divide="ignore", invalid="ignore"):
                a_eig = np.where(lam > EIGEN_TOL, 1.0 / np.sqrt(np.where(lam > 0, lam, 1.0)),
                                 0.0)
            rank = s.shape[1]
            vt[which, :rank], sigma[which, :rank], delta[which, :rank] = v, s, a_eig - 1.0
            eg = _rows(e, order, first, size)
            ue = np.einsum("cnr,cn->cr", u, eg)  # U'e_g
            xe = np.einsum("cnk,cn->ck", xg, eg)  # X_g'e_g
            # X_g'U = R'V Σ, so X_g'A_g e_g = X_g'e_g + R'V diag(σδ) U'e_g
            scores[which] = xe + np.einsum("crk,cr->ck", v, s * (a_eig - 1.0) * ue) @ r
        return cls(r, m, vt, sigma, delta), scores

    def moments(self, c: np.ndarray) -> _Moments:
        """Pieces of P_st = G_s'G_t (J × J, never formed) for the contrast columns of c (k × q).

        With w_s = A X M c_s, D_st,j = w_sj'w_tj and y_sj = X_j'w_sj:
        P_st = diag(D_st) − Y_s' M Y_t. Since X M c = Q h with h = R^{-T} c, w_sj = Q_j b_sj
        with b_sj = B_j h_s, so D_st,j = b_sj'Q_j'Q_j b_tj and y_sj = R'Q_j'Q_j b_sj
        (Q_j'Q_j = V diag(σ²) V').
        """
        h = np.linalg.solve(self.r.T, c)  # k × q
        vt, s2 = self.vt, self.sigma ** 2
        b = h + np.swapaxes(vt, 1, 2) @ (self.delta[:, :, None] * (vt @ h))  # J × k × q
        vb = vt @ b  # J × k × q
        d = np.einsum("jk,jka,jkb->abj", s2, vb, vb)
        gb = np.swapaxes(vt, 1, 2) @ (s2[:, :, None] * vb)  # Q_j'Q_j b_j
        y = np.einsum("mk,jma->ajk", self.r, gb)  # q × J × k
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
