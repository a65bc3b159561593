"""Durations counted only inside a working schedule (business-hours clocks).

Vectorised: each timestamp is mapped to the business seconds elapsed since a fixed epoch,
B(t) = (working days before t's date) × day length + the worked part of t's own day, and a duration
is B(end) - B(start). Working days come from ``numpy.busday_count`` with the schedule's weekdays and
holidays, so weekends and holidays spanned by a ticket cost nothing.

Limits (stated in reports): one daily window for all working days; timestamps are local and naive
(no time-zone or daylight-saving handling); no pause states.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_EPOCH = np.datetime64("2000-01-01", "D")


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class Schedule:
    """A weekly working window plus holidays.

    >>> s = Schedule(["mon", "tue", "wed", "thu", "fri"], dt.time(9), dt.time(17))
    >>> float(s.duration(pd.Series([pd.Timestamp("2026-01-02 16:00")]),
    ...                  pd.Series([pd.Timestamp("2026-01-05 10:00")]), "hours").iloc[0])
    2.0
    """

    def __init__(self, days=("mon", "tue", "wed", "thu", "fri"), start: dt.time = dt.time(9),
                 end: dt.time = dt.time(18), holidays=()):
        self.days = list(days)
        self.start, self.end = start, end
        self.holidays = sorted(pd.to_datetime(list(holidays)).values.astype("datetime64[D]"))
        self.weekmask = [d in self.days for d in _DAYS]
        self.day_seconds = _seconds(end) - _seconds(start)
        if self.day_seconds <= 0:
            raise ValueError("the working day must end after it starts")

    @classmethod
    def from_params(cls, bh) -> Schedule:
        return cls(bh.days, bh.start, bh.end, bh.holidays)

    def describe(self) -> str:
        k = len(self.holidays)
        hol = f", excluding {k} holiday{'' if k == 1 else 's'}" if k else ""
        days = ", ".join(d.capitalize() for d in self.days)
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M}{hol}"

    def elapsed(self, t: pd.Series) -> np.ndarray:
        """Business seconds from the epoch to each timestamp (NaN for missing)."""
        ts = pd.to_datetime(pd.Series(t))
        missing = ts.isna().to_numpy()
        values = ts.fillna(pd.Timestamp(_EPOCH)).to_numpy().astype("datetime64[s]")
        days = values.astype("datetime64[D]")
        tod = (values - days).astype("int64")
        kw = {"weekmask": self.weekmask, "holidays": self.holidays}
        full = np.busday_count(_EPOCH, days, **kw).astype(float)
        open_today = np.is_busday(days, **kw)
        s0 = _seconds(self.start)
        within = np.where(open_today, np.clip(tod - s0, 0, self.day_seconds), 0)
        out = full * self.day_seconds + within
        out[missing] = np.nan
        return out

    def duration(self, start: pd.Series, end: pd.Series, unit: str = "hours") -> pd.Series:
        """Business-time duration from ``start`` to ``end`` in ``minutes`` or ``hours``."""
        div = {"seconds": 1, "minutes": 60, "hours": 3600}[unit]
        secs = self.elapsed(end) - self.elapsed(start)
        return pd.Series(secs / div, index=pd.Series(start).index)


def calendar_duration(start: pd.Series, end: pd.Series, unit: str = "hours") -> pd.Series:
    """Wall-clock duration in ``minutes`` or ``hours``."""
    div = {"seconds": 1, "minutes": 60, "hours": 3600}[unit]
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.total_seconds() / div
