"""Kaplan–Meier estimation for durations with open (right-censored) cases.

Tickets still open at the data cut are censored, not missing: a mean over solved tickets only is
biased low. The estimator and the median follow R's ``survival::survfit`` (Greenwood variance,
``conf.type = "log"``, the median read where the curve first reaches 0.5, averaged over a flat
stretch at exactly 0.5), so numbers can be checked against R. The log-rank test follows
``survival::survdiff``; the restricted mean survival time (area under the curve to a horizon τ)
follows ``survival:::survmean``. Everything is vectorised over distinct times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

_TOL = math.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KaplanMeier:
    """A fitted survival curve. ``table`` has one row per distinct time."""

    table: pd.DataFrame  # time, n_risk, n_event, n_censor, surv, lower, upper
    n: int
    events: int
    alpha: float

    @property
    def censored_share(self) -> float:
        return 1 - self.events / self.n if self.n else math.nan

    def quantile(self, p: float = 0.5) -> tuple[float, float, float]:
        """Time by which a share ``p`` of cases has ended, with its CI: (estimate, low, high).

        NaN where the curve (or a band) never gets that low ("not reached").
        """
        t = self.table["time"].to_numpy()
        target = 1 - p
        # the lower band reaches the level first, so it gives the lower limit
        return (_first_crossing(t, self.table["surv"].to_numpy(), target),
                _first_crossing(t, self.table["lower"].to_numpy(), target),
                _first_crossing(t, self.table["upper"].to_numpy(), target))

    def median(self) -> tuple[float, float, float]:
        return self.quantile(0.5)


def kaplan_meier(durations, events, alpha: float = 0.05) -> KaplanMeier:
    """Fit the Kaplan–Meier curve.

    Parameters
    ----------
    durations : array of non-negative durations (time to event, or to censoring)
    events : array of bool, True where the event (resolution) happened
    alpha : 1 - confidence level of the pointwise bands

    Notes
    -----
    S(t) = Π_{t_i ≤ t} (1 - d_i / n_i); Var(log S) = Σ d_i / (n_i (n_i - d_i)) (Greenwood);
    band S · exp(± z · se), capped at 1 (R's default "log" type).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    if d.size and d.min() < 0:
        raise ValueError("durations must be non-negative")
    times, inverse = np.unique(d, return_inverse=True)
    n_event = np.bincount(inverse, weights=e, minlength=times.size)
    n_total = np.bincount(inverse, minlength=times.size)
    return _fit(times, n_event, n_total, int(e.sum()), alpha)


def median_sorted(durations: np.ndarray, events: np.ndarray,
                  alpha: float = 0.05) -> tuple[int, tuple[float, float, float]]:
    """(n, ``kaplan_meier(durations, events, alpha).median()``) of durations sorted ascending,
    with no missing value: the distinct times are found by comparing neighbours (no second
    sort) and no table of the curve is built, so millions of distinct times cost linear time
    and a third of the memory, with the same numbers bit for bit."""
    d = np.asarray(durations, dtype=float)
    if d.size == 0:
        return 0, (math.nan, math.nan, math.nan)
    times, n_event, n_total = _counts_sorted(d, np.asarray(events, dtype=bool))
    del d
    _, surv, lower, upper = _curves(n_event, n_total, alpha)
    del n_event, n_total
    return int(durations.size), tuple(_first_crossing(times, c, 0.5)
                                      for c in (surv, lower, upper))


def _counts_sorted(d: np.ndarray, e: np.ndarray):
    """Distinct times, events and cases per time of sorted durations."""
    if d[0] < 0:
        raise ValueError("durations must be non-negative")
    starts = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]]))
    n_event = np.add.reduceat(e.astype(float), starts)
    n_total = np.diff(np.append(starts, d.size))
    return d[starts], n_event, n_total


def _fit(times: np.ndarray, n_event: np.ndarray, n_total: np.ndarray, events: int,
         alpha: float) -> KaplanMeier:
    """The curve, its Greenwood variance and log bands from the counts per distinct time."""
    n_risk, surv, lower, upper = _curves(n_event, n_total, alpha)
    table = pd.DataFrame({"time": times, "n_risk": n_risk.astype(int),
                          "n_event": n_event.astype(int),
                          "n_censor": (n_total - n_event).astype(int),
                          "surv": surv, "lower": lower, "upper": upper})
    return KaplanMeier(table, int(n_total.sum()), events, alpha)


