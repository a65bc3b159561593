"""The before/after study: one service measured before and after an intervention.

``load`` reads and checks the data (the runner calls it before any kernel starts): filters, the
two periods and the wash-out, empty periods, an intervention outside the data, paired units
missing a period. ``BeforeAfter`` runs every comparison (``prepost``), the interrupted time
series, control charts, targets and goals, and writes the caveats and the plain summary.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.designs.before_after import effects as pe
from sqresearch.designs.before_after.comparisons import (
    RATIO_NAMES,
    Comparison,
    MetricSpec,
    compare_metric,
)
from sqresearch.designs.before_after.load import assign_periods, load, metric_specs
from sqresearch.io import params as params_mod
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.schemas import BeforeAfterParams
from sqresearch.kpi.targets import judge_goal, judge_table, verdict_word
from sqresearch.report import caveats, tables
from sqresearch.report.results import Results
from sqresearch.stats import power, verdicts
from sqresearch.stats.control import ControlChart, chart_for
from sqresearch.stats.its import ItsResult, interrupted_time_series

STUDY_TYPE = "before_after"


def _achieved_change(c: Comparison, v: pd.Series, unit: str, alpha: float
                     ) -> tuple[float, float, float, str]:
    """The change a goal is judged on, with its (1 − α) CI and where it comes from: the effect the
    verdict rests on (clustered and adjusted as the study says) when the goal is on its scale —
    percent goals on a log-scale effect (as a % change), absolute goals on a linear one — else
    the bootstrap % change or difference in the median, which treats rows as independent."""
    inf = v.inference
    lo, hi = inf.interval(1 - alpha)
    if unit == "percent" and inf.scale == "log":
        return (*(100 * math.expm1(x) for x in (inf.estimate, lo, hi)), "verdict effect")
    if unit == "absolute" and inf.scale == "linear":
        return inf.estimate, lo, hi, "verdict effect"
    boot = {r.estimate_name: r for r in c.tests.itertuples() if r.test == "bootstrap"}
    name = "% change in the median" if unit == "percent" else "difference in medians"
    row = boot.get(name)
    if row is None:
        return math.nan, math.nan, math.nan, "not available on this scale"
    return row.estimate, row.ci_low, row.ci_high, f"bootstrap {name} (rows independent)"


class BeforeAfter:
    """Everything the before/after template shows, computed once."""

    def __init__(self, params: BeforeAfterParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.table = load(p, source)
        self.tickets = p.period_column is None
        frame, self.ctx = kpi.study_frame(p, self.table)
        if "csat" in frame:
            frame["csat_top2"] = (frame["csat"] >= p.scales.csat[1] - 1).astype(float).where(
                frame["csat"].notna())
        frame["period"] = assign_periods(frame, p)
        if self.tickets:
            frame["_week"] = pe.week_of(frame["created"])
        self.frame = frame
        self.specs = metric_specs(p)
        self.clustering = pe.clustering(frame, p.cluster, self.tickets)

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> BeforeAfter:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- comparisons -----------------------------------------------------------------------
    def values(self, metric: str, segment: str = "all"):
        """(before, after, events_before, events_after, one_per_unit) as compared."""
        spec = next(x for x in self.specs if x.name == metric)
        df = self.frame
        if segment != "all":
            col, level = segment.split("=", 1)
            df = df[df[col].astype(str) == level]
        return self._arrays(df, spec)

    def _arrays(self, df: pd.DataFrame, spec: MetricSpec):
        """(before, after, events_before, events_after, one_per_unit) for one metric."""
        col = spec.column
        if self.params.design == "paired":
            unit = self.params.unit
            values = df[[unit, "period", col]].dropna()
            if spec.type == "duration":
                values = values[values[col] > 0].assign(**{col: np.log(values[col])})
            wide = values.groupby([unit, "period"])[col].mean().unstack("period")
            if spec.type == "duration":
                wide = np.exp(wide)
            counts = values.groupby([unit, "period"]).size()
            both = wide.dropna()
            return (both["before"].to_numpy(), both["after"].to_numpy(), None, None,
                    bool((counts == 1).all()))
        b, a = df[df["period"] == "before"], df[df["period"] == "after"]
        if spec.type == "censored":
            return (b[col].to_numpy(), a[col].to_numpy(), b[spec.event].to_numpy(),
                    a[spec.event].to_numpy(), False)
        return b[col].dropna().to_numpy(), a[col].dropna().to_numpy(), None, None, False

    def _compare(self, spec: MetricSpec, df: pd.DataFrame, segment: str) -> Comparison:
        b, a, eb, ea, one = self._arrays(df, spec)
        p = self.params
        design = "independent" if spec.type == "censored" else p.design
        return compare_metric(b, a, spec, design, p.alpha, p.seed, p.bootstrap.resamples,
                              p.bootstrap.method, eb, ea, one, segment)

    @cached_property
    def comparisons(self) -> list[Comparison]:
        out = []
        for spec in self.specs:
            out.append(self._compare(spec, self.frame, "all"))
            for seg in self.params.segments:
                for level, part in self.frame.groupby(seg, sort=True):
                    if (part["period"] == "before").sum() >= 2 and \
                            (part["period"] == "after").sum() >= 2:
                        out.append(self._compare(spec, part, f"{seg}={level}"))
        return out

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per metric and segment: the primary test of the descriptive comparison."""
        rows = []
        for c in self.comparisons:
            r = c.primary
            rows.append({"metric": c.metric.name, "label": c.metric.label, "segment": c.segment,
                         "unit": c.metric.unit, "test": r.test, "estimate_name": r.estimate_name,
                         "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "statistic_name": r.statistic_name, "statistic": r.statistic,
                         "p_value": r.p_value, "n_before": r.n_before, "n_after": r.n_after,
                         "improved": c.improved(), "reason": r.reason, "method": r.method})
        return pd.DataFrame(rows)

    # --- verdicts ------------------------------------------------------------------------------
    def sesoi(self, spec: MetricSpec) -> tuple[float, str]:
        """(the smallest effect of interest in display units, where it comes from)."""
        kind = self._kind(spec)
        if spec.name in self.params.sesoi:
            return self.params.sesoi[spec.name], "declared"
        if kind == "score" and spec.unit != "score":
            before = self.frame.loc[self.frame["period"] == "before", spec.column]
            return verdicts.sd_sesoi(before)
        return verdicts.DEFAULT_SESOI[kind], "default"

    @staticmethod
    def _kind(spec: MetricSpec) -> str:
        return {"duration": "duration", "censored": "censored", "binary": "share",
                "nps": "nps"}.get(spec.type, "score")

    def _inference(self, spec: MetricSpec, df: pd.DataFrame, adjust: bool):
        p = self.params
        if p.design == "paired" and spec.type != "censored":
            return pe.paired_effect(df, spec, p.unit), math.nan
        if spec.type == "censored":
            return pe.rmst_effect(df, spec, self.clustering, p.seed, p.bootstrap.resamples,
                                  list(p.adjust_for) if adjust else [])
        return pe.regression_effect(df, spec, self.clustering,
                                    list(p.adjust_for) if adjust else []), math.nan

    @cached_property
    def verdicts(self) -> pd.DataFrame:
        """One row per metric and segment: the effect the verdict rests on (clustered, and
        case-mix adjusted when ``adjust_for`` is set), its family, SESOI and verdict word."""
        p = self.params
        primary = set(p.primary if p.primary is not None else [s.name for s in self.specs])
        rows = []
        for c in self.comparisons:
            spec = c.metric
            df = self.frame if c.segment == "all" else self._segment(c.segment)
            inf, tau = self._inference(spec, df, adjust=bool(p.adjust_for))
            sesoi, origin = self.sesoi(spec)
            kind = self._kind(spec)
            rows.append({"metric": spec.name, "label": spec.label, "segment": c.segment,
                         "unit": spec.unit, "kind": kind, "inference": inf,
                         "estimate": inf.estimate, "se": inf.se, "df": inf.df,
                         "method": inf.method, "method_text": inf.description,
                         "direction": spec.direction, "sesoi": sesoi, "sesoi_origin": origin,
                         "sesoi_unit": verdicts.sesoi_unit(kind, spec.unit),
                         "margin": verdicts.margin_on_scale(sesoi, kind),
                         "guardrail": spec.name in p.guardrails, "tau": tau,
                         "family": "confirmatory" if c.segment == "all" and spec.name in primary
                         else "exploratory",
                         "design_effect": pe.design_effect(df, spec, self.clustering)
                         if c.segment == "all" and self.tickets else math.nan})
        return verdicts.judge_family(pd.DataFrame(rows), p.alpha)

    def _segment(self, segment: str) -> pd.DataFrame:
        col, level = segment.split("=", 1)
        return self.frame[self.frame[col].astype(str) == level]

    def verdict(self, metric: str, segment: str = "all") -> pd.Series:
        v = self.verdicts
        return v[(v["metric"] == metric) & (v["segment"] == segment)].iloc[0]

    def fmt_effect(self, r: pd.Series, value: float) -> str:
        """An effect on the verdict scale as people read it: % for log ratios, points for shares,
        the metric's unit otherwise."""
        if r.kind in ("duration", "censored"):
            return tables.signed(100 * math.expm1(value), "%")
        if r.kind == "share":
            return tables.signed(100 * value, "points")
        if r.unit == "points":
            return tables.signed(value, "points")
        return tables.signed(value, r.unit)

    def verdict_table(self, family: str | None = None) -> pd.DataFrame:
        """The verdicts as a reviewer reads them: effect, CI at the level that decided, the
        equivalence interval, SESOI, method and the verdict word."""
        v = self.verdicts if family is None else self.verdicts[self.verdicts.family == family]
        rows = []
        for r in v.itertuples():
            margin = verdicts.fmt_sesoi(r.sesoi, r.sesoi_unit)
            rows.append({
                "Metric": r.label, "Segment": "all" if r.segment == "all" else
                r.segment.replace("=", " = "), "Family": r.family,
                "Effect": self.fmt_effect(r, r.estimate),
                "CI": f"{100 * r.ci_level:.3g} %: {self.fmt_effect(r, r.ci_low)} to "
                      f"{self.fmt_effect(r, r.ci_high)}",
                "p": tables.fmt_p(r.p_value), "p (Holm)": tables.fmt_p(r.p_adjusted)
                if r.family == "confirmatory" else "–",
                "SESOI": margin + (" (guardrail)" if r.guardrail else ""),
                "Verdict": r.verdict + (f" — {r.note}" if r.note else ""),
                "Method": r.method_text})
        return pd.DataFrame(rows)

    def comparison(self, metric: str, segment: str = "all") -> Comparison:
        return next(c for c in self.comparisons if c.metric.name == metric and
                    c.segment == segment)

    @cached_property
    def mde(self) -> pd.DataFrame:
        """Minimum detectable effect at the study's power, per metric (whole sample)."""
        rows = []
        p = self.params
        for spec in self.specs:
            b, a, *_ = self._arrays(self.frame, spec)
            b, a = b[~np.isnan(b)], a[~np.isnan(a)]
            paired = p.design == "paired" and spec.type != "censored"
            value, text = math.nan, "not computed for censored durations"
            if spec.type == "duration" and (b > 0).all() and (a > 0).all():
                sd = np.std(np.log(a) - np.log(b), ddof=1) if paired else math.sqrt(
                    (np.var(np.log(b), ddof=1) + np.var(np.log(a), ddof=1)) / 2)
                d = power.mde_means(b.size, a.size, sd, p.alpha, p.power, paired)
                value = 100 * (math.exp(-d if spec.direction == "lower" else d) - 1)
                text = f"{value:+.1f} % (ratio of geometric means)"
            elif spec.type in ("continuous", "nps") or (spec.type == "binary" and paired):
                sd = np.std(a - b, ddof=1) if paired else math.sqrt(
                    (np.var(b, ddof=1) + np.var(a, ddof=1)) / 2)
                if spec.type == "nps" and not paired:
                    sd = 100 * math.sqrt((np.mean(b >= 9) + np.mean(b <= 6)) -
                                         (np.mean(b >= 9) - np.mean(b <= 6)) ** 2)
                value = power.mde_means(b.size, a.size, sd, p.alpha, p.power, paired)
                text = f"{tables.fmt(value, spec.unit)} (difference)"
            elif spec.type == "binary":
                value = power.mde_proportions(float(np.mean(b)), b.size, a.size, p.alpha,
                                              p.power, 1 if spec.direction == "higher" else -1)
                text = f"{100 * value:.1f} percentage points"
            rows.append({"metric": spec.name, "label": spec.label, "mde": value, "text": text})
        return pd.DataFrame(rows)

    # --- goals and targets ---------------------------------------------------------------------
    @cached_property
    def goals(self) -> pd.DataFrame:
        rows = []
        for g in self.params.goals:
            c = self.comparison(g.metric)
            est, lo, hi, basis = _achieved_change(c, self.verdict(g.metric), g.unit,
                                                  self.params.alpha)
            unit = "%" if g.unit == "percent" else c.metric.unit
            rows.append({"goal": g.label or f"{c.metric.label} {g.change:+g} {unit}",
                         "metric": g.metric, "change": g.change, "unit": g.unit, "estimate": est,
                         "ci_low": lo, "ci_high": hi, "status": judge_goal(g.change, lo, hi),
                         "basis": basis})
        return pd.DataFrame(rows, columns=["goal", "metric", "change", "unit", "estimate",
                                           "ci_low", "ci_high", "status", "basis"])

    @cached_property
    def kpis_by_period(self) -> pd.DataFrame | None:
        if not self.tickets:
            return None
        return kpi.kpi_table(self.frame, self.ctx, by="period")

    @cached_property
    def targets(self) -> pd.DataFrame:
        return judge_table(self.kpis_by_period, self.params.targets)

    # --- time series -------------------------------------------------------------------------
    @property
    def series_freq(self) -> str:
        return self.params.its.freq if self.params.its else "week"

    @cached_property
    def series(self) -> pd.DataFrame | None:
        wanted = set(self.params.control_charts) | set(self.params.its.metrics
                                                       if self.params.its else [])
        if not self.tickets or not wanted:
            return None
        return kpi.series(self.frame, self.ctx, self.series_freq, wanted | {"contacts"})

    def _points(self, name: str) -> pd.DataFrame:
        s = self.series[(self.series["kpi"] == name) & (self.series["n"] > 0)]
        return s.sort_values("date")

    def its_washout(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The wash-out window (inclusive dates) the ITS leaves out of its fit: the study's
        wash-out days, or — when there are none and the intervention falls inside a period — the
        intervention day, so that the period mixing before and after tickets is left out."""
        p = self.params
        t0 = pd.Timestamp(p.intervention)
        if p.washout_days_before or p.washout_days_after:
            start = (t0 - pd.Timedelta(days=p.washout_days_before)).normalize()
            end = (t0 + pd.Timedelta(days=p.washout_days_after) - pd.Timedelta(1, "ns"))
            return start, max(end.normalize(), start)
        starts = {"day": t0.normalize(),
                  "week": t0.normalize() - pd.Timedelta(days=t0.weekday()),
                  "month": t0.normalize().replace(day=1)}[self.series_freq]
        return None if t0 == starts else (t0.normalize(), t0.normalize())

    @cached_property
    def its(self) -> dict[str, ItsResult]:
        spec = self.params.its
        if spec is None or not self.tickets:
            return {}
        out = {}
        for name in spec.metrics:
            s = self._points(name)
            try:
                out[name] = interrupted_time_series(
                    s["date"], s["estimate"], self.params.intervention, spec.seasonality,
                    spec.lags, self.params.alpha, freq=spec.freq, washout=self.its_washout(),
                    model=spec.model, errors=spec.error_model, show=self._its_show(name))
            except ValueError as exc:
                raise DataError(self.source, Problem(
                    f"key 'its' ({name})", str(exc) + ".",
                    "use a finer freq, fewer season terms or a longer series.")) from None
        return out

    @staticmethod
    def _its_show(name: str):
        """How an ITS effect of this KPI reads: '+8.4 points' for shares, '−1.6 min'."""
        unit = kpi.CATALOGUE[name].unit
        if unit == "share":
            return lambda v: tables.signed(100 * v, "points")
        return lambda v: tables.signed(v, unit)

    def its_table(self, name: str) -> tuple[pd.DataFrame, str]:
        """The ITS effects of one KPI in its display unit (percentage points for shares), with
        CI and p-value, and a caption saying how they were estimated."""
        res, k = self.its[name], kpi.CATALOGUE[name]
        show = self._its_show(name)
        eff = res.effects()
        shown = pd.DataFrame({
            "Effect": eff["label"],
            "Estimate": [show(v) for v in eff["estimate"]],
            f"{round(100 * (1 - res.alpha))} % CI": [
                f"{show(lo)} to {show(hi)}"
                for lo, hi in zip(eff["ci_low"], eff["ci_high"], strict=True)],
            "p": [tables.fmt_p(v) for v in eff["p_value"]]})
        if res.model == "segmented":
            how = (f"segmented regression, {res.errors.replace('ar1', 'AR(1)')} errors"
                   + (f" (φ = {res.phi:.2f})" if res.phi is not None else "")
                   + (f", Newey–West lag {res.lags} ({res.lag_rule})" if res.lags is not None
                      else "") + f", t with {res.df:g} df")
        else:
            how = "structural model fitted on the before periods, normal intervals"
        units = " (percentage points)" if k.unit == "share" else ""
        caption = (f"{k.label}{units}: {tables.count(res.n, res.freq)} observed; season terms "
                   f"{res.seasonal}; {how}.")
        return shown, caption

    @cached_property
    def control_charts(self) -> list[ControlChart]:
        out = []
        for name in self.params.control_charts:
            s = self._points(name)
            base = (s["date"] < pd.Timestamp(self.params.intervention)).to_numpy()
            out.append(chart_for(s, base, name))
        return out

    # --- words -----------------------------------------------------------------------------
    def caveats(self) -> list[str]:
        p, out = self.params, []
        for name, res in self.its.items():
            k = kpi.CATALOGUE.get(name)
            label = k.label if k else name
            if res.model == "segmented":
                t = res.term("t")
                out.append(caveats.pre_trend(label, t.estimate, t.p_value, p.alpha,
                                             k.unit if k else "", res.term("post").estimate))
            if res.fading:
                end = res.end
                out.append(f"{label}: the interrupted time series' level change may be fading "
                           f"(the slope change runs against it); the effect at the last period "
                           f"is {self._its_show(name)(end['estimate'])} (CI "
                           f"{self._its_show(name)(end['ci_low'])} to "
                           f"{self._its_show(name)(end['ci_high'])}). Details in the time-series "
                           "section.")
            lb = res.ljung_box
            if lb.get("p_value", 1.0) < p.alpha:
                out.append(f"{label}, interrupted time series: Ljung–Box p = "
                           f"{tables.fmt_p(lb['p_value'])} — {lb['text']}")
            before = res.series[~res.series["post"]]["observed"]
            out.append(caveats.regression_to_mean(label, before,
                                                  k.direction if k else "lower"))
        if self.tickets:
            per = self.frame["period"]
            out.append(caveats.seasonality(self.frame.loc[per == "before", "created"],
                                           self.frame.loc[per == "after", "created"]))
        for c in self.comparisons:
            if c.segment != "all":
                continue
            r = c.primary
            minimum = 10 if c.design == "paired" else 30
            out.append(caveats.small_sample(c.metric.label, int(r.n_before), int(r.n_after),
                                            minimum))
            if c.metric.type == "censored":
                for d in c.descriptives.itertuples():
                    out.append(caveats.heavy_censoring(c.metric.label, d.open_share, d.period))
        out += self._inference_caveats()
        return [c for c in out if c] + [caveats.CONTROL_GROUP_NOTE]

    def _inference_caveats(self) -> list[str]:
        p, out = self.params, []
        if self.tickets and not self.clustering.columns:
            out.append(f"Tickets are treated as independent ({self.clustering.reason}). Tickets "
                       "of one week, agent or customer share shocks; with such correlation the "
                       "intervals are too narrow. Set cluster: to the unit that shares them.")
        deff = self.verdicts.dropna(subset=["design_effect"])
        big = deff[deff["design_effect"] > 2]
        if len(big):
            out.append("Tickets are strongly correlated within " + self.clustering.label + ": "
                       + ", ".join(f"{r.label} design effect {r.design_effect:.1f}"
                                   for r in big.itertuples()) + ". Treating them as independent "
                       "would have overstated the precision by a factor √(design effect).")
        for col in p.adjust_for:
            tvd, pval = pe.mix_shift(self.frame, col)
            if tvd >= 0.05 and pval < p.alpha:
                out.append(f"The case mix shifted between periods: the distribution of {col} "
                           f"moved by {100 * tvd:.0f} percentage points (total variation, "
                           f"{tables.fmt_p(pval)}). The verdicts rest on effects adjusted for "
                           f"{', '.join(p.adjust_for)}; the unadjusted changes mix the two.")
        for col in dict.fromkeys((*self.clustering.columns, *p.adjust_for)):
            missing = int(self.frame[col].isna().sum())
            if missing:
                out.append(f"{tables.count(missing, 'row')} ({100 * missing / len(self.frame):.1f}"
                           f" %) have no value in column {col!r} and are left out of the verdict "
                           "effects (they still count in the descriptive tables).")
        loose = self.goals[self.goals["basis"].str.contains("independent")]
        if self.clustering.columns and len(loose):
            out.append("Goal(s) " + ", ".join(f"*{g}*" for g in loose["goal"]) + " are judged on "
                       "a bootstrap that treats tickets as independent (the goal is on a "
                       "different scale from the verdict effect), so their intervals may be too "
                       "narrow.")
        if not p.adjust_for and self.tickets and "channel" in self.frame:
            tvd, pval = pe.mix_shift(self.frame, "channel")
            if tvd >= 0.05 and pval < p.alpha:
                out.append(f"The channel mix shifted by {100 * tvd:.0f} percentage points "
                           "between periods; part of any change may be mix, not performance. "
                           "Add adjust_for: [channel].")
        return out

    def describe_change(self, c: Comparison) -> str:
        """'First response time: median 12.4 → 7.6 min; …' for one comparison."""
        d = c.descriptives.set_index("period")
        unit = c.metric.unit
        if c.metric.type == "censored":
            start = f"Kaplan–Meier median {tables.fmt(d.loc['before', 'median'], unit)} → " \
                    f"{tables.fmt(d.loc['after', 'median'], unit)}"
        elif c.metric.type == "nps":
            start = f"{tables.fmt(d.loc['before', 'nps'], 'points')} → " \
                    f"{tables.fmt(d.loc['after', 'nps'], 'points')}"
        elif c.metric.type == "binary":
            start = f"{tables.fmt(d.loc['before', 'mean'], 'share')} → " \
                    f"{tables.fmt(d.loc['after', 'mean'], 'share')}"
        else:
            stat = "median" if c.metric.type == "duration" else "mean"
            col = "p50" if stat == "median" else "mean"
            start = f"{stat} {tables.fmt(d.loc['before', col], unit)} → " \
                    f"{tables.fmt(d.loc['after', col], unit)}"
        v = self.verdict(c.metric.name, c.segment)
        family = ("confirmatory, Holm-adjusted " + tables.fmt_p(v.p_adjusted)
                  if v.family == "confirmatory" else "exploratory, " + tables.fmt_p(v.p_value))
        est = (f"change {self.fmt_effect(v, v.estimate)} ({100 * v.ci_level:.3g} % CI "
               f"{self.fmt_effect(v, v.ci_low)} to {self.fmt_effect(v, v.ci_high)}; {family}; "
               f"smallest effect of interest {verdicts.fmt_sesoi(v.sesoi, v.sesoi_unit)})")
        return f"{start}; {est} — **{v.verdict}**" + (f" ({v.note})" if v.note else "")

    @staticmethod
    def fmt_change(value: float, spec: MetricSpec) -> str:
        """A change as people read it: '+7.6 points' for shares, '−0.8 min', '+5.0' NPS."""
        if math.isnan(value):
            return "–"
        if spec.unit == "share":
            return f"{100 * value:+.1f} points"
        if spec.unit == "points":
            return f"{value:+.1f} points"
        text = tables.fmt(abs(value), spec.unit)
        return ("+" if value >= 0 else "−") + text

    def fmt_test_estimate(self, row, spec: MetricSpec) -> str:
        """One test row's estimate with its CI, in the estimate's own unit."""
        e, lo, hi = row.estimate, row.ci_low, row.ci_high
        if row.estimate_name in RATIO_NAMES:
            ci = f" ({lo:.3f} to {hi:.3f})" if not math.isnan(lo) else ""
            return f"{e:.3f}{ci}"
        if row.estimate_name.startswith("%"):
            ci = f" ({lo:+.1f} % to {hi:+.1f} %)" if not math.isnan(lo) else ""
            return f"{e:+.1f} %{ci}"
        ci = f" ({self.fmt_range(lo, hi, spec)})" if not math.isnan(lo) else ""
        return self.fmt_change(e, spec) + ci

    def fmt_range(self, low: float, high: float, spec: MetricSpec) -> str:
        return (f"{100 * (1 - self.params.alpha):g} % CI {self.fmt_change(low, spec)} to "
                f"{self.fmt_change(high, spec)}")

    def summary_lines(self) -> list[str]:
        p = self.params
        per = self.frame["period"]
        what = (f"{len(self.frame):,} {'tickets' if self.tickets else 'rows'} "
                f"({(per == 'before').sum():,} before, {(per == 'after').sum():,} after)")
        when = (f"the intervention on {pd.Timestamp(p.intervention):%d %b %Y}" if self.tickets
                else f"{p.period_column} = {p.before_value!r} vs {p.after_value!r}")
        design = ("the same units measured twice (paired by "
                  f"{p.unit})" if p.design == "paired" else "independent periods")
        lines = [f"**What was compared.** {what}, split at {when}; {design}."]
        for c in self.comparisons:
            if c.segment == "all":
                lines.append(f"- **{c.metric.label}**: {self.describe_change(c)}.")
        for seg in p.segments:
            part = self.verdicts[self.verdicts["segment"].str.startswith(f"{seg}=")]
            if len(part):
                better = part[part["verdict"] == "improved"]
                names = ", ".join(f"{r.label} in {r.segment.split('=', 1)[1]}"
                                  for r in better.itertuples()) or "none"
                lines.append(f"By {seg} (exploratory, unadjusted α): improvements — {names} "
                             "(see the forest plot).")
        for g in self.goals.itertuples():
            spec = next(x for x in self.specs if x.name == g.metric)
            if g.unit == "percent":
                change = (f"{g.estimate:+.1f} % (CI {g.ci_low:+.1f} % to {g.ci_high:+.1f} %)"
                          if not math.isnan(g.estimate) else "not estimable")
            else:
                change = (f"{self.fmt_change(g.estimate, spec)} "
                          f"({self.fmt_range(g.ci_low, g.ci_high, spec)})")
            lines.append(f"Goal *{g.goal}*: **{g.status}** — achieved change {change}.")
        n_cav = len(self.caveats()) - 1
        lines.append(f"{tables.count(n_cav, 'caveat').capitalize()} apply (see Caveats). "
                     f"{caveats.CONTROL_GROUP_NOTE}")
        return lines

    # --- record ----------------------------------------------------------------------------
    def _cluster_counts(self, segment: str) -> dict[str, int] | None:
        cols = self.clustering.columns
        if not cols or (self.params.design == "paired"):
            return None
        df = self.frame if segment == "all" else self._segment(segment)
        return {c.replace("_week", "week"): int(df[c].nunique()) for c in cols}

    def results(self) -> Results:
        p = self.params
        res = Results.for_study(p, self.table, self.summary_lines())
        for c, v in zip(self.comparisons, self.verdicts.itertuples(), strict=True):
            grp = {} if c.segment == "all" else dict([c.segment.split("=", 1)])
            suffix = "" if c.segment == "all" else f".{c.segment}"
            res.add(f"verdict.{c.metric.name}{suffix}", f"{c.metric.label}: change",
                    v.estimate, ci=(v.ci_low, v.ci_high), ci_level=v.ci_level,
                    statistic=v.estimate / v.se if v.se > 0 else None,
                    statistic_name="t" if np.isfinite(v.df) else "z", p_value=v.p_value,
                    p_adjusted=v.p_adjusted if v.family == "confirmatory" else None,
                    n=v.inference.n, unit="log ratio" if v.inference.scale == "log" else
                    ("share" if v.kind == "share" else c.metric.unit), method=v.method_text,
                    verdict=v.verdict, decided_by=v.method, family=v.family, sesoi=v.sesoi,
                    clusters=self._cluster_counts(c.segment), group=grp)
            for t in c.tests.itertuples():
                key = f"effect.{c.metric.name}{suffix}" if t.role == "primary" else \
                    f"test.{c.metric.name}{suffix}.{t.test}.{t.estimate_name}".replace(" ", "_")
                res.add(key, f"{c.metric.label}: {t.estimate_name}", t.estimate,
                        ci=(t.ci_low, t.ci_high), statistic=t.statistic,
                        statistic_name=t.statistic_name or None, p_value=t.p_value,
                        n=t.n_before + t.n_after, unit=c.metric.unit, method=t.method,
                        group=grp)
            for d in c.descriptives.itertuples():
                for stat in ("mean", "p50", "p90", "median", "nps"):
                    if hasattr(d, stat) and not pd.isna(getattr(d, stat)):
                        res.add(f"desc.{c.metric.name}{suffix}.{d.period}.{stat}",
                                f"{c.metric.label}, {d.period}: {stat}", getattr(d, stat),
                                n=d.n, unit=c.metric.unit, group=grp)
        for m in self.mde.itertuples():
            res.add(f"mde.{m.metric}", f"{m.label}: minimum detectable effect", m.mde,
                    method=f"{100 * p.power:g} % power, two-sided alpha {p.alpha:g}: {m.text}")
        for i, g in enumerate(self.goals.itertuples()):
            res.add(f"goal.{i}.{g.metric}", g.goal, g.estimate, ci=(g.ci_low, g.ci_high),
                    unit="%" if g.unit == "percent" else "", verdict=g.status,
                    method=f"goal {g.change:+g} ({g.unit}) judged on the CI")
        for r in self.targets.itertuples():
            res.add(f"target.{r.kpi}{r.op}{r.value:g}.period={r.group}", r.target, r.estimate,
                    ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit,
                    verdict=verdict_word(r.status, r.certainty), group={"period": r.group})
        for name, its in self.its.items():
            how = (f"segmented regression on calendar time, {its.errors} errors, t with "
                   f"{its.df:g} df" if its.model == "segmented" else
                   "structural model (local linear trend) fitted before, forecast after")
            if its.model == "segmented":
                row = its.term("t")
                res.add(f"its.{name}.pre_trend", f"{name}: {row.label}", row.estimate,
                        ci=(row.ci_low, row.ci_high), statistic=row.t, statistic_name="t",
                        p_value=row.p_value, n=its.n, method=how)
            for row in its.effects().itertuples():
                res.add(f"its.{name}.{row.effect.replace(' ', '_')}", f"{name}: {row.label}",
                        row.estimate, ci=(row.ci_low, row.ci_high), statistic=row.statistic,
                        statistic_name="t" if math.isfinite(row.df) else "z",
                        p_value=row.p_value, n=its.n, method=how)
        for chart in self.control_charts:
            res.add(f"control.{chart.kpi}.signals", f"{chart.kpi}: {chart.kind}-chart signals",
                    len(chart.signals), n=int((~chart.points["baseline"]).sum()),
                    method="limits from the before period")
        overall = self.verdicts[self.verdicts["family"] == "confirmatory"]
        res.headline = "; ".join(f"{r.label}: {r.verdict}" for r in overall.itertuples())
        return res
