"""Rank intervals for league tables: how sure is "team A is in the top k"?

Each unit's estimate is redrawn ``resamples`` times — by resampling its own observations with
replacement (:func:`bootstrap_ranks`, the nonparametric bootstrap of Goldstein & Spiegelhalter
1996, "League tables and their limitations", JRSS A 159:385) or from its normal sampling
distribution N(estimate, se²) (:func:`sampling_ranks`) — every draw is ranked (1 = best; ties
broken at random, so exchangeable units get uniform ranks) and a unit's rank interval is the
(1 − level)/2 and (1 + level)/2 quantiles of its ranks (the inverse empirical CDF: integers).

"Top k" is supported when the unit's upper rank bound is ≤ k (:func:`claim_supported`); a claim
that persists ("top two, three months running") needs that in each period
(:func:`claim_runs`, :func:`claim_persists`). With K exchangeable units every unit's rank is
uniform on 1…K, so its 95 % interval is [1, K] whenever 1/K ≥ 2.5 % (K ≤ 40).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem

#: draws are made in blocks of this many resamples (bounds memory for large units)
BLOCK = 250


class RankDataError(DataError):
    """A table rank intervals cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> RankDataError:
    return RankDataError("rank intervals", Problem(where, what, fix))


@dataclass(frozen=True)
class RankIntervals:
    """``table``: unit, estimate, rank (of the estimate itself, 1 = best, ties share the best
    rank), mean_rank, rank_low, rank_high (the interval at ``level``), p_top1 (share of draws
    ranked first); sorted by rank."""

    table: pd.DataFrame
    resamples: int
    seed: int
    level: float
    higher_is_better: bool
    method: str

    def summary(self) -> pd.DataFrame:
        """One row: units, resamples, seed, level, higher_is_better, method, and how many units
        have a single-rank interval (``decided``)."""
        t = self.table
        return pd.DataFrame([{
            "units": len(t), "decided": int((t["rank_low"] == t["rank_high"]).sum()),
            "resamples": self.resamples, "seed": self.seed, "level": self.level,
            "higher_is_better": self.higher_is_better, "method": self.method}])


def bootstrap_ranks(data: pd.DataFrame, unit: str, value: str, *, higher_is_better: bool = True,
                    resamples: int = 2000, seed: int = 0, level: float = 0.95) -> RankIntervals:
    """Rank intervals from resampling each unit's observations (one row per observation; the
    statistic is the mean of ``value``: a share when it is 0/1)."""
    _check(data, [unit, value], resamples, level)
    groups = {u: g.to_numpy(dtype=float) for u, g in data.groupby(unit, sort=True)[value]}
    small = [str(u) for u, v in groups.items() if v.size < 2]
    if small:
        raise _fail(f"units {small[:5]} have fewer than 2 observations",
                    "drop them or pool them before ranking", f"column '{unit}'")
    rng = np.random.default_rng(seed)
    units = list(groups)
    draws = np.empty((resamples, len(units)))
    for j, u in enumerate(units):
        v = groups[u]
        for start in range(0, resamples, BLOCK):
            b = min(BLOCK, resamples - start)
            draws[start:start + b, j] = v[rng.integers(0, v.size, (b, v.size))].mean(axis=1)
    est = np.array([groups[u].mean() for u in units])
    return _intervals(units, est, draws, rng, higher_is_better, resamples, seed, level,
                      "bootstrap of each unit's observations")


def sampling_ranks(data: pd.DataFrame, unit: str, estimate: str, se: str, *,
                   higher_is_better: bool = True, resamples: int = 2000, seed: int = 0,
                   level: float = 0.95) -> RankIntervals:
    """Rank intervals from each unit's sampling distribution N(estimate, se²) (one row per
    unit; for a share p of n use se = √(p(1 − p)/n))."""
    _check(data, [unit, estimate, se], resamples, level)
    if data[unit].duplicated().any():
        raise _fail("a unit appears on more than one row", "one row per unit",
                    f"column '{unit}'")
    est = pd.to_numeric(data[estimate], errors="coerce").to_numpy(dtype=float)
    s = pd.to_numeric(data[se], errors="coerce").to_numpy(dtype=float)
    if np.isnan(est).any() or np.isnan(s).any() or (s < 0).any():
        raise _fail("estimates and standard errors must be numbers, SEs ≥ 0",
                    "fill or drop those rows", f"columns '{estimate}', '{se}'")
    rng = np.random.default_rng(seed)
    draws = est + s * rng.standard_normal((resamples, est.size))
    return _intervals(list(data[unit]), est, draws, rng, higher_is_better, resamples, seed,
                      level, "normal draws from each unit's sampling distribution")


