"""Simulators for calibration by simulation (tests and ``benchmarks/``): clustered tickets with
a given ICC and effect, DiD panels, interrupted time series with AR(1) errors, and the true RMST
ratio of two log-normal arms. Each takes a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def clustered_tickets(rng: np.random.Generator, icc: float, effect: float, weeks: int = 10,
                      per_week: int = 60, kind: str = "score") -> pd.DataFrame:
    """Tickets of ``2 × weeks`` calendar weeks sharing week-level shocks (intra-week correlation
    ``icc``), before and after an intervention with a known ``effect``: for calibrating the
    before/after verdicts. ``kind``: "score" (unit variance, effect in score points), "share"
    (0/1 around 50 %, effect in share points), "duration" (log-normal, effect on the log
    scale) or "censored" (the same durations, independently censored — about a quarter of them —
    with a 0/1 ``event`` column; true restricted means: :func:`lognormal_rmst`)."""
    week = np.repeat(np.arange(2 * weeks), per_week)
    after = week >= weeks
    shock = rng.normal(0, np.sqrt(icc), 2 * weeks)[week]
    noise = rng.normal(0, np.sqrt(1 - icc), week.size)
    if kind == "share":
        p = np.clip(0.5 + 0.5 * shock + effect * after, 0.01, 0.99)
        y = (rng.random(week.size) < p).astype(float)
    elif kind in ("duration", "censored"):
        y = 10 * np.exp(shock + noise + effect * after)
    else:
        y = shock + noise + effect * after
    out = pd.DataFrame({"y": y, "period": np.where(after, "after", "before"), "_week": week})
    if kind == "censored":
        limit = 10 * np.exp(rng.normal(1.0, 1.0, week.size))
        out["event"] = (y <= limit).astype(int)
        out["y"] = np.minimum(y, limit)
    return out


def did_panel(rng: np.random.Generator, units: int, treated: int, periods: int = 8,
              effect: float = 0.0, rho: float = 0.5) -> pd.DataFrame:
    """A unit × period panel for calibrating control-group inference: unit and period effects,
    AR(1) noise (``rho``) with a unit-specific scale, the first ``treated`` units treated from
    the middle period on with a constant ``effect``. Columns unit, period, treated, post,
    value."""
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    noise = np.empty((units, periods))
    scale = rng.uniform(0.5, 1.5, units)
    noise[:, 0] = rng.normal(size=units) / np.sqrt(1 - rho ** 2)
    for s in range(1, periods):
        noise[:, s] = rho * noise[:, s - 1] + rng.normal(size=units)
    tr = (u < treated).astype(float)
    post = (t >= periods // 2).astype(float)
    y = (rng.normal(size=units)[u] + rng.normal(size=periods)[t]
         + (scale[:, None] * noise).ravel() + effect * tr * post)
    return pd.DataFrame({"unit": u, "period": t, "treated": tr, "post": post, "value": y})


def its_series(rng: np.random.Generator, n: int, phi: float, washout: bool,
               delta: float = 0.0, season: float = 1.0,
               start: str = "2023-01-02") -> tuple[pd.DatetimeIndex, np.ndarray, pd.Timestamp,
                                                   tuple | None]:
    """A weekly series for calibrating the interrupted time series: level 10, trend 0.02 per
    week, a yearly cycle ``season``·(1.5 sin + 0.8 cos of the 52.18-week cycle), AR(1) errors
    with unit innovations, and a level change ``delta`` from the middle week on (two weeks later
    with ``washout``, whose window covers the weeks before, at and after the middle).
    Returns (dates, values, intervention date, washout window or None)."""
    z = rng.normal(size=n)
    e = np.empty(n)
    e[0] = z[0] / np.sqrt(1 - phi ** 2)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + z[i]
    t = np.arange(n)
    angle = 2 * np.pi * t / 52.18
    mid = n // 2
    t0 = mid + 2 if washout else mid
    cycle = season * (1.5 * np.sin(angle) + 0.8 * np.cos(angle))
    y = 10 + 0.02 * t + cycle + delta * (t >= t0) + e
    dates = pd.Timestamp(start) + pd.to_timedelta(7 * t, unit="D")
    window = (dates[mid - 1], dates[mid + 1] + pd.Timedelta(days=6)) if washout else None
    return dates, y, dates[mid], window


def lognormal_rmst(tau: float, effect: float, scale: float = 10.0) -> float:
    """The restricted mean to ``tau`` of T = scale·exp(N(effect, 1)) (``clustered_tickets``'
    durations, shocks and noise together): E[min(T, τ)] = scale·e^(μ + 1/2)·Φ(z − 1) +
    τ·(1 − Φ(z)), z = log(τ/scale) − μ, μ = effect."""
    from scipy import stats

    z = np.log(tau / scale) - effect
    return float(scale * np.exp(effect + 0.5) * stats.norm.cdf(z - 1) + tau * stats.norm.sf(z))