def _curves(n_event: np.ndarray, n_total: np.ndarray, alpha: float):
    """(numbers at risk, S, lower band, upper band) per distinct time."""
    n_risk = int(n_total.sum()) - (np.cumsum(n_total) - n_total)  # cases at or after each time
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        var = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
    se = np.sqrt(var)
    del var
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", over="ignore"):
        lower = np.where(surv > 0, surv * np.exp(-z * se), np.nan)
        upper = np.where(surv > 0, np.minimum(1.0, surv * np.exp(z * se)), np.nan)
    return n_risk, surv, lower, upper


def km_median(durations: np.ndarray, events: np.ndarray) -> float:
    """The Kaplan–Meier median alone, with no table or bands: for bootstrap loops (vectorised:
    ``np.unique`` counts and cumulative products, no loop over times)."""
    times, inverse = np.unique(durations, return_inverse=True)
    n_event = np.bincount(inverse, weights=events, minlength=times.size)
    n_total = np.bincount(inverse, minlength=times.size)
    n_risk = durations.size - np.concatenate([[0], np.cumsum(n_total)[:-1]])
    surv = np.cumprod(1 - n_event / n_risk)
    return _first_crossing(times, surv, 0.5)


def _first_crossing(t: np.ndarray, s: np.ndarray, level: float) -> float:
    """When the curve ``s`` reaches ``level``, read as R's ``survival:::findq`` reads it.

    On y = 1 - s (with the point (0, 0) in front, repeated values dropped) the answer is the time
    of the smallest y >= 1 - level; where y equals it exactly over a stretch, the midpoint of the
    stretch. For a monotone curve this is the first crossing; for a confidence band, which need
    not be monotone, it is the band point nearest the level from below, as in R.
    """
    return crossing_time(crossing_points(t, s, level), level)


class Crossing(NamedTuple):
    """The few points of a curve ``_first_crossing`` reads (y = 1 - s, the point (0, 0) in
    front): a database can compute them without returning the curve."""

    top: float  # the largest non-missing y (NaN if none)
    x1: float | None  # first time of the smallest y with y + tol >= 1 - level (None: none)
    x2: float | None  # first time of the smallest y with y - tol >= 1 - level (None: none)
    last: float  # the value of y that first occurs latest (NaN if that value is missing)
    xmax: float  # the last time (0 if none)


def crossing_points(t: np.ndarray, s: np.ndarray, level: float) -> Crossing:
    p = 1 - level
    x = np.concatenate([[0.0], t])
    y = np.concatenate([[0.0], 1 - s])
    xmax = x[-1]
    top = math.nan if np.all(np.isnan(y)) else float(np.nanmax(y))
    ordered = np.where(np.isnan(y), np.inf, y)
    if np.all(ordered[1:] >= ordered[:-1]):  # S and its lower band: each value's first time
        keep = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    else:  # the upper band can rise and fall
        _, first = np.unique(ordered, return_index=True)
        keep = np.sort(first)
    del ordered
    x, y = x[keep], y[keep]

    def first_time_of_smallest(shift: float) -> float | None:
        ok = ~np.isnan(y) & (y + shift >= p)
        return float(x[np.flatnonzero(ok)[np.argmin(y[ok])]]) if ok.any() else None

    return Crossing(top, first_time_of_smallest(_TOL), first_time_of_smallest(-_TOL),
                    float(y[-1]), float(xmax))


def crossing_time(c: Crossing, level: float) -> float:
    """``_first_crossing`` from a curve's ``Crossing`` points: the first time of the smallest
    y >= p (p = 1 - level, tolerance sqrt(eps)); where that y equals p over a stretch, the
    midpoint of the stretch (to the last time if the curve ends at p); NaN if never reached."""
    p = 1 - level
    if math.isnan(c.top) or c.top < p or c.x1 is None:
        return math.nan
    if not math.isnan(c.last) and abs(p - c.last) < _TOL:
        return (c.x1 + c.xmax) / 2
    return (c.x1 + c.x2) / 2 if c.x2 is not None else math.nan


