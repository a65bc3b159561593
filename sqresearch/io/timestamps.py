"""Timestamps as files write them, read per column: ISO 8601 (with or without a UTC offset), a
strptime format, or day/month/year and month/day/year dates — and brought into one time zone.

A column without a stated format is read as ISO 8601; dates written 03/04/2026 are read only when
the column says which way round they are (a value such as 25/03/2026 fits one reading only), never
guessed. Values that are not dates are told apart: no such calendar date (2026-02-30), a date
outside the range that can be analysed (year 1200, 9999-12-31), or not a timestamp at all.

Time zones (:func:`to_study_time`): timestamps with a UTC offset are converted to the study's time
zone (``data.timezone``); a table whose offsets differ, with no time zone given, is converted to
UTC with a warning; one offset throughout is read as written. A column mixing timestamps with and
without an offset cannot be placed in time and is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.io.errors import Problem, examples

DAYFIRST, MONTHFIRST, ISO = "dayfirst", "monthfirst", "iso8601"
KEYWORDS = (DAYFIRST, MONTHFIRST, ISO)
#: the years a timestamp can have (pandas' nanosecond range)
FIRST, LAST = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D") - pd.Timedelta(days=1)
OUTSIDE = (f"date outside {FIRST:%Y-%m-%d} to {LAST:%Y-%m-%d}, the range that can be analysed "
           "(a placeholder such as 9999-12-31 for 'none' is best left empty)")
NO_SUCH_DATE = "no such calendar date (e.g. 30 February, month 13, day 0)"

_OFFSET = re.compile(r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*"
                     r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)$", re.I)
_SLASHED = (r"^(?P<a>[0-9]{1,2})(?P<sep>[./-])(?P<b>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})"
            r"(?:[ T]+(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}(?:[.,][0-9]+)?))?)?"
            r"\s*(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$")
_YMD = r"^(?P<y>[0-9]{1,4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})(?:$|[ T])"


def check_format(value: str) -> str:
    """A timestamp format as params may give it: a keyword or a strptime format."""
    if value.strip().lower() in (*KEYWORDS, "iso"):
        return {"iso": ISO}.get(value.strip().lower(), value.strip().lower())
    probe = dt.datetime(2026, 3, 4, 5, 6, 7)
    try:
        if "%" not in value:
            raise ValueError
        dt.datetime.strptime(probe.strftime(value), value)
    except ValueError:
        raise ValueError(f"{value!r} is not a timestamp format | give dayfirst (25/03/2026), "
                         "monthfirst (03/25/2026), iso8601, or a strptime format such as "
                         "'%d/%m/%Y %H:%M'.") from None
    return value


@dataclass
class Parsed:
    """One timestamp column read: values (UTC when written with offsets, else as written)."""

    values: pd.Series
    bad: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (check, rows)
    aware: np.ndarray | None = None  # rows written with a UTC offset
    offsets: pd.Series | None = None  # the offset each aware row was written with
    tz: str | None = None  # a datetime column's own time zone
    note: str = ""  # how the format was decided, for the data-quality table
    problem: Problem | None = None  # the column cannot be read as it is


def parse(col: pd.Series, fmt: str | None, where: str, label: Callable[[int], str],
          role: str) -> Parsed:
    """Read one timestamp column; ``where`` names it and ``role`` is its key in messages."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return _typed(col)
    text = col.astype("string").str.strip()
    filled = ~(text.isna() | (text == "")).to_numpy()
    text = text.mask(~filled)
    offsets = text.str.extract(_OFFSET, expand=False)
    aware = filled & offsets.notna().to_numpy()
    out = Parsed(values=pd.Series(pd.NaT, index=col.index), aware=aware, offsets=offsets)
    if fmt in (DAYFIRST, MONTHFIRST):
        values = _iso(_reorder(text, fmt == DAYFIRST), aware)
    elif fmt and fmt != ISO:
        values = pd.to_datetime(text, format=fmt, errors="coerce", utc=bool(aware.any()))
    else:
        values = _iso(text, aware)
        if fmt is None:
            values = _undated(text, values, aware, out, where, label, role)
    aware &= values.notna().to_numpy()  # an offset that does not parse (+25:00) is no offset
    out.aware, out.offsets = aware, offsets.where(aware)
    if not aware.any() and getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    naive_ok = filled & ~aware & values.notna().to_numpy()
    if aware.any() and naive_ok.any():
        rows = sorted(np.flatnonzero(aware)[:3].tolist() + np.flatnonzero(naive_ok)[:3].tolist())
        out.problem = Problem(
            where, "mixes timestamps with a UTC offset and without one (" +
            examples([label(i) for i in rows], [text.iloc[i] for i in rows]) + "): those "
            "without cannot be placed in time.",
            "write every timestamp of the column with its offset (e.g. 2026-03-01T10:00+01:00),"
            " or none.")
    out.values = values
    bad = filled & values.isna().to_numpy()
    if bad.any():
        out.bad = _why(text, bad, fmt)
    return out


