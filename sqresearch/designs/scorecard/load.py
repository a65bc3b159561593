"""Reading the scorecard's inputs: the ticket table (checked against every KPI the params use)
and, optionally, a ready indicator table for the composite index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch import kpi
from sqresearch.designs.scorecard.index import bootstrap_problem
from sqresearch.io import paths
from sqresearch.io.data import DATA_CUT_FIX, InputFile, LoadedTable, check_data_cut, load_table
from sqresearch.io.errors import DataError, ParamsError, Problem, examples, nothing_left
from sqresearch.io.files import sha256
from sqresearch.io.lazy import Fallback, LazyTable, load_lazy, note_fallback, use_pushdown
from sqresearch.io.schemas import REQUIRED_TICKET_ROLES, CompositeIndexSpec, ScorecardParams
from sqresearch.kpi import behaviour_segment, customers
from sqresearch.kpi.tickets import PushedTickets, Tickets
from sqresearch.report import tables


def _referenced_kpis(p: ScorecardParams) -> list[tuple[str, str]]:
    refs = [(f"targets[{i}].kpi", t.kpi) for i, t in enumerate(p.targets)]
    refs += [(f"control_charts[{i}]", k) for i, k in enumerate(p.control_charts)]
    if p.index and p.index.table is None:
        refs += [(f"index.indicators[{i}].kpi", x.kpi) for i, x in enumerate(p.index.indicators)]
    return refs


def load(p: ScorecardParams, source: str) -> LoadedTable | LazyTable:
    """Read and validate the ticket table (in memory, or in its engine for a large table:
    ``data.engine``); check every KPI the params use can be computed."""
    pareto_col = p.pareto if p.pareto and p.pareto not in kpi.ROLE_NAMES else None
    keep = tuple(dict.fromkeys([*behaviour_segment.keep(p, customers.without(p.segments)),
                                *([pareto_col] if pareto_col else [])]))
    table = load_tickets(p.data, kpi.ticket_roles(p), keep, source)
    if customers.requested(p):
        customers.derive(table, p, source)
    if behaviour_segment.requested(p):
        behaviour_segment.derive(table, p, source)
    if isinstance(table, LazyTable):
        cut = p.data_cut
        if cut is not None and table.expr.filter(table.expr.created <= pd.Timestamp(cut)
                                                 .to_pydatetime()).count().execute() == 0:
            raise nothing_left(table.quality, table.origin, table.rows_read,
                               {"created after the data cut": DATA_CUT_FIX})
        tickets = PushedTickets(table.expr, None)
    else:
        check_data_cut(table, p.data_cut)
        tickets = Tickets(table.frame, None)
    columns = tickets.columns
    problems = []
    ctx = kpi.Context(pd.Timestamp(0), None, slas=tuple(p.sla), fcr_method=p.fcr.method)
    available = {k.name for k in ctx.available(columns)}
    for where, name in _referenced_kpis(p):
        if name not in available:
            k = kpi.CATALOGUE.get(name) or next(kpi.sla_kpi(s) for s in p.sla
                                                if f"sla_{s.name}" == name)
            needs = kpi.fcr_needs(p.fcr.method) if name == "fcr" else k.needs
            missing = [r for r in needs if r not in columns]
            problems.append(Problem(f"key '{where}'", f"KPI {name!r} needs column role(s) "
                                    f"{missing}, not found in {p.data.where}.",
                                    "map them in data.columns (role: column in your file), or "
                                    "drop the KPI."))
    if p.pareto and p.pareto in kpi.ROLE_NAMES and p.pareto not in columns:
        problems.append(Problem("key 'pareto'", f"role {p.pareto!r} has no column.",
                                "map it in data.columns."))
    if p.index and p.index.table is None and p.index.by != "period" and \
            p.index.by not in p.segments:
        problems.append(Problem("key 'index.by'", f"{p.index.by!r} is not 'period' or a segment.",
                                f"use 'period' or one of the segments {p.segments}."))
    if p.index is not None and (bad := bootstrap_problem(p.index)) is not None:
        raise ParamsError(source, bad)
    if p.index is not None and p.index.table is not None:
        indicator_table(p.index, source)  # fail before any kernel starts
    if p.baseline is not None and \
            tickets.created_between(p.baseline.start, p.baseline.end) == 0:
        problems.append(Problem("key 'baseline'", f"no tickets were created between "
                                f"{p.baseline.start} and {p.baseline.end}.",
                                "choose a window inside the data."))
    if tickets.n == 0:
        problems.append(Problem(p.data.where, "no rows are left to analyse.",
                                "check the file and the exclusions listed in the data-quality "
                                "table."))
    if problems:
        raise DataError(source, problems)
    return table


def load_tickets(src, roles, keep, source: str) -> LoadedTable | LazyTable:
    """A ticket table validated in its engine when it is large (``data.engine``), else — or
    when it needs the in-memory reader's rules — in memory (the reason is noted)."""
    reason = None
    if use_pushdown(src, source):
        try:
            return load_lazy(src, roles, REQUIRED_TICKET_ROLES, keep, source,
                             ticket_checks=True)
        except Fallback as why:
            reason = str(why)
    table = load_table(src, roles, REQUIRED_TICKET_ROLES, keep, (kpi.ticket_checks,), source)
    if reason:
        note_fallback(table, reason)
    return table