def logrank(durations, events, groups) -> tuple[float, float, pd.DataFrame]:
    """Log-rank test of equal survival across groups (R ``survival::survdiff``, rho = 0).

    Returns (chi-square, p-value, table of observed and expected events per group).

    Notes
    -----
    Vectorised over distinct times (counts per time and group by ``np.bincount``, numbers at
    risk by reverse cumulative sums): O(n log n + T·k²) time for T distinct times and k groups.
    Observed and expected events count every event time, as R does; a time with one case at
    risk adds nothing to the variance.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    g = np.asarray(groups)
    keep = ~np.isnan(d)
    d, e, g = d[keep], e[keep], g[keep]
    levels = list(dict.fromkeys(sorted(set(g.tolist()))))
    k = len(levels)
    code = pd.Categorical(g, categories=levels).codes.astype(np.int64)
    times, inverse = np.unique(d, return_inverse=True)
    cell = inverse * k + code
    dead = np.bincount(cell, weights=e, minlength=times.size * k).reshape(times.size, k)
    total = np.bincount(cell, minlength=times.size * k).reshape(times.size, k)
    at_risk = np.cumsum(total[::-1], axis=0)[::-1].astype(float)  # time >= t
    m = dead.sum(axis=1)
    rows = m > 0
    dead, at_risk, m = dead[rows], at_risk[rows], m[rows]
    n = at_risk.sum(axis=1)
    frac = at_risk / n[:, None]
    observed = dead.sum(axis=0)
    expected = (m[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > 1, m * (n - m) / (n - 1), 0.0)
    var = np.diag((w[:, None] * frac).sum(axis=0)) - (frac * w[:, None]).T @ frac
    diff = (observed - expected)[:-1]
    chi2 = float(diff @ np.linalg.solve(var[:-1, :-1], diff)) if k > 1 else math.nan
    p = float(stats.chi2.sf(chi2, k - 1)) if k > 1 else math.nan
    table = pd.DataFrame({"group": levels, "observed": observed, "expected": expected})
    return chi2, p, table


class RMST(NamedTuple):
    """Restricted mean survival time to ``tau`` with its SE and z CI."""

    estimate: float
    se: float
    low: float
    high: float
    tau: float
    n: int


def default_tau(*arms) -> float:
    """The default horizon for comparing RMSTs (R ``survRM2::rmst2``'s rule): the smallest of
    the arms' largest observed times, event or censored, so no curve is extrapolated."""
    return float(min(np.nanmax(np.asarray(x, dtype=float)) for x in arms))


def rmst(durations, events, tau: float, alpha: float = 0.05) -> RMST:
    """Restricted mean survival time: the area under the Kaplan–Meier curve from 0 to ``tau``.

    Matches R ``summary(survfit(Surv(t, e) ~ 1), rmean = tau)$table[c("rmean", "se(rmean)")]``
    (``survival:::survmean``): Var = Σ_i A_i² · d_i / (n_i (n_i − d_i)) over event times
    t_i <= tau, A_i the area under the curve from t_i to tau (terms with n_i = d_i are 0). The
    CI is estimate ± z·SE. If tau lies beyond the last observed time the curve is carried flat
    to tau (as R does); prefer a tau both arms reach (``default_tau``).
    """
    km = kaplan_meier(durations, events, alpha)
    t = km.table["time"].to_numpy()
    s = km.table["surv"].to_numpy()
    nr = km.table["n_risk"].to_numpy(dtype=float)
    ne = km.table["n_event"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(nr - ne == 0, 0.0, ne / (nr * (nr - ne)))
    start = min(0.0, float(t.min())) if t.size else 0.0
    keep = t <= tau
    if keep.any():
        temptime = np.append(t[keep], tau)
        tempsurv = np.append(s[keep], s[keep][-1])
        hh = np.append(hh[keep], 0.0)
    else:
        temptime, tempsurv, hh = np.array([tau]), np.array([1.0]), np.array([0.0])
    delta = np.diff(np.concatenate([[start], temptime]))
    rect = delta * np.concatenate([[1.0], tempsurv[:-1]])
    var = float(np.sum(np.cumsum(rect[1:][::-1]) ** 2 * hh[::-1][1:]))
    est = float(rect.sum() + start)
    se = math.sqrt(var)
    z = stats.norm.ppf(1 - alpha / 2)
    return RMST(est, se, float(est - z * se), float(est + z * se), float(tau), km.n)
