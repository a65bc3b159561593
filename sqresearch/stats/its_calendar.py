"""The calendar of an interrupted time series, and its season terms.

Periods are days, weeks (Monday start) or calendar months; t counts periods since the first one,
so a period without a value is a gap that keeps its place on the axis. Season terms: weekday or
month dummies, or K harmonic pairs of the yearly cycle (``fourier:K``), joined with "+"; "auto"
picks them by ``AUTO_RULE``. Term labels for people come from ``_label``. Used by ``its`` and
``its_structural``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FREQS = ("day", "week", "month")
#: length of the yearly cycle in periods
YEAR = {"day": 365.25, "week": 52.18, "month": 12.0}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
AUTO_RULE = ("auto: day-of-week dummies for daily series whose pre period spans at least 3 weeks; "
             "two yearly harmonic pairs (fourier:2) when the series spans at least 2 years and the "
             "pre period at least half a year; otherwise none")


def _starts(dates: pd.Series, freq: str) -> pd.Series:
    d = pd.to_datetime(dates).dt.normalize()
    if freq == "week":
        return d - pd.to_timedelta(d.dt.weekday, unit="D")
    if freq == "month":
        return d.dt.to_period("M").dt.to_timestamp()
    return d


def _index(starts: pd.Series, origin: pd.Timestamp, freq: str) -> np.ndarray:
    if freq == "month":
        return ((starts.dt.year - origin.year) * 12 + starts.dt.month - origin.month).to_numpy()
    days = (starts - origin).dt.days.to_numpy()
    return days // 7 if freq == "week" else days


def _date_of(t: int, origin: pd.Timestamp, freq: str) -> pd.Timestamp:
    if freq == "month":
        return origin + pd.DateOffset(months=int(t))
    return origin + pd.Timedelta(days=int(t) * (7 if freq == "week" else 1))


def _infer_freq(dates: pd.Series) -> str:
    """The coarsest of month, week, day that gives every date a period of its own."""
    for freq in ("month", "week", "day"):
        if not _starts(dates, freq).duplicated().any():
            return freq
    raise ValueError("two values share a day: aggregate to one value per period first")


# --- season terms ---------------------------------------------------------------------------

def _auto_seasonal(freq: str, pre_span: int, span: int) -> str:
    parts = []
    if freq == "day" and pre_span >= 21:
        parts.append("weekday")
    if span >= 2 * YEAR[freq] - 0.5 and pre_span >= YEAR[freq] / 2:
        parts.append("fourier:2")
    return "+".join(parts) or "none"


def _season_design(spec: str, starts: pd.Series, t: np.ndarray, freq: str) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    for part in spec.split("+"):
        part = part.strip()
        if part == "none":
            continue
        if part == "weekday":
            if freq != "day":
                raise ValueError("seasonal='weekday' needs a daily series (freq='day')")
            key = starts.dt.weekday.to_numpy()
            cols.update({f"weekday_{d}": (key == d).astype(float) for d in range(7)})
        elif part == "month":
            key = starts.dt.month.to_numpy()
            cols.update({f"month_{m}": (key == m).astype(float) for m in range(1, 13)})
        elif m := re.fullmatch(r"fourier:(\d+)", part):
            k = int(m.group(1))
            if not 1 <= k <= YEAR[freq] / 2:
                raise ValueError(f"seasonal='{part}': the number of harmonic pairs must be "
                                 f"between 1 and {int(YEAR[freq] // 2)}")
            for h in range(1, k + 1):
                angle = 2 * np.pi * h * t / YEAR[freq]
                cols[f"sin{h}"] = np.sin(angle)
                cols[f"cos{h}"] = np.cos(angle)
        else:
            raise ValueError(f"seasonal='{part}' is not one of none, weekday, month, fourier:K, "
                             "auto (or a combination with '+')")
    return pd.DataFrame(cols, index=starts.index)


def _keep_season_columns(season: pd.DataFrame, fit: np.ndarray) -> list[str]:
    """Drop dummies that never vary in the fitted rows and the first present level of each set."""
    keep = []
    for prefix in ("weekday_", "month_"):
        group = [c for c in season if c.startswith(prefix)]
        present = [c for c in group if season.loc[fit, c].any()]
        keep += present[1:]
    keep += [c for c in season if not c.startswith(("weekday_", "month_"))
             and np.ptp(season.loc[fit, c].to_numpy()) > 1e-12]
    return [c for c in season if c in keep]


def _label(term: str, unit: str) -> str:
    fixed = {"const": "level before (intercept)", "t": f"trend before (per {unit})",
             "post": "level change at the intervention",
             "since": f"slope change (per {unit})"}
    if term in fixed:
        return fixed[term]
    if term.startswith("weekday_"):
        return f"day of week: {WEEKDAYS[int(term[8:])]}"
    if term.startswith("month_"):
        return f"month: {MONTHS[int(term[6:]) - 1]}"
    if m := re.fullmatch(r"(sin|cos)(\d+)", term):
        kind = "sine" if m.group(1) == "sin" else "cosine"
        return f"yearly cycle, harmonic {m.group(2)} ({kind})"
    return term
