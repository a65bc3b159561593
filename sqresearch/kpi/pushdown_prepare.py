"""The per-ticket clocks of ``kpi.engine.prepare`` as Ibis expressions, computed by the engine.

``prepare_expr(t, ctx)`` adds to a ticket table on DuckDB, PostgreSQL or Spark the columns
``prepare`` adds to a frame (``frt_min``, ``frt_bh_min``, ``frt_open_min``, ``frt_open_bh_min``,
``solved``, ``ttr_h``, ``ttr_bh_h``, ``sla_<name>``, ``fcr``, ``reopen``) with the same values, so
millions of tickets are never brought to pandas. ``period_expr`` and ``series_start_expr`` are
the period labels of ``period_labels`` and the period starts of ``series``.

Notes
-----
Calendar durations are differences of timestamps in whole microseconds (``delta``), divided as
floats. Business time follows ``Schedule.elapsed``: B(t) = (working days from the epoch to t's
date) x day length + the worked part of t's own day, counted in whole seconds. The working-day
counts come from a small calendar table, one row per date from the earliest to the latest date
of the table and the data cut, built with ``numpy.busday_count``/``is_busday`` with the
schedule's weekmask and holidays (the same calls ``Schedule.elapsed`` makes, so equal by
construction) and joined on the date; on a server the calendar is uploaded as a temporary table.

Repeat-contact FCR takes the next ticket of the same customer with ``lead(created)`` ordered by
creation time and then ticket id. ``prepare`` sorts by creation time stably, so tickets of one
customer created at the same instant keep the frame's order; a table read from an engine comes
sorted by ticket id (``io.data.canonical_order``), so both agree. A file in another order, or a
server collation that sorts text ids differently from code-point order, can differ for such tied
tickets only.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from sqresearch.kpi.bizhours import _EPOCH, Schedule
from sqresearch.kpi.engine import Context

CLOCKS = ("created", "first_response", "resolved")
_US = 1e6  # microseconds per second


def prepare_expr(t: ir.Table, ctx: Context,
                 span: tuple[dt.date, dt.date] | None = None) -> ir.Table:
    """``t`` with the per-ticket clocks and outcomes of ``kpi.engine.prepare`` added.

    Parameters
    ----------
    t : a ticket table with the typed role columns (``created``, ``first_response``,
        ``resolved`` as naive timestamps; ``reopened``, ``fcr_flag``, ``fcr_survey`` as numbers;
        ``customer_id`` as text; ``ticket_id`` breaks ties of the repeat-contact order)
    ctx : the KPI context (data cut, schedule, SLAs, FCR method)
    span : first and last date the business-hours calendar must cover; by default one query
        on ``t`` finds the earliest and latest date of its clock columns (and the data cut)

    Returns
    -------
    The table's columns plus, as in ``prepare``: ``frt_min``, ``frt_bh_min``, ``frt_open_min``,
    ``frt_open_bh_min`` (float minutes, NULL where ``prepare`` has NaN), ``solved`` (0/1),
    ``ttr_h``, ``ttr_bh_h`` (hours, open tickets censored at the data cut), ``sla_<name>``
    (1 met, 0 missed, NULL not yet judged), ``fcr`` and ``reopen`` (1/0/NULL). Row order is
    not kept: order by ``ticket_id``.
    """
    names = set(t.columns)
    cut = pd.Timestamp(ctx.data_cut)
    cut_lit = ibis.literal(cut.to_pydatetime(), type="timestamp")
    clocks = [c for c in CLOCKS if c in names]
    if span is None:
        span = _span(t, clocks, cut)
    cal = calendar(ctx.schedule, *span)
    joined, cols = _with_calendar(t, cal, clocks)
    ds = ctx.schedule.day_seconds
    cut_b = int(ctx.schedule.elapsed(pd.Series([cut]))[0])

    def elapsed(c: str) -> ir.IntegerValue:  # Schedule.elapsed in whole seconds
        before, open_ = cols[c]
        x = joined[c]
        sec = x.second().floor().cast("int64")  # Spark's second has the fraction
        tod = x.hour().cast("int64") * 3600 + x.minute() * 60 + sec
        shifted = tod - _seconds(ctx.schedule.start)
        # clip(0, ds) as one CASE: Ibis's clip nests NULL-safe LEAST/GREATEST around six
        # copies of the time of day (NULL stays NULL either way: no branch matches)
        within = ibis.cases((shifted < 0, 0), (shifted > ds, ds), else_=shifted)
        return before * ds + ibis.ifelse(open_ == 1, within, 0)

    def minutes(end, start) -> ir.FloatingValue:
        return end.delta(start, unit="microsecond").cast("float64") / _US / 60

    new: dict[str, ir.Value] = {}
    created = joined["created"]
    b_created = elapsed("created")
    if "first_response" in names:
        fr = joined["first_response"]
        answered = (fr <= cut_lit).fill_null(False)
        none = ibis.null("float64")
        new["frt_min"] = ibis.ifelse(answered, minutes(fr, created), none)
        new["frt_bh_min"] = ibis.ifelse(
            answered, (elapsed("first_response") - b_created).cast("float64") / 60, none)
        new["frt_open_min"] = ibis.ifelse(answered, none, minutes(cut_lit, created))
        new["frt_open_bh_min"] = ibis.ifelse(answered, none,
                                             (cut_b - b_created).cast("float64") / 60)
    if "resolved" in names:
        res = joined["resolved"]
        solved = (res <= cut_lit).fill_null(False)
        new["solved"] = _flag(solved)
        new["ttr_h"] = ibis.ifelse(solved, minutes(res, created), minutes(cut_lit, created)) / 60
        b_end = ibis.ifelse(solved, elapsed("resolved"), cut_b)
        new["ttr_bh_h"] = (b_end - b_created).cast("float64") / 3600
    keep = [joined[c] for c in t.columns if c not in new]
    # the outcomes read the clocks as columns of a subquery: half the SQL, and Spark's generated
    # code stays smaller
    joined = joined.select(*keep, **new)
    new = {c: joined[c] for c in new}
    for sla in ctx.slas:
        new[f"sla_{sla.name}"] = _sla_outcome(new, sla)
    if ctx.fcr_method in ("flag", "survey"):
        col = "fcr_flag" if ctx.fcr_method == "flag" else "fcr_survey"
        if col in names:
            new["fcr"] = _number(joined[col])
    elif "customer_id" in names and "resolved" in names:
        new["fcr"] = _repeat_contact_fcr(joined, new["solved"], ctx, cut)
    if "reopened" in names and "resolved" in names:
        r = _number(joined["reopened"])
        new["reopen"] = ibis.ifelse((new["solved"] == 1) & r.notnull(), _flag(r > 0),
                                    ibis.null("float64"))
    keep = [joined[c] for c in t.columns if c not in new]
    return joined.select(*keep, **new)


def calendar(schedule: Schedule, first: dt.date, last: dt.date) -> ir.Table:
    """One row per date from ``first`` to ``last``: ``day`` (date), ``before`` (working days
    from the schedule's epoch to that date, negative before it, as ``numpy.busday_count``) and
    ``open`` (1 on a working day, else 0)."""
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    kw = {"weekmask": schedule.weekmask, "holidays": schedule.holidays}
    return ibis.memtable(pa.table({
        "day": pa.array(days, type=pa.date32()),
        "before": pa.array(np.busday_count(_EPOCH, days, **kw).astype("int64")),
        "open": pa.array(np.is_busday(days, **kw).astype("int64")),
    }))


def period_expr(created: ir.TimestampValue, freq: str) -> ir.StringValue:
    """The period label of ``kpi.engine.period_labels``: '2026-03' (month), '2026-Q1'
    (quarter), '2026-W09' (ISO week, with the ISO year)."""
    year = created.year()
    if freq == "month":
        return year.cast("string") + "-" + created.month().cast("string").lpad(2, "0")
    if freq == "quarter":
        return year.cast("string") + "-Q" + created.quarter().cast("string")
    if freq != "week":
        raise ValueError(f"unknown period {freq!r}: month, quarter or week")
    week = created.week_of_year()
    month = created.month()
    iso_year = (year + ibis.ifelse((week == 1) & (month == 12), 1, 0)
                - ibis.ifelse((week >= 52) & (month == 1), 1, 0))
    return iso_year.cast("string") + "-W" + week.cast("string").lpad(2, "0")


def series_start_expr(created: ir.TimestampValue, freq: str) -> ir.DateValue:
    """The period start ``kpi.engine.series`` groups by: the date (day), the Monday of its
    week (week) or the first of its month (month)."""
    day = created.date()
    if freq == "day":
        return day
    if freq == "week":
        return day - created.day_of_week.index().cast("int32").as_interval("D")
    if freq == "month":
        return day - (created.day() - 1).cast("int32").as_interval("D")
    raise ValueError(f"unknown series frequency {freq!r}: day, week or month")


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _span(t: ir.Table, clocks: list[str], cut: pd.Timestamp) -> tuple[dt.date, dt.date]:
    """Earliest and latest date of the clock columns and the data cut (one query)."""
    aggs = {}
    for c in clocks:
        aggs[f"lo_{c}"] = t[c].min()
        aggs[f"hi_{c}"] = t[c].max()
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0] if aggs else {}
    seen = [pd.Timestamp(v) for v in row.values() if v is not None] + [cut]
    return min(seen).date(), max(seen).date()


def _with_calendar(t: ir.Table, cal: ir.Table, clocks: list[str]):
    """``t`` left-joined to the calendar once per clock column on its date; returns the joined
    table and, per clock, its (working days before, open) columns."""
    joined = t
    cols = {}
    for c in clocks:
        day, before, open_ = f"_cal_{c}_day", f"_cal_{c}_before", f"_cal_{c}_open"
        part = cal.select(**{day: cal.day, before: cal.before, open_: cal.open})
        joined = joined.left_join(part, joined[c].date() == part[day])
        cols[c] = (before, open_)
    joined = joined.select(*t.columns, *[x for pair in cols.values() for x in pair])
    return joined, {c: (joined[b], joined[o]) for c, (b, o) in cols.items()}


def _flag(condition: ir.BooleanValue) -> ir.FloatingValue:
    """1.0 where true, 0.0 where false (a condition that is never NULL)."""
    return ibis.ifelse(condition, 1.0, 0.0)


def _number(col: ir.Value) -> ir.FloatingValue:
    """A 0/1 or count column as float; a boolean column as 1.0/0.0, NULL kept."""
    if col.type().is_boolean():
        return ibis.cases((col, 1.0), (~col, 0.0), else_=ibis.null("float64"))
    return col.cast("float64")


def _sla_outcome(new: dict, sla) -> ir.FloatingValue:
    """As ``engine._sla_outcome``: 1 met, 0 missed, NULL not yet judged."""
    none = ibis.null("float64")
    if sla.clock == "first_response":
        div = 1 if sla.unit == "minutes" else 60
        bh = "_bh" if sla.business_hours else ""
        done, running = new[f"frt{bh}_min"] / div, new[f"frt_open{bh}_min"] / div
    else:
        hours = new["ttr_bh_h" if sla.business_hours else "ttr_h"] * (
            60 if sla.unit == "minutes" else 1)
        solved = new["solved"] == 1
        done = ibis.ifelse(solved, hours, none)
        running = ibis.ifelse(solved, none, hours)
    return ibis.cases((done.notnull(), _flag(done <= sla.within)),
                      (running > sla.within, 0.0), else_=none)


def _repeat_contact_fcr(joined: ir.Table, solved, ctx: Context, cut: pd.Timestamp):
    """As ``engine._repeat_contact_fcr``: resolved with no new ticket from the same customer
    within N days of the resolution; not judged when open or the window passes the cut."""
    order = [joined.created] + ([joined.ticket_id] if "ticket_id" in joined.columns else [])
    nxt = joined.created.lead().over(group_by=joined.customer_id, order_by=order)
    nxt = ibis.ifelse(joined.customer_id.notnull(), nxt, ibis.null("timestamp"))
    res = joined.resolved
    window = dt.timedelta(days=ctx.repeat_window_days)
    limit = res + ibis.interval(days=ctx.repeat_window_days)
    repeat = (nxt <= limit).fill_null(False)
    last_judged = ibis.literal((cut - window).to_pydatetime(), type="timestamp")
    judged = (solved == 1) & (repeat | (res <= last_judged).fill_null(False))
    return ibis.ifelse(judged, ibis.ifelse(repeat, 0.0, 1.0), ibis.null("float64"))


def customer_type_expr(t: ir.Table, lookback_days: int | None = None) -> ir.StringValue:
    """As ``kpi.customers.customer_type``: 'returning' when the customer's previous ticket
    (``lag(created)`` over the customer, ordered by creation time then ticket id) exists and,
    with ``lookback_days``, was created at most that many days before; else 'new'; 'unknown'
    without a customer id (NULL or blank)."""
    cid = t.customer_id
    order = [t.created] + ([t.ticket_id] if "ticket_id" in t.columns else [])
    prev = t.created.lag().over(group_by=cid, order_by=order)
    returning = prev.notnull()
    if lookback_days is not None:
        returning = (prev >= t.created - ibis.interval(days=lookback_days)).fill_null(False)
    known = cid.notnull()
    if cid.type().is_string():
        known = known & (cid.strip() != "").fill_null(False)
    return ibis.cases((~known, "unknown"), (returning, "returning"), else_="new")
