"""The control-group study: treated and untreated units before and after (difference-in-
differences), with balance, event study, placebo, leave-one-cluster-out, wild cluster bootstrap,
and ANCOVA / mixed ANOVA for randomized pre-post designs.

Ticket tables are aggregated to a unit × period panel with the KPI engine; unit × period tables
are used as they are. Durations are analysed on the log scale (effects read as % changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.designs.control_group import inference as cg_inference
from sqresearch.designs.control_group.load import (
    Metric,
    load,
    metrics_of,
    period_labels,
    period_order,
    post_flags,
    treated_flags,
)
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import ControlGroupParams
from sqresearch.kpi.targets import judge_goal, judge_table, verdict_word
from sqresearch.report import tables
from sqresearch.report.results import Results
from sqresearch.stats import did, verdicts
from sqresearch.stats.ancova import ancova, mixed_anova

STUDY_TYPE = "control_group"


@dataclass
class MetricResult:
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

    @property
    def primary(self) -> pd.Series:
        return self.estimates.iloc[0]


class ControlGroup:
    """Everything the control-group template shows, computed once."""

    def __init__(self, params: ControlGroupParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.table = load(p, source)
        self.tickets = p.period_column is None
        frame, self.ctx = kpi.study_frame(p, self.table)
        frame["period"] = period_labels(frame, p)
        if self.tickets:  # the period holding the intervention is partly treated: leave it out
            start = pd.to_datetime(frame["period"])
            t0 = pd.Timestamp(p.intervention)
            self.table.exclude(((start < t0.normalize()) & (frame["created"].dt.normalize() >=
                                                            start) &
                                (self._period_end(start) > t0)).to_numpy(),
                               "in the period that contains the intervention", "created")
            frame = kpi.prepare(self.table.frame, self.ctx)
            frame["period"] = period_labels(frame, p)
        frame["treated"] = treated_flags(frame, p)
        frame["post"] = post_flags(frame["period"], p)
        frame["_unit"] = frame[p.unit].astype(str)
        self.frame = frame
        self.metrics = metrics_of(p)

    def _period_end(self, start: pd.Series) -> pd.Series:
        if self.params.panel_freq == "week":
            return start + pd.Timedelta(days=7)
        return start + pd.offsets.MonthBegin(1)

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> ControlGroup:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- panel -----------------------------------------------------------------------------------
    @cached_property
    def units(self) -> pd.DataFrame:
        """One row per unit: arm, covariates, segments."""
        cols = ["treated", *self.params.covariates, *self.params.segments]
        return self.frame.groupby("_unit")[cols].first()

    def panel(self, m: Metric, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """unit, period, treated, post, value (log scale where the metric is), n."""
        f = self.frame if frame is None else frame
        if self.tickets:
            key = f["_unit"] + "|" + f["period"]
            t = kpi.kpi_table(f.assign(_cell=key), self.ctx, by="_cell", only={m.name})
            cells = t["group"].str.split("|", n=1, expand=True)
            panel = pd.DataFrame({"_unit": cells[0], "period": cells[1], "value": t["estimate"],
                                  "n": t["n"]})
        else:
            panel = f.groupby(["_unit", "period"], as_index=False).agg(
                value=(m.name, "mean"), n=(m.name, "size"))
        panel = panel.dropna(subset=["value"])
        if m.log:
            panel = panel[panel["value"] > 0].assign(value=lambda d: np.log(d["value"]))
        panel = panel.join(self.units, on="_unit")
        panel["post"] = post_flags(panel["period"], self.params)
        return panel.sort_values(["_unit", "period"]).reset_index(drop=True)

    # --- analysis --------------------------------------------------------------------------------
    def analyse(self, m: Metric, frame: pd.DataFrame | None = None,
                checks: bool = True) -> MetricResult:
        p = self.params
        panel = self.panel(m, frame)
        rows = []
        periods = period_order(panel)
        g = panel["_unit"]
        fit2 = did.cluster_ols(panel["value"], did.design_2x2(panel), g)
        twfe = len(periods) > 2
        if twfe:
            fit = did.cluster_ols(panel["value"], did.design_twfe(panel, "_unit", "period"), g)
            rows.append(self._row("two-way fixed effects (unit and period)", fit, panel))
        rows.append(self._row("2×2 DiD: treated + post + treated:post", fit2, panel))
        if p.covariates:
            fit_c = did.cluster_ols(panel["value"], did.design_2x2(panel, p.covariates), g)
            rows.append(self._row(f"2×2 DiD adjusted for {', '.join(p.covariates)}", fit_c,
                                  panel))
        if m.ticket_column and self.tickets:
            f = self.frame if frame is None else frame
            t = f.dropna(subset=[m.ticket_column])
            fit_l = did.cluster_ols(t[m.ticket_column], did.design_2x2(t), t["_unit"])
            rows.append(self._row("linear probability DiD on tickets (risk difference)", fit_l,
                                  t))
        est = pd.DataFrame(rows)
        lpm = est["estimator"].str.startswith("linear probability")  # on the 0/1 scale
        est["scale"] = np.where(m.log & ~lpm, "log", "linear")
        result = MetricResult(m, panel, self._means(panel, m), est)
        if checks:
            self._event_study(result)
            self._placebo(result)
            result.loo = self._leave_one_out(panel, twfe)
            self._randomized(result)
        return result

    def _row(self, name, fit: did.ClusterFit, data) -> dict:
        t = fit.term("treated:post", self.params.alpha)
        return {"estimator": name, "estimate": t["estimate"], "se": t["se"],
                "ci_low": t["ci_low"], "ci_high": t["ci_high"], "p_value": t["p_value"],
                "df": t["df"], "n": fit.n, "clusters": fit.clusters}

    @staticmethod
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

    def _event_study(self, r: MetricResult) -> None:
        panel = r.panel.copy()
        periods = period_order(panel)
        pre = [q for q in periods if not post_flags(pd.Series([q]), self.params).iloc[0]]
        if len(pre) < 2 or len(periods) - len(pre) < 1:
            r.notes.append("No event study: it needs at least two pre periods.")
            return
        index = {q: i for i, q in enumerate(periods)}
        first_post = len(pre)
        panel["rel"] = np.where(panel["treated"] == 1, panel["period"].map(index) - first_post,
                                np.nan)
        x, terms = did.design_event(panel, "_unit", "period", "rel")
        fit = did.cluster_ols(panel["value"], x, panel["_unit"])
        rows = [{"k": int(t.split(":")[1]), **fit.term(t, self.params.alpha)} for t in terms]
        rows.append({"k": -1, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                     "p_value": math.nan})
        r.event = pd.DataFrame(rows).sort_values("k").reset_index(drop=True)
        pre_panel = panel[panel["post"] == 0].assign(trend=lambda d: d["period"].map(index))
        x = did.design_twfe(pre_panel.assign(post=0.0), "_unit", "period").drop(
            columns="treated:post")
        x["treated:trend"] = pre_panel["treated"] * pre_panel["trend"]
        t = did.cluster_ols(pre_panel["value"], x, pre_panel["_unit"]).term("treated:trend",
                                                                             self.params.alpha)
        r.pretrend = {"estimate": t["estimate"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                      "t": t["t"], "p_value": t["p_value"], "df": t["df"]}

    def _placebo(self, r: MetricResult) -> None:
        pre = r.panel[r.panel["post"] == 0]
        periods = period_order(pre)
        if len(periods) < 2:
            return
        cut = str(self.params.placebo_date.date()) if self.params.placebo_date else \
            periods[len(periods) // 2]
        fake = pre.assign(post=(pre["period"] >= cut).astype(float))
        if fake["post"].nunique() < 2:
            return
        fit = did.cluster_ols(fake["value"], did.design_2x2(fake), fake["_unit"])
        r.placebo = {"date": cut, **fit.term("treated:post", self.params.alpha)}

    def _leave_one_out(self, panel: pd.DataFrame, twfe: bool) -> pd.DataFrame:
        rows = []
        for u in sorted(panel["_unit"].unique()):
            part = panel[panel["_unit"] != u]
            if part["treated"].nunique() < 2:
                continue
            x = did.design_twfe(part, "_unit", "period") if twfe else did.design_2x2(part)
            t = did.cluster_ols(part["value"], x, part["_unit"]).term("treated:post",
                                                                       self.params.alpha)
            rows.append({"left_out": u, "arm": "treated" if self.units.loc[u, "treated"] else
                         "control", **t})
        return pd.DataFrame(rows)

    def _randomized(self, r: MetricResult) -> None:
        periods = period_order(r.panel)
        if not self.params.randomized or len(periods) != 2:
            return
        wide = r.panel.pivot_table(index="_unit", columns="post", values="value")
        wide.columns = ["pre", "post"]
        wide = wide.join(self.units)
        wide["arm"] = np.where(wide["treated"] == 1, "treated", "control")
        a = ancova(wide.reset_index(), "post", "pre", "arm", "treated", self.params.covariates,
                   self.params.alpha)
        r.estimates = pd.concat([pd.DataFrame([{
            "estimator": "ANCOVA: post ~ arm + pre" + "".join(f" + {c}" for c in
                                                             self.params.covariates),
            "estimate": a["estimate"], "se": a["se"], "ci_low": a["ci_low"],
            "ci_high": a["ci_high"], "p_value": a["p_value"], "df": a["df"], "n": a["n"],
            "clusters": a["n"], "scale": "log" if r.metric.log else "linear"}]),
            r.estimates], ignore_index=True)
        long = r.panel.assign(arm=np.where(r.panel["treated"] == 1, "treated", "control"),
                              time=np.where(r.panel["post"] == 1, "post", "pre"))
        r.mixed = mixed_anova(long, "value", "time", "arm", "_unit")

    @cached_property
    def results_by_metric(self) -> dict[str, MetricResult]:
        return {m.name: self.analyse(m) for m in self.metrics}

    @cached_property
    def balance(self) -> pd.DataFrame:
        """Pre-period unit means by arm, with standardized mean differences."""
        rows = []
        for m in self.metrics:
            pre = self.results_by_metric[m.name].panel
            pre = pre[pre["post"] == 0].groupby("_unit")["value"].mean()
            arm = self.units.loc[pre.index, "treated"]
            rows.append(self._balance_row(m.label + (" (log)" if m.log else ""), pre[arm == 1],
                                          pre[arm == 0]))
        for c in self.params.covariates:
            v = pd.to_numeric(self.units[c])
            rows.append(self._balance_row(c, v[self.units["treated"] == 1],
                                          v[self.units["treated"] == 0]))
        return pd.DataFrame(rows)

    @staticmethod
    def _balance_row(name, treated, control) -> dict:
        value = did.smd(treated, control)
        return {"variable": name, "treated_mean": float(np.mean(treated)),
                "control_mean": float(np.mean(control)), "smd": value,
                "flag": did.balance_flag(value), "n_treated": len(treated),
                "n_control": len(control)}

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per metric and segment: the effect the verdict rests on, its inference (chosen
        for the cluster counts), family, smallest effect of interest and verdict word."""
        p = self.params
        primary = set(p.primary if p.primary is not None else [m.name for m in self.metrics])
        rows = []
        for m in self.metrics:
            r = self.results_by_metric[m.name]
            rows.append(self._effect_row(m, "all", r, m.name in primary))
            for seg in p.segments:
                for level in sorted(self.units[seg].astype(str).unique()):
                    units = self.units.index[self.units[seg].astype(str) == level]
                    part = self.frame[self.frame["_unit"].isin(units)]
                    if part["treated"].nunique() < 2:
                        continue
                    rows.append(self._effect_row(m, f"{seg}={level}",
                                                 self.analyse(m, part, checks=False), False))
        return verdicts.judge_family(pd.DataFrame(rows), p.alpha)

    def _effect_row(self, m: Metric, segment: str, r: MetricResult, primary: bool) -> dict:
        p = self.params
        twfe = len(period_order(r.panel)) > 2
        first = r.estimates.iloc[0]
        if first["estimator"].startswith("ANCOVA"):
            inf = cg_inference.ancova_inference(first.to_dict())
            c = cg_inference.counts(r.panel)
            reason = (f"A randomized trial with {c.total} independent units: ANCOVA with HC2 "
                      "errors.")
        else:
            inf, c, reason = cg_inference.did_inference(r.panel, twfe, p.alpha, p.seed,
                                                        p.bootstrap.resamples,
                                                        p.bootstrap.weights)
        kind = verdicts.kind_of(m.name, m.unit, m.log)
        sesoi, origin = self._sesoi(m, kind, r.panel)
        return {"metric": m.name, "label": m.label, "segment": segment, "kind": kind,
                "unit": m.unit, "inference": inf, "estimator": first["estimator"],
                "estimate": inf.estimate, "method": inf.method, "method_text": inf.description,
                "reason": reason, "scale": "log" if m.log else "linear",
                "clusters": c.total, "treated_clusters": c.treated,
                "control_clusters": c.control, "direction": m.direction, "sesoi": sesoi,
                "sesoi_origin": origin, "sesoi_unit": verdicts.sesoi_unit(kind, m.unit),
                "margin": verdicts.margin_on_scale(sesoi, kind),
                "guardrail": m.name in p.guardrails,
                "family": "confirmatory" if segment == "all" and primary else "exploratory"}

    def _sesoi(self, m: Metric, kind: str, panel: pd.DataFrame) -> tuple[float, str]:
        if m.name in self.params.sesoi:
            return self.params.sesoi[m.name], "declared"
        if kind == "score" and m.unit != "score":
            return verdicts.sd_sesoi(panel.loc[panel["post"] == 0, "value"])
        return verdicts.DEFAULT_SESOI[kind], "default"

    def verdict_table(self, family: str | None = None) -> pd.DataFrame:
        """The verdicts as a reviewer reads them."""
        v = self.effects if family is None else self.effects[self.effects.family == family]
        rows = []
        for r in v.itertuples():
            m = self.metric(r.metric)
            rows.append({
                "Metric": r.label, "Segment": "all" if r.segment == "all" else
                r.segment.replace("=", " = "), "Family": r.family,
                "Units": f"{r.clusters} ({r.treated_clusters} treated)",
                "Effect": self.fmt_value(m, r.estimate, r.scale),
                "CI": f"{100 * r.ci_level:.3g} %: {self.fmt_value(m, r.ci_low, r.scale)} to "
                      f"{self.fmt_value(m, r.ci_high, r.scale)}",
                "p": tables.fmt_p(r.p_value), "p (Holm)": tables.fmt_p(r.p_adjusted)
                if r.family == "confirmatory" else "–",
                "SESOI": verdicts.fmt_sesoi(r.sesoi, r.sesoi_unit) + (" (guardrail)" if r.guardrail
                                                               else ""),
                "Verdict": r.verdict + (f" — {r.note}" if r.note else ""),
                "Method": r.method_text})
        return pd.DataFrame(rows)

    def fmt_value(self, m: Metric, value: float, scale: str) -> str:
        if scale == "log":
            return tables.signed(100 * math.expm1(value) if math.isfinite(value) else value, "%")
        if m.unit == "share":
            return tables.signed(100 * value, "points")
        return tables.signed(value, m.unit)

    # --- words -----------------------------------------------------------------------------------
    def fmt_effect(self, m: Metric, estimate, low, high, scale: str) -> str:
        if scale == "log":
            return (f"{100 * (math.exp(estimate) - 1):+.1f} % ({100 * (1 - self.params.alpha):g} "
                    f"% CI {100 * (math.exp(low) - 1):+.1f} % to {100 * (math.exp(high) - 1):+.1f}"
                    " %)")
        k = 100 if m.unit == "share" else 1
        unit = " points" if m.unit == "share" else (f" {m.unit}" if m.unit not in ("", "score")
                                                    else "")
        return (f"{k * estimate:+.3g}{unit} ({100 * (1 - self.params.alpha):g} % CI "
                f"{k * low:+.3g} to {k * high:+.3g}{unit})")

    @cached_property
    def goals(self) -> pd.DataFrame:
        rows = []
        for gl in self.params.goals:
            m = next(x for x in self.metrics if x.name == gl.metric)
            e = self.effects[(self.effects.metric == m.name) &
                             (self.effects.segment == "all")].iloc[0]
            vals = np.array([e.estimate, *e.inference.interval(1 - self.params.alpha)])
            if gl.unit == "percent":
                vals = 100 * (np.exp(vals) - 1) if e.scale == "log" else np.full(3, np.nan)
            elif e.scale == "log":
                vals = np.full(3, np.nan)  # an absolute goal on a log-scale effect: not judged
            rows.append({"goal": gl.label or f"{m.label} {gl.change:+g}", "metric": m.name,
                         "change": gl.change, "unit": gl.unit, "estimate": vals[0],
                         "ci_low": vals[1], "ci_high": vals[2],
                         "status": judge_goal(gl.change, vals[1], vals[2])})
        return pd.DataFrame(rows, columns=["goal", "metric", "change", "unit", "estimate",
                                           "ci_low", "ci_high", "status"])

    @cached_property
    def targets(self) -> pd.DataFrame:
        t = None
        if self.tickets and self.params.targets:  # KPIs per arm and period
            cell = np.where(self.frame["treated"] == 1, "treated", "control") + " / " + \
                np.where(self.frame["post"] == 1, "after", "before")
            t = kpi.kpi_table(self.frame.assign(_cell=cell), self.ctx, by="_cell")
        return judge_table(t, self.params.targets)

    def caveats(self) -> list[str]:
        p, out = self.params, []
        bad = self.balance[self.balance["flag"] == "imbalanced"]
        if len(bad):
            out.append(f"**Imbalance at baseline.** {', '.join(bad['variable'])} differ between "
                       "the arms before the intervention (|SMD| > 0.25); the DiD allows for "
                       "level differences but not for different trends they may bring.")
        for r in self.results_by_metric.values():
            if r.pretrend and r.pretrend["p_value"] < p.alpha:
                out.append(f"**Diverging pre-trends.** {r.metric.label}: the arms already moved "
                           f"apart before the intervention (difference in pre-period slopes "
                           f"{r.pretrend['estimate']:+.3g} per period, "
                           f"{tables.fmt_p(r.pretrend['p_value'])}); the parallel-trends "
                           "assumption is doubtful.")
        out.append("**Parallel trends are an assumption.** A passed pre-trend test does not "
                   "prove that the arms would have moved in parallel without the intervention.")
        overall = self.effects[self.effects.segment == "all"]
        for method, part in overall.groupby("method", sort=False):
            r = part.iloc[0]
            if method == "randomization_inference":
                out.append(f"**Very few treated units.** {r.reason} The verdicts of "
                           f"{', '.join(part['label'])} rest on {r.treated_clusters} treated "
                           f"unit(s): read them as a statement about those units.")
            elif method == "wild_cluster_bootstrap_wcr":
                out.append(f"**Few clusters.** {r.reason}")
        out.append("**Spill-over.** If treated and control units share staff, customers or "
                   "queues, the control group is partly treated and the effect is understated.")
        if not p.randomized:
            out.append("**Arms not randomized.** If the treated units were chosen after looking "
                       "at their outcomes (e.g. the worst branches first), regression to the mean "
                       "can pass for an effect.")
        return out

    def summary_lines(self) -> list[str]:
        p = self.params
        n_t = int(self.units["treated"].sum())
        n_c = len(self.units) - n_t
        when = (f"the intervention on {pd.Timestamp(p.intervention):%d %b %Y}" if p.intervention
                else f"post periods {p.post_periods}")
        design = "randomized" if p.randomized else "observational (arms not randomized)"
        lines = [f"**What was compared.** {n_t} treated and {n_c} control units ({p.unit}), "
                 f"before and after {when}; {design}; effects are differences-in-differences "
                 f"with units ({p.unit}) as clusters. The primary metrics form the "
                 "confirmatory family (Holm); segments are exploratory."]
        for m in self.metrics:
            r = self.results_by_metric[m.name]
            e = self.effects[(self.effects.metric == m.name) &
                             (self.effects.segment == "all")].iloc[0]
            fam = (f"confirmatory, Holm-adjusted {tables.fmt_p(e.p_adjusted)}"
                   if e.family == "confirmatory" else f"exploratory, {tables.fmt_p(e.p_value)}")
            trend = (f"; pre-trend test {tables.fmt_p(r.pretrend['p_value'])}" if r.pretrend
                     else "")
            lines.append(f"- **{m.label}**: {self.fmt_value(m, e.estimate, e.scale)} "
                         f"({100 * e.ci_level:.3g} % CI {self.fmt_value(m, e.ci_low, e.scale)} "
                         f"to {self.fmt_value(m, e.ci_high, e.scale)}; {fam}; "
                         f"{e.method.replace('_', ' ')} on {e.clusters} units, "
                         f"{e.treated_clusters} treated; smallest effect of interest "
                         f"{verdicts.fmt_sesoi(e.sesoi, e.sesoi_unit)}{trend}) — **{e.verdict}**.")
        for gl in self.goals.itertuples():
            lines.append(f"Goal *{gl.goal}*: **{gl.status}**.")
        n_cav = tables.count(len(self.caveats()), "caveat").capitalize()
        lines.append(f"{n_cav} to read (see Caveats).")
        return lines

    # --- record ----------------------------------------------------------------------------------
    def results(self) -> Results:
        p = self.params
        res = Results.for_study(p, self.table, self.summary_lines())
        for (name, r), e in zip(self.results_by_metric.items(),
                                self.effects[self.effects.segment == "all"].itertuples(),
                                strict=True):
            self._add_verdict(res, e, name, {})
            for i, row in enumerate(r.estimates.itertuples()):
                key = f"effect.{name}" if i == 0 else f"estimate.{name}.{i}"
                res.add(key, f"{r.metric.label}: {row.estimator}", row.estimate,
                        ci=(row.ci_low, row.ci_high), p_value=row.p_value, n=row.n,
                        unit="log points" if row.scale == "log" else r.metric.unit,
                        method=f"{row.estimator}; clusters {row.clusters}")
            if r.pretrend:
                pt = r.pretrend
                res.add(f"pretrend.{name}", f"{r.metric.label}: treated − control pre-period "
                        "slope", pt["estimate"], ci=(pt["ci_low"], pt["ci_high"]),
                        statistic=pt["t"], statistic_name="t", p_value=pt["p_value"],
                        method="unit and period fixed effects + treated × trend, pre period "
                               f"only, cluster-robust, t with {pt['df']} df")
            if r.placebo:
                pl = r.placebo
                res.add(f"placebo.{name}", f"{r.metric.label}: placebo at {pl['date']}",
                        pl["estimate"], ci=(pl["ci_low"], pl["ci_high"]), p_value=pl["p_value"])
        for e in self.effects[self.effects.segment != "all"].itertuples():
            self._add_verdict(res, e, f"{e.metric}.{e.segment}",
                              dict([e.segment.split("=", 1)]))
        for b in self.balance.itertuples():
            res.add(f"balance.{b.variable}", f"SMD of {b.variable}", b.smd, verdict=b.flag)
        for i, gl in enumerate(self.goals.itertuples()):
            res.add(f"goal.{i}.{gl.metric}", gl.goal, gl.estimate, ci=(gl.ci_low, gl.ci_high),
                    verdict=gl.status)
        for t in self.targets.itertuples():
            res.add(f"target.{t.kpi}{t.op}{t.value:g}.{t.group}", t.target, t.estimate,
                    ci=(t.ci_low, t.ci_high), n=t.n, verdict=verdict_word(t.status, t.certainty))
        first = self.effects[self.effects.family == "confirmatory"]
        res.headline = "; ".join(
            f"{r.label}: {r.verdict} ({self.fmt_value(self.metric(r.metric), r.estimate, r.scale)})"
            for r in first.itertuples())
        return res

    def _add_verdict(self, res: Results, e, key: str, group: dict) -> None:
        res.add(f"verdict.{key}", f"{e.label}: effect ({e.estimator})", e.estimate,
                ci=(e.ci_low, e.ci_high), ci_level=e.ci_level, p_value=e.p_value,
                p_adjusted=e.p_adjusted if e.family == "confirmatory" else None,
                n=e.inference.n, unit="log ratio" if e.scale == "log" else e.unit,
                method=e.method_text, verdict=e.verdict, decided_by=e.method, family=e.family,
                sesoi=e.sesoi, clusters={"total": e.clusters, "treated": e.treated_clusters,
                                         "control": e.control_clusters}, group=group)

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)
