"""The structural (state-space) counterfactual of an interrupted time series.

Structural model (``model="structural"``)
    statsmodels ``UnobservedComponents`` with a local linear trend (plus the season terms as
    regressors held in the state vector, so their uncertainty is carried into the band) on the
    calendar grid, with gaps, the washout and every post period missing: the variances are fitted
    by maximum likelihood on the pre period only and the post periods are the forecast. Effect =
    observed − forecast; the cumulative and average effects get their intervals from the joint
    forecast covariance (normal quantile). Deterministic (no random numbers). The band ignores the
    uncertainty of the estimated variances (plug-in). The residual check is Ljung–Box on the
    standardized one-step forecast errors of the pre period (gaps skipped).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.its_calendar import _label
from sqresearch.stats.its_result import ItsResult, ljung_box


def _forecast_cov(res, t0: int) -> np.ndarray:
    """Joint covariance of the observations from period t0 on, given the data before t0 (the
    model is filtered on the whole grid with those periods missing; plug-in parameters)."""
    fr = res.filter_results
    design = fr.design
    tr = fr.transition[:, :, 0]
    h = float(fr.obs_cov[0, 0, 0])
    steps = fr.nobs - t0

    def z(t):
        return design[:, :, t if design.shape[2] > 1 else 0]

    cov = np.zeros((steps, steps))
    for i in range(steps):
        c = fr.predicted_state_cov[:, :, t0 + i]
        zi = z(t0 + i)
        for j in range(i, steps):
            cov[i, j] = cov[j, i] = (zi @ c @ z(t0 + j).T)[0, 0]
            c = c @ tr.T
    return cov + h * np.eye(steps)


def _structural(df, season_all, keep, seasonal, t0, t0_date, freq, alpha, notes, last_t):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    unit = freq
    fit = ~df["washout"].to_numpy()
    grid = np.full(last_t + 1, np.nan)  # the post periods stay missing: a forecast
    pre_rows = fit & ~df["post"].to_numpy()
    grid[df["t"].to_numpy()[pre_rows]] = df["y"].to_numpy()[pre_rows]
    exog = season_all[keep].to_numpy() if keep else None
    if exog is not None and np.linalg.matrix_rank(exog[:t0][np.isfinite(grid[:t0])]) < len(keep):
        raise ValueError(f"seasonal='{seasonal}': the pre period does not cover every season "
                         "term, so the structural model cannot project it; use fourier:K or none")
    n_pre = int(np.isfinite(grid).sum())
    need = 10 + len(keep)
    if n_pre < need:
        raise ValueError(f"the structural model needs at least {need} observed periods before "
                         f"the intervention (10 plus one per season term); it has {n_pre}")
    # season coefficients as states (mle_regression=False), so their uncertainty is in the band
    mod = UnobservedComponents(grid, level="local linear trend", exog=exog,
                               mle_regression=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mod.fit(disp=False, maxiter=500)
        bse = np.asarray(res.bse)
    fr = res.smoother_results
    design = fr.design
    zt = (design[0, :, :].T if design.shape[2] > 1
          else np.repeat(design[0, :, 0][None, :], last_t + 1, axis=0))
    grid_cf = np.einsum("tk,kt->t", zt, res.smoothed_state)  # = the forecast from t0 on
    cov = _forecast_cov(res, t0)
    steps = last_t + 1 - t0
    mean = grid_cf[t0:]
    z = float(stats.norm.ppf(1 - alpha / 2))
    grid_sd = np.concatenate([np.full(t0, np.nan), np.sqrt(np.diag(cov))])
    tt = df["t"].to_numpy()
    post = df["post"].to_numpy()
    cf = grid_cf[tt]
    sd = grid_sd[tt]
    series = pd.DataFrame({"date": df["date"], "t": df["t"], "observed": df["y"],
                           "fitted": np.where(post, np.nan, cf), "counterfactual": cf,
                           "pi_low": cf - z * sd, "pi_high": cf + z * sd, "post": post,
                           "washout": df["washout"].to_numpy()})

    post_rows = fit & post
    idx = tt[post_rows] - t0
    effect = df["y"].to_numpy()[post_rows] - mean[idx]
    m = len(idx)
    sub = cov[np.ix_(idx, idx)]

    def summ(vec, label, **extra):
        est = float(vec @ effect)
        se = float(np.sqrt(vec @ sub @ vec))
        stat = est / se
        return {"label": label, "estimate": est, "se": se, "statistic": stat,
                "p_value": float(2 * stats.norm.sf(abs(stat))), "ci_low": est - z * se,
                "ci_high": est + z * se, **extra}

    cumulative = summ(np.ones(m), f"cumulative effect over {m} post {unit}s", periods=m)
    cumulative["average"] = summ(np.ones(m) / m, f"average effect over {m} post {unit}s",
                                 periods=m)
    last = np.zeros(m)
    last[-1] = 1.0
    last_date = pd.Timestamp(df["date"].to_numpy()[post_rows][-1])
    end = summ(last, f"effect at the last period ({last_date:%Y-%m-%d})", periods=1,
               date=last_date)

    names = list(res.model.param_names)
    est = list(np.asarray(res.params))
    ses = list(bse)
    for i, name in enumerate(keep):  # the regression states, last in the state vector
        row = res.smoothed_state.shape[0] - len(keep) + i
        names.append(name)
        est.append(float(res.smoothed_state[row, t0 - 1]))
        ses.append(float(np.sqrt(res.smoothed_state_cov[row, row, t0 - 1])))
    est, ses = np.array(est), np.array(ses)
    coef = pd.DataFrame({"term": names, "label": [_label(nm, unit) for nm in names],
                         "estimate": est, "se": ses, "t": est / ses, "df": np.inf})
    coef["p_value"] = 2 * stats.norm.sf(np.abs(coef["t"]))
    coef["ci_low"] = coef["estimate"] - z * coef["se"]
    coef["ci_high"] = coef["estimate"] + z * coef["se"]
    coef["z"] = coef["t"]
    d = int(res.loglikelihood_burn)
    std_err = np.asarray(res.filter_results.standardized_forecasts_error)[0][d:t0]
    lb = ljung_box(std_err)
    lb["text"] = lb["text"].replace("the Newey–West errors allow for it, but with",
                                    "the state-space model leaves some of it unexplained; with")
    notes += ["Structural model: local linear trend (+ season terms as regressors) fitted by "
              f"maximum likelihood on {n_pre} pre periods and forecast over {steps} periods; the "
              "band is the forecast's (plug-in variances, normal quantile).",
              "Residual check on the standardized one-step forecast errors: " + lb["text"]]
    return ItsResult(coef, series, None, "not used (state-space model)", seasonal, n_pre + m,
                     freq=freq, df=math.inf, ljung_box=lb, cumulative=cumulative, end=end,
                     fading=False, fading_text="", model="structural", t0=t0,
                     t0_date=t0_date, alpha=alpha, notes=notes)
