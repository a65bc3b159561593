"""The verdict tables every study type shows: one row per metric (and segment) with the effect,
the CI at the level that decided it, p-values, the smallest effect of interest and the verdict
word; and the methods behind them, listed once."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sqresearch.report import tables
from sqresearch.stats.verdicts import fmt_sesoi


def verdict_table(v: pd.DataFrame, show: Callable, family: str | None = None,
                  units: Callable | None = None) -> pd.DataFrame:
    """``v``: a judged verdict frame (``verdicts.judge_family`` columns plus label, segment,
    sesoi, sesoi_unit, guardrail); ``show(row, value)`` formats an effect in display units;
    ``units(row)`` adds a "Units" column (cluster counts) when given. The confirmatory table
    drops the Segment column, the exploratory one the Holm column."""
    if family is not None:
        v = v[v.family == family]
    rows = []
    for r in v.itertuples():
        row = {"Metric": r.label,
               "Segment": "all" if r.segment == "all" else r.segment.replace("=", ": ")}
        if units is not None:
            row["Units"] = units(r)
        rows.append({
            **row, "Effect": show(r, r.estimate),
            "CI": f"{show(r, r.ci_low)} to {show(r, r.ci_high)}",
            "CI level": f"{100 * r.ci_level:.3g} %",
            "p": tables.fmt_p(r.p_value),
            "p (Holm)": tables.fmt_p(r.p_adjusted) if r.family == "confirmatory" else "–",
            "SESOI": fmt_sesoi(r.sesoi, r.sesoi_unit) + (" (guardrail)" if r.guardrail else ""),
            "Verdict": r.verdict + (f" — {r.note}" if r.note else "")})
    columns = ["Metric", "Segment", *(["Units"] if units is not None else []), "Effect", "CI",
               "CI level", "p", "p (Holm)", "SESOI", "Verdict"]
    out = pd.DataFrame(rows, columns=columns)
    return out.drop(columns=["Segment"] if family == "confirmatory" else ["p (Holm)"])


def method_table(v: pd.DataFrame, family: str | None = None) -> pd.DataFrame:
    """How each verdict's p-value and CI were computed, one row per distinct method."""
    if family is not None:
        v = v[v.family == family]
    out = v.groupby("method_text", sort=False)["label"].agg(lambda s: ", ".join(dict.fromkeys(s)))
    return pd.DataFrame({"Metrics": out.to_numpy(),
                         "How the p-value and CI were computed": out.index})
