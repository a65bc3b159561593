"""Joint (Wald) tests on a cluster-robust fit: the naive F with G − 1 df for CR1, clubSandwich's
Hotelling-T² approximation (HTZ) for CR2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from sqresearch.stats.bell_mccaffrey import _power_sym

if TYPE_CHECKING:
    from sqresearch.stats.robust import ClusterFit


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
