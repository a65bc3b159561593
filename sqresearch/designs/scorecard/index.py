"""The scorecard's composite index: indicator values per unit (from the ticket KPIs or a ready
indicator table), weights, scores and — for ticket KPIs — bootstrap intervals on scores and ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io.data import InputFile
from sqresearch.io.errors import DataError, ParamsError, Problem
from sqresearch.io.schemas import CompositeIndexSpec
from sqresearch.report import tables
from sqresearch.stats.weights import (
    Aggregate,
    CompositeIndex,
    IndexUncertainty,
    composite_index,
    index_uncertainty,
)

#: KPI -> (per-ticket column, how a resample aggregates it); the estimates equal kpi_table's.
#: Kaplan–Meier medians (ttr_*) are not here: the index cannot bootstrap them.
_TICKET_AGGREGATES: dict[str, tuple[str, Aggregate]] = {
    "frt_mean": ("frt_min", ("mean", 1.0)),
    "frt_median": ("frt_min", ("quantile", 0.5)),
    "frt_p90": ("frt_min", ("quantile", 0.9)),
    "resolution_rate": ("solved", ("mean", 1.0)),
    "fcr": ("fcr", ("mean", 1.0)),
    "reopen_rate": ("reopen", ("mean", 1.0)),
    "csat_mean": ("csat", ("mean", 1.0)),
    "csat_top2": ("_csat_top2", ("mean", 1.0)),
    "nps": ("_nps_points", ("mean", 100.0)),
    "ces_mean": ("ces", ("mean", 1.0)),
    "complaints_per_1000": ("complaint", ("mean", 1000.0)),
}


def bootstrap_problem(spec: CompositeIndexSpec) -> Problem | None:
    """A Problem when the index asks for intervals on an indicator they cannot be had for."""
    if spec.table is not None or spec.bootstrap.resamples == 0:
        return None
    bad = [i.kpi for i in spec.indicators if i.kpi not in _TICKET_AGGREGATES
           and not i.kpi.startswith("sla_")]
    if not bad:
        return None
    return Problem("key 'index.bootstrap'", f"bootstrap intervals are not available for "
                   f"{bad} (Kaplan–Meier medians).",
                   "use other indicators, or set index.bootstrap.resamples: 0.")


def _ticket_columns(frame: pd.DataFrame, csat_top: int) -> pd.DataFrame:
    out = frame.copy()
    if "csat" in out:
        out["_csat_top2"] = (out["csat"] >= csat_top - 1).astype(float).where(out["csat"].notna())
    if "nps" in out:
        s = out["nps"]
        out["_nps_points"] = np.select([s >= 9, s <= 6], [1.0, -1.0], 0.0)
        out["_nps_points"] = out["_nps_points"].where(s.notna())
    return out


@dataclass
class IndexReport:
    """The index with what it was computed from and, for ticket KPIs, its uncertainty."""

    index: CompositeIndex
    values: pd.DataFrame  # units × indicators, the raw indicator values
    spec: CompositeIndexSpec
    uncertainty: IndexUncertainty | None = None
    table_file: InputFile | None = None
    resampled: str = "all tickets"  # the rows the bootstrap drew from

    @property
    def unit_name(self) -> str:
        return self.spec.unit_name

    def summary(self) -> pd.DataFrame:
        """Tidy, best first: unit, index, index_low, index_high, rank, rank_low, rank_high
        (the intervals NaN without a bootstrap), then the raw indicator values."""
        if self.uncertainty is not None:
            s = self.uncertainty.intervals()
        else:
            s = self.index.scores[["unit", "index", "rank"]].assign(
                index_low=np.nan, index_high=np.nan, rank_low=np.nan, rank_high=np.nan)
            s = s[["unit", "index", "index_low", "index_high", "rank", "rank_low", "rank_high"]]
        values = self.values.reindex(s["unit"]).reset_index(drop=True)
        return s.reset_index(drop=True).join(values)


def ticket_values(kpis: pd.DataFrame, spec: CompositeIndexSpec, source: str) -> pd.DataFrame:
    """Units × indicators from a tidy KPI table (``kpi_table(by=spec.by)``)."""
    names = [i.kpi for i in spec.indicators]
    values = kpis[kpis["kpi"].isin(names)].pivot(index="group", columns="kpi",
                                                 values="estimate").reindex(columns=names)
    gaps = [f"{u}/{k}" for u in values.index for k in names if pd.isna(values.loc[u, k])]
    if gaps or len(values) < 2:
        what = (f"has no value for {', '.join(gaps[:6])}" if gaps else
                f"has {tables.count(len(values), 'unit')}; an index compares at least two")
        raise DataError(source, Problem(
            "key 'index'", f"the index by {spec.by!r} {what}.",
            "choose indicators every unit has data for, or another 'by'."))
    return values.rename_axis("unit")


def build(spec: CompositeIndexSpec, values: pd.DataFrame, *, tickets=None,
          seed: int = 0, alpha: float = 0.05, csat_top: int = 5,
          table_file: InputFile | None = None) -> IndexReport:
    """Weights and scores; with the study's ``tickets`` (``kpi.tickets``; resamples > 0)
    bootstrap intervals."""
    directions = {i.kpi: i.direction for i in spec.indicators}
    try:
        idx = composite_index(values, directions, spec.weights.method, spec.weights.values,
                              spec.weights.matrix)
    except ValueError as exc:  # e.g. entropy weights when no indicator varies across units
        bad = Problem("key 'index.weights'", f"{exc}.",
                      "use expert or AHP weights, or other indicators.")
        raise ParamsError("index", bad) from None
    unc, resampled = None, "all tickets"
    if tickets is not None and spec.bootstrap.resamples > 0:
        if (p := bootstrap_problem(spec)) is not None:
            raise ParamsError("index", p)
        derived = {"_csat_top2": "csat", "_nps_points": "nps"}
        needed = {derived.get(c, c) for c, _ in
                  (_TICKET_AGGREGATES.get(k, (k, None)) for k in directions)}
        rows, resampled = tickets.rows(sorted(needed), spec.by, seed)
        df = _ticket_columns(rows, csat_top)
        units = [str(u) for u in values.index]
        groups = {str(k): g for k, g in df.groupby(spec.by, sort=True, observed=True)}
        cols, how = {}, {}
        for name in directions:
            col, agg = _TICKET_AGGREGATES.get(name, (name, ("mean", 1.0)))  # sla_*: 0/1 column
            cols[name] = [groups[u][col].to_numpy(dtype=float) for u in units]
            how[name] = agg
        w = idx.weights.set_index("indicator").loc[list(directions), "weight"].to_numpy()
        unc = index_uncertainty(cols, how, units, [d == "higher" for d in directions.values()],
                                w, spec.bootstrap.resamples, seed, alpha)
    return IndexReport(idx, values, spec, unc, table_file, resampled)
