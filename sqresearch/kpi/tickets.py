"""A study's prepared tickets, in memory or left in their engine, behind one interface.

``Tickets`` holds the pandas frame of ``engine.prepare``; ``PushedTickets`` holds the same
columns as an Ibis expression (``pushdown_prepare``) and asks the engine for aggregates only
(``pushdown``). A study calls ``for_study`` and then ``kpi_table``, ``series``, ``counts``,
``window``, ``n`` and ``rows`` without knowing which it has: both give the same numbers (tested
to rtol 1e-9 in tests/test_kpi_pushdown.py and tests/test_prepare_pushdown.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.kpi import engine
from sqresearch.kpi.bizhours import Schedule

#: rows per group a bootstrap on pushed-down tickets draws from (a seeded sample, said so)
SAMPLE_PER_GROUP = 200_000


@dataclass
class Tickets:
    """Prepared tickets in memory (``engine.prepare``), with the ``period`` column."""

    frame: pd.DataFrame
    ctx: engine.Context

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def kpi_table(self, by: str | None = None, only: set[str] | None = None) -> pd.DataFrame:
        return engine.kpi_table(self.frame, self.ctx, by, only)

    def series(self, freq: str, kpis: set[str]) -> pd.DataFrame:
        return engine.series(self.frame, self.ctx, freq, kpis)

    def counts(self, column: str, where: str | None = None) -> pd.Series:
        """Non-empty values of ``column`` counted (rows with ``where`` == 1 only)."""
        df = self.frame if where is None or where not in self.frame else \
            self.frame[self.frame[where] == 1]
        return df[column].replace("", pd.NA).dropna().value_counts()

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.frame["created"].min(), self.frame["created"].max()

    def created_between(self, start, end) -> int:
        days = self.frame["created"].dt.normalize()
        return int(days.between(pd.Timestamp(start), pd.Timestamp(end)).sum())

    def rows(self, columns: list[str], by: str, seed: int) -> tuple[pd.DataFrame, str]:
        """The rows a resampling method needs, and how they were chosen (for the report)."""
        return self.frame[[by, *columns]], "all tickets"


class PushedTickets:
    """Prepared tickets left in their engine: the same questions, answered by aggregates."""

    def __init__(self, expr, ctx: engine.Context, groups: tuple[str, ...] = ()):
        self.expr = expr
        self.ctx = ctx
        self.groups = [g for g in groups if g in expr.schema().names]
        self._n: int | None = None
        self._ordered = None
        self._cells = None

    @property
    def n(self) -> int:
        if self._n is None:
            self._n = int(self.expr.count().execute())
        return self._n

    @property
    def columns(self) -> list[str]:
        return list(self.expr.schema().names)

    @property
    def frame(self):
        raise AttributeError("these tickets stay in their engine (data.engine: pushdown); "
                             "use .expr (an Ibis table), e.g. .expr.limit(1000).to_pandas()")

    def kpi_table(self, by: str | None = None, only: set[str] | None = None) -> pd.DataFrame:
        from sqresearch.kpi.pushdown import kpi_table_expr

        return kpi_table_expr(self.expr, self.ctx, by, only, self.ordered(by, only),
                              self.cells() if by is None or by in self.groups else None)

    def cells(self):
        """The aggregates of every cell of the study's groupings, one query for all of them
        (``pushdown.Cells``); None without groupings or with too many cells."""
        from sqresearch.kpi.pushdown import Cells

        if self._cells is None:
            self._cells = (Cells.fetch(self.expr, self.ctx, self.groups) if self.groups
                           else None) or False
        return self._cells or None

    def ordered(self, by: str | None, only: set[str] | None):
        """The order-based KPIs' values fetched once (``pushdown_sorted``) when ``by`` is one of
        the study's groupings, those KPIs are asked for and the table fits in memory."""
        from sqresearch.kpi import pushdown_sorted as ps
        from sqresearch.kpi.pushdown import MEDIANS, QUANTILE_COLUMN, QUANTILES

        columns = {QUANTILE_COLUMN: list(QUANTILES), **{c: [n] for n, c in MEDIANS.items()}}
        asked = [c for c, names in columns.items()
                 if c in self.columns and (only is None or not only.isdisjoint(names))]
        if not asked or (by is not None and by not in self.groups) or \
                "solved" not in self.columns:
            return None
        if self._ordered is None and ps.fits(self.n):
            self._ordered = ps.SortedValues(
                self.expr, [c for c in columns if c in self.columns], self.groups, self.n)
        return self._ordered

    def series(self, freq: str, kpis: set[str]) -> pd.DataFrame:
        from sqresearch.kpi.pushdown import kpi_table_expr
        from sqresearch.kpi.pushdown_prepare import series_start_expr

        t = self.expr.mutate(_date=series_start_expr(self.expr.created, freq))
        out = kpi_table_expr(t, self.ctx, "_date", kpis)
        out["group_by"] = freq
        out["date"] = pd.to_datetime(out["group"])
        return out

    def counts(self, column: str, where: str | None = None) -> pd.Series:
        t = self.expr
        if where is not None and where in self.columns:
            t = t.filter(t[where] == 1)
        t = t.filter(t[column].notnull() & (t[column] != ""))
        got = t.group_by(column).aggregate(count=t.count()).to_pandas()
        return pd.Series(got["count"].to_numpy(), index=got[column].to_numpy(), name="count")

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        got = self.expr.aggregate(lo=self.expr.created.min(),
                                  hi=self.expr.created.max()).to_pandas()
        return pd.Timestamp(got["lo"].iloc[0]), pd.Timestamp(got["hi"].iloc[0])

    def created_between(self, start, end) -> int:
        day = self.expr.created.date()
        return int(self.expr.filter((day >= pd.Timestamp(start).date()) &
                                    (day <= pd.Timestamp(end).date())).count().execute())

    def rows(self, columns: list[str], by: str, seed: int) -> tuple[pd.DataFrame, str]:
        """The columns a resampling method needs, by ticket id; a group larger than
        ``SAMPLE_PER_GROUP`` is represented by a seeded simple random sample of that size."""
        got = self.expr.select("ticket_id", by, *columns).order_by("ticket_id").to_pandas()
        got = got.drop(columns="ticket_id")
        sizes = got.groupby(by, sort=True, observed=True).size()
        if sizes.max() <= SAMPLE_PER_GROUP:
            return got, "all tickets"
        rng = np.random.default_rng(seed)
        parts = [g if len(g) <= SAMPLE_PER_GROUP else
                 g.iloc[np.sort(rng.choice(len(g), SAMPLE_PER_GROUP, replace=False))]
                 for _, g in got.groupby(by, sort=True, observed=True)]
        return (pd.concat(parts, ignore_index=True),
                f"a seeded random sample of {SAMPLE_PER_GROUP:,} tickets per {by} (seed {seed})"
                f" from groups of up to {int(sizes.max()):,}")


