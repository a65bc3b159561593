"""The before/after study: one service measured before and after an intervention.

``load`` reads and checks the data (the runner calls it before any kernel starts). ``BeforeAfter``
holds one study: the comparisons per metric and segment (``comparisons``), the effect each
verdict rests on (``effects``: clustered, case-mix adjusted) and the verdicts; the time series
(``timeseries``), goals and targets, the words (``words``), the report sections (``views``) and
results.json (``record``) are computed from it.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.designs.before_after import effects as pe
from sqresearch.designs.before_after import goals, record, views, words
from sqresearch.designs.before_after.comparisons import Comparison, MetricSpec, compare_metric
from sqresearch.designs.before_after.load import (
    assign_periods,
    clocks_used,
    intervention_of,
    load,
    metric_specs,
)
from sqresearch.designs.before_after.timeseries import TimeSeries
from sqresearch.designs.result_object import VerdictStudy
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import BeforeAfterParams
from sqresearch.kpi.targets import judge_table
from sqresearch.stats import verdicts

STUDY_TYPE = "before_after"
KINDS = {"duration": "duration", "censored": "censored", "binary": "share", "nps": "nps"}


class BeforeAfter(VerdictStudy):
    """One before/after study, computed once. ``summary()`` is the verdict table (tidy); the
    ``views`` displays the report's sections; ``results()`` is results.json."""

    _verdict_attr = "verdicts"
    _summary_columns = ("metric", "segment", "family", "estimate", "ci_low", "ci_high", "ci_level",
                        "p_value", "p_adjusted", "sesoi", "verdict", "method", "note")
    _views, _words, _record = views, words, record

    def __init__(self, params: BeforeAfterParams, source: str = "notebook parameters"):
        p = params
        frame = self._start(p, source, load)
        if "csat" in frame:
            frame["csat_top2"] = (frame["csat"] >= p.scales.csat[1] - 1).astype(float).where(
                frame["csat"].notna())
        frame["period"] = assign_periods(frame, p)
        self.intervention = intervention_of(frame, p, source)
        if self.tickets:
            frame["_week"] = pe.week_of(frame["created"])
        self.frame = frame
        self.specs = metric_specs(p)
        self.clustering = pe.clustering(frame, p.cluster, self.tickets)
        self.timeseries = TimeSeries(self)

    def _clocks(self, params: BeforeAfterParams) -> set[str]:
        return clocks_used(params)

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> BeforeAfter:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    def spec(self, metric: str) -> MetricSpec:
        return next(x for x in self.specs if x.name == metric)

    def segment_frame(self, segment: str) -> pd.DataFrame:
        if segment == "all":
            return self.frame
        col, level = segment.split("=", 1)
        return self.frame[self.frame[col].astype(str) == level]

    # --- comparisons -----------------------------------------------------------------------
    def values(self, metric: str, segment: str = "all"):
        """(before, after, events_before, events_after, one_per_unit) as compared."""
        return self._arrays(self.segment_frame(segment), self.spec(metric))

    def _arrays(self, df: pd.DataFrame, spec: MetricSpec):
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

    @cached_property
    def comparisons(self) -> list[Comparison]:
        """Every metric overall, then in each segment level with ≥ 2 rows in both periods."""
        p, out = self.params, []
        for spec in self.specs:
            parts = [("all", self.frame)] + [
                (f"{seg}={level}", part) for seg in p.segments
                for level, part in self.frame.groupby(seg, sort=True)
                if (part["period"] == "before").sum() >= 2 and
                (part["period"] == "after").sum() >= 2]
            for segment, df in parts:
                b, a, eb, ea, one = self._arrays(df, spec)
                design = "independent" if spec.type == "censored" else p.design
                out.append(compare_metric(b, a, spec, design, p.alpha, p.seed,
                                          p.bootstrap.resamples, p.bootstrap.method, eb, ea,
                                          one, segment))
        return out

    def comparison(self, metric: str, segment: str = "all") -> Comparison:
        return next(c for c in self.comparisons if c.metric.name == metric and
                    c.segment == segment)

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per metric and segment: the primary test of the descriptive comparison."""
        cols = ["test", "estimate_name", "estimate", "ci_low", "ci_high", "statistic_name",
                "statistic", "p_value", "n_before", "n_after", "reason", "method"]
        return pd.DataFrame([{"metric": c.metric.name, "label": c.metric.label,
                              "segment": c.segment, "unit": c.metric.unit,
                              **{k: getattr(c.primary, k) for k in cols},
                              "improved": c.improved()} for c in self.comparisons])

    # --- verdicts ------------------------------------------------------------------------------
    def sesoi(self, spec: MetricSpec) -> tuple[float, str]:
        """(the smallest effect of interest in display units, where it comes from)."""
        kind = KINDS.get(spec.type, "score")
        if spec.name in self.params.sesoi:
            return self.params.sesoi[spec.name], "declared"
        if kind == "score" and spec.unit != "score":
            return verdicts.sd_sesoi(self.frame.loc[self.frame["period"] == "before",
                                                    spec.column])
        return verdicts.DEFAULT_SESOI[kind], "default"

    def _inference(self, spec: MetricSpec, df: pd.DataFrame):
        p = self.params
        if p.design == "paired" and spec.type != "censored":
            return pe.paired_effect(df, spec, p.unit), math.nan
        if spec.type == "censored":
            return pe.rmst_effect(df, spec, self.clustering, p.seed, p.bootstrap.resamples,
                                  list(p.adjust_for))
        return pe.regression_effect(df, spec, self.clustering, list(p.adjust_for)), math.nan

    @cached_property
    def verdicts(self) -> pd.DataFrame:
        """One row per metric and segment: the effect the verdict rests on (clustered, and
        case-mix adjusted when ``adjust_for`` is set), its family, SESOI and verdict word."""
        p = self.params
        primary = set(p.primary if p.primary is not None else [s.name for s in self.specs])
        rows = []
        for c in self.comparisons:
            spec, df = c.metric, self.segment_frame(c.segment)
            inf, tau = self._inference(spec, df)
            sesoi, origin = self.sesoi(spec)
            kind = KINDS.get(spec.type, "score")
            overall = c.segment == "all"
            rows.append({"metric": spec.name, "label": spec.label, "segment": c.segment,
                         "unit": spec.unit, "kind": kind, "inference": inf,
                         "estimate": inf.estimate, "se": inf.se, "df": inf.df,
                         "method": inf.method, "method_text": inf.description,
                         "direction": spec.direction, "sesoi": sesoi, "sesoi_origin": origin,
                         "sesoi_unit": verdicts.sesoi_unit(kind, spec.unit),
                         "margin": verdicts.margin_on_scale(sesoi, kind),
                         "guardrail": spec.name in p.guardrails, "tau": tau,
                         "family": "confirmatory" if overall and spec.name in primary
                         else "exploratory",
                         "design_effect": pe.design_effect(df, spec, self.clustering)
                         if overall and self.tickets else math.nan})
        return verdicts.judge_family(pd.DataFrame(rows), p.alpha)

    # --- goals, targets, power -----------------------------------------------------------------
    @cached_property
    def goals(self) -> pd.DataFrame:
        return goals.goals(self)

    @cached_property
    def mde(self) -> pd.DataFrame:
        return goals.mde(self)

    @cached_property
    def targets(self) -> pd.DataFrame:
        wanted = {t.kpi for t in self.params.targets}  # only these are judged
        kpis = kpi.kpi_table(self.frame, self.ctx, by="period", only=wanted) \
            if self.tickets and wanted else None
        return judge_table(kpis, self.params.targets)
