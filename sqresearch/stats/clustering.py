"""Describing the clustering of a table: the number and sizes of clusters, the intraclass
correlation and the design effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.stats.robust_checks import _cluster_codes, _fail


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
