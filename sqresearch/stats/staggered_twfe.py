"""The naive two-way fixed-effects (TWFE) estimate under staggered adoption and why it can
mislead: the Goodman-Bacon (2021) decomposition into 2 × 2 comparisons, and the weights on the
group-time effects (de Chaisemartin & D'Haultfœuille 2020), some of them negative.

TWFE regresses y_it on unit and period fixed effects and D_it = 1{t ≥ g_i}. On a balanced panel
without covariates its coefficient is exactly a weighted average of every 2 × 2 DiD between
timing groups: treated vs never treated, earlier- vs later-treated (the later group not yet
treated) and later- vs earlier-treated, where the already-treated earlier group is the control —
the "forbidden" comparison that turns effects growing over time into bias, even into the wrong
sign. The decomposition's weights sum to 1 and Σ weight × estimate reproduces the coefficient
(tested to machine precision). Inputs are checked by ``staggered_checks.as_panel``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.stats import robust
from sqresearch.stats.staggered_checks import Panel, as_panel


def _treatment(pn: Panel) -> np.ndarray:
    g = pn.cohort[:, None]
    return ((g > 0) & (pn.periods[None, :] >= g)).astype(float)


def _double_demean(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()


def twfe(panel: pd.DataFrame, unit: str = "unit", period: str = "period", value: str = "value",
         cohort: str = "cohort", *, alpha: float = 0.05) -> dict:
    """The TWFE estimate y ~ unit + period fixed effects + D_it, with the CR1 standard error
    clustered by unit and t with G − 1 df (R ``lm(y ~ factor(unit) + factor(period) + D)``
    with ``sandwich::vcovCL(type = "HC1")``).

    Returns
    -------
    dict
        term ("D"), estimate, se, t, df, p_value, ci_low, ci_high.
    """
    pn = as_panel(panel, unit, period, value, cohort)
    n, t = pn.y.shape
    x = pd.DataFrame({"D": _treatment(pn).ravel()})
    x = pd.concat([x, pd.DataFrame(np.kron(np.eye(n), np.ones((t, 1))),
                                   columns=[f"unit:{u}" for u in pn.ids]),
                   pd.DataFrame(np.tile(np.eye(t)[:, 1:], (n, 1)),
                                columns=[f"period:{p}" for p in pn.periods[1:]])], axis=1)
    fit = robust.cluster_fit(pn.y.ravel(), x, np.repeat(np.arange(n), t), vcov="CR1")
    return fit.term("D", alpha)


def bacon(panel: pd.DataFrame, unit: str = "unit", period: str = "period",
          value: str = "value", cohort: str = "cohort") -> pd.DataFrame:
    """Goodman-Bacon decomposition of the TWFE coefficient (balanced panel, no covariates; R
    ``bacondecomp::bacon(y ~ D, id_var, time_var)``).

    Returns
    -------
    DataFrame
        One row per 2 × 2 comparison: type ("treated vs never", "earlier vs later",
        "later vs earlier" — the later cohort against the already-treated earlier one),
        treated (cohort), control (cohort, 0 = never treated), estimate, weight.

    Notes
    -----
    With unit shares n_k, treated shares of periods D̄_k = (T − g_k + 1)/T and V the variance
    of the double-demeaned D over all N·T cells (Goodman-Bacon 2021, Theorem 1), for k earlier
    than l and U never treated:

    - s_kU = (n_k + n_U)²·n_kU(1 − n_kU)·D̄_k(1 − D̄_k)/V, n_kU = n_k/(n_k + n_U);
    - s_kl^k = ((n_k + n_l)(1 − D̄_l))²·n_kl(1 − n_kl)·(D̄_k − D̄_l)(1 − D̄_k)/(1 − D̄_l)²/V on
      the periods before g_l;
    - s_kl^l = ((n_k + n_l)D̄_k)²·n_kl(1 − n_kl)·D̄_l(D̄_k − D̄_l)/D̄_k²/V on the periods from
      g_k on;

    each estimate the 2 × 2 difference of mean changes (mean over units and periods) between
    the window's later and earlier part. Σ s = 1 and Σ s·β̂ = β̂_TWFE exactly.
    """
    pn = as_panel(panel, unit, period, value, cohort)
    y, periods, gu = pn.y, pn.periods, pn.cohort
    v = np.mean(_double_demean(_treatment(pn)) ** 2)
    cohorts = np.unique(gu[gu > 0])
    share = {g: np.mean(gu == g) for g in [0, *cohorts]}
    dbar = {g: np.mean(periods >= g) for g in cohorts}

    def mean(g, lo, hi):  # mean of y over cohort g's units and periods lo ≤ t < hi
        cols = (periods >= lo) & (periods < hi)
        return y[gu == g][:, cols].mean()

    rows = []
    end = periods[-1] + 1
    for k in cohorts:
        if share[0] > 0:
            nk, nu, dk = share[k], share[0], dbar[k]
            est = (mean(k, k, end) - mean(k, 0, k)) - (mean(0, k, end) - mean(0, 0, k))
            m = nk / (nk + nu)
            rows.append(("treated vs never", k, 0, est,
                         (nk + nu) ** 2 * m * (1 - m) * dk * (1 - dk) / v))
        for el in cohorts[cohorts > k]:
            nk, nl, dk, dl = share[k], share[el], dbar[k], dbar[el]
            m = nk / (nk + nl)
            early = (mean(k, k, el) - mean(k, 0, k)) - (mean(el, k, el) - mean(el, 0, k))
            rows.append(("earlier vs later", k, el, early,
                         ((nk + nl) * (1 - dl)) ** 2 * m * (1 - m)
                         * (dk - dl) * (1 - dk) / (1 - dl) ** 2 / v))
            late = (mean(el, el, end) - mean(el, k, el)) - (mean(k, el, end) - mean(k, k, el))
            rows.append(("later vs earlier", el, k, late,
                         ((nk + nl) * dk) ** 2 * m * (1 - m) * dl * (dk - dl) / dk ** 2 / v))
    out = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    return out.astype({"treated": int, "control": int})


def twfe_weights(panel: pd.DataFrame, unit: str = "unit", period: str = "period",
                 value: str = "value", cohort: str = "cohort") -> pd.DataFrame:
    """The weights β_TWFE = Σ w(g, t)·ATT(g, t) puts on the treated group-time cells under
    parallel trends (de Chaisemartin & D'Haultfœuille 2020, Theorem 1; R
    ``TwoWayFEWeights::twowayfeweights(type = "feTR")``).

    Returns
    -------
    DataFrame
        group, time, event_time, units, weight (summing to 1; negative weights mark cells whose
        effect enters the TWFE coefficient with the wrong sign).

    Notes
    -----
    w(g, t) = N_g·ε(g, t)/Σ_{D=1} ε, where ε is D double-demeaned (the residual of D on unit
    and period fixed effects in a balanced panel). The share of negative weights is
    ``(w < 0).mean()`` and their total ``w[w < 0].sum()``.
    """
    pn = as_panel(panel, unit, period, value, cohort)
    d = _treatment(pn)
    eps = _double_demean(d)
    total = np.sum(eps * d)
    rows = []
    for g in np.unique(pn.cohort[pn.cohort > 0]):
        i = np.flatnonzero(pn.cohort == g)
        for j, t in enumerate(pn.periods):
            if t >= g:
                rows.append((int(g), int(t), int(t - g), i.size, i.size * eps[i[0], j] / total))
    return pd.DataFrame(rows, columns=["group", "time", "event_time", "units", "weight"])
