"""Staggered-adoption panels with known group-time effects, for tests and calibration
(``benchmarks/calibration_staggered.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd


def _effects(effect, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    if callable(effect):
        out = np.asarray(effect(e, g), dtype=float)
        return np.broadcast_to(out, e.shape).astype(float)
    if isinstance(effect, Mapping):
        return np.array([float(effect.get(int(k), 0.0)) for k in e.ravel()]).reshape(e.shape)
    return np.full(e.shape, float(effect))


def staggered_panel(rng: np.random.Generator, periods: int, cohorts: Mapping[int, int],
                    never: int, effect: float | Mapping[int, float] | Callable = 0.0, *,
                    rho: float = 0.5, covariate_trend: float = 0.0) -> pd.DataFrame:
    """A balanced panel of ``sum(cohorts.values()) + never`` units over periods 1..``periods``.

    Parameters
    ----------
    rng : numpy.random.Generator
    periods : int
        T.
    cohorts : mapping
        First treated period g → number of units adopting then (2 ≤ g ≤ T).
    never : int
        Never-treated units.
    effect : float, mapping or callable
        The effect on a treated unit at event time e = t − g ≥ 0: a constant, ``{e: effect}``
        (event times not listed: none) or ``f(e, g)`` on arrays. No effect before adoption.
    rho : float
        AR(1) coefficient of the noise (unit-specific scale ~ U(0.5, 1.5)).
    covariate_trend : float
        A unit covariate x ~ N(0.5·k, 1) for the k-th cohort (k = 0 never treated, 1 the
        earliest) adds ``covariate_trend``·x·(t − 1): parallel trends then hold only given x.

    Returns
    -------
    DataFrame
        unit, period, cohort (0 = never treated), x, value, effect (the true effect in that
        unit-period). The true ATT(g, t) is the mean of ``effect`` over cohort g at t.

    Notes
    -----
    value = unit effect N(0, 1) + period effect N(0, 1) + covariate trend + scale·AR(1) noise
    + effect.
    """
    gs = sorted(cohorts)
    g_unit = np.concatenate([np.repeat(np.array(gs, dtype=int), [cohorts[g] for g in gs]),
                             np.zeros(never, dtype=int)])
    rank = np.concatenate([np.repeat(np.arange(1, len(gs) + 1), [cohorts[g] for g in gs]),
                           np.zeros(never, dtype=int)])
    n = g_unit.size
    t = np.arange(1, periods + 1)
    x = rng.normal(0.5 * rank, 1.0)
    noise = np.empty((n, periods))
    scale = rng.uniform(0.5, 1.5, n)
    noise[:, 0] = rng.normal(size=n) / np.sqrt(1 - rho ** 2)
    for s in range(1, periods):
        noise[:, s] = rho * noise[:, s - 1] + rng.normal(size=n)
    e = t[None, :] - g_unit[:, None]
    treated = (g_unit[:, None] > 0) & (e >= 0)
    tau = np.where(treated, _effects(effect, e, np.broadcast_to(g_unit[:, None], e.shape)), 0.0)
    y = (rng.normal(size=n)[:, None] + rng.normal(size=periods)[None, :]
         + covariate_trend * x[:, None] * (t[None, :] - 1) + scale[:, None] * noise + tau)
    return pd.DataFrame({"unit": np.repeat(np.arange(n), periods), "period": np.tile(t, n),
                         "cohort": np.repeat(g_unit, periods), "x": np.repeat(x, periods),
                         "value": y.ravel(), "effect": tau.ravel()})