def _typed(col: pd.Series) -> Parsed:
    """A column the file already types as timestamps (Parquet, Excel): range-checked."""
    tz = str(col.dt.tz) if col.dt.tz is not None else None
    local = col.dt.tz_convert(None) if tz else col
    out_of_range = (local.notna() & ((local < FIRST) | (local > LAST + pd.Timedelta(days=1))))
    values = local.mask(out_of_range).astype("datetime64[ns]")
    if tz:
        values = values.dt.tz_localize("UTC")
    bad = out_of_range.to_numpy()
    return Parsed(values, [(OUTSIDE, bad)] if bad.any() else [], tz=tz)


def _iso(text: pd.Series, aware: np.ndarray) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(aware.any()))


def _reorder(text: pd.Series, dayfirst: bool) -> pd.Series:
    """Day/month/year (or month/day/year) values rewritten as ISO 8601; others unchanged."""
    parts = text.str.extract(_SLASHED)
    hit = parts["a"].notna()
    if not hit.any():
        return text
    day, month = (parts["a"], parts["b"]) if dayfirst else (parts["b"], parts["a"])
    year = parts["y"].where(parts["y"].str.len() == 4,
                            parts["y"].map(lambda y: str(_century(int(y))) if isinstance(y, str)
                                           else y))
    iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    clock = (" " + parts["h"].str.zfill(2) + ":" + parts["mi"] +
             (":" + parts["s"].str.replace(",", ".")).fillna("")).fillna("")
    iso = iso + clock + parts["tz"].fillna("")
    return text.where(~hit, iso)


def _century(yy: int) -> int:
    """A two-digit year as strptime's %y reads it: 69-99 → 1900s, 00-68 → 2000s."""
    return 1900 + yy if yy >= 69 else 2000 + yy


def _undated(text, values, aware, out: Parsed, where, label, role) -> pd.Series:
    """A column without a stated format whose dates are written 03/04/2026: read it the one way
    its values allow; when both readings fit and differ, or the column mixes them, say so."""
    slashed = values.isna().to_numpy() & text.str.match(_SLASHED, na=False).to_numpy()
    if not slashed.any():
        return values
    d, m = _iso(_reorder(text, True), aware), _iso(_reorder(text, False), aware)
    only_d = slashed & d.notna().to_numpy() & m.isna().to_numpy()
    only_m = slashed & m.notna().to_numpy() & d.isna().to_numpy()
    differ = slashed & d.notna().to_numpy() & m.notna().to_numpy() & (d != m).to_numpy()
    fix = (f"state the format: data.timestamp_format: {{{role}: dayfirst}} (03/04/2026 is 3 "
           f"April) or {{{role}: monthfirst}} (4 March), or a strptime format such as "
           "'%d/%m/%Y %H:%M'.")
    if only_d.any() and only_m.any():
        rows = np.flatnonzero(only_d)[:3].tolist() + np.flatnonzero(only_m)[:2].tolist()
        out.problem = Problem(where, "mixes day/month/year and month/day/year dates (" +
                              examples([label(i) for i in rows], [text.iloc[i] for i in rows]) +
                              ").", fix)
        return values
    if only_d.any() or only_m.any():
        first = int(np.flatnonzero(only_d if only_d.any() else only_m)[0])
        out.note = (f"dates read {'day/month/year' if only_d.any() else 'month/day/year'} "
                    f"(detected: {label(first)}: {text.iloc[first]!r} fits no other reading)")
        return values.where(~slashed, d if only_d.any() else m)
    if differ.any():
        rows = np.flatnonzero(differ)
        out.problem = Problem(where, f"{rows.size:,} date(s) can be read day-first or "
                              "month-first, with different results (" +
                              examples([label(i) for i in rows[:5]],
                                       [text.iloc[i] for i in rows[:5]], rows.size) +
                              "); the file does not say which.", fix)
        return values
    return values.where(~slashed, d)  # both readings agree (e.g. 03/03/2026)


