"""The KPI catalogue: names, labels, units, directions and the column roles each KPI needs
(``../shared/domain.md`` §1). Free of pandas so that parameter checks (``sqr validate --quick``,
``sqr run --all`` deciding what is unchanged) stay fast; the engine computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqresearch.io.schemas import TICKET_ROLES

ROLE_NAMES = list(TICKET_ROLES)


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # "min", "h", "business h", "share", "score", "points", "per 1,000", "contacts"
    direction: str  # "lower" or "higher" is better; "" for volume
    needs: tuple[str, ...]
    definition: str


CATALOGUE: dict[str, Kpi] = {k.name: k for k in [
    Kpi("contacts", "Contacts", "contacts", "", (), "number of tickets/contacts created"),
    Kpi("frt_mean", "First response time, mean", "min", "lower", ("first_response",),
        "first agent reply − created, calendar minutes, over answered tickets; t interval"),
    Kpi("frt_median", "First response time, median", "min", "lower", ("first_response",),
        "median of first agent reply − created (R type 7), answered tickets; order-statistic "
        "interval"),
    Kpi("frt_p90", "First response time, 90th percentile", "min", "lower", ("first_response",),
        "90th percentile of first agent reply − created (R type 7); order-statistic interval"),
    Kpi("ttr_median", "Resolution time, median", "h", "lower", ("resolved",),
        "Kaplan–Meier median of resolved − created in calendar hours; open tickets censored at "
        "the data cut; log-transformed Greenwood interval"),
    Kpi("ttr_median_bh", "Resolution time, median (business hours)", "business h", "lower",
        ("resolved",), "as the calendar median, counting only the business-hours schedule"),
    Kpi("resolution_rate", "Resolution rate", "share", "higher", ("resolved",),
        "share of tickets resolved by the data cut; Wilson score interval"),
    Kpi("fcr", "First contact resolution", "share", "higher", (),
        "share of tickets resolved in the first interaction (convention in the report); Wilson"),
    Kpi("reopen_rate", "Reopen rate", "share", "lower", ("reopened", "resolved"),
        "resolved tickets reopened at least once / resolved tickets; Wilson score interval"),
    Kpi("csat_mean", "CSAT, mean", "score", "higher", ("csat",),
        "mean satisfaction score over surveyed tickets; t interval"),
    Kpi("csat_top2", "CSAT, top-2-box", "share", "higher", ("csat",),
        "share of surveyed tickets scoring in the top two points of the scale; Wilson"),
    Kpi("nps", "Net Promoter Score", "points", "higher", ("nps",),
        "100 × (share 9–10 − share 0–6); CI from Var = 100²((p+d) − (p−d)²)/n"),
    Kpi("ces_mean", "Customer effort score, mean", "score", "lower", ("ces",),
        "mean of the effort item (lower = easier); t interval"),
    Kpi("complaints_per_1000", "Complaints per 1,000 contacts", "per 1,000", "lower",
        ("complaint",), "complaints / contacts × 1,000; exact Poisson interval"),
]}


def fcr_needs(method: str) -> tuple[str, ...]:
    return {"flag": ("fcr_flag",), "survey": ("fcr_survey",),
            "repeat_contact": ("customer_id", "resolved")}[method]


def known_kpis(params) -> set[str]:
    """Every KPI name a study's params may refer to (targets, index, charts, labels)."""
    return set(CATALOGUE) | {f"sla_{s.name}" for s in params.sla}


def sla_kpi(sla) -> Kpi:
    clock = "first response" if sla.clock == "first_response" else "resolution"
    unit = "business " + sla.unit if sla.business_hours else sla.unit
    return Kpi(f"sla_{sla.name}", sla.label or f"SLA: {clock} within {sla.within:g} {unit}",
               "share", "higher",
               (sla.clock if sla.clock == "first_response" else "resolved",),
               f"share of tickets whose {clock} took at most {sla.within:g} {unit}; tickets still "
               "open past the limit count as missed, open ones within it are not yet judged; "
               "Wilson score interval")


def kpi_needs(name: str, params) -> tuple[str, ...]:
    """The column roles a KPI (of the catalogue, ``sla_<name>`` or ``fcr``) is computed from."""
    if name == "fcr":
        return fcr_needs(params.fcr.method)
    if name.startswith("sla_"):
        sla = next((s for s in params.sla if f"sla_{s.name}" == name), None)
        return sla_kpi(sla).needs if sla else ()
    k = CATALOGUE.get(name)
    return k.needs if k else ()
