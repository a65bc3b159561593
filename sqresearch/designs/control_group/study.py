"""The control-group study: treated and untreated units before and after (difference-in-
differences), with balance, event study, placebo, leave-one-cluster-out and ANCOVA / mixed ANOVA
for randomized pre-post designs.

Ticket tables are aggregated to a unit × period panel with the KPI engine; unit × period tables
are used as they are. Durations are analysed on the log scale (effects read as % changes). The
analyses per metric are in ``analysis``, the inference the cluster counts allow in ``inference``,
the words in ``words``, the report sections in ``views`` and results.json in ``record``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.designs.control_group import analysis, record, views, words
from sqresearch.designs.control_group import inference as cg_inference
from sqresearch.designs.control_group import sensitivity as cg_sensitivity
from sqresearch.designs.control_group.analysis import MetricResult
from sqresearch.designs.control_group.load import (
    Metric,
    intervention_of,
    load,
    metrics_of,
    period_labels,
    period_order,
    post_flags,
    treated_flags,
)
from sqresearch.designs.result_object import VerdictStudy
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import ControlGroupParams
from sqresearch.kpi import behaviour_segment, customers
from sqresearch.kpi.targets import judge_goal, judge_table
from sqresearch.stats import verdicts

STUDY_TYPE = "control_group"


class ControlGroup(VerdictStudy):
    """One control-group study, computed once. ``summary()`` is the verdict table (tidy); the
    report sections are in ``views``; ``results()`` is results.json."""

    _verdict_attr = "effects"
    _summary_columns = ("metric", "segment", "family", "estimate", "ci_low", "ci_high", "ci_level",
                        "p_value", "p_adjusted", "sesoi", "verdict", "method", "clusters",
                        "treated_clusters", "note")
    _views, _words, _record = views, words, record

    def __new__(cls, params: ControlGroupParams, source: str = "notebook parameters"):
        if cls is ControlGroup and params.staggered:  # units adopting at their own dates
            from sqresearch.designs.control_group.staggered import StaggeredControlGroup

            return super().__new__(StaggeredControlGroup)
        return super().__new__(cls)

    def __init__(self, params: ControlGroupParams, source: str = "notebook parameters"):
        p = params
        frame = self._start(p, source, load)
        frame["period"] = period_labels(frame, p)
        self.intervention = t0 = intervention_of(frame, p, source)
        if self.tickets:  # the period holding the intervention is partly treated: leave it out
            start = pd.to_datetime(frame["period"])
            self.table.exclude(((start < t0.normalize()) & (frame["created"].dt.normalize() >=
                                                            start) &
                                (self._period_end(start) > t0)).to_numpy(),
                               "in the period that contains the intervention", "created")
            frame = kpi.prepare(self.table.frame, self.ctx)
            frame["period"] = period_labels(frame, p)
        frame["treated"] = treated_flags(frame, p)
        frame["post"] = post_flags(frame["period"], p, t0)
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
        """One row per unit: arm, covariates, segments (not customer_type or behaviour: they
        vary by ticket)."""
        p = self.params
        cols = ["treated", *p.covariates, *behaviour_segment.without_derived(p.segments)]
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
        panel["post"] = self._post(panel)
        return panel.sort_values(["_unit", "period"]).reset_index(drop=True)

    def _post(self, panel: pd.DataFrame) -> pd.Series:
        """1.0 for the periods after the intervention."""
        return post_flags(panel["period"], self.params, self.intervention)

    # --- analysis --------------------------------------------------------------------------------
    def analyse(self, m: Metric, frame: pd.DataFrame | None = None,
                checks: bool = True) -> MetricResult:
        return analysis.analyse(self, m, frame, checks)

    @cached_property
    def results_by_metric(self) -> dict[str, MetricResult]:
        return {m.name: self.analyse(m) for m in self.metrics}

    @cached_property
    def balance(self) -> pd.DataFrame:
        return analysis.balance(self)

    @cached_property
    def sensitivity(self) -> dict[str, cg_sensitivity.Sensitivity]:
        """Per metric: how robust its overall verdict is (``designs/control_group/
        sensitivity``): joint pre-trend test, relative-magnitudes bounds, leave-one-unit-out,
        specification table."""
        return {m.name: cg_sensitivity.of_metric(self, m) for m in self.metrics}

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

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
                for level, part in self._segment_parts(seg):
                    sub = self._segment_result(m, part)
                    if sub is not None:
                        rows.append(self._effect_row(m, f"{seg}={level}", sub, False))
        return verdicts.judge_family(pd.DataFrame(rows), p.alpha)

    def _segment_result(self, m: Metric, part: pd.DataFrame):
        """The analysis of one segment's rows (None: one arm only, or a panel too sparse to
        identify the effect — a small ticket-level segment may leave a rank-deficient design;
        the segment is exploratory, so it is left out rather than stopping the study)."""
        from sqresearch.stats.robust_checks import ClusterDesignError

        if part["treated"].nunique() < 2:
            return None
        try:
            return self.analyse(m, part, checks=False)
        except ClusterDesignError:
            return None

    def _segment_parts(self, seg: str):
        """(level, rows) of a segment: the units of a unit-level column, or the tickets of a
        customer type or behaviour segment in every unit (``kpi.customers``,
        ``kpi.behaviour_segment``)."""
        if seg in (customers.SEGMENT, behaviour_segment.SEGMENT):
            values = self.frame[seg].astype(str)
            return [(level, self.frame[values == level]) for level in sorted(values.unique())]
        return [(level, self.frame[self.frame["_unit"].isin(
                    self.units.index[self.units[seg].astype(str) == level])])
                for level in sorted(self.units[seg].astype(str).unique())]

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

    @cached_property
    def goals(self) -> pd.DataFrame:
        rows = []
        for gl in self.params.goals:
            m = next(x for x in self.metrics if x.name == gl.metric)
            e = self.verdict(m.name)
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
