"""Judge KPI estimates against targets, with their uncertainty."""

from __future__ import annotations

import math

import pandas as pd


def judge(estimate: float, ci_low: float, ci_high: float, op: str, value: float) -> tuple[str, str]:
    """(status, certainty) of one estimate against a target.

    status is ``met`` / ``not met`` by the point estimate (``no data`` when it is missing);
    certainty is ``clear`` when the whole confidence interval is on the same side of the target,
    ``within CI`` when the interval contains the target, and ``no CI`` when there is none.
    """
    if estimate is None or math.isnan(estimate):
        return "no data", ""
    met = estimate >= value if op == ">=" else estimate <= value
    if math.isnan(ci_low) or math.isnan(ci_high):
        # an open end (e.g. a median not reached) leaves the interval undecided on that side
        certainty = "no CI"
        if op == "<=" and not math.isnan(ci_high) and ci_high <= value:
            certainty = "clear"
        if op == ">=" and not math.isnan(ci_low) and ci_low >= value:
            certainty = "clear"
    else:
        certainty = "within CI" if ci_low <= value <= ci_high else "clear"
    return ("met" if met else "not met"), certainty


def verdict_word(status: str, certainty: str) -> str:
    """The target's verdict in the shared vocabulary: 'met' / 'not met' when the whole CI is on
    one side of the target, 'inconclusive' when the CI holds it (the estimate's side in
    brackets)."""
    if certainty == "within CI":
        return f"inconclusive (estimate {status})"
    return status if certainty in ("clear", "") else f"{status} ({certainty})"


def judge_table(kpis: pd.DataFrame | None, targets) -> pd.DataFrame:
    """Every target against every group of a tidy KPI table (none when ``kpis`` is None: a
    study without ticket KPIs).

    Returns
    -------
    DataFrame with ``target`` (its label), ``kpi``, ``group_by``, ``group``, ``estimate``,
    ``ci_low``, ``ci_high``, ``n``, ``unit``, ``op``, ``value``, ``status`` and ``certainty``.
    """
    rows = []
    for t in targets if kpis is not None else []:
        label = t.label or f"{t.kpi} {t.op} {t.value:g}"
        for r in kpis[kpis["kpi"] == t.kpi].itertuples():
            status, certainty = judge(r.estimate, r.ci_low, r.ci_high, t.op, t.value)
            rows.append({"target": label, "kpi": t.kpi, "group_by": r.group_by,
                         "group": r.group, "estimate": r.estimate, "ci_low": r.ci_low,
                         "ci_high": r.ci_high, "n": r.n, "unit": r.unit, "op": t.op,
                         "value": t.value, "status": status, "certainty": certainty})
    cols = ["target", "kpi", "group_by", "group", "estimate", "ci_low", "ci_high", "n", "unit",
            "op", "value", "status", "certainty"]
    return pd.DataFrame(rows, columns=cols)


def judge_goal(change: float, ci_low: float, ci_high: float) -> str:
    """An improvement goal against the CI of the achieved change (both in the goal's unit).

    ``achieved`` when the whole interval is at or beyond the goal, ``not achieved`` when it is
    entirely short of it, ``inconclusive`` when it contains it. A goal of +5 wants a rise of at
    least 5; a goal of −10 a fall of at least 10.
    """
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "inconclusive"
    if change >= 0:
        return "achieved" if ci_low >= change else ("not achieved" if ci_high < change
                                                     else "inconclusive")
    return "achieved" if ci_high <= change else ("not achieved" if ci_low > change
                                                 else "inconclusive")
