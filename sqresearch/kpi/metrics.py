"""The per-ticket metrics a two-period comparison can test (before/after, the weekly monitor's
checks): their type, unit, good direction and the per-ticket column of ``kpi.engine.prepare``
holding the values. No pandas and no statistics here: parameter checks use them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    type: str  # duration, continuous, binary, nps, censored
    unit: str  # min, h, score, share, points …
    direction: str  # "lower" or "higher" is better
    column: str  # the per-ticket (or per-unit) column holding the values
    event: str | None = None  # censored: the 0/1 column, 1 = ended


def _builtin() -> dict[str, MetricSpec]:
    m = MetricSpec
    return {s.name: s for s in [
        m("frt", "First response time", "duration", "min", "lower", "frt_min"),
        m("frt_bh", "First response time (business hours)", "duration", "min", "lower",
          "frt_bh_min"),
        m("ttr", "Resolution time", "censored", "h", "lower", "ttr_h", "solved"),
        m("ttr_bh", "Resolution time (business hours)", "censored", "business h", "lower",
          "ttr_bh_h", "solved"),
        m("fcr", "First contact resolution", "binary", "share", "higher", "fcr"),
        m("reopen", "Reopen rate", "binary", "share", "lower", "reopen"),
        m("complaint", "Complaint rate", "binary", "share", "lower", "complaint"),
        m("csat", "CSAT", "continuous", "score", "higher", "csat"),
        m("csat_top2", "CSAT top-2-box", "binary", "share", "higher", "csat_top2"),
        m("ces", "Customer effort score", "continuous", "score", "lower", "ces"),
        m("nps", "Net Promoter Score", "nps", "points", "higher", "nps"),
    ]}


BUILTIN = _builtin()
