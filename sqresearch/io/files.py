"""Reading input files as they are: the bytes' hash, the text encoding (detected), CSV delimiter
(sniffed), Parquet and Excel, the data-folder check before anything is read, and a wide table
read as a long one. Everything comes back as text columns, to be typed and checked by ``data``."""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sqresearch.io import paths
from sqresearch.io.errors import DataError, Problem, show
from sqresearch.io.paths import sha256  # noqa: F401  (re-exported: io.data, provenance)
from sqresearch.io.schemas import DataSource


def detect_encoding(data: bytes) -> str:
    """The text encoding of a file's bytes: UTF-8 (with or without byte-order mark), UTF-16 (by
    its byte-order mark), GB18030 (the superset of GBK/GB2312: every byte above 0x7F pairs with
    another one, as Chinese text does), else Windows-1252 / Latin-1 (Western European exports:
    such bytes stand alone between ASCII letters)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    high = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) >= 0x80)
    paired = (np.isin(high + 1, high) | np.isin(high - 1, high)).mean() if high.size else 0.0
    if paired > 0.9:
        try:
            data.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def mixed_encoding(data: bytes) -> tuple[int, int] | None:
    """(a UTF-8 line, a line that is not UTF-8), 1-based, when a file that is not valid UTF-8 as
    a whole still holds at least 3 lines of UTF-8 text beyond ASCII: two encodings pasted
    together (an export appended to in another program). Reading it in any single encoding
    would garble one part silently. None otherwise."""
    good, bad = [], []
    for n, line in enumerate(data.split(b"\n"), 1):
        if max(line, default=0) < 0x80:
            continue
        try:
            line.decode("utf-8")
            good.append(n)
        except UnicodeDecodeError:
            bad.append(n)
        if len(good) >= 3 and bad:
            return good[0], bad[0]
    return None


ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with byte-order mark",
                  "utf-16": "UTF-16", "gb18030": "GB18030 (GBK)", "cp1252": "Windows-1252",
                  "latin-1": "Latin-1"}


def read_raw(src: DataSource, source: str, limit: int | None = None,
             wanted: list[str] | None = None) -> pd.DataFrame:
    """Read a file as it is (CSV as text, so that every value can be checked and located);
    ``limit`` rows at most (0 reads just the columns). A CSV's encoding is detected
    (:func:`detect_encoding`) and its delimiter sniffed; both are in ``attrs["read_notes"]``.

    A table on a database or Spark (``src.source``) is read through ``engines`` with its own
    types, only the columns ``wanted`` (all when None); ``attrs["columns"]`` lists all of them.
    """
    if src.source is not None:
        from sqresearch.io import engines

        out = engines.read(src.source, source, wanted, limit)
        if limit != 0 and len(out) == 0:
            raise DataError(source, Problem(f"{src.where}", "the table has no rows.",
                                            "point data.source at the table holding the "
                                            "tickets or respondents."))
        out.attrs["read_notes"] = [f"read from the {src.source.backend} engine with its own "
                                   "column types"]
        return out
    path = paths.resolve(src.path)
    why = paths.outside_data_dirs(path)
    if why:
        what, _, fix = why.partition(" Fix: ")
        raise DataError(source, Problem(f"key 'data.path' ({src.path})", what + ".", fix + "."))
    if not path.is_file():
        raise DataError(source, Problem(f"key 'data.path' ({src.path})", "file does not exist.",
                                        "give a path relative to the project root."))
    fmt = src.file_format
    notes: list[str] = []
    try:
        if fmt == "excel":
            out = pd.read_excel(path, sheet_name=src.sheet or 0, dtype=object, nrows=limit)
        elif fmt == "parquet":
            with duckdb.connect(":memory:") as con:
                tail = "" if limit is None else f" LIMIT {int(limit)}"
                out = con.execute(f"SELECT * FROM read_parquet(?){tail}", [str(path)]).df()
        else:
            out = _read_csv(path, limit, notes)
    except ShapeError as exc:
        raise DataError(source, Problem(f"file {src.path}", f"is not a regular table: {exc}.",
                                        "correct that line (or export the file again); a "
                                        "value holding the delimiter or a line break must be "
                                        "in double quotes.")) from None
    except EncodingMix as exc:
        raise DataError(source, Problem(f"file {src.path}", f"mixes text encodings: {exc}, so "
                                        "one part would be read garbled.",
                                        "open it in an editor that shows the encoding and "
                                        "save the whole file again as UTF-8.")) from None
    except (duckdb.Error, ValueError, OSError, UnicodeError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise DataError(source, Problem(f"file {src.path}", f"cannot be read as {fmt}: {first}",
                                        "check the format key and that the file is not "
                                        "truncated.")) from None
    if limit != 0 and len(out) == 0:
        what = {"csv": "file", "excel": "sheet", "parquet": "file"}[fmt]
        raise DataError(source, Problem(
            f"file {src.path}", f"the {what} has a header but no rows." if len(out.columns) else
            f"the {what} is empty.", "export the data again with its rows (one row per ticket "
            "or respondent, under a header line of column names)."))
    out.attrs["read_notes"] = notes
    return out


def header(src: DataSource, source: str) -> list[str]:
    """The column names of a study's file, cheaply: a Parquet file's schema, a CSV's header
    line as DuckDB reads it (the file is not scanned); anything else, or a file DuckDB cannot
    read that way, through ``read_raw(limit=0)`` (whose errors name the problem)."""
    path = paths.resolve(src.path)
    try:
        with duckdb.connect(":memory:") as con:
            if src.file_format == "parquet":
                got = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)])
            elif src.file_format == "csv":
                got = con.execute("SELECT * FROM read_csv(?, header = true, all_varchar = true)"
                                  " LIMIT 0", [str(path)])
            else:
                raise ValueError(src.file_format)
            return [d[0] for d in got.description]
    except (duckdb.Error, ValueError, OSError):
        return [str(c) for c in read_raw(src, source, limit=0).columns]


class EncodingMix(ValueError):
    """A text file in two encodings at once."""


class ShapeError(ValueError):
    """A CSV whose rows do not match its header."""


def shape_problem(text: str, delim: str) -> str | None:
    """Where a CSV stops matching its header: a column name given twice, a row with more or
    fewer fields than the header, or a quote left open (the rest of the file one value)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return None
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            return (f"the column name {show(name)} is in the header twice (columns "
                    f"{seen[name] + 1} and {i + 1}): rename one of them")
        seen[name] = i
    try:
        for row in reader:
            if row and len(row) != len(header):
                return (f"line {reader.line_num} has {len(row)} fields where the header has "
                        f"{len(header)}")
    except csv.Error as exc:
        return f"line {reader.line_num}: {exc} (a quote left open?)"
    return None


