"""The weekly monitor study: one report week against each cell's own baseline.

``load`` reads and checks (the runner calls it before any kernel starts); ``Monitor``
computes once — the weekly table, running alerts, problems with impact and drivers, complaint
text, the ranking, drifts and the PDCA checks — and hands the template one table, figure or
paragraph per call (``present``); ``record`` writes results.json and ``words`` the summary.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from sqresearch import kpi
from sqresearch.designs.monitor import pdca_view, present, problems, ranking, record, words
from sqresearch.designs.monitor import text as text_mod
from sqresearch.designs.monitor.load import MonitorInputs, load
from sqresearch.designs.monitor.weekly import (
    add_values,
    metrics_for,
    shift_week,
    weekly_table,
)
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import MonitorParams

STUDY_TYPE = "monitor"
__all__ = ["STUDY_TYPE", "Monitor", "load"]


class Monitor:
    """Everything the weekly report shows, computed once (lazily, then cached)."""

    def __init__(self, params: MonitorParams, source: str = "notebook parameters",
                 week: str | None = None):
        self.params = p = params
        self.source = source
        self.inputs: MonitorInputs = load(p, source, week)
        self.table = self.inputs.table
        self.week = self.inputs.week
        frame, self.ctx = kpi.prepare_table(p, self.table)
        self.metrics = metrics_for(p.metrics, p.sla, p.scales.csat[1])
        self.frame = add_values(frame, self.metrics, p.scales.csat[1])

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> Monitor:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- computation -------------------------------------------------------------------------
    @cached_property
    def weekly(self) -> pd.DataFrame:
        """metric × cell × week: n, successes, value (mean; log scale for durations), sd."""
        return weekly_table(self.frame, self.metrics, list(self.params.segments))

    @cached_property
    def _alerts(self):
        return problems.running_alerts(self.weekly, self.week, self.params)

    @property
    def alerts(self):
        """``stats.alerts.Alerts`` of the report week (running alerts out of their
        baselines)."""
        return self._alerts[0]

    @property
    def ages(self) -> dict:
        return self._alerts[1]

    @cached_property
    def problems(self) -> pd.DataFrame:
        """One row per problem, largest impact first (``problems.group``), with the playbook's
        action."""
        t = problems.problems(self.frame, self.alerts, self.ages, self._alerts[2],
                              self.metrics, self.week, self.params)
        t["action"] = [problems.playbook(self.params, r.kpi, r.driver)
                       for r in t.itertuples()]
        return t

    @property
    def top(self) -> pd.DataFrame:
        return self.problems.head(self.params.top)

    @cached_property
    def text(self) -> text_mod.TextResult | None:
        spec = self.params.text
        if spec is None:
            return None
        recent = [shift_week(self.week, -k) for k in range(spec.weeks - 1, -1, -1)]
        base = [w for w in self.inputs.weeks if w < recent[0]][-self.params.baseline.weeks:]
        return text_mod.analyse(self.frame, spec, recent, base, list(self.params.segments),
                                self.params.seed,
                                str(spec.user_dict) if spec.user_dict else None)

    def problem_text(self, cell: str) -> dict:
        if self.text is None:
            return {"texts": 0, "themes": [], "quotes": []}
        return text_mod.cell_themes(self.text, cell, self.week)

    @cached_property
    def ranking(self) -> dict | None:
        spec = self.params.ranking
        if spec is None:
            return None
        metric = metrics_for([spec.metric], self.params.sla, self.params.scales.csat[1])[0]
        frame = self.frame
        if metric.values not in frame.columns:
            frame = add_values(frame, [metric], self.params.scales.csat[1])
        return ranking.ranking(frame, spec, metric, self.week, self.params.seed)

    @cached_property
    def drifts(self) -> pd.DataFrame:
        return ranking.drifts(self.weekly, list(self.params.drift), self.week, self.params)

    @cached_property
    def pdca(self):
        return pdca_view.checks(self)

    def label(self, name: str) -> str:
        return next((m.spec.label for m in self.metrics if m.name == name), name)

    @property
    def inputs_read(self) -> list:
        return [self.table.source]

    # --- the report, one call per template cell ----------------------------------------------
    def summary_text(self):
        return present.summary_text(self)

    def alert_overview(self):
        return present.alert_overview(self)

    def problem_sections(self):
        return present.problem_sections(self)

    def plot_sparklines(self):
        return present.sparklines(self)

    def alert_table(self):
        return present.alert_table(self)

    def not_judged(self):
        return present.not_judged(self)

    def text_section(self):
        return present.text_section(self)

    def plot_heatmaps(self):
        return present.heatmaps(self)

    def plot_deviation(self):
        return present.deviation(self)

    def ranking_section(self):
        return present.ranking_section(self)

    def drift_table(self):
        return present.drift_table(self)

    def pdca_section(self):
        return pdca_view.section(self)

    def definitions(self):
        return present.definitions(self)

    def meeting_summary(self) -> str:
        """The five-line Markdown summary written beside the report (summary.md)."""
        return words.meeting_summary(self)

    def results(self):
        return record.results(self)
