"""Service KPIs: the catalogue, the engine that computes them per group and period, business-hours
clocks and targets (``../shared/domain.md`` §1–§3).

The catalogue names are imported at once (no pandas); the engine's are loaded on first use
(PEP 562), so parameter checks stay fast.
"""

from sqresearch.kpi.catalogue import (
    CATALOGUE,
    ROLE_NAMES,
    Kpi,
    fcr_needs,
    known_kpis,
    kpi_needs,
    sla_kpi,
)

_ENGINE = ("Context", "context_for", "group_kpis", "kpi_table", "load_study_table",
           "period_labels", "prepare", "prepare_table", "series", "study_frame", "ticket_checks",
           "ticket_roles")

__all__ = ["CATALOGUE", "ROLE_NAMES", "Kpi", "fcr_needs", "known_kpis", "kpi_needs", "sla_kpi",
           *_ENGINE]


def __getattr__(name: str):
    if name in _ENGINE:
        from sqresearch.kpi import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'sqresearch.kpi' has no attribute {name!r}")
