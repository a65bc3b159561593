"""Interrupted time series: level and slope change at an intervention, with Newey–West errors.

Model (segmented regression): y_t = b0 + b1·t + b2·post_t + b3·(t − T0)·post_t [+ season terms],
t counting periods from 0 and T0 the first period after the intervention. b2 is the level change,
b3 the slope change. The series is autocorrelated, so standard errors are Newey–West (HAC,
Bartlett kernel, no prewhitening, no small-sample adjustment: R ``sandwich::NeweyWest(fit, lag,
prewhite = FALSE, adjust = FALSE)``) with normal p-values (``lmtest::coeftest(df = Inf)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

TERMS = {"const": "level before (intercept)", "t": "trend before (per period)",
         "post": "level change at the intervention", "since": "slope change (per period)"}


def default_lags(n: int) -> int:
    """Newey & West (1994) rule of thumb: floor(4 (n/100)^(2/9))."""
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


@dataclass
class ItsResult:
    coefficients: pd.DataFrame  # term, label, estimate, se, z, p_value, ci_low, ci_high
    series: pd.DataFrame  # date, observed, fitted, counterfactual, post
    lags: int
    lag_rule: str
    seasonal: str
    n: int

    def term(self, name: str) -> pd.Series:
        return self.coefficients.set_index("term").loc[name]

    def summary(self) -> pd.DataFrame:
        return self.coefficients


def interrupted_time_series(dates, values, intervention, seasonal: str = "none",
                            lags: int | None = None, alpha: float = 0.05) -> ItsResult:
    """Fit the segmented regression on a regular (daily or weekly) series.

    Parameters
    ----------
    dates, values : the series, one value per period (missing values are dropped)
    intervention : first date that counts as after
    seasonal : "none", "weekday" (day-of-week dummies, daily series) or "month" (month dummies)
    lags : Newey–West lag; default ``floor(4 (n/100)^(2/9))``
    """
    df = pd.DataFrame({"date": pd.to_datetime(dates), "y": np.asarray(values, float)})
    df = df.dropna().sort_values("date").reset_index(drop=True)
    post = (df["date"] >= pd.Timestamp(intervention)).astype(float)
    if post.sum() < 2 or (1 - post).sum() < 3:
        raise ValueError("the series needs at least 3 periods before and 2 after the "
                         "intervention")
    t = np.arange(len(df), dtype=float)
    t0 = t[post.to_numpy() == 1][0]
    x = pd.DataFrame({"const": 1.0, "t": t, "post": post, "since": (t - t0) * post})
    if seasonal != "none":
        key = df["date"].dt.dayofweek if seasonal == "weekday" else df["date"].dt.month
        dummies = pd.get_dummies(key, prefix=seasonal, drop_first=True, dtype=float)
        x = pd.concat([x, dummies.loc[:, dummies.std() > 0]], axis=1)
    n = len(df)
    rule = "given"
    if lags is None:
        lags, rule = default_lags(n), "floor(4 (n/100)^(2/9)), Newey & West (1994)"
    fit = sm.OLS(df["y"], x).fit(cov_type="HAC", cov_kwds={"maxlags": lags,
                                                           "use_correction": False})
    z = stats.norm.ppf(1 - alpha / 2)
    coef = pd.DataFrame({"term": x.columns, "estimate": fit.params.to_numpy(),
                         "se": fit.bse.to_numpy()})
    coef["z"] = coef["estimate"] / coef["se"]
    coef["p_value"] = 2 * stats.norm.sf(coef["z"].abs())
    coef["ci_low"] = coef["estimate"] - z * coef["se"]
    coef["ci_high"] = coef["estimate"] + z * coef["se"]
    coef.insert(1, "label", [TERMS.get(c, c) for c in coef["term"]])
    counter = x.copy()
    counter["post"] = 0.0
    counter["since"] = 0.0
    series = pd.DataFrame({"date": df["date"], "observed": df["y"], "fitted": fit.fittedvalues,
                           "counterfactual": counter.to_numpy() @ fit.params.to_numpy(),
                           "post": post.astype(bool)})
    return ItsResult(coef, series, lags, rule, seasonal, n)
