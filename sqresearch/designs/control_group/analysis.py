"""The analyses of one control-group metric: difference-in-differences estimates (cluster-robust,
t with G − 1 df), the 2 × 2 table of means, the event study with its pre-trend test, a placebo
date, leave-one-cluster-out, and the ANCOVA / mixed ANOVA of a randomized pre/post trial; and the
baseline balance of the arms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.designs.control_group.load import Metric, period_order
from sqresearch.stats import did, robust
from sqresearch.stats.ancova import ancova, mixed_anova

DID_2X2 = "2 × 2 difference-in-differences (arm, period and their interaction)"


@dataclass
class MetricResult:
    """Everything computed for one metric (overall or in a segment)."""

    metric: Metric
    panel: pd.DataFrame
    means: pd.DataFrame  # arm × period means (original scale)
    estimates: pd.DataFrame  # estimator, estimate, se, ci_low, ci_high, p_value, df, note
    event: pd.DataFrame | None = None
    pretrend: dict | None = None
    placebo: dict | None = None
    loo: pd.DataFrame | None = None
    mixed: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    event_fit: robust.ClusterFit | None = None  # the event study's fit (sensitivity analyses)

    @property
    def primary(self) -> pd.Series:
        return self.estimates.iloc[0]


def analyse(study, m: Metric, frame: pd.DataFrame | None = None,
            checks: bool = True) -> MetricResult:
    """The DiD estimates of one metric (TWFE when there are more than two periods, the 2 × 2,
    covariate-adjusted and ticket-level linear-probability versions) and, with ``checks``, the
    event study, placebo, leave-one-cluster-out and the randomized-trial ANCOVA."""
    p = study.params
    panel = study.panel(m, frame)
    rows = []
    periods = period_order(panel)
    g = panel["_unit"]
    fit2 = did.cluster_ols(panel["value"], did.design_2x2(panel), g)
    twfe = len(periods) > 2
    if twfe:
        fit = did.cluster_ols(panel["value"], did.design_twfe(panel, "_unit", "period"), g)
        rows.append(_row(p.alpha, "two-way fixed effects (unit and period)", fit, panel))
    rows.append(_row(p.alpha, DID_2X2, fit2, panel))
    if p.covariates:
        fit_c = did.cluster_ols(panel["value"], did.design_2x2(panel, p.covariates), g)
        rows.append(_row(p.alpha, f"{DID_2X2} adjusted for {', '.join(p.covariates)}", fit_c,
                         panel))
    if m.ticket_column and study.tickets:
        f = study.frame if frame is None else frame
        t = f.dropna(subset=[m.ticket_column])
        fit_l = did.cluster_ols(t[m.ticket_column], did.design_2x2(t), t["_unit"])
        rows.append(_row(p.alpha, "linear probability DiD on tickets (risk difference)", fit_l,
                              t))
    est = pd.DataFrame(rows)
    lpm = est["estimator"].str.startswith("linear probability")  # on the 0/1 scale
    est["scale"] = np.where(m.log & ~lpm, "log", "linear")
    result = MetricResult(m, panel, _means(panel, m), est)
    if checks:
        _event_study(p, result)
        _placebo(p, result)
        result.loo = _leave_one_out(study, panel, twfe)
        _randomized(study, result)
    return result

def _row(alpha: float, name: str, fit: robust.ClusterFit, data) -> dict:
    t = fit.term("treated:post", alpha)
    return {"estimator": name, "estimate": t["estimate"], "se": t["se"],
            "ci_low": t["ci_low"], "ci_high": t["ci_high"], "p_value": t["p_value"],
            "df": t["df"], "n": fit.n, "clusters": fit.clusters}

def _means(panel: pd.DataFrame, m: Metric) -> pd.DataFrame:
    v = np.exp(panel["value"]) if m.log else panel["value"]
    t = panel.assign(v=v, arm=np.where(panel["treated"] == 1, "treated", "control"),
                     when=np.where(panel["post"] == 1, "after", "before"))
    out = t.pivot_table(index="arm", columns="when", values="v",
                        aggfunc="mean" if not m.log else lambda s: float(np.exp(
                            np.log(s).mean())))
    out = out.reindex(index=["treated", "control"], columns=["before", "after"])
    out["change"] = out["after"] / out["before"] if m.log else out["after"] - out["before"]
    return out

def _event_study(p, r: MetricResult) -> None:
    panel = r.panel.copy()
    periods = period_order(panel)
    post = panel.groupby("period")["post"].first()
    pre = [q for q in periods if not post[q]]
    if len(pre) < 2 or len(periods) - len(pre) < 1:
        r.notes.append("No event study: it needs at least two pre periods.")
        return
    index = {q: i for i, q in enumerate(periods)}
    first_post = len(pre)
    panel["rel"] = np.where(panel["treated"] == 1, panel["period"].map(index) - first_post,
                            np.nan)
    x, terms = did.design_event(panel, "_unit", "period", "rel")
    fit = did.cluster_ols(panel["value"], x, panel["_unit"])
    r.event_fit = fit
    rows = [{"k": int(t.split(":")[1]), **fit.term(t, p.alpha)} for t in terms]
    rows.append({"k": -1, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                 "p_value": math.nan})
    r.event = pd.DataFrame(rows).sort_values("k").reset_index(drop=True)
    pre_panel = panel[panel["post"] == 0].assign(trend=lambda d: d["period"].map(index))
    x = did.design_twfe(pre_panel.assign(post=0.0), "_unit", "period").drop(
        columns="treated:post")
    x["treated:trend"] = pre_panel["treated"] * pre_panel["trend"]
    t = did.cluster_ols(pre_panel["value"], x, pre_panel["_unit"]).term("treated:trend",
                                                                         p.alpha)
    r.pretrend = {"estimate": t["estimate"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                  "t": t["t"], "p_value": t["p_value"], "df": t["df"]}

def _placebo(p, r: MetricResult) -> None:
    pre = r.panel[r.panel["post"] == 0]
    periods = period_order(pre)
    if len(periods) < 2:
        return
    cut = str(p.placebo_date.date()) if p.placebo_date else \
        periods[len(periods) // 2]
    fake = pre.assign(post=(pre["period"] >= cut).astype(float))
    if fake["post"].nunique() < 2:
        return
    fit = did.cluster_ols(fake["value"], did.design_2x2(fake), fake["_unit"])
    r.placebo = {"date": cut, **fit.term("treated:post", p.alpha)}

def _leave_one_out(study, panel: pd.DataFrame, twfe: bool) -> pd.DataFrame:
    p = study.params
    rows = []
    for u in sorted(panel["_unit"].unique()):
        part = panel[panel["_unit"] != u]
        if part["treated"].nunique() < 2:
            continue
        x = did.design_twfe(part, "_unit", "period") if twfe else did.design_2x2(part)
        t = did.cluster_ols(part["value"], x, part["_unit"]).term("treated:post",
                                                                   p.alpha)
        rows.append({"left_out": u, "arm": "treated" if study.units.loc[u, "treated"] else
                     "control", **t})
    return pd.DataFrame(rows)

def _randomized(study, r: MetricResult) -> None:
    p = study.params
    periods = period_order(r.panel)
    if not p.randomized or len(periods) != 2:
        return
    wide = r.panel.pivot_table(index="_unit", columns="post", values="value")
    wide.columns = ["pre", "post"]
    wide = wide.join(study.units)
    wide["arm"] = np.where(wide["treated"] == 1, "treated", "control")
    a = ancova(wide.reset_index(), "post", "pre", "arm", "treated", p.covariates,
               p.alpha)
    r.estimates = pd.concat([pd.DataFrame([{
        "estimator": "ANCOVA: after-period value on arm and before-period value"
                     + "".join(f", {c}" for c in p.covariates),
        "estimate": a["estimate"], "se": a["se"], "ci_low": a["ci_low"],
        "ci_high": a["ci_high"], "p_value": a["p_value"], "df": a["df"], "n": a["n"],
        "clusters": a["n"], "scale": "log" if r.metric.log else "linear"}]),
        r.estimates], ignore_index=True)
    long = r.panel.assign(arm=np.where(r.panel["treated"] == 1, "treated", "control"),
                          time=np.where(r.panel["post"] == 1, "post", "pre"))
    r.mixed = mixed_anova(long, "value", "time", "arm", "_unit")

def balance(study) -> pd.DataFrame:
    """Pre-period unit means by arm, with standardized mean differences: key (metric or
    covariate name), variable (its label), treated_mean, control_mean, smd, flag, n_treated,
    n_control."""
    rows = []
    units = study.units
    for m in study.metrics:
        pre = study.results_by_metric[m.name].panel
        pre = pre[pre["post"] == 0].groupby("_unit")["value"].mean()
        arm = units.loc[pre.index, "treated"]
        rows.append({"key": m.name, **_balance_row(m.label + (" (log)" if m.log else ""),
                                                   pre[arm == 1], pre[arm == 0])})
    for c in study.params.covariates:
        v = pd.to_numeric(units[c])
        rows.append({"key": c, **_balance_row(c, v[units["treated"] == 1],
                                              v[units["treated"] == 0])})
    return pd.DataFrame(rows)


def _balance_row(name, treated, control) -> dict:
    value = did.smd(treated, control)
    return {"variable": name, "treated_mean": float(np.mean(treated)),
            "control_mean": float(np.mean(control)), "smd": value,
            "flag": did.balance_flag(value), "n_treated": len(treated),
            "n_control": len(control)}
