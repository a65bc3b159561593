"""The pieces of a PDCA log row (``io.pdca``): the file's columns and limits, segments
(``team=east & channel=phone``), the cells an action covered, ISO weeks and dates, and every
problem of one row, each named by its line and column with the fix."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import date

from sqresearch.io.errors import Problem, show

HEADER = ("id", "kpi", "segment", "opened_week", "owner", "plan", "action_start",
          "action_segments", "status")
STATUSES = ("open", "doing", "checked", "closed")
#: a log of a few thousand items is well under this; anything larger is refused unread
MAX_LOG_BYTES = 1_000_000
#: problems listed in one error (the rest counted)
MAX_PROBLEMS = 20
#: seconds append_item waits for another run's lock
LOCK_TIMEOUT = 30.0
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT = ("owner", "plan")

_ID = re.compile(r"PDCA-(\d{4,})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_HEADER_LINE = ",".join(HEADER)


# --- the pieces of a row ------------------------------------------------------------------------
def parse_segment(text: str) -> dict[str, str]:
    """``"team=east & channel=phone"`` → ``{"team": "east", "channel": "phone"}``; ``"all"`` →
    ``{}``. Raises ValueError with the reason."""
    text = text.strip()
    if text == "all":
        return {}
    if not text:
        raise ValueError("is empty (write 'all' for every ticket)")
    out: dict[str, str] = {}
    for term in text.split("&"):
        col, eq, value = term.partition("=")
        col, value = col.strip(), value.strip()
        if not eq or not _COLUMN.fullmatch(col) or not value or "=" in value or ";" in value:
            raise ValueError(f"has the term {show(term.strip())}; each term is column=value, "
                             "terms joined by '&'")
        if col in out:
            raise ValueError(f"names the column {col!r} twice")
        out[col] = value
    return out


def segment_text(cells: Mapping[str, str]) -> str:
    """The inverse of :func:`parse_segment`."""
    return " & ".join(f"{k}={v}" for k, v in cells.items()) or "all"


def action_cells(segment: str, action_segments: str) -> list[dict[str, str]]:
    """The cells an item's action covered, each with the item's segment terms included; the
    item's segment itself when ``action_segments`` is empty. Raises ValueError."""
    base = parse_segment(segment)
    if not action_segments.strip():
        return [base]
    cells = []
    for part in action_segments.split(";"):
        cell = parse_segment(part)
        if not cell:
            raise ValueError("holds 'all'; leave the column empty when the action covered the "
                             "item's whole segment")
        for k, v in base.items():
            if cell.setdefault(k, v) != v:
                raise ValueError(f"has {show(part.strip())}, outside the item's segment "
                                 f"({k}={v})")
        cells.append(cell)
    if len({tuple(sorted(c)) for c in cells}) > 1:
        raise ValueError("mixes cells of different columns; every cell names the same columns")
    return cells


def week_monday(label: str) -> date:
    """``"2026-W47"`` → the Monday of that ISO week. Raises ValueError."""
    m = _WEEK.fullmatch(label)
    if not m:
        raise ValueError("is not an ISO week like 2026-W47")
    try:
        return date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise ValueError(f"does not exist (week {int(m[2])} of {m[1]})") from None


def parse_day(text: str) -> date:
    """``"2026-11-23"`` → a date. Raises ValueError."""
    if not _DATE.fullmatch(text):
        raise ValueError("is not an ISO date like 2026-11-23")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a real calendar date") from None


def _cell_problem(value: str) -> str:
    """Why a raw cell is refused ('' when it is fine)."""
    bad = [c for c in value if c in _BIDI or (unicodedata.category(c) == "Cc")]
    if bad:
        return (f"holds the control character {show(bad[0])} — hidden characters are not "
                "allowed in the log")
    if value.lstrip(" ").startswith(FORMULA_START):
        return "starts like a spreadsheet formula (=, +, -, @): refused against CSV injection"
    return ""


def _unescape(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def row_problems(fields: Mapping[str, str], where: str, *, today: date | None,
                 known_kpis: Collection[str] | None,
                 segments: Mapping[str, Collection[str]] | None = None) -> list[Problem]:
    """Every problem of one item (raw cells, as in the file). ``where`` is "line 7" or "new
    item"; checks needing ``today``, ``known_kpis`` or ``segments`` are skipped when None."""
    out = []

    def bad(col: str, what: str, fix: str) -> None:
        out.append(Problem(f"{where}, column {col}", what, fix))

    f = {}
    for col in HEADER:  # a refused cell is reported once and then read as empty
        why = _cell_problem(fields[col])
        if why:
            fix = ("remove the character" if "control" in why else
                   "begin the text with a letter or an apostrophe ('=…)")
            bad(col, f"{show(fields[col])} {why}.", fix + ".")
        f[col] = "" if why else fields[col].strip()
    refused = {p.where.rsplit(" ", 1)[-1] for p in out}
    if "id" not in refused and not _ID.fullmatch(f["id"]):
        bad("id", f"{show(f['id'])} is not an item id.", "write ids as PDCA-0001, PDCA-0002, …")
    if known_kpis is not None and "kpi" not in refused and f["kpi"] not in known_kpis:
        bad("kpi", f"{show(f['kpi'])} is not a KPI of this study.",
            f"use one of: {', '.join(sorted(known_kpis))}.")
    cells: list[dict[str, str]] = []
    try:
        if refused & {"segment", "action_segments"}:
            raise LookupError
        cells = [parse_segment(f["segment"])]
        cells = action_cells(f["segment"], f["action_segments"])
    except ValueError as exc:  # the segment's own error first; the action cells' only after
        col = "action_segments" if cells else "segment"
        bad(col, f"{show(f[col])} {exc}.", "write segments as 'all' or 'team=east & "
            "channel=phone'; separate the action's cells with ';'.")
    except LookupError:
        pass
    for cell in cells if segments is not None else ():
        for k, v in cell.items():
            if k not in segments:
                bad("segment", f"names the column {show(k)}, which the tickets do not have.",
                    f"use one of: {', '.join(sorted(segments))}.")
            elif v not in {str(x) for x in segments[k]}:
                bad("segment", f"{show(k + '=' + v)}: no ticket has this value.",
                    f"check the spelling; e.g. {', '.join(sorted(map(str, segments[k]))[:8])}.")
    try:
        if "opened_week" not in refused and today is not None and \
                week_monday(f["opened_week"]) > today:
            bad("opened_week", f"{show(f['opened_week'])} starts after the data cut ({today}).",
                "an item cannot be opened in a week that has not begun; check the year.")
        week_monday(f["opened_week"]) if "opened_week" not in refused else None
    except ValueError as exc:
        bad("opened_week", f"{show(f['opened_week'])} {exc}.", "write the week as 2026-W47.")
    if f["action_start"]:
        try:
            day = parse_day(f["action_start"])
            if today is not None and day > today:
                bad("action_start", f"{show(f['action_start'])} is after the data cut "
                    f"({today}): an action cannot have started in the future.",
                    "enter the date the action actually started, or leave it empty until then.")
        except ValueError as exc:
            bad("action_start", f"{show(f['action_start'])} {exc}.",
                "write the date as 2026-11-23, or leave it empty.")
    if "status" not in refused and f["status"] not in STATUSES:
        bad("status", f"{show(f['status'])} is not a status.",
            f"use one of: {', '.join(STATUSES)} (lower case).")
    return out


# --- reading ------------------------------------------------------------------------------------
