"""The service-level scorecard study: KPIs per period and segment against SLA targets, control
charts, a Pareto of categories and a composite index with bootstrap intervals.

``load`` reads and checks the data (the runner calls it before any kernel starts); ``Scorecard``
computes once and hands the template one formatted table or figure per call.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from sqresearch import kpi
from sqresearch.designs.scorecard import index as index_mod
from sqresearch.designs.scorecard import index_view, present, record, summary
from sqresearch.designs.scorecard.display import Table, Text
from sqresearch.designs.scorecard.load import indicator_table, load
from sqresearch.io import params as params_mod
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.schemas import ScorecardParams
from sqresearch.kpi.targets import judge_table
from sqresearch.kpi.tickets import for_study
from sqresearch.report import tables
from sqresearch.report.results import Results
from sqresearch.stats.control import ControlChart, chart_for

STUDY_TYPE = "scorecard"
__all__ = ["STUDY_TYPE", "Scorecard", "load"]


class Scorecard:
    """Everything the scorecard template shows, computed once (lazily, then cached)."""

    def __init__(self, params: ScorecardParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.table = load(p, source)
        self.tickets = for_study(p, self.table, p.periods)
        self.ctx = self.tickets.ctx

    @property
    def frame(self) -> pd.DataFrame:
        """The prepared tickets (one row per ticket, with its clocks and period) when they are
        in memory; a table validated in its engine keeps them there (``tickets.expr``)."""
        return self.tickets.frame

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> Scorecard:
        """Validate the notebook's parameters (``names``: those the parameters cell and
        papermill's injected cell defined; undeclared ones are rejected) and compute."""
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- computation -------------------------------------------------------------------------
    def label(self, name: str) -> str:
        """Display name of a KPI (or indicator column): params.labels, then the registry."""
        if name in self.params.labels:
            return self.params.labels[name]
        if name in kpi.CATALOGUE:
            return kpi.CATALOGUE[name].label
        sla = [kpi.sla_kpi(s) for s in self.params.sla if f"sla_{s.name}" == name]
        return sla[0].label if sla else name.replace("_", " ")

    def unit(self, name: str) -> str:
        if name in kpi.CATALOGUE:
            return kpi.CATALOGUE[name].unit
        return "share" if any(f"sla_{s.name}" == name for s in self.params.sla) else ""

    def _tidy(self, by: str | None = None) -> pd.DataFrame:
        t = self.tickets.kpi_table(by)
        return t.assign(label=[self.label(k) for k in t["kpi"]])

    @cached_property
    def overall(self) -> pd.DataFrame:
        return self._tidy()

    @cached_property
    def by_period(self) -> pd.DataFrame:
        return self._tidy("period")

    @cached_property
    def by_segment(self) -> dict[str, pd.DataFrame]:
        return {s: self._tidy(s) for s in self.params.segments}

    @cached_property
    def targets(self) -> pd.DataFrame:
        """Targets judged over the whole window and per period."""
        return judge_table(pd.concat([self.overall, self.by_period], ignore_index=True),
                           self.params.targets)

    @cached_property
    def series(self) -> pd.DataFrame:
        wanted = set(self.params.control_charts) | {"contacts"}
        s = self.tickets.series(self.params.series_freq, wanted)
        return s.assign(label=[self.label(k) for k in s["kpi"]])

    @cached_property
    def control_charts(self) -> list[ControlChart]:
        out, b, freq = [], self.params.baseline, self.params.series_freq
        for name in self.params.control_charts:
            s = self.series[self.series["kpi"] == name].sort_values("date")
            s = s[s["n"] > 0]
            # a point belongs to the baseline when its day or week ends inside the window
            span = pd.Timedelta(days=6 if freq == "week" else 0)
            base = (s["date"] + span).dt.date.between(b.start, b.end).to_numpy()
            if base.sum() < 2:
                raise DataError(self.source, Problem(
                    "key 'baseline'", f"holds {int(base.sum())} {freq}s with data for {name!r}; "
                    "control limits need at least two.",
                    "widen the baseline window or use series_freq: day."))
            out.append(chart_for(s, base, name))
        return out

    @cached_property
    def pareto(self) -> pd.DataFrame | None:
        """Counts per category, largest first, with shares and the cumulative share."""
        col = self.params.pareto
        if not col:
            return None
        counts = self.tickets.counts(col, "complaint" if self.params.pareto_complaints_only
                                     else None)
        counts = counts.sort_index().sort_values(ascending=False, kind="mergesort")
        out = counts.rename_axis("category").reset_index(name="count")
        out["share"] = out["count"] / out["count"].sum()
        out["cumulative_share"] = out["share"].cumsum()
        return out

    @cached_property
    def index(self) -> index_mod.IndexReport | None:
        """The composite index (weights, scores) with bootstrap intervals for ticket KPIs."""
        spec, p = self.params.index, self.params
        if spec is None:
            return None
        if spec.table is not None:
            values, file = indicator_table(spec, self.source)
            return index_mod.build(spec, values, alpha=p.alpha, table_file=file)
        kpis = self.by_period if spec.by == "period" else self.by_segment[spec.by]
        values = index_mod.ticket_values(kpis, spec, self.source)
        return index_mod.build(spec, values, tickets=self.tickets, seed=p.seed, alpha=p.alpha,
                               csat_top=self.ctx.csat_scale[1])

    @property
    def inputs(self) -> list:
        """The files read: the ticket table and, with ``index.table``, the indicator table."""
        extra = [self.index.table_file] if self.index and self.index.table_file else []
        return [self.table.source, *extra]

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.tickets.window()

    # --- the report, one call per template cell ----------------------------------------------
    def summary_lines(self) -> list[str]:
        return summary.lines(self)

    def summary_text(self) -> Text:
        return Text("\n\n".join(self.summary_lines()))

    def target_table(self) -> Table | Text:
        return present.target_table(self)

    def target_grid(self) -> Table | Text:
        return present.target_grid(self)

    def plot_trends(self):
        return present.trend_figure(self)

    def kpi_table(self) -> Table:
        return present.kpi_period_table(self)

    def segment_tables(self):
        return present.segment_section(self)

    def plot_control_charts(self):
        return present.control_section(self)

    def pareto_chart(self):
        return present.pareto_section(self)

    def weights_table(self):
        return index_view.weights_table(self)

    def ahp_consistency(self) -> Text:
        return index_view.ahp_text(self)

    def plot_index(self):
        return index_view.index_figure(self)

    def index_table(self):
        return index_view.index_table(self)

    def rank_statement(self) -> Text:
        return index_view.rank_statement(self)

    def definitions(self) -> Table:
        """Every KPI definition the report used, plus the study's conventions."""
        noun = self.params.contact_noun
        rows = [{"KPI": self.label(k.name), "Definition": tables.in_words_of(k.definition, noun)}
                for k in self.ctx.available(self.tickets.columns)]
        fcr = {"flag": "agent flag in the ticket", "survey": "customer survey answer",
               "repeat_contact": "resolved with no new ticket from the same customer within "
                                 f"{self.params.fcr.repeat_window_days} days of the resolution"}
        rows.append({"KPI": "FCR convention", "Definition": fcr[self.params.fcr.method]})
        rows.append({"KPI": "Business hours", "Definition": self.ctx.schedule.describe() +
                     "; local naive timestamps, no pause states"})
        rows.append({"KPI": "Intervals", "Definition": f"{present.level(self)} confidence "
                     "intervals; quantiles are R type 7"})
        return Table(pd.DataFrame(rows), "Definitions used in this report")

    def summary(self) -> pd.DataFrame:
        """Tidy: one row per result recorded in results.json (key, label, estimate, CI, …)."""
        return self.results().summary

    def _repr_html_(self) -> str:
        return present.results_table(self.results())._repr_html_()

    def results(self) -> Results:
        return record.results(self)
