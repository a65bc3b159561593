"""The PDCA improvement log: one human-editable CSV file in the project, reviewed in git.

Format (UTF-8, a byte-order mark allowed; ``\\n`` or ``\\r\\n`` line ends; blank lines ignored)::

    id,kpi,segment,opened_week,owner,plan,action_start,action_segments,status
    PDCA-0001,frt_median,team=east & channel=phone,2026-W47,Li,"Rota, 8-10",2026-11-23,,doing

- ``id``: ``PDCA-`` and at least four digits, unique in the file;
- ``kpi``: a KPI name the study knows (``kpi.engine.known_kpis``);
- ``segment``: ``all`` or ``column=value`` terms joined by ``&`` (``team=east & channel=phone``);
- ``opened_week``: ISO week ``2026-W47`` (not after the data cut);
- ``owner``, ``plan``: free text (a comma inside a text needs double quotes);
- ``action_start``: ISO date ``2026-11-23``, or empty while nothing has been done; not after
  the data cut (``today``);
- ``action_segments``: the cells the action covered, ``;``-separated segments, each read
  inside the item's segment (``team=east`` under ``channel=phone`` means ``channel=phone &
  team=east``); all cells use the same columns; empty = the item's whole segment;
- ``status``: ``open``, ``doing``, ``checked`` or ``closed``.

Decisions on hostile or broken input (every one a :class:`PdcaLogError`, a ``DataError`` naming
the line and column, the value escaped through ``io.errors.show``):

- a file over ``MAX_LOG_BYTES``, a NUL byte (binary content) or bytes that are not UTF-8 are
  refused before parsing; so are control characters and bidirectional-override characters in a
  cell (they hide text from a reviewer reading the diff);
- **formula-looking cells** (first character ``= + - @``, tab or carriage return: CSV
  injection when the file is opened in a spreadsheet) are **refused** on reading — the file
  itself is what a spreadsheet would open, so neutralising only our copy would not protect
  anyone — and **neutralised** on writing: :func:`append_item` writes such a free text with a
  leading apostrophe (``'=SUM(A1)``), the spreadsheet convention for "this is text", and
  :func:`read_log` gives the text back without it;
- a wrong header, a wrong number of fields, a duplicate id (both lines named), an unknown KPI
  or status, a bad week or date, an action date or opened week after the data cut are refused.

:func:`append_item` adds one item safely: an exclusive ``fcntl.flock`` on ``<path>.lock``,
the log re-read under the lock, the next id (highest + 1), and the new line written with ONE
``os.write`` on an ``O_APPEND`` descriptor, then ``fsync``. A process killed at any point leaves
either no new line or one whole line (the kernel releases the lock of a dead process); two runs
at once never get the same id; existing lines are never rewritten. (``O_APPEND`` is atomic on
local file systems, not on NFS.) The lock file stays beside the log: ignore ``*.lock`` in git.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqresearch.io.errors import DataError, Problem, show
from sqresearch.io.pdca_rows import (  # noqa: F401  (re-exported: the log's public names)
    _HEADER_LINE,
    _ID,
    FORMULA_START,
    FREE_TEXT,
    HEADER,
    LOCK_TIMEOUT,
    MAX_LOG_BYTES,
    MAX_PROBLEMS,
    STATUSES,
    _unescape,
    action_cells,
    parse_day,
    parse_segment,
    row_problems,
    segment_text,
    week_monday,
)

if TYPE_CHECKING:  # pandas is imported when a log is read: appending needs none (fast runs)
    import pandas as pd

class PdcaLogError(DataError):
    """The PDCA log cannot be read or appended to as it is."""


@dataclass(frozen=True)
class PdcaLog:
    """The items of a PDCA log: one row per item, the file's columns as text (``owner`` and
    ``plan`` without a neutralising apostrophe) plus ``line`` (its line in the file)."""

    path: str
    items: pd.DataFrame

    def open_items(self) -> pd.DataFrame:
        """Items not closed (open, doing or checked), in file order."""
        return self.items[self.items["status"] != "closed"]

    def summary(self) -> pd.DataFrame:
        """One row per status: status, items, with_action (items with an action start date)."""
        import pandas as pd

        t = self.items
        return pd.DataFrame([{"status": s, "items": int((t["status"] == s).sum()),
                              "with_action": int(((t["status"] == s) &
                                                  (t["action_start"] != "")).sum())}
                             for s in STATUSES])


def _too_big(size: int, path: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise PdcaLogError(path, Problem("file", f"is {size:,} bytes; the log is capped at "
                                         f"{max_bytes:,}.", "archive closed items to another "
                                         "file, or check that the path names the PDCA log."))


def _decode(raw: bytes, path: str, max_bytes: int) -> str:
    """The log's text; a PdcaLogError for a file too large, binary (a NUL byte) or not
    UTF-8, naming the line (and byte) of the first offence."""
    _too_big(len(raw), path, max_bytes)
    nl = b"\n"
    at = raw.find(b"\x00")
    if at >= 0:
        raise PdcaLogError(path, Problem(f"line {raw[:at].count(nl) + 1}", "holds a NUL byte: "
                                         "the file is binary, not a CSV text.",
                                         "check that the path names the PDCA log."))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        raise PdcaLogError(path, Problem(
            f"line {before.count(nl) + 1}, byte {exc.start - before.rfind(nl)}",
            f"byte 0x{raw[exc.start]:02x} is not UTF-8 (saved as GBK, Latin-1 or "
            "Windows-1252?).", "save the file as UTF-8 (Save as… → Encoding: UTF-8).")) from None


def _rows(text: str, path: str) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """(line, raw fields) of every item, and the structural problems (header, field counts,
    quoting)."""
    lines = text.split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if lines[0].strip() != _HEADER_LINE:
        raise PdcaLogError(path, Problem("line 1", f"the header is {show(lines[0])}; it must "
                                         f"be exactly {_HEADER_LINE}.",
                                         f"make line 1 read: {_HEADER_LINE}"))
    rows, problems = [], []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            problems.append(Problem(f"line {n}", f"is not a valid CSV line ({exc}).",
                                    "put a text with commas or quotes inside double quotes, "
                                    "doubling any quote inside: \"say \"\"hi\"\"\"."))
            continue
        if len(fields) != len(HEADER):
            problems.append(Problem(f"line {n}", f"has {len(fields)} fields; the header has "
                                    f"{len(HEADER)}.", "give every item all nine fields (empty "
                                    "ones as ,,) and put a text holding a comma in double quotes."))
            continue
        rows.append((n, dict(zip(HEADER, fields, strict=True))))
    return rows, problems


def _duplicates(rows) -> list[Problem]:
    first: dict[str, int] = {}
    out = []
    for n, f in rows:
        key = f["id"].strip()
        if key in first:
            out.append(Problem(f"lines {first[key]} and {n}, column id", f"{show(key)} is used "
                               "by two items.", "give the later item an unused id (the next "
                               "one after the highest in the file)."))
        else:
            first[key] = n
    return out


def _raise(path: str, problems: list[Problem]) -> None:
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([Problem("file", f"… and {more} more problem(s).")]
                                           if more > 0 else [])
        raise PdcaLogError(path, shown)


def read_log(path, *, today: date, known_kpis: Collection[str],
             segments: Mapping[str, Collection[str]] | None = None,
             max_bytes: int = MAX_LOG_BYTES, missing_ok: bool = True) -> PdcaLog:
    """The log at ``path``, every item checked; all problems found in one
    :class:`PdcaLogError` (at most ``MAX_PROBLEMS`` listed).

    today : the data cut's date — action dates and opened weeks may not be later
    known_kpis : the KPI names an item may name
    segments : column → its values in the tickets; when given, segment terms are checked too
    missing_ok : a missing file is an empty log (the first run has none) — else an error;
        an empty file is an empty log
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        if missing_ok:
            return PdcaLog(str(p), pd.DataFrame(columns=["line", *HEADER]))
        raise PdcaLogError(str(p), Problem("file", "does not exist.", "check the path, or let "
                                           "the monitor create the log with its first item."))
    _too_big(p.stat().st_size, str(p), max_bytes)  # before reading a byte
    text = _decode(p.read_bytes(), str(p), max_bytes)
    if not text.strip():  # an empty file is an empty log (append_item writes the header)
        return PdcaLog(str(p), pd.DataFrame(columns=["line", *HEADER]))
    rows, problems = _rows(text, str(p))
    for n, f in rows:
        problems += row_problems(f, f"line {n}", today=today, known_kpis=known_kpis,
                                 segments=segments)
    problems += _duplicates(rows)
    problems.sort(key=lambda q: int(re.search(r"\d+", q.where).group()) if
                  re.search(r"\d+", q.where) else 0)
    _raise(str(p), problems)
    items = pd.DataFrame([{"line": n, **{k: v.strip() for k, v in f.items()}}
                          for n, f in rows], columns=["line", *HEADER])
    for col in FREE_TEXT:
        items[col] = items[col].map(_unescape)
    return PdcaLog(str(p), items)


