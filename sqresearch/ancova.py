"""Randomized designs with a pre and a post score per unit: ANCOVA and the mixed ANOVA.

ANCOVA (post ~ arm + pre) has more power than comparing changes; its arm coefficient is the
effect. F values are type II (R ``car::Anova(type = 2)``). The mixed ANOVA (arm × time, pingouin)
is the repeated-measures view; its interaction asks the same question as the DiD.
"""

from __future__ import annotations

import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm


def ancova(df: pd.DataFrame, post: str, pre: str, arm: str, treated_level,
           covariates: list[str] = (), alpha: float = 0.05) -> dict:
    """Effect of the treated arm on ``post`` adjusted for ``pre`` (and covariates).

    Returns a dict: estimate, se, t, df, p_value, ci_low, ci_high, F_group, F_pre, n.
    """
    data = df[[post, pre, arm, *covariates]].dropna().copy()
    data["_treated"] = (data[arm] == treated_level).astype(float)
    rhs = " + ".join(["_treated", f"Q('{pre}')", *[f"Q('{c}')" for c in covariates]])
    fit = smf.ols(f"Q('{post}') ~ {rhs}", data=data).fit()
    table = anova_lm(fit, typ=2)
    crit = stats.t.ppf(1 - alpha / 2, fit.df_resid)
    b, s = fit.params["_treated"], fit.bse["_treated"]
    return {"estimate": b, "se": s, "t": fit.tvalues["_treated"], "df": fit.df_resid,
            "p_value": fit.pvalues["_treated"], "ci_low": b - crit * s, "ci_high": b + crit * s,
            "F_group": table.loc["_treated", "F"], "F_pre": table.loc[f"Q('{pre}')", "F"],
            "n": int(fit.nobs)}


def mixed_anova(long: pd.DataFrame, value: str, time: str, arm: str, unit: str) -> pd.DataFrame:
    """pingouin's mixed ANOVA (between: arm, within: time); tidy table with the interaction."""
    import pingouin as pg

    return pg.mixed_anova(data=long, dv=value, within=time, between=arm, subject=unit)
