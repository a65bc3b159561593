"""The monitor's inputs: the ticket table (free text masked at load), the report week and the
checks a weekly report needs (a week inside the data, enough tickets in it, baseline weeks
before it, a readable PDCA log)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from sqresearch import kpi
from sqresearch.designs.monitor.weekly import iso_week, week_monday
from sqresearch.designs.scorecard.load import load_tickets
from sqresearch.io.data import LoadedTable, check_data_cut
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.lazy import materialize
from sqresearch.io.monitor_schema import latest_week
from sqresearch.kpi import behaviour_segment, customers


@dataclass(frozen=True)
class MonitorInputs:
    table: LoadedTable
    week: str  # the report week, resolved
    weeks: list[str]  # every ISO week with tickets, in order
    log: object = None  # io.pdca.PdcaLog of the study's improvement log (pdca.log)


def load(p, source: str, week: str | None = None) -> MonitorInputs:
    """Read and check the ticket table and resolve the report week (``week`` overrides
    ``p.week``: the ``sqr run --week`` option)."""
    keep = list(behaviour_segment.keep(p, customers.without(p.segments)))
    if p.text is not None:
        keep.append(p.text.column)
    table = load_tickets(p.data, kpi.ticket_roles(p), tuple(dict.fromkeys(keep)), source)
    if not isinstance(table, LoadedTable):  # validated in its engine: the typed columns come in
        table = materialize(table, p.data)
    if customers.requested(p):
        customers.derive(table, p, source)
    if behaviour_segment.requested(p):
        behaviour_segment.derive(table, p, source)
    check_data_cut(table, p.data_cut)
    created = table.frame["created"].dropna()
    cut = pd.Timestamp(p.data_cut) if p.data_cut is not None else created.max()
    created = created[created <= cut]
    labels = iso_week(created)
    weeks = sorted(labels.unique())
    wanted = week or p.week
    resolved = latest_week(cut.to_pydatetime()) if wanted == "latest" else wanted
    where = "option --week" if week else "key 'week'"
    span = f"the data hold weeks {weeks[0]} to {weeks[-1]}" if weeks else "the data hold none"
    if resolved not in weeks:
        raise DataError(source, Problem(where, f"week {resolved} is outside the data ({span}; "
                                        f"data cut {cut:%Y-%m-%d %H:%M}).",
                                        "choose a week inside that range, or week: latest."))
    if week_monday(resolved) + pd.Timedelta(days=7) > cut + pd.Timedelta(seconds=1):
        raise DataError(source, Problem(where, f"week {resolved} is not complete at the data "
                                        f"cut {cut:%Y-%m-%d %H:%M}.",
                                        "choose an earlier week, or week: latest."))
    n_week = int((labels == resolved).sum())
    if n_week < p.alerts.min_volume:
        raise DataError(source, Problem(where, f"week {resolved} holds {n_week} tickets; a "
                                        f"weekly report needs at least {p.alerts.min_volume} "
                                        "(alerts.min_volume).",
                                        "choose a week with more data, or lower "
                                        "alerts.min_volume."))
    before = [w for w in weeks if w < resolved]
    if p.baseline.start is None and len(before) < p.alerts.min_weeks:
        raise DataError(source, Problem(where, f"week {resolved} has {len(before)} weeks of "
                                        f"data before it; its baseline needs at least "
                                        f"{p.alerts.min_weeks} (alerts.min_weeks).",
                                        "choose a later week, or add earlier data."))
    if p.baseline.start is not None and not any(p.baseline.start <= w <= p.baseline.end
                                                for w in weeks):
        raise DataError(source, Problem("key 'baseline'", f"no tickets in weeks "
                                        f"{p.baseline.start} to {p.baseline.end} ({span}).",
                                        "choose baseline weeks inside the data."))
    return MonitorInputs(table, resolved, weeks, _read_log(p, table, cut))


def _read_log(p, table: LoadedTable, cut: pd.Timestamp):
    """The improvement log, checked against the study's KPIs and segment values (line numbers
    in every message); None without ``pdca``."""
    if p.pdca is None:
        return None
    from sqresearch.io import paths, pdca

    segs = {c: sorted(map(str, table.frame[c].dropna().unique())) for c in p.segments
            if c in table.frame.columns}
    return pdca.read_log(paths.project_root() / p.pdca.log, today=cut.date(),
                         known_kpis=kpi.known_kpis(p), segments=segs)


def today(p, inputs: MonitorInputs) -> dt.date:
    """The monitor's 'today' (for the PDCA log): the data cut's date."""
    if p.data_cut is not None:
        return pd.Timestamp(p.data_cut).date()
    return inputs.table.frame["created"].max().date()
