"""A pairwise comparison matrix (AHP) read from params: numbers or fractions, checked for shape,
positivity, unit diagonal and reciprocity. Plain Python (no numpy), so parameter checks stay
fast; ``stats.weights.ahp`` computes with it."""

from __future__ import annotations

from fractions import Fraction

#: numpy.isclose's defaults: |a − 1| ≤ ATOL + RTOL (the diagonal); reciprocity uses RECIPROCAL
ATOL, RTOL, RECIPROCAL = 1e-8, 1e-5, 1e-3


def parse_matrix(rows, n: int | None = None) -> list[list[float]]:
    """A pairwise comparison matrix (rows of floats) from numbers or fraction strings ('1/3').

    Raises ValueError unless it is square (n × n), positive, with ones on the diagonal and
    reciprocal (a_ji = 1 / a_ij, to 1e-3 relative).
    """
    lengths = [len(r) for r in rows]
    if any(k != len(rows) for k in lengths):
        raise ValueError(f"matrix must be square; got {len(rows)} rows of lengths {lengths}")
    try:
        m = [[float(Fraction(str(v).strip())) for v in row] for row in rows]
    except (ValueError, ZeroDivisionError, OverflowError):
        raise ValueError("entries must be numbers or fractions like '1/3'") from None
    k = len(m)
    if n is not None and k != n:
        raise ValueError(f"matrix is {k}×{k} but there are {n} indicators")
    if any(v <= 0 for row in m for v in row):
        raise ValueError("entries must be positive")
    if any(abs(m[i][i] - 1) > ATOL + RTOL for i in range(k)):
        raise ValueError("the diagonal must be 1")
    for i in range(k):
        for j in range(k):
            if abs(m[i][j] * m[j][i] - 1) > ATOL + RECIPROCAL:
                raise ValueError(f"not reciprocal: a[{i + 1},{j + 1}] = {m[i][j]:g} but "
                                 f"a[{j + 1},{i + 1}] = {m[j][i]:g}")
    return m