def context_for_expr(params, expr) -> engine.Context:
    """``engine.context_for`` on a table left in its engine (the data cut: the latest
    timestamp when the params give none)."""
    if params.data_cut is not None:
        cut = pd.Timestamp(params.data_cut)
    else:
        cols = [c for c in ("created", "first_response", "resolved") if c in
                expr.schema().names]
        got = expr.aggregate(**{c: expr[c].max() for c in cols}).to_pandas().iloc[0]
        cut = max(pd.Timestamp(v) for v in got.to_numpy() if not pd.isna(v))
    return engine.Context(data_cut=cut, schedule=Schedule.from_params(params.business_hours),
                          alpha=params.alpha, csat_scale=params.scales.csat,
                          fcr_method=params.fcr.method,
                          repeat_window_days=params.fcr.repeat_window_days,
                          slas=tuple(params.sla))


def for_study(params, table, period_freq: str | None = None):
    """The study's prepared tickets: tickets created after the data cut excluded (counted in
    the table's quality), clocks added, and the calendar ``period`` when ``period_freq``."""
    from sqresearch.io.lazy import LazyTable

    if not isinstance(table, LazyTable):
        frame, ctx = engine.prepare_table(params, table)
        if period_freq:
            frame["period"] = engine.period_labels(frame["created"], period_freq)
        return Tickets(frame, ctx)
    from sqresearch.io.lazy import keep_once, release
    from sqresearch.kpi.pushdown_prepare import period_expr, prepare_expr

    ctx = context_for_expr(params, table.expr)
    table.exclude(table.expr.created > ctx.data_cut.to_pydatetime(),
                  "created after the data cut", "created")
    expr = prepare_expr(table.expr, ctx)
    if period_freq:
        expr = expr.mutate(period=period_expr(expr.created, period_freq))
    groups = ("period", *getattr(params, "segments", ())) if period_freq else \
        tuple(getattr(params, "segments", ()))
    kept = keep_once(table.con, expr, "sqr_prepared_")  # clocks computed once
    release(table, kept)
    return PushedTickets(kept, ctx, groups)
