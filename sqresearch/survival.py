"""Kaplan–Meier estimation for durations with open (right-censored) cases.

Tickets still open at the data cut are censored, not missing: a mean over solved tickets only is
biased low. The estimator and the median follow R's ``survival::survfit`` (Greenwood variance,
``conf.type = "log"``, the median read where the curve first reaches 0.5, averaged over a flat
stretch at exactly 0.5), so numbers can be checked against R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    n_risk = d.size - np.concatenate([[0], np.cumsum(n_total)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        var = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
    se = np.sqrt(var)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", over="ignore"):
        lower = np.where(surv > 0, surv * np.exp(-z * se), np.nan)
        upper = np.where(surv > 0, np.minimum(1.0, surv * np.exp(z * se)), np.nan)
    table = pd.DataFrame({"time": times, "n_risk": n_risk.astype(int),
                          "n_event": n_event.astype(int),
                          "n_censor": (n_total - n_event).astype(int),
                          "surv": surv, "lower": lower, "upper": upper})
    return KaplanMeier(table, int(d.size), int(e.sum()), alpha)


def _first_crossing(t: np.ndarray, s: np.ndarray, level: float) -> float:
    """First time the step curve s is <= level; the midpoint of a flat stretch exactly at it.

    Rows where the curve does not move (censoring only) are dropped first, as R does, so a flat
    stretch ends at the next time the curve changes.
    """
    moved = np.concatenate([[True], s[1:] != s[:-1]])
    t, s = t[moved], s[moved]
    hit = np.flatnonzero(s <= level + _TOL)
    if hit.size == 0:
        return math.nan
    i = hit[0]
    if abs(s[i] - level) < _TOL and i + 1 < t.size:
        return float((t[i] + t[i + 1]) / 2)
    return float(t[i])
