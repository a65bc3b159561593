"""The monitor's weekly table: one row per metric, cell and ISO week with what the alert checks
need (``stats.alerts.baseline_alerts``), and the per-ticket values behind it.

A cell is the whole service (``all``), one level of one segment (``team=east``) or a level of
every segment crossed (``team=east & channel=phone``). Metrics come from ``kpi.metrics``:
binary metrics are rates (successes out of n), durations are judged on the log scale (the mean
of log minutes; a reply within a second counts as one second), scores by their mean and SD
(NPS per ticket: +100 promoter, −100 detractor, 0 passive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io import pdca_rows
from sqresearch.kpi.engine import stamp_labels
from sqresearch.kpi.metrics import BUILTIN, MetricSpec

#: stats.alerts kinds by metric type
KIND = {"binary": "rate", "duration": "duration", "continuous": "score", "nps": "score"}
FLOOR_MIN = 1 / 60  # durations below one second are read as one second (log scale)
ALL = "all"


@dataclass(frozen=True)
class Metric:
    """A monitored metric: its spec and the column of per-ticket values the checks use."""

    spec: MetricSpec
    values: str  # column in the ticket frame: 0/1, log minutes, or a score

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return KIND[self.spec.type]


def iso_week(stamps: pd.Series) -> pd.Series:
    """'2026-W47' for each timestamp (ISO 8601 week, Monday start), made once per date."""
    def label(days: pd.DatetimeIndex):
        iso = days.isocalendar()
        return [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]

    return stamp_labels(stamps, label)


def week_monday(label: str) -> pd.Timestamp:
    """The Monday of an ISO week label, as a Timestamp (``io.pdca_rows.week_monday``)."""
    return pd.Timestamp(pdca_rows.week_monday(label))


def shift_week(label: str, weeks: int) -> str:
    d = week_monday(label) + pd.Timedelta(weeks=weeks)
    return "{}-W{:02d}".format(*d.isocalendar()[:2])


def metrics_for(names: list[str], slas, csat_top: float) -> list[Metric]:
    out = []
    for name in names:
        if name in BUILTIN:
            spec = BUILTIN[name]
        else:
            sla = next(s for s in slas if f"sla_{s.name}" == name)
            clock = "first response" if sla.clock == "first_response" else "resolution"
            spec = MetricSpec(name, sla.label or f"SLA: {clock} within {sla.within:g} "
                              f"{sla.unit}", "binary", "share", "higher", name)
        out.append(Metric(spec, f"_v_{name}"))
    return out


def add_values(frame: pd.DataFrame, metrics: list[Metric], csat_top: float) -> pd.DataFrame:
    """``frame`` with the ISO ``week`` and one value column per metric (see the module notes)."""
    out = frame.assign(week=iso_week(frame["created"]))
    for m in metrics:
        s = m.spec
        if s.name == "csat_top2":
            raw = out["csat"].where(out["csat"].isna(), (out["csat"] >= csat_top - 1)
                                    .astype(float))
        elif s.type == "nps":
            v = out["nps"]
            raw = pd.Series(np.select([v >= 9, v <= 6], [100.0, -100.0], 0.0),
                            index=out.index).where(v.notna())
        elif s.type == "duration":
            raw = np.log(out[s.column].clip(lower=FLOOR_MIN))
        else:
            raw = out[s.column]
        out[m.values] = pd.to_numeric(raw, errors="coerce").astype(float)
    return out


def cell_levels(segments: list[str]) -> list[tuple[str, ...]]:
    """The segment combinations judged: none (all), each alone, every one crossed."""
    levels = [(), *[(s,) for s in segments]]
    if len(segments) > 1:
        levels.append(tuple(segments))
    return levels


def cell_name(cols: tuple[str, ...], values: tuple) -> str:
    return " & ".join(f"{c}={v}" for c, v in zip(cols, values, strict=True)) or ALL


def weekly_table(frame: pd.DataFrame, metrics: list[Metric], segments: list[str]
                 ) -> pd.DataFrame:
    """One row per metric × cell × week: kpi, cell, level, week, kind, direction, n, successes,
    value, sd (and the segment columns, missing where the cell does not fix them)."""
    parts = []
    for cols in cell_levels(segments):
        keys = [*cols, "week"]
        for m in metrics:
            g = frame[[*keys, m.values]].dropna(subset=[m.values]).groupby(
                keys, observed=True, sort=True)[m.values]
            t = pd.DataFrame({"n": g.size(), "successes": g.sum(), "value": g.mean(),
                              "sd": g.std(ddof=1)}).reset_index()
            t["cell"] = [cell_name(cols, tuple(r)) for r in
                         t[list(cols)].itertuples(index=False, name=None)] if cols else ALL
            t = t.assign(kpi=m.name, kind=m.kind, direction=m.spec.direction,
                         level=" × ".join(cols) or ALL)
            if m.kind != "rate":
                t["successes"] = np.nan
            parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    lead = ["kpi", "cell", "level", "week", "kind", "direction", "n", "successes", "value", "sd"]
    return out[lead + [c for c in segments if c in out.columns]]


def cell_mask(frame: pd.DataFrame, cell: str) -> pd.Series:
    """Rows of ``frame`` in ``cell`` ('all', 'team=east', 'team=east & channel=phone')."""
    mask = pd.Series(True, index=frame.index)
    if cell == ALL:
        return mask
    for part in cell.split(" & "):
        col, _, val = part.partition("=")
        mask &= frame[col].astype(str) == val
    return mask


def cell_parts(cell: str) -> dict[str, str]:
    if cell == ALL:
        return {}
    return dict(part.partition("=")[::2] for part in cell.split(" & "))


def finer_segments(cell: str, segments: list[str]) -> list[str]:
    """The segments a cell does not fix (the sub-segments its change can be decomposed by)."""
    fixed = cell_parts(cell)
    return [s for s in segments if s not in fixed]