def _why(text: pd.Series, bad: np.ndarray, fmt: str | None) -> list[tuple[str, np.ndarray]]:
    """The unreadable values sorted by reason: outside the range, no such date, not a date."""
    if fmt and fmt not in KEYWORDS:
        real = np.zeros(len(text), dtype=bool)
        for i in np.flatnonzero(bad):
            try:
                dt.datetime.strptime(text.iloc[i], fmt)
                real[i] = True
            except ValueError:
                pass
        other = f"timestamp does not match the format {fmt!r} (or is no such date)"
        return [(c, m) for c, m in ((OUTSIDE, real), (other, bad & ~real)) if m.any()]
    readings = {DAYFIRST: [_reorder(text, True)], MONTHFIRST: [_reorder(text, False)],
                ISO: [text]}.get(fmt, [text, _reorder(text, True), _reorder(text, False)])
    dated, real = np.zeros(len(text), dtype=bool), np.zeros(len(text), dtype=bool)
    out_of_range = np.zeros(len(text), dtype=bool)
    for iso in readings:  # a value is a real date if one reading the format allows makes it so
        ymd = iso.str.extract(_YMD).astype(float)
        hit = bad & ymd["y"].notna().to_numpy()
        dated |= hit
        for i in np.flatnonzero(hit):
            try:
                dt.date(*(int(ymd[k].iloc[i]) for k in "ymd"))
            except ValueError:
                continue
            real[i] = True
            out_of_range[i] |= not FIRST.year < ymd["y"].iloc[i] < LAST.year
    expected = {DAYFIRST: "25/03/2026 14:30", MONTHFIRST: "03/25/2026 14:30"}.get(
        fmt, "ISO 8601 such as 2026-03-25 14:30, or the format in data.timestamp_format")
    other = f"timestamp cannot be parsed (expected {expected})"
    return [(c, m) for c, m in ((OUTSIDE, out_of_range), (NO_SUCH_DATE, dated & ~real),
                                (other, bad & ~out_of_range & ~(dated & ~real))) if m.any()]


def to_study_time(parsed: dict[str, Parsed], tz: str | None, label: Callable[[int], str],
                  where: Callable[[str], str]) -> tuple[dict[str, pd.Series], list[dict],
                                                        list[Problem]]:
    """Every timestamp column as naive local time in the study's time zone ``tz``.

    Returns the columns, data-quality rows (conversions and warnings) and problems (a table
    mixing timestamps with and without offsets, with no time zone to read the latter in)."""
    quality, problems = [], []
    aware = {r: p for r, p in parsed.items() if p.aware is not None and p.aware.any()}
    naive = [r for r, p in parsed.items() if r not in aware and p.tz is None and
             p.values.notna().any()]
    if aware and naive and tz is None:
        a, n = next(iter(aware)), naive[0]
        problems.append(Problem(
            f"{where(a)} and {where(n)}", f"{a} is written with UTC offsets (e.g. "
            f"{label(int(np.flatnonzero(aware[a].aware)[0]))}: "
            f"{aware[a].offsets.dropna().iloc[0]}), {n} without: they cannot be compared.",
            "set data.timezone to the time zone the timestamps without an offset are written "
            "in (e.g. data.timezone: Europe/Berlin)."))
    written = pd.concat([p.offsets.dropna().map(_norm) for p in aware.values()]) \
        if aware else pd.Series(dtype=object)
    target = tz or (written.iloc[0] if written.nunique() == 1 else "UTC")
    out = {}
    for role, p in parsed.items():
        values = p.values
        if role in aware or p.tz is not None:
            if p.tz is not None and tz is None:
                values = values.dt.tz_convert(p.tz)  # a typed column: read as it is stored
            else:
                values = values.dt.tz_convert(_zone(target))
            values = values.dt.tz_localize(None)
        out[role] = values
        if role not in aware:
            continue
        offs = p.offsets.dropna().map(_norm).reindex(p.offsets.index)
        kinds = offs.dropna().unique()
        rows = [int(np.flatnonzero((offs == k).to_numpy())[0]) for k in kinds[:5]]
        shown = examples([label(i) for i in rows], [p.offsets.iloc[i] for i in rows],
                         len(kinds))
        if len(kinds) > 1 or tz is not None:
            check = (f"mixed UTC offsets converted to {target}" if len(kinds) > 1 else
                     f"UTC offset {kinds[0]} converted to {target}")
            if tz is None:
                check += " (set data.timezone for local business hours)"
            quality.append({"check": check, "column": role, "rows": int(p.aware.sum()),
                            "action": "converted", "examples": shown})
        elif written.nunique() > 1:
            quality.append({"check": f"UTC offset {kinds[0]} converted to {target} (other "
                            "columns differ; set data.timezone for local business hours)",
                            "column": role, "rows": int(p.aware.sum()), "action": "converted",
                            "examples": shown})
    return out, quality, problems


def _norm(offset: str) -> str:
    """Z, +0100, +01 and +01:00 as one spelling: +00:00, +01:00."""
    if offset.upper() == "Z":
        return "+00:00"
    digits = offset[1:].replace(":", "")
    return f"{offset[0]}{digits[:2]}:{(digits[2:] or '00')[:2]}"


def _zone(name: str):
    """A time zone by IANA name, or a fixed offset such as +01:00."""
    if name[:1] in "+-":
        sign = 1 if name[0] == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return name