def column_list(columns, limit: int = 20) -> str:
    """A file's column names for a message: the first ``limit``, then how many more."""
    names = [str(c) for c in columns]
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" … ({more:,} more)" if more > 0 else "")


def _read_csv(path, limit: int | None, notes: list[str]) -> pd.DataFrame:
    """A CSV as text columns: UTF-8 is read in place; other encodings are decoded here and read
    from memory. DuckDB sniffs the delimiter (comma, semicolon, tab, pipe). A UTF-8 file is
    checked in chunks, never held whole (a file of gigabytes costs a few megabytes here)."""
    enc, has_text = _scan_utf8(path)
    data = None
    if enc is None:  # another encoding: decoded in memory
        data = path.read_bytes()
        enc = detect_encoding(data)
        has_text = bool(data.decode(enc, errors="replace").strip(_BLANK))
    head = data[:_HEAD] if data is not None else _head(path)
    if enc != "utf-16" and b"\x00" in head[:65536]:
        raise ValueError("it holds binary data (NUL bytes), not text")
    if enc not in ("utf-8", "utf-8-sig", "utf-16") and (mixed := mixed_encoding(data)):
        raise EncodingMix(f"line {mixed[0]:,} is UTF-8 but line {mixed[1]:,} is not (GBK, "
                          "Windows-1252 or Latin-1?)")
    if not has_text:
        return pd.DataFrame()  # empty, or white space only
    tail = "" if limit is None else f" LIMIT {int(limit)}"
    with duckdb.connect(":memory:") as con, tempfile.TemporaryDirectory() as tmp:
        target = path
        if enc not in ("utf-8", "utf-8-sig"):
            target = Path(tmp) / "utf8.csv"
            target.write_text(data.decode(enc), encoding="utf-8")
        sniff = con.execute("SELECT Delimiter FROM sniff_csv(?)", [str(target)]).fetchone()
        out = con.execute(f"SELECT * FROM read_csv(?, header = true, all_varchar = true){tail}",
                          [str(target)]).df()
    first = head.decode(enc, errors="ignore").lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delim = sniff[0] if sniff and sniff[0] and len(out.columns) > 1 else \
        max(",;\t|", key=first.count)  # a sniffer that gave up: the header's likeliest
    header = next(csv.reader(io.StringIO(first), delimiter=delim), [])
    if len(header) != len(out.columns) or len(set(header)) != len(header):
        text = (data if data is not None else path.read_bytes()).decode(enc).lstrip("\ufeff")
        problem = shape_problem(text, delim)
        if problem:
            raise ShapeError(problem)
    if enc not in ("utf-8", "utf-8-sig"):
        notes.append(f"encoding: {ENCODING_NAMES[enc]} (detected; read as such)")
    if sniff and sniff[0] not in (",", None):
        notes.append(f"delimiter: {'tab' if sniff[0] == chr(9) else repr(sniff[0])} (detected)")
    return out


