"""The composite index for the report: weights, AHP consistency, scores with bootstrap
intervals, and which neighbouring ranks the data cannot tell apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.designs.scorecard.display import Figure, Table, Text
from sqresearch.designs.scorecard.present import level
from sqresearch.report import tables

_NONE = Text("No composite index was requested.")


def _score(v) -> str:
    return f"{v:.1f}"


def weights_table(study) -> Table | Text:
    rep = study.index
    if rep is None:
        return _NONE
    w = rep.index.weights
    how = {"ahp": "AHP (principal eigenvector of the pairwise comparisons)",
           "entropy": "entropy of the indicator values across units",
           "expert": "expert weights, as given"}[rep.index.method]
    return Table(pd.DataFrame({"Indicator": [study.label(k) for k in w["indicator"]],
                               "Better when": w["direction"],
                               "Weight": [f"{v:.3f}" for v in w["weight"]]}),
                 f"Indicator weights: {how}")


def ahp_text(study) -> Text:
    rep = study.index
    if rep is None or rep.index.ahp is None:
        return Text("The weights do not come from pairwise comparisons, so there is no AHP "
                    "consistency check.")
    a = rep.index.ahp
    verdict = ("acceptable (at most 0.10)" if a.consistent else
               "**inconsistent** (above 0.10): revise the judgements before relying on the "
               "weights")
    return Text(f"AHP consistency: λmax = {a.lambda_max:.4f} for {a.n} indicators, consistency "
                f"index CI = {a.ci:.4f}, consistency ratio CR = {a.cr:.4f} — {verdict}.")


def _table_rows(study) -> pd.DataFrame:
    """Scores (with intervals when there are any), ranks and the raw indicator values."""
    return study.index.summary()


def index_table(study) -> Table | Text:
    rep = study.index
    if rep is None:
        return _NONE
    s = _table_rows(study)
    view = pd.DataFrame({"Rank": s["rank"], rep.unit_name.capitalize(): s["unit"]})
    if rep.uncertainty is not None:
        view[f"Index ({level(study)} interval)"] = [
            f"{_score(r.index)} ({_score(r.index_low)} to {_score(r.index_high)})"
            for r in s.itertuples()]
        view[f"Rank ({level(study)} interval)"] = [
            f"{r.rank_low}" if r.rank_low == r.rank_high else f"{r.rank_low} to {r.rank_high}"
            for r in s.itertuples()]
    else:
        view["Index (0–100)"] = [_score(v) for v in s["index"]]
    for k in rep.values.columns:
        view[study.label(k)] = [tables.fmt(v, study.unit(k)) for v in s[k]]
    drawn = "" if rep.resampled == "all tickets" else f", drawn from {rep.resampled}"
    what = ("percentile bootstrap of the tickets within each unit, "
            f"{rep.uncertainty.resamples:,} resamples, weights held fixed{drawn}"
            if rep.uncertainty is not None else "no intervals: the values come from a "
            "ready indicator table, with no tickets to resample")
    return Table(view, f"Composite index by {rep.unit_name}, best first ({what}), and the "
                 "indicator values behind it")


def index_figure(study) -> Figure | Text:
    import matplotlib.pyplot as plt

    rep = study.index
    if rep is None:
        return _NONE
    s = _table_rows(study).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(s) + 1.4), layout="constrained")
    y = np.arange(len(s))
    ax.barh(y, s["index"], color="#1f5f8b", alpha=0.85)
    if rep.uncertainty is not None:
        ax.errorbar(s["index"], y, xerr=[s["index"] - s["index_low"],
                                         s["index_high"] - s["index"]],
                    fmt="none", ecolor="#222", capsize=3, lw=1)
    ax.set_yticks(y, s["unit"].astype(str).tolist())
    ax.set_xlim(0, 105)
    ax.set_xlabel("composite index, 0–100 (0 = worst unit on every indicator, 100 = best)")
    ax.set_ylabel(rep.unit_name)
    ax.set_title(f"Composite index by {rep.unit_name}", loc="left", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    bars = "with " + level(study) + " bootstrap intervals" if rep.uncertainty else "(no intervals)"
    return Figure(fig, f"Horizontal bars of the composite index per {rep.unit_name}, best at "
                  f"the top, {bars}.")


def rank_statement(study) -> Text:
    """Which neighbouring units the data cannot tell apart (unadjusted, pairwise)."""
    rep = study.index
    if rep is None:
        return _NONE
    if rep.uncertainty is None:
        return Text("The index comes from a ready indicator table, so its ranks carry no "
                    "sampling uncertainty here: treat small differences with caution.")
    nb = rep.uncertainty.neighbours()
    close = nb[~nb["distinguishable"]]
    unit = rep.unit_name
    head = (f"**Which ranks are told apart.** Each {unit} is compared with the next-ranked one: "
            f"the {level(study)} bootstrap interval of their index difference either excludes 0 "
            "(the order is supported by the data) or not (pairwise, not adjusted for "
            "multiplicity).")
    if close.empty:
        return Text(head + f" Every neighbouring pair of {unit}s is told apart.")
    if len(close) == len(nb):
        return Text(head + f" Not one of the {len(nb)} neighbouring pairs is told apart: the data "
                    "do not support the order of any two adjacent units; read the rank "
                    "intervals in the table instead.")
    pairs = "; ".join(f"{r.higher} and {r.lower} (difference {_score(r.difference)}, "
                      f"{_score(r.diff_low)} to {_score(r.diff_high)})"
                      for r in close.itertuples())
    return Text(head + f" Not distinguishable: {pairs}. Told apart: {len(nb) - len(close)} "
                f"of {len(nb)} neighbouring pairs.")
