"""Randomized designs with a pre and a post score per unit: ANCOVA and the mixed ANOVA.

ANCOVA (post ~ arm + pre) has more power than comparing changes; its arm coefficient is the
effect. Its standard error is heteroskedasticity-robust HC2 by default (R ``sandwich::vcovHC(fit,
type = "HC2")`` with ``lmtest::coeftest(fit, vcov, df = n − k)``): valid whether or not the arms'
residual variances differ, and unbiased under homoskedasticity. ``lin=True`` gives Lin's (2013)
interacted estimator (covariates centred at their means and interacted with the arm), which
cannot lose precision to the unadjusted difference under randomization. F values are the
classical type II (R ``car::Anova(type = 2)``) of the additive model. The mixed ANOVA (arm ×
time, pingouin) is the repeated-measures view; its interaction asks the same question as the DiD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

VCOV_TYPES = ("HC2", "HC3", "HC1", "HC0", "classical")


def ancova(df: pd.DataFrame, post: str, pre: str, arm: str, treated_level,
           covariates: list[str] = (), alpha: float = 0.05, vcov: str = "HC2",
           lin: bool = False) -> dict:
    """Effect of the treated arm on ``post`` adjusted for ``pre`` (and covariates).

    Parameters
    ----------
    vcov : "HC2" (default), "HC3", "HC1", "HC0" or "classical" (the OLS formula) for the SE of
        the effect; t with n − k degrees of freedom either way.
    lin : Lin's (2013) estimator: post ~ arm × (pre − mean(pre) + covariates − their means);
        the arm coefficient is then the average effect.

    Returns a dict: estimate, se, t, df, p_value, ci_low, ci_high, F_group, F_pre (classical type
    II F of the additive model, whatever ``vcov`` and ``lin``), n, vcov, estimator.
    """
    if vcov not in VCOV_TYPES:
        raise ValueError(f"vcov must be one of {', '.join(VCOV_TYPES)}, not {vcov!r}")
    data = df[[post, pre, arm, *covariates]].dropna().copy()
    data["_treated"] = (data[arm] == treated_level).astype(float)
    rhs = " + ".join(["_treated", f"Q('{pre}')", *[f"Q('{c}')" for c in covariates]])
    additive = smf.ols(f"Q('{post}') ~ {rhs}", data=data).fit()
    table = anova_lm(additive, typ=2)
    treated = data["_treated"].to_numpy()
    if lin:
        z = data[[pre, *covariates]].to_numpy(dtype=float)
        z = z - z.mean(axis=0)
        x = np.column_stack([np.ones(len(data)), treated, z, treated[:, None] * z])
    else:
        x = np.column_stack([np.ones(len(data)), treated,
                             data[[pre, *covariates]].to_numpy(dtype=float)])
    fit = sm.OLS(data[post].to_numpy(dtype=float), x).fit()
    cov = fit.cov_params() if vcov == "classical" else getattr(fit, f"cov_{vcov}")
    b = float(fit.params[1])
    s = float(np.sqrt(np.asarray(cov)[1, 1]))
    t = b / s
    dof = fit.df_resid
    crit = stats.t.ppf(1 - alpha / 2, dof)
    return {"estimate": b, "se": s, "t": t, "df": dof,
            "p_value": float(2 * stats.t.sf(abs(t), dof)), "ci_low": b - crit * s,
            "ci_high": b + crit * s,
            "F_group": table.loc["_treated", "F"], "F_pre": table.loc[f"Q('{pre}')", "F"],
            "n": int(fit.nobs), "vcov": vcov,
            "estimator": "Lin (2013): arm × centred covariates" if lin else "ANCOVA"}


def mixed_anova(long: pd.DataFrame, value: str, time: str, arm: str, unit: str) -> pd.DataFrame:
    """pingouin's mixed ANOVA (between: arm, within: time); tidy table with the interaction."""
    import pingouin as pg

    return pg.mixed_anova(data=long, dv=value, within=time, between=arm, subject=unit)
