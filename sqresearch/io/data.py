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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.io import paths, personal, timestamps
from sqresearch.io.errors import SHOWN, DataError, Problem, examples, nothing_left
from sqresearch.io.files import _long_from_wide, column_list, read_raw, sha256
from sqresearch.io.schemas import DataSource
from sqresearch.io.values import DECIMAL_COMMA, decimal_point, typed

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
    origin: str = "data"  # the params file and data path, for messages
    fixes: dict[str, str] = field(default_factory=dict)  # exclusion check -> how to avoid it
    positions: np.ndarray | None = None  # each frame row's row in the file (0-based)
    label: Callable[[int], str] | None = None  # a file row as messages name it ("line 4")
    personal: list[dict] = field(default_factory=list)  # column, handling, reason

    def examples(self, mask, values: pd.Series | None = None) -> str:
        """The first offending frame rows as messages show them, with their file lines."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        pos = np.arange(len(self.frame)) if self.positions is None else self.positions
        label = self.label or (lambda i: f"row {i + 1}")
        return examples([label(int(pos[i])) for i in idx[:SHOWN]],
                        None if values is None else [values.iloc[i] for i in idx[:SHOWN]],
                        idx.size)

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

    def exclude(self, mask, check: str, column: str, fix: str = "",
                dry_run: bool = False) -> None:
        """Drop rows for a study-level reason (e.g. created after the data cut) and count them.

        Raises a DataError naming the largest exclusions when no row would be left; with
        ``dry_run`` only that check is made (to fail at validation what the study would)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if fix:
            self.fixes[check] = fix
        rows = [{"check": check, "column": column, "rows": int(mask.sum()),
                 "action": "excluded", "examples": ""},
                {"check": "rows used", "column": "", "rows": int((~mask).sum()), "action": "",
                 "examples": ""}]
        quality = pd.concat([self.quality.iloc[:-1], pd.DataFrame(rows)], ignore_index=True)
        if mask.all():
            raise nothing_left(quality, self.origin, self.rows_read, self.fixes)
        if not dry_run:
            self.frame = self.frame.loc[~mask].reset_index(drop=True)
            self.quality = quality
            if self.positions is not None:
                self.positions = self.positions[~mask]


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
    mapping = {role: src.columns.get(role, role) for role in roles}
    raw = read_raw(src, source, wanted=_wanted(src, mapping, keep))
    label = _row_labeller(src.file_format)
    if src.source is not None:
        raw, label = canonical_order(raw, [mapping[r] for r, spec in roles.items()
                                           if spec.kind == "id" and mapping[r] in raw])
    info = _input_file(src, raw)
    n_read = len(raw)
    if src.layout == "wide":
        raw, label = _long_from_wide(raw, src, source, label)
    problems: list[Problem] = []

    # 1. columns
    present = {role: col for role, col in mapping.items() if col in raw.columns}
    wanted = [(f"role '{r}'", mapping[r]) for r in roles if r in required or r in src.columns]
    wanted += [("segment/column", c) for c in keep] + [("personal column", c) for c in src.personal]
    wanted += [("allowed personal column", c) for c in src.allow_personal]
    names = raw.attrs.get("columns", list(raw.columns))
    by_column: dict[str, list[str]] = {}
    for role, col in present.items():
        by_column.setdefault(col, []).append(role)
    for col, shared in by_column.items():
        if len(shared) > 1:
            problems.append(Problem(f"column {col!r}", f"is given to {len(shared)} roles ("
                                    f"{', '.join(shared)}); a column holds one.",
                                    "map each of them to its own column in data.columns (a "
                                    "role left out is looked up under its own name)."))
    for what, col in wanted:
        if col not in raw.columns:
            close = difflib.get_close_matches(col, list(map(str, names)), n=1)
            fix = (f"did you mean {close[0]!r}? Map it in data.columns." if close else
                   f"map it in data.columns; the {'file' if src.source is None else 'table'} "
                   f"has: {column_list(names)}.")
            problems.append(Problem(f"column {col!r} ({what})", f"not found in {src.where}.",
                                    fix))
    for col, policy in src.personal.items():
        role = next((r for r, c in present.items() if c == col), None)
        if role and policy == "drop" and role in required:
            problems.append(Problem(f"column {col!r}", f"is needed as role '{role}' but is "
                                    "declared personal with policy drop.",
                                    "use policy pseudonymise for it."))
    if src.source is not None:
        from sqresearch.io.engines import type_problems

        problems += type_problems(raw.attrs.get("types", {}),
                                  {c: (r, roles[r].kind) for r, c in present.items()},
                                  src.where)
    # undeclared columns that look personal may not be used: only roles and keep reach the frame
    problems += personal.guard(raw, src, {c: (r, roles[r].kind) for r, c in present.items()},
                               keep)
    if problems:
        raise DataError(source, problems)

    # 2. personal data first: nothing personal survives past this point
    raw, notes = _protect(raw, src.personal, src.order_pattern)
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
    stamps = {}
    for role in present:
        spec = roles[role]
        if spec.kind == "timestamp":
            stamps[role] = timestamps.parse(frame[role], src.format_for(role, mapping[role]),
                                            f"column {mapping[role]!r}", label, role)
            continue
        codes = src.missing_codes.get(role, [])
        values, bad, coded = _parse(frame[role], spec, codes, src.decimal)
        frame[role] = values
        if coded.any():
            shown = ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in codes)
            quality.append(_q(f"missing-value code {shown} set to missing", role, coded,
                              "set missing", label))
        if bad.any():
            quality.append(_q(_bad_message(spec), role, bad, _action(src), label,
                              raw[mapping[role]]))
            invalid |= bad
    if stamps or isinstance(src.timestamp_format, dict):  # (checks the format keys)
        invalid |= _read_timestamps(stamps, frame, src, label, raw, mapping, quality, source)
    for col in dict.fromkeys(c for c in keep if c not in present):
        values, bad, how = typed(frame[col], src.types.get(col), src.decimal)
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
            mask = mask & ~invalid  # a row already found invalid is reported once
            if mask.any():
                col = mapping.get(role, role)
                quality.append(_q(name, role, mask, _action(src), label, raw.get(col)))
                invalid |= mask

    table = pd.DataFrame(quality, columns=["check", "column", "rows", "action", "examples"])
    if src.on_invalid == "error" and invalid.any():
        bad_rows = table[table["action"] == "error"]
        raise DataError(f"{source} ({src.where})", [
            Problem(f"column '{mapping.get(r.column, r.column)}', {r.rows} row(s) ({r.examples})",
                    f"{r.check}.", "the numbers are written with a decimal comma: set "
                    "data.decimal: ','." if src.decimal == "." and DECIMAL_COMMA.search(
                        r.examples) else "correct the file, or set data.on_invalid: exclude to "
                    "drop such rows (they are counted in the report).")
            for r in bad_rows.itertuples()])
    frame = frame.loc[~invalid].reset_index(drop=True)
    table.loc[len(table)] = ["rows used", "", len(frame), "", ""]
    origin = f"{source} ({src.where})"
    fixes = {c: _INVALID_FIX for c in table.loc[table["action"] == "excluded", "check"]}
    if len(frame) == 0 and n_read > 0:
        raise nothing_left(table, origin, n_read, fixes)
    return LoadedTable(frame, info, table, notes, origin, fixes, np.flatnonzero(~invalid), label,
                       personal.provenance(src))


