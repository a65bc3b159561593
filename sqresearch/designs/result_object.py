"""The result-object surface the before/after and control-group studies share (lifelines /
statsmodels style): ``verdict``, ``summary()``, ``to_frame()``, ``plot()``, ``_repr_html_()``,
and the words and results.json their own modules build."""

from __future__ import annotations

import pandas as pd


class VerdictStudy:
    """Mixed into a study class that sets ``_verdict_attr`` (the name of its judged verdict
    frame), ``_summary_columns`` and the modules ``_views`` (verdict_table, plot_effects),
    ``_words`` (summary_lines, caveats) and ``_record`` (results)."""

    _verdict_attr: str
    _summary_columns: tuple[str, ...]
    _views = _words = _record = None

    def _start(self, params, source: str, load) -> pd.DataFrame:
        """Keep the params, read and check the data (``load``), prepare the frame the study
        analyses (tickets with their clocks, or a unit table as loaded) and return it."""
        from sqresearch import kpi

        self.params, self.source = params, source
        self.table = load(params, source)
        self.tickets = params.ticket_table
        frame, self.ctx = kpi.study_frame(params, self.table, self._clocks(params))
        return frame

    def _clocks(self, params) -> set[str] | None:
        """The per-ticket columns of ``kpi.prepare`` the study reads (None: all of them)."""
        return None

    def _verdicts(self) -> pd.DataFrame:
        return getattr(self, self._verdict_attr)

    def verdict(self, metric: str, segment: str = "all") -> pd.Series:
        v = self._verdicts()
        return v[(v["metric"] == metric) & (v["segment"] == segment)].iloc[0]

    def summary(self) -> pd.DataFrame:
        """The verdicts, tidy: one row per metric and segment."""
        return self._verdicts()[list(self._summary_columns)].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Every verdict row with all its columns (the inference objects left out)."""
        return self._verdicts().drop(columns="inference").reset_index(drop=True)

    def plot(self, ax=None):
        """The primary metrics' effects with their CIs (at the Holm level), in display units
        (% change for durations, percentage points for shares); a line at no change."""
        return self._views.plot_effects(self, ax)

    def _repr_html_(self) -> str:
        from sqresearch.report.tables import html

        return html(self._views.verdict_table(self), f"{self.params.title}: verdicts")

    def summary_lines(self) -> list[str]:
        return self._words.summary_lines(self)

    def caveats(self) -> list[str]:
        return self._words.caveats(self)

    def results(self):
        return self._record.results(self)
