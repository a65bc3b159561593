"""Control-group inputs: the metrics, who is treated, the periods and post flags, and the data
checks (arms, periods, units in both arms, covariates, constant outcomes)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sqresearch import kpi
from sqresearch.io import params as params_mod
from sqresearch.io.data import LoadedTable, with_custom_metrics
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.periods import start_of_after
from sqresearch.io.schemas import ControlGroupParams

_LPM = {"fcr": "fcr", "reopen_rate": "reopen", "resolution_rate": "solved"}


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    direction: str
    log: bool  # analysed on the log scale
    ticket_column: str | None = None  # per-ticket 0/1 column for the linear probability DiD


def metrics_of(p: ControlGroupParams) -> list[Metric]:
    out = []
    for name in p.metrics:
        k = kpi.CATALOGUE.get(name) or kpi.sla_kpi(next(s for s in p.sla
                                                       if f"sla_{s.name}" == name))
        log = p.log_durations and k.unit in ("min", "h", "business h")
        col = name if name.startswith("sla_") else _LPM.get(name)
        out.append(Metric(name, k.label, k.unit, k.direction or "higher", log, col))
    for m in p.custom_metrics:
        unit = m.unit or ("share" if m.type == "binary" else "")
        out.append(Metric(m.name, m.label or m.column, unit, m.direction,
                          p.log_durations and m.type == "duration"))
    return [Metric(**{**m.__dict__, "label": p.labels.get(m.name, m.label)}) for m in out]


def treated_flags(frame: pd.DataFrame, p: ControlGroupParams) -> pd.Series:
    if p.treated_units:
        return frame[p.unit].astype(str).isin([str(u) for u in p.treated_units]).astype(float)
    col = frame[p.treatment_column].astype("string").str.strip().str.lower()
    values = [p.treated_value.lower()] if p.treated_value else ["1", "1.0", "true", "yes",
                                                                  "treated"]
    return col.isin(values).astype(float)


def period_labels(frame: pd.DataFrame, p: ControlGroupParams) -> pd.Series:
    """A unit table's periods as given; a ticket table's calendar periods (week/month start)."""
    if not p.ticket_table:
        return frame[p.period_column].astype(str)
    start = frame["created"].dt.floor("D")
    if p.panel_freq == "week":
        start = start - pd.to_timedelta(start.dt.weekday, unit="D")
    else:
        start = start.dt.to_period("M").dt.start_time
    return start.dt.strftime("%Y-%m-%d")


def post_flags(periods: pd.Series, p: ControlGroupParams,
               start: pd.Timestamp | None = None) -> pd.Series:
    """1.0 for post periods: a unit table's post_periods, or a ticket table's calendar periods
    starting on or after the day the post period starts (``start``, default: intervention)."""
    if not p.ticket_table:
        return periods.isin([str(v) for v in p.post_periods]).astype(float)
    t0 = pd.Timestamp(p.intervention) if start is None else start
    return (pd.to_datetime(periods) >= t0.normalize()).astype(float)


def intervention_of(frame: pd.DataFrame, p: ControlGroupParams,
                    source: str, table: LoadedTable | None = None) -> pd.Timestamp | None:
    """When the post period starts (``io.periods.start_of_after``); ``table`` names offending
    rows by file line."""
    col = frame[p.period_column].astype("string") if p.period_column else \
        pd.Series(pd.NA, index=frame.index, dtype="string")
    post = col.isin([str(v) for v in p.post_periods]).fillna(False)
    return start_of_after(p, frame.get("created"), ~post & col.notna(), post, source,
                          ("pre (not in post_periods)", "post"), table.examples if table else None)


def load(p: ControlGroupParams, source: str) -> LoadedTable:
    """Read and check: arms, periods, units in both arms, covariates, constant outcomes
    (staggered adoption: ``staggered_load.load``)."""
    if p.staggered:
        from sqresearch.designs.control_group.staggered_load import load as load_staggered

        return load_staggered(p, source)
    src, custom = with_custom_metrics(p.data, p.custom_metrics)
    table = kpi.load_study_table(p, src, custom, [p.unit, p.treatment_column, p.period_column,
                                                  *p.covariates, *p.segments], source)
    frame = table.frame
    problems = []
    units = frame[p.unit].astype(str)
    known = set(units)
    for u in p.treated_units:
        if str(u) not in known:
            fix = params_mod.suggest(str(u), known) or "check the unit names."
            problems.append(Problem(f"key 'treated_units' ({u})", "is not a unit in the data.",
                                    fix))
    treated = treated_flags(frame, p)
    mixed = treated.groupby(units).nunique()
    if (mixed > 1).any():
        both = table.examples(units.isin(mixed.index[mixed > 1]) & ~units.duplicated(), units)
        problems.append(Problem(f"column {p.treatment_column!r}", f"unit(s) in both arms: {both}.",
                                "a unit is either treated or not: correct the column."))
    arms = treated.groupby(units).first()
    for flag, name in ((1.0, "treated"), (0.0, "control")):
        if not (arms == flag).any():
            problems.append(Problem("arms", f"there are no {name} units.",
                                    "check treatment_column / treated_units."))
    start = intervention_of(frame, p, source, table)
    post = post_flags(period_labels(frame, p), p, start)
    for flag, name in ((0.0, "pre"), (1.0, "post")):
        if not (post == flag).any():
            problems.append(Problem("periods", f"there is no {name}-intervention period.",
                                    "check the intervention date or post_periods."))
    problems += unit_level_problems(p, table, units)
    if problems:
        raise DataError(source, problems)
    return table


def unit_level_problems(p: ControlGroupParams, table: LoadedTable,
                        units: pd.Series) -> list[Problem]:
    """Covariates that are not numbers or not one value per unit; constant custom outcomes."""
    frame, problems = table.frame, []
    for c in p.covariates:
        values = pd.to_numeric(frame[c], errors="coerce")
        varies = units.map(values.groupby(units).nunique() > 1).to_numpy()
        if values.isna().any():
            problems.append(Problem(f"column {c!r}", "covariates must be numbers: " +
                                    table.examples(values.isna(), frame[c]) + ".",
                                    "use a numeric unit-level column."))
        elif varies.any():
            problems.append(Problem(f"column {c!r}", "covariates must have one value per unit: "
                                    + table.examples(varies, units + " = " +
                                                     frame[c].astype(str)) + ".",
                                    "use a unit-level column (the same value in every row of "
                                    "a unit)."))
    for m in p.custom_metrics:
        if frame[m.name].nunique() <= 1:
            problems.append(Problem(f"column {m.column!r}", "the outcome is constant: there is "
                                    "nothing to compare.", "choose a metric that varies."))
    return problems


def period_order(panel: pd.DataFrame) -> list[str]:
    """Periods in time order: every pre period before every post one, each group sorted by its
    label (ISO dates sort in time; 'pre'/'post' labels are told apart by the post flag)."""
    flags = panel.groupby("period")["post"].first()
    numbers = pd.to_numeric(pd.Series(flags.index), errors="coerce")
    if numbers.notna().all():  # numeric labels sort as numbers: 1, 2, …, 10
        rank = dict(zip(flags.index, numbers, strict=True))
        return sorted(flags.index, key=lambda q: (flags[q], rank[q]))
    return sorted(flags.index, key=lambda q: (flags[q], q))