def _wanted(src: DataSource, mapping: dict[str, str], keep) -> list[str] | None:
    """The columns a table source is asked for (a file is read whole)."""
    if src.source is None:
        return None
    cols = [*mapping.values(), *keep, *src.personal, *src.allow_personal]
    cols += [c for pair in src.wide.values() for c in pair]
    return list(dict.fromkeys(cols))


def canonical_order(raw: pd.DataFrame, ids: list[str]) -> tuple[pd.DataFrame, Callable]:
    """A table from an engine in one order whatever the engine (a database returns rows in no
    set order, and seeded resampling depends on it): sorted by its id column, then by every
    column. Rows are named by their id in messages (``ticket_id 'T0042'``), else by position
    in that order."""
    import warnings

    by = list(dict.fromkeys([*ids, *raw.columns]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keys = [raw[c] if raw[c].dtype.kind in "biufcmM" else raw[c].astype("string")
                for c in by]
    order = pd.DataFrame(dict(zip(range(len(by)), keys, strict=True)))
    order = order.sort_values(list(range(len(by))), kind="mergesort", na_position="last").index
    out = raw.iloc[np.asarray(order)].reset_index(drop=True)
    out.attrs = raw.attrs
    if ids:
        shown = out[ids[0]].astype("string")

        def label(i: int) -> str:
            return f"{ids[0]} {str(shown.iloc[i])!r}"
    else:
        def label(i: int) -> str:
            return f"row {i + 1} (sorted by {', '.join(map(str, by[:3]))})"
    return out, label


def _input_file(src: DataSource, raw: pd.DataFrame) -> InputFile:
    """The provenance of the table read: a file's path and hash, or an engine table's name
    and the hash of the columns read (pandas' row hashes, in order)."""
    if src.source is None:
        path = paths.resolve(src.path)
        return InputFile(paths.display(path), sha256(path), len(raw), src.file_format)
    digest = hashlib.sha256(pd.util.hash_pandas_object(raw, index=False).to_numpy().tobytes())
    return InputFile(src.where, digest.hexdigest(), len(raw), src.file_format)


#: how to avoid an exclusion by the data cut
DATA_CUT_FIX = "set data_cut after the first ticket's creation, or leave it out (default: the " \
    "last timestamp in the data)."


def check_data_cut(table: LoadedTable, data_cut) -> None:
    """Fail at validation, as the study would, when the data cut leaves no ticket."""
    if data_cut is not None and "created" in table.frame:
        table.exclude((table.frame["created"] > pd.Timestamp(data_cut)).to_numpy(),
                      "created after the data cut", "created", DATA_CUT_FIX, dry_run=True)


def _read_timestamps(stamps: dict, frame: pd.DataFrame, src: DataSource, label, raw,
                     mapping: dict[str, str], quality: list[dict], source: str) -> np.ndarray:
    """Put the parsed timestamp columns into ``frame`` in the study's time zone, their bad
    rows and conversions into ``quality``; return the invalid rows. A column that cannot be
    read as it is (ambiguous dates, offsets on some values only) stops the run."""
    problems = [p.problem for p in stamps.values() if p.problem]
    if not problems:
        values, rows, problems = timestamps.to_study_time(
            stamps, src.timezone, label, lambda r: f"column {mapping[r]!r}")
    known = {k for r in stamps for k in (r, mapping[r])}
    formats = src.timestamp_format if isinstance(src.timestamp_format, dict) else {}
    for key in formats:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            problems.append(Problem(f"key 'data.timestamp_format.{key}'", "is not a timestamp "
                                    f"column of this table{'' if known else ' (it has none)'}.",
                                    f"did you mean {close[0]!r}?" if close else
                                    f"timestamp columns: {', '.join(sorted(known)) or 'none'}."))
    if problems:
        raise DataError(f"{source} ({src.where})", problems)
    invalid = np.zeros(len(frame), dtype=bool)
    for role, parsed in stamps.items():
        frame[role] = values[role]
        if parsed.note:
            quality.append({"check": parsed.note, "column": role, "rows": int(
                values[role].notna().sum()), "action": "", "examples": ""})
        for check, bad in parsed.bad:
            quality.append(_q(check, role, bad, _action(src), label, raw[mapping[role]]))
            invalid |= bad
    quality.extend(rows)
    return invalid


_INVALID_FIX = ("correct those values in the file: data.on_invalid: exclude drops every row "
                "that has one.")


def _action(src: DataSource) -> str:
    return "error" if src.on_invalid == "error" else "excluded"


def _q(check, column, mask, action, label, values=None) -> dict:
    rows = np.flatnonzero(mask)
    shown = examples([label(i) for i in rows[:5]],
                     None if values is None else [values.iloc[i] for i in rows[:5]], rows.size)
    return {"check": check, "column": column, "rows": int(rows.size), "action": action,
            "examples": shown}


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
    return {"bool": "value is not true/false",
            "count": "value is not a whole number ≥ 0", "id": "id is empty"}.get(spec.kind,
                                                                             "invalid value")


def _parse(col: pd.Series, spec: Role, codes, decimal: str = "."
           ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse one column (timestamps: see ``timestamps``): (values, bad rows, sentinel codes).

    A column an engine already typed as numbers (Parquet, a database) is taken as it is."""
    numeric = col.dtype.kind in "biuf"
    if numeric and spec.kind in {"score", "count", "bool"}:
        text = None
        empty = col.isna().to_numpy()
    else:
        text = col.astype("string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy()
    coded = np.zeros(len(col), dtype=bool)
    if spec.kind == "bool" and numeric:
        num = col.astype(float)
        values = num.where(num.isin([0.0, 1.0]))
        return values, (values.isna().to_numpy() & ~empty), coded
    if spec.kind in {"score", "count"}:
        num = col.astype(float) if numeric else \
            pd.to_numeric(decimal_point(text, decimal), errors="coerce").astype(float)
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


def _protect(raw: pd.DataFrame, personal: dict[str, str], order: str | None = None
             ) -> tuple[pd.DataFrame, list[str]]:
    """Mask (``stats.text_mask``: typed tokens, each row's other personal values too), drop or
    pseudonymise (keyed HMAC-SHA256) the columns declared personal."""
    if not personal:
        return raw, []
    notes = []
    masked = [c for c, p in personal.items() if p == "mask"]
    if masked:
        from sqresearch.stats.text_mask import mask_column

        raw = raw.copy()
        others = [c for c, p in personal.items() if p != "mask" and c in raw.columns]
        for c in masked:  # only rows with text: each compiles its own personal values
            has = raw[c].notna() & (raw[c].astype(str).str.strip() != "")
            raw[c] = raw[c].where(has)
            if has.any():
                raw.loc[has, c] = mask_column(raw.loc[has], c, others, order)
        notes.append(f"masked (e-mails, phone, ID, card{', order' if order else ''} numbers "
                     f"and the row's personal values): {', '.join(masked)}")
    out = raw.drop(columns=[c for c, p in personal.items() if p == "drop"])
    hashed = [c for c, p in personal.items() if p == "pseudonymise"]
    if hashed:
        key, origin = pseudonym_key()
        for c in hashed:
            out[c] = pseudonyms(out[c], key)
        notes.append(f"pseudonymised with a keyed hash ({origin}): {', '.join(hashed)}")
    dropped = [c for c, p in personal.items() if p == "drop"]
    if dropped:
        notes.append(f"dropped at load: {', '.join(dropped)}")
    return out, notes


def pseudonyms(values: pd.Series, key: bytes) -> pd.Series:
    """``p_`` + the first 16 hex digits of HMAC-SHA256(key, value as text); missing stays
    missing. Each distinct value is hashed once (customers recur across tickets)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hashed = np.array([None] + ["p_" + hmac.new(key, str(v).encode(), hashlib.sha256)
                                .hexdigest()[:16] for v in uniques], dtype=object)
    return pd.Series(hashed[codes + 1], index=values.index, dtype=object)


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
