"""Units compared without rewarding noise, and slow drifts.

**Ranking.** The units of one segment (e.g. teams) over the last ``weeks`` weeks: a funnel plot
(Spiegelhalter 2005; limits by volume, additive overdispersion when the χ² screen says so) and
bootstrap rank intervals of each unit's tickets (``stats.ranks``). "Best" is claimed only when
the rank interval supports it, and "top k for several periods running" only when it does in
each period (``claim_persists``).

**Drift.** EWMA of every cell's weekly normal score against a fixed baseline: the first
``baseline.weeks`` weeks of the data (``stats.alerts_drift``), restarted after each signal,
each cell's limit designed for its baseline's estimation error so that ≈ ``expected_false``
false drift signals come per week across the cells in steady state; ``alert`` is a signal in
the report week.
"""

from __future__ import annotations

import warnings

import pandas as pd

from sqresearch.designs.monitor.weekly import Metric, shift_week
from sqresearch.stats import funnel as funnel_mod
from sqresearch.stats import ranks as ranks_mod
from sqresearch.stats.alerts_drift import drift_alerts


def window(week: str, weeks: int) -> list[str]:
    return [shift_week(week, -k) for k in range(weeks - 1, -1, -1)]


def ranking(frame: pd.DataFrame, spec, metric: Metric, week: str, seed: int,
            periods: int = 3) -> dict:
    """Funnel, rank intervals over the window ending at ``week``, and the same rank intervals
    for the ``periods`` − 1 windows before it (for "top k, several periods running")."""
    by, v = spec.by, metric.values
    higher = metric.spec.direction == "higher"
    out = {"by": by, "metric": metric, "weeks": window(week, spec.weeks), "previous": []}
    for i in range(periods):
        end = shift_week(week, -spec.weeks * i)
        rows = frame[frame["week"].isin(window(end, spec.weeks)) & frame[v].notna()]
        rows = rows.assign(**{by: rows[by].astype(str)})
        if rows.empty:
            break
        r = ranks_mod.bootstrap_ranks(rows, by, v, higher_is_better=higher,
                                      resamples=spec.resamples, seed=seed + i)
        if i == 0:
            out["ranks"] = r
            g = rows.groupby(by)[v]
            if metric.kind == "rate":
                t = pd.DataFrame({"events": g.sum(), "n": g.size()}).reset_index()
                out["funnel"] = funnel_mod.funnel_proportion(t, by, "events", "n")
            else:
                t = pd.DataFrame({"mean": g.mean(), "n": g.size(), "sd": g.std(ddof=1)}
                                 ).reset_index()
                out["funnel"] = funnel_mod.funnel_mean(t, by, "mean", "n", "sd")
        else:
            out["previous"].append((end, r))
    return out


def claims(rank: dict, top_k: int = 1) -> pd.DataFrame:
    """Per unit: its rank interval now, and whether 'top k' is supported now and in every
    earlier window computed."""
    now = rank["ranks"].table
    periods = {end: r for end, r in reversed(rank["previous"])} | {"now": rank["ranks"]}
    rows = []
    for u in now["unit"]:
        rows.append({"unit": u, "supported_now": ranks_mod.claim_supported(rank["ranks"], u,
                                                                           top_k),
                     "supported_all_periods": ranks_mod.claim_persists(periods, u, top_k,
                                                                            len(periods)),
                     "periods": len(periods)})
    return now.merge(pd.DataFrame(rows), on="unit")


def drifts(weekly: pd.DataFrame, metrics: list[str], week: str, p) -> pd.DataFrame:
    """EWMA drift signals of the ``metrics``' cells from the first baseline weeks to ``week``
    (``stats.alerts_drift.drift_alerts``: one row per cell, ``alert`` = a signal this week)."""
    weeks = sorted(weekly["week"].unique())
    n = p.baseline.weeks
    if not metrics or len(weeks) < n + 4:
        return pd.DataFrame()
    base = (weeks[0], weeks[n - 1])
    if week <= base[1]:  # the report week inside the fixed baseline: nothing to chart yet
        return pd.DataFrame()
    w = weekly[weekly["kpi"].isin(metrics)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return drift_alerts(w, base, week, method="ewma",
                            expected_false=p.alerts.expected_false,
                            min_volume=p.alerts.min_volume, min_weeks=p.alerts.min_weeks)