# --- appending ----------------------------------------------------------------------------------
class _Lock:
    """An exclusive ``flock`` on ``<path>.lock``, waited for up to ``timeout`` seconds."""

    def __init__(self, path: Path, timeout: float):
        self.path, self.timeout, self.fd = Path(f"{path}.lock"), timeout, -1

    def __enter__(self):
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        end = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > end:
                    os.close(self.fd)
                    raise PdcaLogError(str(self.path)[:-5], Problem(
                        "file", f"is locked by another run (waited {self.timeout:g} s).",
                        "wait for the other run to finish and try again.")) from None
                time.sleep(0.01)

    def __exit__(self, *exc):
        os.close(self.fd)  # closing the descriptor releases the lock


def _neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def append_item(path, *, kpi: str, opened_week: str, segment: str = "all", owner: str = "",
                plan: str = "", action_start: str | date = "", action_segments: str = "",
                status: str = "open", known_kpis: Collection[str] | None = None,
                today: date | None = None, timeout: float = LOCK_TIMEOUT) -> str:
    """Append one item and return its new id (``PDCA-0001`` for the first).

    The fields are checked as :func:`read_log` checks a line (the KPI only when
    ``known_kpis`` is given, dates against ``today`` only when given); ``owner`` and ``plan``
    starting like a formula are written with a leading apostrophe. Under an exclusive lock on
    ``<path>.lock`` the log is re-read (it must be well-formed: header, nine fields per line),
    the id is the highest in the file + 1, and the line (with the header when the file is new
    or empty, after a line end when the last line lacks one) is written with one ``os.write``
    on an ``O_APPEND`` descriptor and ``fsync``-ed. Existing lines are never rewritten.
    """
    p = Path(path)
    fields = {"id": "PDCA-0000", "kpi": kpi, "segment": segment, "opened_week": opened_week,
              "owner": _neutralise(owner.strip()), "plan": _neutralise(plan.strip()),
              "action_start": str(action_start or ""), "action_segments": action_segments,
              "status": status}
    fields = {k: str(v).strip() for k, v in fields.items()}
    _raise(str(p), row_problems(fields, "new item", today=today, known_kpis=known_kpis))
    p.parent.mkdir(parents=True, exist_ok=True)
    with _Lock(p, timeout):
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            size = os.fstat(fd).st_size
            raw = p.read_bytes()[:size] if size else b""
            rows, problems = _rows(_decode(raw, str(p), MAX_LOG_BYTES), str(p)) if size \
                else ([], [])
            _raise(str(p), problems + _duplicates(rows))
            numbers = [int(m[1]) for _, f in rows if (m := _ID.fullmatch(f["id"].strip()))]
            new_id = f"PDCA-{max(numbers, default=0) + 1:04d}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow([*{**fields, "id": new_id}.values()])
            data = buf.getvalue().encode("utf-8")
            if not size:
                data = (_HEADER_LINE + "\n").encode() + data
            elif not raw.endswith(b"\n"):
                data = b"\n" + data
            written = os.write(fd, data)
            if written != len(data):  # a short write (disk full): take our partial line back
                os.ftruncate(fd, size)
                raise OSError(f"only {written} of {len(data)} bytes written to {p}")
            os.fsync(fd)
        finally:
            os.close(fd)
        if size == 0:  # a new file: make its directory entry durable too
            dfd = os.open(p.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return new_id
