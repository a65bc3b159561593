"""Load input tables, map column roles, validate every row, protect personal data.

``load_table`` reads a CSV or Parquet file through DuckDB (so the same path serves files larger
than memory later) or an Excel sheet through openpyxl, renames the columns the params map to
roles, parses each role by its kind, and collects *every* problem: missing columns, unparseable
values, out-of-range scores, sentinel codes, plus table-specific checks. Invalid rows stop the run
(``on_invalid: error``) or are excluded and counted (``on_invalid: exclude``); either way the
data-quality table says what happened. Files are only ever read.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.io import paths, personal
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.files import _long_from_wide, read_raw, sha256
from sqresearch.io.schemas import DataSource

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class Role:
    """How to parse one column role: kind is id, key, timestamp, bool, count, score or text."""

    kind: str
    low: float | None = None  # score range
    high: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str
    rows: int
    format: str

    def as_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows, "format": self.format}


@dataclass
class LoadedTable:
    """A validated table: roles as column names, personal data removed or pseudonymised."""

    frame: pd.DataFrame
    source: InputFile
    quality: pd.DataFrame  # check, column, rows, action, examples
    notes: list[str] = field(default_factory=list)
    personal: list[dict] = field(default_factory=list)  # column, handling, reason

    @property
    def rows_read(self) -> int:
        return self.source.rows

    @property
    def rows_excluded(self) -> int:
        return self.source.rows - len(self.frame)

    def flag(self, mask, check: str, column: str, examples: str = "") -> None:
        """Count rows worth a reader's attention (e.g. straight-liners) without excluding them."""
        mask = np.asarray(mask, dtype=bool)
        row = pd.DataFrame([{"check": check, "column": column, "rows": int(mask.sum()),
                             "action": "flagged, kept", "examples": examples}])
        self.quality = pd.concat([self.quality.iloc[:-1], row, self.quality.iloc[-1:]],
                                 ignore_index=True)

    def exclude(self, mask, check: str, column: str) -> None:
        """Drop rows for a study-level reason (e.g. created after the data cut) and count them."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.frame = self.frame.loc[~mask].reset_index(drop=True)
        rows = [{"check": check, "column": column, "rows": int(mask.sum()),
                 "action": "excluded", "examples": ""},
                {"check": "rows used", "column": "", "rows": len(self.frame), "action": "",
                 "examples": ""}]
        self.quality = pd.concat([self.quality.iloc[:-1], pd.DataFrame(rows)], ignore_index=True)


# A table-specific check: (frame, row labels) -> list of (check, column, bad-row mask).
Check = Callable[[pd.DataFrame], list[tuple[str, str, np.ndarray]]]


def load_table(src: DataSource, roles: dict[str, Role], required: tuple[str, ...] = (),
               keep: tuple[str, ...] = (), checks: tuple[Check, ...] = (),
               source: str = "data") -> LoadedTable:
    """Read, map, parse and validate one table.

    Parameters
    ----------
    src : the ``data`` section of the params
    roles : role name -> how to parse it; a role is looked up under ``src.columns[role]`` or its
        own name, and is optional unless listed in ``required`` or mapped in ``src.columns``
    keep : other columns to keep by their file name (segments)
    checks : table-specific checks run after parsing
    source : the params file, for messages
    """
    path = paths.resolve(src.path)
    raw = read_raw(src, source)
    info = InputFile(paths.display(path), sha256(path), len(raw), src.file_format)
    label = _row_labeller(src.file_format)
    n_read = len(raw)
    if src.layout == "wide":
        raw, label = _long_from_wide(raw, src, source, label)
    problems: list[Problem] = []

    # 1. columns
    mapping = {role: src.columns.get(role, role) for role in roles}
    present = {role: col for role, col in mapping.items() if col in raw.columns}
    wanted = [(f"role '{r}'", mapping[r]) for r in roles if r in required or r in src.columns]
    wanted += [("segment/column", c) for c in keep] + [("personal column", c) for c in src.personal]
    wanted += [("allowed personal column", c) for c in src.allow_personal]
    for what, col in wanted:
        if col not in raw.columns:
            close = difflib.get_close_matches(col, list(map(str, raw.columns)), n=1)
            fix = (f"did you mean {close[0]!r}? Map it in data.columns." if close else
                   f"map it in data.columns; the file has: {', '.join(map(str, raw.columns))}.")
            problems.append(Problem(f"column {col!r} ({what})", f"not found in {src.path}.", fix))
    for col, policy in src.personal.items():
        role = next((r for r, c in present.items() if c == col), None)
        if role and policy == "drop" and role in required:
            problems.append(Problem(f"column {col!r}", f"is needed as role '{role}' but is "
                                    "declared personal with policy drop.",
                                    "use policy pseudonymise for it."))
    # undeclared columns that look personal may not be used: only roles and keep reach the frame
    problems += personal.guard(raw, src, {c: (r, roles[r].kind) for r, c in present.items()},
                               keep)
    if problems:
        raise DataError(source, problems)

    # 2. personal data first: nothing personal survives past this point
    raw, notes = _protect(raw, src.personal)
    present = {role: col for role, col in present.items() if col in raw.columns}
    frame = raw[[c for c in present.values()] + [c for c in keep if c not in present.values()]]
    frame = frame.rename(columns={c: r for r, c in present.items()}).copy()

    # 3. parse every role by its kind, collecting bad rows
    quality: list[dict] = [{"check": "rows read", "column": "", "rows": n_read,
                            "action": "", "examples": ""}]
    quality += [{"check": note, "column": "", "rows": n_read, "action": "", "examples": ""}
                for note in raw.attrs.get("read_notes", [])]
    if src.layout == "wide":
        quality.append({"check": "wide table: one row per unit and period", "column": "",
                        "rows": len(raw), "action": "reshaped", "examples": ""})
    invalid = np.zeros(len(frame), dtype=bool)
    for role in present:
        spec = roles[role]
        codes = src.missing_codes.get(role, [])
        values, bad, coded = _parse(frame[role], spec, codes, src.timestamp_format,
                                    src.decimal)
        frame[role] = values
        if coded.any():
            shown = ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in codes)
            quality.append(_q(f"missing-value code {shown} set to missing", role, coded,
                              "set missing", label))
        if bad.any():
            quality.append(_q(_bad_message(spec), role, bad, _action(src), label,
                              raw[mapping[role]]))
            invalid |= bad
    for col in dict.fromkeys(c for c in keep if c not in present):
        values, bad, how = _typed(frame[col], src.types.get(col), src.decimal)
        frame[col] = values
        quality.append({"check": f"type: {how}", "column": col,
                        "rows": int(values.notna().sum()), "action": "", "examples": ""})
        if bad.any():
            what = "a whole number" if src.types.get(col) == "integer" else "a number"
            quality.append(_q(f"value is not {what} (declared in data.types)", col, bad,
                              _action(src), label, raw[col]))
            invalid |= bad
    for check in checks:
        for name, role, mask in check(frame):
            if mask.any():
                quality.append(_q(name, role, mask, _action(src), label))
                invalid |= mask

    table = pd.DataFrame(quality, columns=["check", "column", "rows", "action", "examples"])
    if src.on_invalid == "error" and invalid.any():
        bad_rows = table[table["action"] == "error"]
        raise DataError(f"{source} ({src.path})", [
            Problem(f"column '{mapping.get(r.column, r.column)}', {r.rows} row(s) ({r.examples})",
                    f"{r.check}.", "the numbers are written with a decimal comma: set "
                    "data.decimal: ','." if src.decimal == "." and _DECIMAL_COMMA.search(
                        r.examples) else "correct the file, or set data.on_invalid: exclude to "
                    "drop such rows (they are counted in the report).")
            for r in bad_rows.itertuples()])
    frame = frame.loc[~invalid].reset_index(drop=True)
    table.loc[len(table)] = ["rows used", "", len(frame), "", ""]
    return LoadedTable(frame, info, table, notes, personal.provenance(src))


def _action(src: DataSource) -> str:
    return "error" if src.on_invalid == "error" else "excluded"


def _q(check, column, mask, action, label, values=None) -> dict:
    rows = np.flatnonzero(mask)
    if values is None:
        shown = ", ".join(label(i) for i in rows[:5])
    else:
        shown = ", ".join(f"{label(i)}: {_show(values.iloc[i])}" for i in rows[:5])
    shown += " …" if rows.size > 5 else ""
    return {"check": check, "column": column, "rows": int(rows.size), "action": action,
            "examples": shown}


def _show(value) -> str:
    """An offending value as a reader should see it: quoted, bounded, never the whole cell."""
    text = personal.mask_text(value, long_numbers=False)  # e-mails, phones, ids masked
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _typed(col: pd.Series, declared: str | None, decimal: str = "."
           ) -> tuple[pd.Series, np.ndarray, str]:
    """A non-role column with its type: (values, bad-row mask, how the type was chosen).

    Declared ``number``/``integer`` columns must parse (bad values are reported); ``category``
    and ``text`` stay text. Undeclared columns become numbers when every non-empty value is one
    (so a covariate never turns into a factor by accident), else stay text."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and \
            declared not in ("category", "text"):
        num = col.astype(float)
        whole = bool(np.all(np.isnan(num) | (num == np.round(num))))
        kind = declared or ("integer" if whole else "number")
        if kind == "integer" and whole:
            return num.astype("Int64"), np.zeros(len(col), dtype=bool), f"{kind} (from the file)"
        bad = ~np.isnan(num.to_numpy()) & (num != np.round(num)).to_numpy() \
            if kind == "integer" else np.zeros(len(col), dtype=bool)
        return num, bad, f"{kind} (from the file)"
    text = col.astype("string").str.strip()
    text = text.mask(text == "")
    if declared in ("category", "text"):
        return text, np.zeros(len(col), dtype=bool), f"{declared} (declared)"
    num = pd.to_numeric(_decimal(text, decimal).str.replace(r"^\+", "", regex=True),
                        errors="coerce")
    filled = text.notna().to_numpy()
    bad = filled & num.isna().to_numpy()
    if declared is None:
        if not filled.any() or bad.any():
            return text, np.zeros(len(col), dtype=bool), "text (inferred: not every value is " \
                "a number)"
        declared_how = "inferred: every value is a number"
    else:
        declared_how = "declared"
    whole = bool(np.all(num.isna() | (num == np.round(num))))
    if declared == "integer":
        bad |= filled & ~num.isna().to_numpy() & (num != np.round(num)).to_numpy()
    kind = declared or ("integer" if whole else "number")
    if kind == "integer" and not bad.any():
        return num.astype("Int64"), bad, f"integer ({declared_how})"
    return num.astype(float), bad, f"{kind} ({declared_how})"


