"""Aggregations of group-time effects ATT(g, t) into an overall effect, one per cohort, one per
event time and one per calendar period, each with its influence function (R
``did::aggte(type = "simple" | "group" | "dynamic" | "calendar")``).

Cohort g's weight is its share of units, P̂(G = g) = N_g/N. Where the weights are estimated
shares (the overall "simple" effect, the "group" overall, each event time and each period) the
influence function carries the estimation of the weights too (``did``'s ``wif``):

    ψ_agg = Σ_k w_k ψ_k + Σ_k ATT_k·ψ_{w_k},
    ψ_{w_k, i} = (1{G_i = g_k} − p_k)/Σ_j p_j − (Σ_j (1{G_i = g_j} − p_j))·p_k/(Σ_j p_j)²,

over the cells k aggregated. Inference (:meth:`Aggregate.summary`) is the multiplier bootstrap
of ``staggered``: SEs, pointwise CIs, the simultaneous band over the levels (cohorts, event
times, periods) and the overall effect's p-value, all from the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.stats.staggered import (
    GroupTime,
    _fail,
    bootstrap_table,
    multiplier_bootstrap,
)

KINDS = ("simple", "group", "dynamic", "calendar")


@dataclass(frozen=True)
class Aggregate:
    """An aggregation of ATT(g, t).

    Attributes
    ----------
    kind : str
        ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.
    table : DataFrame
        level (the cohort, event time or period), estimate, cells (the ATT(g, t) averaged);
        empty for ``"simple"``.
    influence : ndarray
        Units × levels influence functions.
    overall : float
        The overall effect: the size-weighted mean of post-treatment ATT(g, t) ("simple"), the
        size-weighted mean of the cohort effects ("group"), the mean of the event-time effects
        e ≥ 0 ("dynamic") or of the period effects ("calendar").
    overall_influence : ndarray
        Its influence function (one value per unit).
    """

    kind: str
    table: pd.DataFrame
    influence: np.ndarray
    overall: float
    overall_influence: np.ndarray

    def summary(self, *, resamples: int = 999, seed: int | None, alpha: float = 0.05,
                weights: str = "mammen") -> pd.DataFrame:
        """One row per level and a last row ``level = <NA>`` for the overall effect: kind,
        level, estimate, se, ci_low, ci_high, band_low, band_high (the simultaneous band over
        the levels; NaN on the overall row), p_value, crit (:func:`staggered.bootstrap_table`).
        The levels and the overall effect share the bootstrap draws."""
        psi = np.column_stack([self.influence, self.overall_influence])
        est = np.append(self.table["estimate"].to_numpy(dtype=float), self.overall)
        draws = multiplier_bootstrap(psi, resamples=resamples, seed=seed, weights=weights)
        band = np.append(np.ones(len(self.table), bool), False)
        out = bootstrap_table(est, draws, alpha=alpha, band=band)
        level = pd.array(list(self.table["level"]) + [pd.NA], dtype="Int64")
        out.insert(0, "level", level)
        out.insert(0, "kind", self.kind)
        return out


def _wif(keep: np.ndarray, pg: np.ndarray, group: np.ndarray, g_unit: np.ndarray) -> np.ndarray:
    """Influence function of the estimated weights p_k/Σ p (units × cells kept): R ``did``'s
    ``wif``."""
    ind = (g_unit[:, None] == group[keep][None, :]).astype(float) - pg[keep][None, :]
    total = pg[keep].sum()
    return ind / total - ind.sum(axis=1)[:, None] * (pg[keep] / total ** 2)[None, :]


def _combine(att, psi, keep, pg, group, g_unit, with_wif=True):
    """Size-weighted mean of ATT over the cells ``keep`` and its influence function."""
    w = pg[keep] / pg[keep].sum()
    est = float(np.sum(att[keep] * w))
    inf = psi[:, keep] @ w
    if with_wif:
        inf = inf + _wif(keep, pg, group, g_unit) @ att[keep]
    return est, inf


def aggregate(gt: GroupTime, kind: str = "simple", *, min_e: float = -np.inf,
              max_e: float = np.inf, balance_e: int | None = None) -> Aggregate:
    """Aggregate ATT(g, t) as R ``did::aggte``.

    Parameters
    ----------
    gt : GroupTime
        From :func:`staggered.att_gt`.
    kind : {"simple", "group", "dynamic", "calendar"}
        simple: θ = Σ_{t ≥ g} p_g ATT(g, t) / Σ_{t ≥ g} p_g over post-treatment cells;
        group: θ(g) = mean_{t ≥ g} ATT(g, t), overall Σ_g p_g θ(g)/Σ_g p_g;
        dynamic: θ(e) = Σ_g p_g ATT(g, g + e)/Σ_g p_g over the cohorts observed at e, overall
        the mean of θ(e) over e ≥ 0;
        calendar: θ(t) = Σ_{g ≤ t} p_g ATT(g, t)/Σ p_g, overall the mean of θ(t).
    min_e, max_e : float
        Event times kept ("dynamic"), and the last event time kept for "simple" and "group".
    balance_e : int, optional
        "dynamic" only: keep only the cohorts observed for ``balance_e`` periods after adoption,
        and event times up to ``balance_e`` (R ``aggte(balance_e = )``), so the composition of
        cohorts does not change along the event-time axis.

    Returns
    -------
    Aggregate
    """
    if kind not in KINDS:
        raise _fail(f"aggregation {kind!r} is not one of {KINDS}.",
                    "choose simple, group, dynamic or calendar.")
    tab = gt.table
    att = tab["att"].to_numpy(dtype=float)
    group = tab["group"].to_numpy()
    time = tab["time"].to_numpy()
    e = tab["event_time"].to_numpy()
    g_unit = gt.unit_cohort
    n = g_unit.size
    pg = np.array([np.mean(g_unit == g) for g in group])
    psi = gt.influence
    post = (time >= group) & (e <= max_e)
    rows, infs = [], []
    if kind == "simple":
        keep = np.flatnonzero(post)
        if keep.size == 0:
            raise _fail("no post-treatment ATT(g, t) to aggregate.", "check the cohorts.")
        est, inf = _combine(att, psi, keep, pg, group, g_unit)
        return Aggregate(kind, pd.DataFrame({"level": [], "estimate": [], "cells": []}),
                         np.zeros((n, 0)), est, inf)
    if kind == "group":
        levels = np.unique(group[post])
        for g in levels:
            keep = np.flatnonzero(post & (group == g))
            est, inf = _combine(att, psi, keep, pg, group, g_unit, with_wif=False)
            rows.append((int(g), est, keep.size))
            infs.append(inf)
        theta = np.array([r[1] for r in rows])
        p = np.array([np.mean(g_unit == g) for g in levels])
        psi_g = np.column_stack(infs)
        w = p / p.sum()
        overall = float(theta @ w)
        ov_inf = psi_g @ w + _wif(np.arange(levels.size), p, levels, g_unit) @ theta
    else:
        if kind == "dynamic":
            ok = (e >= min_e) & (e <= max_e)
            if balance_e is not None:
                t_first, t_last = gt.periods[0], gt.periods[-1]
                ok &= (t_last - group >= balance_e) & (e <= balance_e)
                ok &= e >= balance_e - (t_last - t_first)
            key = e
        else:
            ok = time >= group
            key = time
        levels = np.unique(key[ok])
        for lev in levels:
            keep = np.flatnonzero(ok & (key == lev))
            est, inf = _combine(att, psi, keep, pg, group, g_unit)
            rows.append((int(lev), est, keep.size))
            infs.append(inf)
        if not rows:
            raise _fail("no ATT(g, t) left to aggregate with these event-time limits.",
                        "widen min_e / max_e / balance_e.")
        theta = np.array([r[1] for r in rows])
        psi_g = np.column_stack(infs)
        use = levels >= 0 if kind == "dynamic" else np.ones(levels.size, bool)
        if not use.any():
            raise _fail("no post-treatment event time to average.", "widen max_e.")
        overall = float(theta[use].mean())
        ov_inf = psi_g[:, use].mean(axis=1)
    table = pd.DataFrame(rows, columns=["level", "estimate", "cells"])
    return Aggregate(kind, table, psi_g, overall, ov_inf)
