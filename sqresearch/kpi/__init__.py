"""Service KPIs: the catalogue, the engine that computes them per group and period, business-hours
clocks and targets (``../shared/domain.md`` §1–§3)."""

from sqresearch.kpi.engine import (
    CATALOGUE,
    ROLE_NAMES,
    Context,
    Kpi,
    context_for,
    fcr_needs,
    group_kpis,
    known_kpis,
    kpi_needs,
    kpi_table,
    load_study_table,
    period_labels,
    prepare,
    prepare_table,
    series,
    sla_kpi,
    study_frame,
    ticket_checks,
    ticket_roles,
)

__all__ = ["CATALOGUE", "ROLE_NAMES", "Context", "Kpi", "context_for", "fcr_needs", "group_kpis",
           "known_kpis", "kpi_needs", "kpi_table", "period_labels", "prepare", "prepare_table",
           "series", "load_study_table", "sla_kpi", "study_frame", "ticket_checks", "ticket_roles"]