_BLANK = " \t\r\n\ufeff\x0b\x0c"  # what an empty file may hold
_HEAD = 1 << 20  # bytes read for the header line and the binary-data check
_CHUNK = 1 << 24


def _head(path) -> bytes:
    with open(path, "rb") as f:
        return f.read(_HEAD)


def _scan_utf8(path) -> tuple[str | None, bool]:
    """("utf-8" or "utf-8-sig", whether it holds anything but white space) when the whole file
    is UTF-8 without a UTF-16 byte-order mark, read in chunks; (None, False) otherwise."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_text, enc = False, "utf-8"
    with open(path, "rb") as f:
        first = True
        while chunk := f.read(_CHUNK):
            if first:
                if chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    return None, False
                if chunk.startswith(codecs.BOM_UTF8):
                    enc = "utf-8-sig"
                first = False
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None, False
            has_text = has_text or bool(text.strip(_BLANK))
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None, False
    return enc, has_text


def _long_from_wide(raw: pd.DataFrame, src: DataSource, source: str, label):
    """A wide table (one row per unit, each measure in a before and an after column) as a long
    one: the rows twice, first with the before columns then with the after ones, under the
    measure names, and a 'period' column saying which. Row labels still point at the file."""
    from sqresearch.io.schemas import WIDE_PERIOD

    pairs = src.wide
    used = [c for pair in pairs.values() for c in pair]
    problems = []
    for measure, pair in pairs.items():
        for col in pair:
            if col not in raw.columns:
                close = difflib.get_close_matches(col, list(map(str, raw.columns)), n=1)
                problems.append(Problem(f"key 'data.wide.{measure}' (column {col!r})",
                                        f"not found in {src.where}.",
                                        f"did you mean {close[0]!r}?" if close else
                                        f"the file has: {column_list(raw.columns)}."))
        if measure in raw.columns and measure not in used:
            problems.append(Problem(f"key 'data.wide.{measure}'", f"the file already has a "
                                    f"column {measure!r}.", "name the measure differently."))
    if WIDE_PERIOD in raw.columns:
        problems.append(Problem(f"column {WIDE_PERIOD!r}", "a wide table is read into a "
                                f"'{WIDE_PERIOD}' column, but the file already has one.",
                                "rename that column in the file, or use the long layout."))
    if problems:
        raise DataError(f"{source} ({src.where})", problems)
    rest = raw.drop(columns=list(dict.fromkeys(used)))
    parts = [rest.assign(**{m: raw[pair[i]] for m, pair in pairs.items()},
                         **{WIDE_PERIOD: name}) for i, name in enumerate(("before", "after"))]
    n = len(raw)
    return (pd.concat(parts, ignore_index=True),
            lambda i: f"{label(i % n)} ({'before' if i < n else 'after'} column)")