def indicator_table(spec: CompositeIndexSpec, source: str) -> tuple[pd.DataFrame, InputFile]:
    """The units × indicators CSV of ``index.table``: one row per unit, numeric indicators.

    Returns the values (index = unit, one column per indicator in params order) and the file's
    provenance. Every problem found is reported at once, naming the file, column and rows.
    """
    path = paths.resolve(spec.table)
    where = f"index.table ({spec.table})"
    if not path.is_file():
        raise DataError(source, Problem(f"key 'index.table' ({spec.table})",
                                        "file does not exist.",
                                        "give a CSV path relative to the project root."))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataError(source, Problem(where, f"cannot be read as CSV: {exc}",
                                        "save it as a comma-separated UTF-8 file.")) from None
    names = [i.kpi for i in spec.indicators]
    missing = [c for c in [spec.unit, *names] if c not in raw]
    if missing:
        raise DataError(source, Problem(where, f"has no column(s) {missing}; it has "
                                        f"{list(raw.columns)}.",
                                        "name the unit column in index.unit and each "
                                        "indicator column in index.indicators[].kpi."))
    problems = []
    units = raw[spec.unit].str.strip()
    def lines(mask, values=None) -> str:
        rows = np.flatnonzero(np.asarray(mask))
        return examples([f"line {i + 2}" for i in rows[:5]],
                        None if values is None else [values.iloc[i] for i in rows[:5]],
                        rows.size)

    if (units == "").any():
        problems.append(Problem(f"{where}, column {spec.unit!r}", f"blank unit: "
                                f"{lines(units == '')}.", "name every unit."))
    dup = units.duplicated() & (units != "")
    if dup.any():
        problems.append(Problem(f"{where}, column {spec.unit!r}", "units appear more than "
                                f"once: {lines(dup, units)}.", "give one row per unit."))
    values = pd.DataFrame(index=units.rename("unit"))
    for c in names:
        num = pd.to_numeric(raw[c].str.strip().str.replace(",", "", regex=False),
                            errors="coerce")
        bad = num.isna() | ~np.isfinite(num)
        if bad.any():
            problems.append(Problem(f"{where}, column {c!r}", f"non-numeric or blank values: "
                                    f"{lines(bad, raw[c])}.",
                                    "give a number for every unit (no blanks, no text)."))
        values[c] = num.to_numpy()
    if len(raw) < 2:
        problems.append(Problem(where, f"has {tables.count(len(raw), 'unit')}; an index "
                                "compares at least two.",
                                "add the other units."))
    if problems:
        raise DataError(source, problems)
    return values, InputFile(paths.display(path), sha256(path), len(raw), "csv")
