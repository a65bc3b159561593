"""The KPI engine: service KPIs from a ticket table, by period, segment and as series.

``prepare`` adds the per-ticket clocks (first response, calendar and business-hours resolution time
with open tickets censored at the data cut, SLA outcomes, FCR); ``kpi_table`` turns them into one
tidy row per KPI and group with its estimate, confidence interval, n, unit and method. Definitions
follow ``shared/domain.md`` §1; ``CATALOGUE`` holds the wording the reports print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io.data import Role
from sqresearch.kpi.bizhours import Schedule, calendar_duration
from sqresearch.kpi.catalogue import (  # noqa: F401  (re-exported)
    CATALOGUE,
    ROLE_NAMES,
    Kpi,
    fcr_needs,
    known_kpis,
    kpi_needs,
    sla_kpi,
)


def ticket_roles(params) -> dict[str, Role]:
    lo, hi = params.scales.csat
    clo, chi = params.scales.ces
    kinds = {"ticket_id": Role("id"), "created": Role("timestamp"),
             "first_response": Role("timestamp"), "resolved": Role("timestamp"),
             "reopened": Role("count"), "fcr_flag": Role("bool"), "fcr_survey": Role("bool"),
             "customer_id": Role("key"), "csat": Role("score", lo, hi, integer=True),
             "nps": Role("score", 0, 10, integer=True), "ces": Role("score", clo, chi, True),
             "complaint": Role("bool"), "category": Role("text")}
    return {r: kinds[r] for r in ROLE_NAMES}


def ticket_checks(frame: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    """Row checks for ticket tables: no creation time or no id (a ticket that cannot be placed
    in a period or told apart), duplicate ids, replies or solves before creation."""
    out = [("no creation time", "created", frame["created"].isna().to_numpy()),
           ("no ticket id", "ticket_id", frame["ticket_id"].isna().to_numpy()),
           ("duplicate ticket id", "ticket_id",
            frame["ticket_id"].duplicated(keep=False).to_numpy() & frame["ticket_id"].notna()
            .to_numpy())]
    for role, what in [("first_response", "first response before creation"),
                       ("resolved", "resolved before creation")]:
        if role in frame:
            out.append((what, role, (frame[role] < frame["created"]).to_numpy()))
    return out


@dataclass
class Context:
    """What the KPI engine needs beyond the table."""

    data_cut: pd.Timestamp
    schedule: Schedule
    alpha: float = 0.05
    csat_scale: tuple[int, int] = (1, 5)
    fcr_method: str = "flag"
    repeat_window_days: int = 7
    slas: tuple = ()
    #: the per-ticket columns ``prepare`` adds (``clock_columns``); None: all of them
    clocks: frozenset[str] | None = None

    def available(self, frame: pd.DataFrame) -> list[Kpi]:
        kpis = list(CATALOGUE.values()) + [sla_kpi(s) for s in self.slas]
        needs = {"fcr": fcr_needs(self.fcr_method)}
        return [k for k in kpis if all(r in frame for r in needs.get(k.name, k.needs)) and
                (self.clocks is None or all(c in frame for c in clock_columns([k.name])))]


def clock_columns(names) -> set[str]:
    """The per-ticket columns of ``prepare`` that the KPIs ``names`` are computed from (a
    before/after metric's own column, e.g. ``frt_bh_min``, may be listed as it is)."""
    out: set[str] = set()
    for name in names:
        out |= set(_COLUMNS.get(name, (name,) if name.startswith("sla_") or name in CLOCKS
                   else ()))
    return out


#: every column ``prepare`` may add
CLOCKS = ("frt_min", "frt_bh_min", "frt_open_min", "frt_open_bh_min", "solved", "ttr_h",
          "ttr_bh_h", "fcr", "reopen")


def context_for(params, frame: pd.DataFrame, clocks: set[str] | None = None) -> Context:
    """The KPI context of a study reading a ticket table (its ``TicketSettings``); the data cut
    defaults to the last timestamp in the data. ``clocks``: the per-ticket columns the study
    reads (``clock_columns``; None: all)."""
    if params.data_cut is not None:
        cut = pd.Timestamp(params.data_cut)
    else:
        cut = max(frame[c].max() for c in ("created", "first_response", "resolved")
                  if c in frame and frame[c].notna().any())
    return Context(data_cut=cut, schedule=Schedule.from_params(params.business_hours),
                   alpha=params.alpha, csat_scale=params.scales.csat, fcr_method=params.fcr.method,
                   repeat_window_days=params.fcr.repeat_window_days, slas=tuple(params.sla),
                   clocks=None if clocks is None else frozenset(clocks))


def prepare_table(params, table, clocks: set[str] | None = None) -> tuple[pd.DataFrame, Context]:
    """A study's loaded ticket table, prepared: the KPI context, tickets created after the data
    cut excluded (and counted), the per-ticket clocks added (those in ``clocks``; all when
    None)."""
    ctx = context_for(params, table.frame, clocks)
    table.exclude((table.frame["created"] > ctx.data_cut).to_numpy(),
                  "created after the data cut", "created")
    return prepare(table.frame, ctx), ctx


def load_study_table(params, src, custom: dict[str, Role], keep, source: str,
                     used: set[str] | None = None):
    """A before/after or control-group study's table: tickets with their KPI roles and checks,
    or a unit table of ready values (``custom`` metric columns); ``keep`` other columns. Every
    role is checked; a large table validated in its engine brings into memory only the roles
    in ``used`` (all when None) with ``keep``, the custom metrics and the creation time."""
    from sqresearch.io.data import check_data_cut, load_table
    from sqresearch.io.errors import DataError
    from sqresearch.io.periods import explain_missing_clock
    from sqresearch.io.schemas import REQUIRED_TICKET_ROLES
    from sqresearch.kpi import behaviour_segment, customers

    tickets = params.ticket_table
    derived = customers.requested(params)
    behaviour = behaviour_segment.requested(params)
    if derived:  # the customer_type segment: derived below, from the customer ids
        keep, used = customers.without(keep), None if used is None else {*used, "customer_id"}
    if behaviour:  # the behaviour segment: below, from each customer's tickets
        keep = behaviour_segment.keep(params, keep)
        used = None if used is None else {*used, "customer_id", "complaint"}
    roles = {**(ticket_roles(params) if tickets else {}), **custom}
    required = (REQUIRED_TICKET_ROLES if tickets else ()) + tuple(custom)
    wanted = None if used is None else {*used, *(c for c in keep if c), *custom, "created"}
    keep = tuple(dict.fromkeys(c for c in keep if c and c not in roles))
    try:
        table = _large(src, roles, required, keep, source, tickets, wanted)
        if not hasattr(table, "frame"):
            reason, table = table, load_table(src, roles, required, keep,
                                              (ticket_checks,) if tickets else (), source)
            if reason:
                from sqresearch.io.lazy import note_fallback

                note_fallback(table, reason)
    except DataError as exc:
        raise explain_missing_clock(exc, params.metrics) from None
    if derived:
        customers.derive(table, params, source)
    if behaviour:
        behaviour_segment.derive(table, params, source)
    if tickets:
        check_data_cut(table, params.data_cut)
    return table


def _large(src, roles, required, keep, source: str, tickets: bool, wanted: set[str] | None):
    """A large table (``data.engine``) validated in its engine and brought into memory as
    typed columns only (``io.lazy.materialize``); else why the in-memory reader is used (None:
    the table is not large)."""
    from sqresearch.io.lazy import Fallback, load_lazy, materialize, use_pushdown

    if not use_pushdown(src, source):
        return None
    try:
        lazy = load_lazy(src, roles, required, keep, source, ticket_checks=tickets)
    except Fallback as why:
        return str(why)
    ids = ("ticket_id",) if tickets else tuple(r for r, s in roles.items() if s.kind == "id")
    return materialize(lazy, src, ids, wanted)


def study_frame(params, table, clocks: set[str] | None = None
                ) -> tuple[pd.DataFrame, Context | None]:
    """The frame a study analyses: a ticket table prepared (with its KPI context; only the
    per-ticket ``clocks`` when given), or a unit table (ready values per unit and period) as
    loaded, without one."""
    if getattr(params, "ticket_table", True):
        return prepare_table(params, table, clocks)
    return table.frame.copy(), None


def prepare(frame: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Add the per-ticket clocks and outcomes the KPIs are computed from (to a shallow copy:
    the table's own columns are shared, not duplicated). With ``ctx.clocks`` set, only those
    columns (and what they are computed from) are added."""
    df = frame.copy(deep=False)
    cut = ctx.data_cut
    want = _wanted(ctx)
    if "first_response" in df:
        answered = df["first_response"].notna() & (df["first_response"] <= cut)
        if want("frt_min"):
            df["frt_min"] = calendar_duration(df["created"], df["first_response"], "minutes") \
                .where(answered)
        if want("frt_bh_min"):
            df["frt_bh_min"] = ctx.schedule.duration(df["created"], df["first_response"],
                                                     "minutes").where(answered)
        if want("frt_open_min"):
            df["frt_open_min"] = calendar_duration(
                df["created"], pd.Series(cut, index=df.index), "minutes").where(~answered)
        if want("frt_open_bh_min"):
            df["frt_open_bh_min"] = ctx.schedule.duration(
                df["created"], pd.Series(cut, index=df.index), "minutes").where(~answered)
    if "resolved" in df:
        solved = df["resolved"].notna() & (df["resolved"] <= cut)
        end = df["resolved"].where(solved, cut)
        df["solved"] = solved.astype(float)
        if want("ttr_h"):
            df["ttr_h"] = calendar_duration(df["created"], end, "hours")
        if want("ttr_bh_h"):
            df["ttr_bh_h"] = ctx.schedule.duration(df["created"], end, "hours")
    for sla in ctx.slas:
        if want(f"sla_{sla.name}"):
            df[f"sla_{sla.name}"] = _sla_outcome(df, sla)
    if want("fcr") and ctx.fcr_method in ("flag", "survey"):
        col = "fcr_flag" if ctx.fcr_method == "flag" else "fcr_survey"
        if col in df:
            df["fcr"] = df[col]
    elif want("fcr") and "customer_id" in df and "resolved" in df:
        df["fcr"] = _repeat_contact_fcr(df, ctx)
    if "reopened" in df and "resolved" in df and want("reopen"):
        df["reopen"] = (df["reopened"] > 0).astype(float).where(
            (df["solved"] == 1) & df["reopened"].notna())
    return df


def _wanted(ctx: Context):
    """Whether ``prepare`` adds a column: every one without ``ctx.clocks``; else those listed
    and the clocks the listed SLAs are judged on."""
    if ctx.clocks is None:
        return lambda column: True
    want = set(ctx.clocks)
    for sla in ctx.slas:
        if f"sla_{sla.name}" in want:
            bh = "_bh" if sla.business_hours else ""
            want |= ({f"frt{bh}_min", f"frt_open{bh}_min"} if sla.clock == "first_response"
                     else {f"ttr{bh}_h"})
    return want.__contains__


def _sla_outcome(df: pd.DataFrame, sla) -> pd.Series:
    """1 met, 0 missed, NaN not yet judged (open and still within the limit)."""
    div = 1 if sla.unit == "minutes" else 60
    if sla.clock == "first_response":
        done = df["frt_bh_min" if sla.business_hours else "frt_min"] / div
        running = df["frt_open_bh_min" if sla.business_hours else "frt_open_min"] / div
    else:
        col = "ttr_bh_h" if sla.business_hours else "ttr_h"
        hours = df[col] * (60 if sla.unit == "minutes" else 1)
        done, running = hours.where(df["solved"] == 1), hours.where(df["solved"] == 0)
    out = pd.Series(np.nan, index=df.index)
    out[done.notna()] = (done[done.notna()] <= sla.within).astype(float)
    out[running.notna() & (running > sla.within)] = 0.0
    return out


def _repeat_contact_fcr(df: pd.DataFrame, ctx: Context) -> pd.Series:
    """Resolved with no new ticket from the same customer within N days of the resolution.

    Tickets not resolved, or whose window runs past the data cut without a repeat, are not judged.
    """
    window = pd.Timedelta(days=ctx.repeat_window_days)
    out = pd.Series(np.nan, index=df.index)
    order = df.sort_values(["customer_id", "created"], kind="mergesort")
    nxt = order.groupby("customer_id", sort=False)["created"].shift(-1)
    solved = order["solved"] == 1
    limit = order["resolved"] + window
    repeat = nxt.notna() & (nxt <= limit)
    judged = solved & (repeat | (limit <= ctx.data_cut))
    out.loc[order.index[judged]] = (~repeat[judged]).astype(float).to_numpy()
    return out


def _share(values: pd.Series, alpha: float) -> tuple:
    from sqresearch.stats import describe

    v = values.dropna()
    p, lo, hi = describe.wilson_ci(int(v.sum()), len(v), alpha)
    return p, lo, hi, len(v)


def group_kpis(df: pd.DataFrame, ctx: Context, only: set[str] | None = None) -> list[dict]:
    """Estimate every available KPI on one group of prepared tickets."""
    from sqresearch.stats import describe  # scipy: not needed to validate a study
    from sqresearch.stats.survival import kaplan_meier

    a = ctx.alpha
    rows = []
    for k in ctx.available(df):
        if only is not None and k.name not in only:
            continue
        name = k.name
        if name == "contacts":
            est, lo, hi, n = len(df), math.nan, math.nan, len(df)
        elif name == "frt_mean":
            est, lo, hi, n = describe.mean_ci(df["frt_min"], a)
        elif name in ("frt_median", "frt_p90"):
            est, lo, hi, n = describe.quantile_ci(df["frt_min"], 0.5 if name == "frt_median"
                                                  else 0.9, a)
        elif name in ("ttr_median", "ttr_median_bh"):
            col = "ttr_h" if name == "ttr_median" else "ttr_bh_h"
            km = kaplan_meier(df[col], df["solved"] == 1, a)
            (est, lo, hi), n = km.median(), km.n
        elif name == "resolution_rate":
            est, lo, hi, n = _share(df["solved"], a)
        elif name == "fcr":
            est, lo, hi, n = _share(df["fcr"], a)
        elif name == "reopen_rate":
            est, lo, hi, n = _share(df["reopen"], a)
        elif name == "csat_mean":
            est, lo, hi, n = describe.mean_ci(df["csat"], a)
        elif name == "csat_top2":
            est, lo, hi, n = _share((df["csat"] >= ctx.csat_scale[1] - 1).where(
                df["csat"].notna()), a)
        elif name == "nps":
            est, lo, hi, _, n = describe.nps(df["nps"], a)
        elif name == "ces_mean":
            est, lo, hi, n = describe.mean_ci(df["ces"], a)
        elif name == "complaints_per_1000":
            c = df["complaint"].dropna()
            est, lo, hi = describe.poisson_rate_ci(int(c.sum()), len(c), 1000, a)
            n = len(c)
        else:  # sla_*
            est, lo, hi, n = _share(df[name], a)
        rows.append({"kpi": name, "estimate": est, "ci_low": lo, "ci_high": hi, "n": int(n)})
    return rows


def kpi_table(df: pd.DataFrame, ctx: Context, by: str | None = None,
              only: set[str] | None = None) -> pd.DataFrame:
    """Tidy KPI estimates, overall or by one grouping column.

    Returns
    -------
    DataFrame with columns ``group_by`` (``"all"`` or the column), ``group``, ``kpi``, ``label``,
    ``estimate``, ``ci_low``, ``ci_high`` (at level 1 - alpha; NaN where not defined), ``n``
    (tickets the estimate rests on), ``unit``, ``direction`` and ``method``.
    """
    defs = {k.name: k for k in ctx.available(df)}
    if only is not None:  # group only the columns these KPIs read, not every column
        df = df[list(dict.fromkeys(c for c in [by, *_kpi_columns(defs, only, ctx)] if c))]
    groups = [("all", df)] if by is None else df.groupby(by, sort=True, observed=True)
    # one group in memory at a time
    return tidy_kpis([(g, group_kpis(part, ctx, only)) for g, part in groups], defs, by)


#: the prepared columns ``group_kpis`` reads for a KPI (besides its roles)
_COLUMNS = {"frt_mean": ("frt_min",), "frt_median": ("frt_min",), "frt_p90": ("frt_min",),
            "ttr_median": ("ttr_h", "solved"), "ttr_median_bh": ("ttr_bh_h", "solved"),
            "resolution_rate": ("solved",), "fcr": ("fcr",), "reopen_rate": ("reopen",)}


def _kpi_columns(defs: dict[str, Kpi], only: set[str], ctx: Context) -> list[str]:
    """The columns of a prepared frame the KPIs in ``only`` (of those available) read: their
    roles (which make them available) and their per-ticket clocks."""
    out = []
    for name in sorted(set(defs) & set(only)):
        roles = fcr_needs(ctx.fcr_method) if name == "fcr" else defs[name].needs
        out += [*roles, *_COLUMNS.get(name, (name,) if name.startswith("sla_") else ())]
    return out


KPI_TABLE_COLUMNS = ["group_by", "group", "kpi", "label", "estimate", "ci_low", "ci_high", "n",
                     "unit", "direction", "method"]


def tidy_kpis(groups: list[tuple[object, list[dict]]], defs: dict[str, Kpi],
              by: str | None) -> pd.DataFrame:
    """The ``kpi_table`` frame from each group's ``group_kpis`` rows, groups in order."""
    rows = []
    for g, estimates in groups:
        for r in estimates:
            k = defs[r["kpi"]]
            rows.append({"group_by": by or "all", "group": str(g), **r, "label": k.label,
                         "unit": k.unit, "direction": k.direction, "method": k.definition})
    return pd.DataFrame(rows, columns=KPI_TABLE_COLUMNS)


def stamp_labels(stamps: pd.Series, label) -> pd.Series:
    """``label`` (DatetimeIndex → labels) applied once per distinct timestamp: one shared label
    object per value rather than a new string per row (10 million rows, a few hundred weeks)."""
    codes, distinct = pd.factorize(stamps)
    labels = np.asarray(label(pd.DatetimeIndex(distinct)), dtype=object)
    if labels.size == 0:
        return pd.Series(np.nan, index=stamps.index, dtype=object)
    return pd.Series(np.where(codes >= 0, labels[np.maximum(codes, 0)], np.nan),
                     index=stamps.index, dtype=object)


def period_labels(created: pd.Series, freq: str) -> pd.Series:
    """Calendar period of each timestamp: 2026-03 (month), 2026-Q1, 2026-W09 (ISO week)."""
    day = created.dt.floor("D")
    if freq == "month":
        return stamp_labels(day - pd.to_timedelta(day.dt.day - 1, unit="D"),
                            lambda d: d.strftime("%Y-%m"))
    if freq == "quarter":
        return stamp_labels(day - pd.to_timedelta(day.dt.day - 1, unit="D"),
                            lambda d: d.year.astype(str) + "-Q" + d.quarter.astype(str))

    def iso(d: pd.DatetimeIndex):
        c = d.isocalendar()
        return c["year"].astype(str) + "-W" + c["week"].astype(str).str.zfill(2)

    return stamp_labels(day - pd.to_timedelta(day.dt.weekday, unit="D"), iso)


def series(df: pd.DataFrame, ctx: Context, freq: str, kpis: set[str]) -> pd.DataFrame:
    """Daily, weekly (Monday-start) or calendar-monthly series of the given KPIs, by ticket
    creation date.

    Returns the ``kpi_table`` columns with ``group`` as the period start (``date`` column too).
    """
    start = df["created"].dt.floor("D")
    if freq == "week":
        start = start - pd.to_timedelta(start.dt.weekday, unit="D")
    elif freq == "month":
        start = start - pd.to_timedelta(start.dt.day - 1, unit="D")
    defs = {k.name: k for k in ctx.available(df)}
    cols = list(dict.fromkeys(_kpi_columns(defs, kpis, ctx)))  # not a copy of every column
    out = kpi_table(df[cols].assign(_date=stamp_labels(start, lambda d: d.strftime("%Y-%m-%d"))),
                    ctx, by="_date", only=kpis)
    out["group_by"] = freq
    out["date"] = pd.to_datetime(out["group"])
    return out