def _row_labeller(fmt: str) -> Callable[[int], str]:
    if fmt == "csv":
        return lambda i: f"line {i + 2}"  # the header is line 1
    if fmt == "excel":
        return lambda i: f"row {i + 2}"
    return lambda i: f"row {i + 1}"


def _bad_message(spec: Role) -> str:
    if spec.kind == "score":
        kind = "whole number" if spec.integer else "number"
        return f"value is not a {kind} in {spec.low:g}–{spec.high:g}"
    return {"timestamp": "timestamp cannot be parsed", "bool": "value is not true/false",
            "count": "value is not a whole number ≥ 0", "id": "id is empty"}.get(spec.kind,
                                                                             "invalid value")


_DECIMAL_COMMA = re.compile(r"(?<![\d,])\d+,\d+(?![\d,])")


def _decimal(text: pd.Series, decimal: str) -> pd.Series:
    """Numbers written with a decimal comma (3,5) as Python reads them (3.5)."""
    return text.str.replace(",", ".", regex=False) if decimal == "," else text


def _parse(col: pd.Series, spec: Role, codes, fmt, decimal: str = "."
           ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse one column: (values, bad-row mask, sentinel-code mask)."""
    text = col.astype("string").str.strip()
    empty = (text.isna() | (text == "")).to_numpy()
    coded = np.zeros(len(col), dtype=bool)
    if spec.kind == "timestamp":
        if pd.api.types.is_datetime64_any_dtype(col):
            values = col.dt.tz_localize(None) if col.dt.tz is not None else col
        else:
            values = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
        return values, (values.isna().to_numpy() & ~empty), coded
    if spec.kind in {"score", "count"}:
        num = pd.to_numeric(_decimal(text, decimal), errors="coerce").astype(float)
        if codes:
            coded = num.isin([float(c) for c in codes]).to_numpy()
            num[coded] = np.nan
        ok = num.isna() | (num == np.round(num)) if (spec.integer or spec.kind == "count") else \
            pd.Series(True, index=num.index)
        if spec.kind == "count":
            ok &= num.isna() | (num >= 0)
        else:
            ok &= num.isna() | ((num >= spec.low) & (num <= spec.high))
        bad = (~ok.to_numpy()) | (num.isna().to_numpy() & ~empty & ~coded)
        return num, bad, coded
    if spec.kind == "bool":
        low = text.str.lower()
        values = pd.Series(np.where(low.isin(_TRUE), 1.0, np.where(low.isin(_FALSE), 0.0,
                                                                     np.nan)), index=col.index)
        return values, (values.isna().to_numpy() & ~empty), coded
    if spec.kind == "id":
        return text, empty, coded
    return text, np.zeros(len(col), dtype=bool), coded


def _protect(raw: pd.DataFrame, personal: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Drop or pseudonymise (keyed HMAC-SHA256) the columns declared personal."""
    if not personal:
        return raw, []
    out = raw.drop(columns=[c for c, p in personal.items() if p == "drop"])
    notes = []
    hashed = [c for c, p in personal.items() if p == "pseudonymise"]
    if hashed:
        key, origin = pseudonym_key()
        for c in hashed:
            out[c] = [None if pd.isna(v) else
                      "p_" + hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:16]
                      for v in out[c]]
        notes.append(f"pseudonymised with a keyed hash ({origin}): {', '.join(hashed)}")
    dropped = [c for c, p in personal.items() if p == "drop"]
    if dropped:
        notes.append(f"dropped at load: {', '.join(dropped)}")
    return out, notes


def pseudonym_key() -> tuple[bytes, str]:
    """The pseudonymisation key: $SQR_PSEUDONYM_KEY, else secrets/pseudonym.key, else a fresh
    random key for this run (pseudonyms are then not linkable across runs)."""
    env = os.environ.get("SQR_PSEUDONYM_KEY")
    if env:
        return env.encode(), "key from SQR_PSEUDONYM_KEY"
    keyfile = paths.project_root() / "secrets" / "pseudonym.key"
    if keyfile.is_file():
        return keyfile.read_bytes().strip(), "key from secrets/pseudonym.key"
    return os.urandom(32), "random per-run key"


def with_custom_metrics(src: DataSource, custom) -> tuple[DataSource, dict[str, Role]]:
    """The data source with each custom metric's column mapped to the metric's name, and how to
    parse each one (0/1 for binary metrics, a number in the given range otherwise)."""
    import math

    roles = {m.name: Role("bool") if m.type == "binary" else
             Role("score", *(m.range or (-math.inf, math.inf))) for m in custom}
    src = src.model_copy(update={"columns": {**src.columns, **{m.name: m.column
                                                               for m in custom}}})
    return src, roles
