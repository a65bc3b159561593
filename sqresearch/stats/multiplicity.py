"""Multiplicity: Holm-adjusted p-values (R ``p.adjust(p, "holm")``)."""

from __future__ import annotations

import numpy as np


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (R ``p.adjust(p, "holm")``); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    order = np.argsort(q, kind="mergesort")
    m = q.size
    adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