def claim_supported(ranks: RankIntervals | pd.DataFrame, unit, top_k: int) -> bool:
    """Whether "``unit`` is in the top ``top_k``" is supported: its upper rank bound ≤ k."""
    t = ranks.table if isinstance(ranks, RankIntervals) else ranks
    row = t.loc[t["unit"] == unit]
    if row.empty:
        raise _fail(f"no unit {unit!r} among {t['unit'].tolist()[:10]}", "name a ranked unit")
    return bool(row["rank_high"].iloc[0] <= top_k)


def claim_runs(ranks_by_period: Mapping[object, RankIntervals | pd.DataFrame],
               top_k: int) -> pd.DataFrame:
    """Per unit and period (in the mapping's order, oldest first): supported (upper rank bound
    ≤ k) and run — the number of consecutive periods up to this one where it was supported
    (0 when not; a unit absent from a period breaks its run)."""
    rows, run = [], {}
    periods = list(ranks_by_period)
    units = sorted({u for r in ranks_by_period.values()
                    for u in (r.table if isinstance(r, RankIntervals) else r)["unit"]}, key=str)
    for period in periods:
        r = ranks_by_period[period]
        t = (r.table if isinstance(r, RankIntervals) else r).set_index("unit")
        for u in units:
            ok = bool(u in t.index and t.loc[u, "rank_high"] <= top_k)
            run[u] = run.get(u, 0) + 1 if ok else 0
            rows.append({"unit": u, "period": period, "supported": ok, "run": run[u]})
    return pd.DataFrame(rows)


def claim_persists(ranks_by_period: Mapping[object, RankIntervals | pd.DataFrame], unit,
                   top_k: int, periods: int) -> bool:
    """"``unit`` in the top k, ``periods`` periods running": supported in each of the last
    ``periods`` periods of the mapping (oldest first)."""
    if periods > len(ranks_by_period):
        return False
    runs = claim_runs(ranks_by_period, top_k)
    last = runs[(runs["unit"] == unit) & (runs["period"] == list(ranks_by_period)[-1])]
    return bool(not last.empty and last["run"].iloc[0] >= periods)


def _intervals(units, est, draws, rng, higher_is_better, resamples, seed, level, how):
    sign = -1.0 if higher_is_better else 1.0
    tiebreak = rng.random(draws.shape)
    # rank of each unit within each draw: order by (sign × value, random key)
    order = np.lexsort((tiebreak, sign * draws), axis=1)
    rank = np.empty_like(order)
    rows = np.arange(draws.shape[0])[:, None]
    rank[rows, order] = np.arange(1, draws.shape[1] + 1)
    a = (1 - level) / 2
    low = np.quantile(rank, a, axis=0, method="inverted_cdf")
    high = np.quantile(rank, 1 - a, axis=0, method="inverted_cdf")
    point = pd.Series(sign * est).rank(method="min").to_numpy()
    table = pd.DataFrame({"unit": units, "estimate": est, "rank": point.astype(int),
                          "mean_rank": rank.mean(axis=0), "rank_low": low.astype(int),
                          "rank_high": high.astype(int), "p_top1": (rank == 1).mean(axis=0)})
    return RankIntervals(table.sort_values(["rank", "unit"], ignore_index=True), resamples,
                         seed, level, higher_is_better,
                         f"{how}; {resamples} draws, ranks 1 = best, ties at random; "
                         f"{level:.0%} percentile rank intervals")


def _check(data, cols, resamples, level):
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise _fail(f"no column(s) {missing}; the table has {list(data.columns)}",
                    "name the unit and value columns", "columns")
    if data[cols[0]].nunique() < 2:
        raise _fail("fewer than 2 units to rank", "rank at least two units",
                    f"column '{cols[0]}'")
    if resamples < 100 or not 0 < level < 1:
        raise _fail(f"resamples={resamples}, level={level}",
                    "use at least 100 resamples and 0 < level < 1")
