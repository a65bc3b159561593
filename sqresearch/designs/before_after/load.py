"""Before/after inputs: the metrics a study compares, the two periods, and the data checks
(filters, wash-out, empty periods, an intervention outside the data, paired units)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sqresearch import kpi
from sqresearch.io.data import LoadedTable, with_custom_metrics
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.periods import start_of_after
from sqresearch.io.schemas import BeforeAfterParams
from sqresearch.kpi.metrics import BUILTIN, MetricSpec

_NEEDS = {"frt": ("first_response",), "frt_bh": ("first_response",), "ttr": ("resolved",),
          "ttr_bh": ("resolved",), "reopen": ("reopened", "resolved"), "complaint": ("complaint",),
          "csat": ("csat",), "csat_top2": ("csat",), "ces": ("ces",), "nps": ("nps",)}


def metric_specs(p: BeforeAfterParams) -> list[MetricSpec]:
    specs = []
    for name in p.metrics:
        if name in BUILTIN:
            spec = BUILTIN[name]
        else:
            sla = next(s for s in p.sla if f"sla_{s.name}" == name)
            spec = MetricSpec(name, kpi.sla_kpi(sla).label, "binary", "share", "higher", name)
        specs.append(spec)
    for m in p.custom_metrics:
        unit = m.unit or ("share" if m.type == "binary" else "")
        specs.append(MetricSpec(m.name, m.label or m.column, m.type, unit, m.direction, m.name))
    return [replace(s, label=p.labels.get(s.name, s.label)) for s in specs]


def _needs(name: str, p: BeforeAfterParams) -> tuple[str, ...]:
    if name == "fcr":
        return kpi.fcr_needs(p.fcr.method)
    if name.startswith("sla_"):
        sla = next(s for s in p.sla if f"sla_{s.name}" == name)
        return ("first_response",) if sla.clock == "first_response" else ("resolved",)
    return _NEEDS.get(name, ())


def roles_used(p: BeforeAfterParams) -> set[str]:
    """The column roles the study computes from: its metrics, ITS series, control charts and
    targets (a large table brings only these into memory)."""
    kpis = [*(p.its.metrics if p.its else []), *p.control_charts, *(t.kpi for t in p.targets)]
    return {r for name in p.metrics for r in _needs(name, p)} | \
        {r for name in kpis for r in kpi.kpi_needs(name, p)}


def clocks_used(p: BeforeAfterParams) -> set[str]:
    """The per-ticket columns of ``kpi.prepare`` the study reads: its metrics' columns and
    those of the KPIs of its ITS series, control charts and targets (a 10-million-ticket frame
    then holds no business-hours clock it does not compare)."""
    from sqresearch.kpi.engine import clock_columns

    kpis = [*(p.its.metrics if p.its else []), *p.control_charts, *(t.kpi for t in p.targets)]
    return {c for s in metric_specs(p) for c in (s.column, s.event) if c} | clock_columns(kpis)


def assign_periods(frame: pd.DataFrame, p: BeforeAfterParams) -> pd.Series:
    """before / after / washout / other for every row (a period column decides where given)."""
    if p.period_column:
        col = frame[p.period_column].astype("string")
        return col.map({p.before_value: "before", p.after_value: "after"}).fillna("other")
    t0 = pd.Timestamp(p.intervention)
    created = frame["created"]
    out = pd.Series("washout", index=frame.index, dtype=object)
    out[created < t0 - pd.Timedelta(days=p.washout_days_before)] = "before"
    out[created >= t0 + pd.Timedelta(days=p.washout_days_after)] = "after"
    return out


def load(p: BeforeAfterParams, source: str) -> LoadedTable:
    """Read, filter and split the data into periods; every problem found is raised together."""
    src, custom = with_custom_metrics(p.data, p.custom_metrics)
    tickets = p.ticket_table
    clusters = [] if p.cluster in ("auto", "none") else \
        [p.cluster] if isinstance(p.cluster, str) else list(p.cluster)
    clusters = [c for c in clusters if not (c == "week" and tickets)]  # calendar week: derived
    table = kpi.load_study_table(p, src, custom, [*p.segments, p.unit, p.period_column,
                                                  *p.filters, *clusters, *p.adjust_for], source,
                                   roles_used(p))
    frame = table.frame
    problems = []
    for name in p.metrics:
        missing = [r for r in _needs(name, p) if r not in frame]
        if missing:
            problems.append(Problem(f"key 'metrics' ({name})", "needs column role(s) "
                                    f"{', '.join(missing)}, not found in {p.data.where}.",
                                    "map them in data.columns, or drop the metric."))
    for col, values in p.filters.items():
        table.exclude(~frame[col].astype("string").isin([str(v) for v in values]).to_numpy(),
                      f"{col} not one of: {', '.join(map(str, values))}", col,
                      f"check the values in filters.{col} against the column's values.")
        frame = table.frame
    if problems:
        raise DataError(source, problems)
    period = assign_periods(frame, p)
    if tickets and p.intervention is not None:
        lo, hi = frame["created"].min(), frame["created"].max()
        if not (lo < pd.Timestamp(p.intervention) <= hi):
            raise DataError(source, Problem("key 'intervention'", f"{p.intervention} is outside "
                                            f"the data ({lo:%Y-%m-%d} to {hi:%Y-%m-%d}).",
                                            "give a date inside the data's range."))
        table.exclude((period == "washout").to_numpy(), "inside the wash-out window", "created",
                      "shorten washout_days_before / washout_days_after.")
    else:
        table.exclude((period == "other").to_numpy(), f"{p.period_column} is neither "
                      f"{p.before_value!r} nor {p.after_value!r}", p.period_column,
                      "set before_value and after_value to values the column has.")
    period = assign_periods(table.frame, p)
    for name in ("before", "after"):
        if not (period == name).any():
            raise DataError(source, Problem(f"the {name} period", "holds no rows" +
                                            (" after filters and wash-out" if tickets else "") +
                                            ".", "check the intervention date, the wash-out, "
                                            "the filters and the period values."))
    if p.design == "paired":
        _check_pairs(table, period, p, source)
    intervention_of(table.frame.assign(period=period), p, source, table)  # splits time?
    return table


def intervention_of(frame: pd.DataFrame, p: BeforeAfterParams,
                    source: str, table: LoadedTable | None = None) -> pd.Timestamp | None:
    """When the after period starts (``io.periods.start_of_after``); ``table`` names offending
    rows by file line."""
    per = frame["period"]
    return start_of_after(p, frame.get("created"), per == "before", per == "after", source,
                          (str(p.before_value), str(p.after_value)),
                          table.examples if table else None)


def _check_pairs(table: LoadedTable, period: pd.Series, p: BeforeAfterParams, source: str):
    seen = pd.crosstab(table.frame[p.unit], period)
    lonely = seen.index[(seen.get("before", 0) == 0) | (seen.get("after", 0) == 0)]
    if len(lonely) == 0:
        return
    if p.data.on_invalid == "error":
        units = table.frame[p.unit]
        shown = table.examples(units.isin(lonely) & ~units.duplicated(), units)
        raise DataError(source, Problem(f"column {p.unit!r}", f"{len(lonely)} unit(s) have data "
                                        f"in only one period: {shown}.",
                                        "the paired design needs every unit in both periods: "
                                        "remove them, set data.on_invalid: exclude, or use "
                                        "design: independent."))
    table.exclude(table.frame[p.unit].isin(lonely).to_numpy(), "unit missing a period", p.unit,
                  "the paired design needs every unit in both periods: use design: "
                  "independent.")
    if len(table.frame[p.unit].unique()) < 2:
        raise DataError(source, Problem(f"column {p.unit!r}", "fewer than two units are in both "
                                        "periods.", "use design: independent."))
