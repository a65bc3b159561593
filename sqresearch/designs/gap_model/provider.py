"""The provider-side gaps: 1 (managers' view of expectations), 2 (written standards vs
expectations), 3 (delivered performance vs standards) and 4 (delivered vs promised)."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.kpi.targets import judge
from sqresearch.stats import compare, servqual

NEEDS = {"gap 1": "a management survey (management)",
         "gap 2": "a service-standards table (standards)",
         "gap 3": "standards with KPI targets and KPI data (standards, kpi_data)",
         "gap 4": "published promises and KPI data (promises, kpi_data)"}


def gap1(study) -> pd.DataFrame | None:
    """Managers' E minus customers' E per dimension: Welch t, Holm across the dimensions."""
    p, inputs = study.params, study.inputs
    if inputs.management is None:
        return None
    m = inputs.management.frame.set_axis(
        [c.removeprefix(p.expectation_prefix) for c in inputs.management.frame.columns], axis=1)
    m = servqual.reverse_code(m[list(study.instrument["item"])], study.instrument, p.scale)
    m_dim, _ = servqual.dimension_scores(m, study.instrument, p.min_item_share)
    rows = []
    for dim in study.dims:
        r = compare.welch(study.E_dim[dim], m_dim[dim], p.alpha).iloc[0]
        rows.append({"dimension": dim, "customers_E": study.E_dim[dim].mean(),
                     "managers_E": m_dim[dim].mean(), "gap": r.estimate, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "t": r.statistic, "p_value": r.p_value,
                     "n_customers": int(study.E_dim[dim].notna().sum()),
                     "n_managers": int(m_dim[dim].notna().sum())})
    out = pd.DataFrame(rows)
    out["p_holm"] = compare.holm(out["p_value"])
    return out


def gap2(study) -> pd.DataFrame | None:
    """Per dimension: the number of written standards, their mean stated level (when given)
    and that level minus customers' mean expectation."""
    s = study.inputs.standards
    if s is None:
        return None
    rows = []
    for dim in study.dims:
        part = s[s["dimension"] == dim]
        level = pd.to_numeric(part.get("level", pd.Series(dtype=str)), errors="coerce").dropna()
        e = study.E_dim[dim].mean()
        lv = level.mean() if len(level) else math.nan
        rows.append({"dimension": dim, "standards": len(part), "customers_E": e,
                     "standard_level": lv, "gap": lv - e})
    return pd.DataFrame(rows)


def judged(study, table: pd.DataFrame | None, what: str) -> pd.DataFrame | None:
    """Each standard or promise with a KPI: delivered (estimate and CI over kpi_data) against
    its target, with the status and how certain it is."""
    kpis = study.inputs.kpis
    if table is None or kpis is None:
        return None
    k = kpis.set_index("kpi")
    rows = []
    for r in table[table.get("kpi", "") != ""].itertuples():
        if r.kpi not in k.index:
            continue
        est = k.loc[r.kpi]
        status, certainty = judge(est.estimate, est.ci_low, est.ci_high, r.op, float(r.target))
        rows.append({what: getattr(r, what), "dimension": getattr(r, "dimension", ""),
                     "kpi": r.kpi, "label": est.label, "op": r.op, "target": float(r.target),
                     "unit": est.unit, "estimate": est.estimate, "ci_low": est.ci_low,
                     "ci_high": est.ci_high, "n": est.n, "status": status,
                     "certainty": certainty})
    return pd.DataFrame(rows)


def provider_gaps(study) -> dict[str, pd.DataFrame | None]:
    return {"gap 1": gap1(study), "gap 2": gap2(study),
            "gap 3": judged(study, study.inputs.standards, "standard"),
            "gap 4": judged(study, study.inputs.promises, "promise")}


def missing(gaps: dict) -> list[str]:
    """'gap 1: needs a management survey (management)' for each gap that could not be
    assessed."""
    return [f"{g}: needs {NEEDS[g]}" for g, v in gaps.items() if v is None]
