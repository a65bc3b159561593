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


def goals_view(g: pd.DataFrame, value_format: Callable[[str], Callable], missing: str
               ) -> pd.DataFrame:
    """Improvement goals: the achieved change with its CI in each goal's own scale (percent, or
    ``value_format(metric)`` for absolute goals), and the status; ``missing`` words a goal that
    could not be judged."""
    show = [(lambda v: tables.signed(v, "%")) if u == "percent" else value_format(m)
            for u, m in zip(g.unit, g.metric, strict=True)]
    return pd.DataFrame({
        "Goal": g.goal,
        "Achieved change (CI)": [f"{f(e)} ({f(lo)} to {f(hi)})" if not pd.isna(e) else missing
                                 for f, e, lo, hi in zip(show, g.estimate, g.ci_low, g.ci_high,
                                                         strict=True)],
        **({"Judged on": g.basis} if "basis" in g else {}),
        "Status": g.status})


def show_goals_and_targets(goals: pd.DataFrame, targets: pd.DataFrame,
                           captions: tuple[str, str], no_targets: str = "") -> None:
    """The report's goals and targets section: both tables, or a sentence where one is empty."""
    from sqresearch.report import notebook as nb

    if goals.empty:
        nb.md("No improvement goals were set.")
    else:
        nb.table(goals, captions[0])
    if len(targets):
        nb.table(targets, captions[1])
    elif no_targets:
        nb.md(no_targets)


def targets_view(t: pd.DataFrame, group: str) -> pd.DataFrame:
    """Targets per period (or arm and period): estimate with CI, the target, status, certainty."""
    if t.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "Target": t.target, group: t.group,
        "Estimate (CI)": [tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)
                          for r in t.itertuples()],
        "Target value": [f"{tables.OPS[r.op]} {tables.fmt(r.value, r.unit)}"
                         for r in t.itertuples()],
        "Status": t.status, "Certainty": t.certainty})
