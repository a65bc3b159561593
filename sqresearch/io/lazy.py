"""Large tables validated where they live: the checks of ``io.data`` as engine expressions.

``load_lazy`` reads nothing into memory: it maps the roles of a CSV or Parquet file (through
DuckDB) or of a table on an engine (``engines``) to typed Ibis expressions, counts every kind of
bad row with one aggregate query, fetches at most five examples per check (named by the table's
id, ``ticket_id 'T0042'``), and returns a ``LazyTable`` whose expression holds only the valid
rows. KPIs are then aggregated by the engine (``kpi.pushdown``).

It takes the common case; whatever needs the row-by-row reading of ``io.data`` makes it answer
``Fallback`` with the reason (the caller then loads the table in memory): Excel, a wide layout,
a CSV that is not UTF-8, timestamps written other than ISO 8601 or with UTC offsets, declared
timestamp formats or a time zone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqresearch.io import paths, personal
from sqresearch.io.data import Role, _bad_message
from sqresearch.io.errors import SHOWN, DataError, Problem, examples, nothing_left
from sqresearch.io.files import column_list, detect_encoding
from sqresearch.io.lazy_values import (
    _BACKEND,
    Fallback,
    keep_types,
    keep_value,
    odd_stamp,
    trues,
    typed,
)
from sqresearch.io.schemas import DataSource

#: rows sampled (evenly) for the personal-data guard's content checks
SAMPLE = personal.SAMPLE


@dataclass
class LazyTable:
    """A validated table left in its engine: ``expr`` holds the valid rows, roles as columns."""

    expr: object  # ibis.Table
    con: object
    source: object  # io.data.InputFile
    quality: pd.DataFrame
    rows_read: int
    notes: list[str] = field(default_factory=list)
    origin: str = "data"
    personal: list[dict] = field(default_factory=list)
    fixes: dict[str, str] = field(default_factory=dict)

    @property
    def rows_used(self) -> int:
        return int(self.quality["rows"].iloc[-1])

    @property
    def rows_excluded(self) -> int:
        return self.rows_read - self.rows_used

    @property
    def columns(self) -> list[str]:
        return list(self.expr.schema().names)

    def exclude(self, predicate, check: str, column: str, fix: str = "") -> None:
        """Drop the rows where the Ibis ``predicate`` holds, counted in the quality table."""
        n = int(self.expr.filter(predicate).count().execute())
        if n == 0:
            return
        if fix:
            self.fixes[check] = fix
        rows = [{"check": check, "column": column, "rows": n, "action": "excluded",
                 "examples": ""},
                {"check": "rows used", "column": "", "rows": self.rows_used - n, "action": "",
                 "examples": ""}]
        quality = pd.concat([self.quality.iloc[:-1], pd.DataFrame(rows)], ignore_index=True)
        if n == self.rows_used:
            raise nothing_left(quality, self.origin, self.rows_read, self.fixes)
        self.expr = self.expr.filter(~predicate.fill_null(False))
        self.quality = quality


def materialize(lazy: LazyTable, src: DataSource, ids: tuple[str, ...] = ("ticket_id",),
                wanted: set[str] | None = None):
    """The validated rows brought into memory as an ``io.data.LoadedTable`` — typed columns
    only (no text to parse), the ``wanted`` roles only (all when None; the id always), ordered
    by id, pseudonymised columns hashed on the way (``data.pseudonyms``): for studies whose
    statistics need single rows.

    On DuckDB and PostgreSQL the rows are numbered once in the engine and fetched a column at
    a time, so that memory holds one column in transit rather than a second copy of the table;
    the engine's temporary tables are dropped afterwards (the lazy table is spent)."""
    from sqresearch.io.data import LoadedTable, pseudonym_key, pseudonyms

    key = next((c for c in ids if c in lazy.columns), None)
    names = [c for c in lazy.columns if wanted is None or c in wanted or c == key]
    frame = pd.DataFrame({name: _to_pandas(col, name == key)
                          for name, col in _columns(lazy, names, key)})
    if key is None:  # no id: one order whatever the engine (every column, as io.data does)
        from sqresearch.io.data import canonical_order

        frame = canonical_order(frame, [])[0]
    hashed = [r for r in frame.columns
              if src.personal.get(src.columns.get(r, r)) == "pseudonymise"]
    notes = [n for n in lazy.notes if not n.startswith("kept inside the engine")]
    if hashed:
        secret, origin = pseudonym_key()
        for c in hashed:
            frame[c] = pseudonyms(frame[c].astype(object), secret)
        notes.append(f"pseudonymised with a keyed hash ({origin}): {', '.join(hashed)}")
    # the id column as loaded (positions are rows as read), looked up only for the few rows a
    # message names: not a second copy of every id as a Python string (10M ids: ~700 MB)
    ident = frame[key] if key else None

    def label(i: int) -> str:
        return f"{key} {str(ident.iloc[i])!r}" if ident is not None else f"row {i + 1}"

    return LoadedTable(frame, lazy.source, lazy.quality, notes, lazy.origin, dict(lazy.fixes),
                       np.arange(len(frame)), label, lazy.personal)


def _columns(lazy: LazyTable, names: list[str], key: str | None):
    """(name, Arrow column) in the table's order by ``key``, one column at a time where the
    engine keeps temporary tables; one query otherwise (Spark, or no id to order by)."""
    import ibis

    expr = lazy.expr.select(*names)
    if key is None or lazy.con is None:
        arrow = (expr.order_by(key) if key else expr).to_pyarrow()
        pending = {name: arrow[name] for name in arrow.column_names}
        del arrow  # each column is freed once converted: peak memory of one copy, not two
        for name in names:
            yield name, pending.pop(name)
        return
    numbered = keep_once(lazy.con, expr.mutate(_sqr_row=ibis.row_number().over(order_by=key)))
    try:
        _drop(lazy.con, lazy.expr)  # the valid rows now live in ``numbered``
        for name in names:
            yield name, numbered.select(name, "_sqr_row").order_by("_sqr_row").to_pyarrow()[name]
    finally:
        _drop(lazy.con, numbered)


def release(table: LazyTable, kept) -> None:
    """``kept`` (a table computed from ``table.expr``, e.g. the prepared tickets) now holds the
    valid rows: ``table.expr`` reads them from it, and the validation's temporary tables are
    dropped (their memory is the engine's largest share)."""
    if table.con is None:
        return
    columns = table.columns
    _drop(table.con, table.expr)
    table.expr = kept.select(*columns)


def _drop(con, expr) -> None:
    """Drop the temporary tables (``keep_once``) that ``expr`` reads."""
    import ibis.expr.operations as ops

    for node in expr.op().find(ops.DatabaseTable):
        if node.name.startswith("sqr_valid_"):  # (Ibis 12's drop_table fails on temp tables)
            done = con.raw_sql(f'DROP TABLE IF EXISTS "{node.name}"')
            if con.name != "duckdb":  # a server's cursor; DuckDB returns its connection
                done.close()


def _to_pandas(col, key: bool) -> pd.Series:
    """An Arrow column as pandas: the id's text stays in Arrow (compact); other text becomes
    Python strings, repeated values sharing one object (pyarrow deduplicates)."""
    import pyarrow as pa

    if key and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return pd.Series(col.to_pandas(types_mapper=pd.ArrowDtype))
    return col.to_pandas()


#: DuckDB's share of memory for a file validated in it; beyond it, DuckDB spills to disk
ENGINE_MEMORY = "1536MB"


def duckdb_connection():
    """An in-memory DuckDB for files, its memory capped (``ENGINE_MEMORY``) and its spill
    files in a temporary folder (removed at exit), never in the project."""
    import atexit
    import shutil
    import tempfile

    import ibis

    spill = tempfile.mkdtemp(prefix="sqr-duckdb-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    con = ibis.duckdb.connect()
    con.raw_sql(f"SET memory_limit = '{ENGINE_MEMORY}'")
    con.raw_sql(f"SET temp_directory = '{spill}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def open_table(src: DataSource, source: str):
    """(connection, Ibis table) of the source; files through an in-memory DuckDB (CSV as text,
    so that every value is checked as written)."""
    if src.source is not None:
        from sqresearch.io import engines

        con = engines.connect(src.source, source)
        return con, engines.table(con, src.source, source)
    if src.file_format not in ("csv", "parquet") or src.layout == "wide":
        raise Fallback(f"a {src.layout} {src.file_format} table is read in memory")

    from sqresearch.io.files import read_raw

    read_raw(src, source, limit=0)  # the folder, existence and shape checks of a file
    path = paths.resolve(src.path)
    con = duckdb_connection()
    if src.file_format == "parquet":
        return con, con.read_parquet(str(path))
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if detect_encoding(head) not in ("utf-8", "utf-8-sig"):
        raise Fallback("a CSV that is not UTF-8 is decoded in memory")
    return con, con.read_csv(str(path), header=True, all_varchar=True)


def load_lazy(src: DataSource, roles: dict[str, Role], required: tuple[str, ...] = (),
              keep: tuple[str, ...] = (), source: str = "data",
              ticket_checks: bool = False) -> LazyTable:
    """Validate a table in its engine; raises ``Fallback`` where ``io.data`` must read it."""
    import ibis

    if src.timestamp_format is not None or src.timezone is not None:
        raise Fallback("declared timestamp formats and time zones are read in memory")
    if "mask" in src.personal.values():
        raise Fallback("free-text columns declared personal: mask are masked in memory")
    _BACKEND.set(src.source.backend if src.source is not None else "duckdb")
    con, t = open_table(src, source)
    names = list(t.schema().names)
    mapping = {role: src.columns.get(role, role) for role in roles}
    present = {r: c for r, c in mapping.items() if c in names}
    problems = []
    wanted = [(f"role '{r}'", mapping[r]) for r in roles if r in required or r in src.columns]
    wanted += [("segment/column", c) for c in keep] + [("personal column", c)
                                                       for c in src.personal]
    for what, col in wanted:
        if col not in names:
            close = difflib.get_close_matches(col, names, n=1)
            problems.append(Problem(f"column {col!r} ({what})", f"not found in {src.where}.",
                                    f"did you mean {close[0]!r}? Map it in data.columns." if
                                    close else f"map it in data.columns; it has: "
                                    f"{column_list(names)}."))
    used = list(dict.fromkeys([*present.values(), *keep]))
    problems += personal.guard(_sample(t, [c for c in used if c in names]), src,
                               {c: (r, roles[r].kind) for r, c in present.items()}, keep)
    if problems:
        raise DataError(source, problems)

    ids = [r for r, s in roles.items() if s.kind == "id" and r in present]
    cols, bad, coded = {}, {}, {}
    for role, col in present.items():
        cols[role], bad[role], coded[role] = typed(t[col], roles[role], src, role,
                                                    names, t.schema()[col])
    kept = [c for c in dict.fromkeys(keep) if c not in present.values()]
    kept_types = keep_types(t, kept, src)
    for col in kept:
        cols[col] = keep_value(t[col], kept_types[col][0], src)
    odd = {f"_odd_{r}": odd_stamp(t[c]) for r, c in present.items()
           if roles[r].kind == "timestamp" and t.schema()[c].is_string()}
    x = t.select(**cols, **{f"_bad_{r}": b for r, b in bad.items()},
                 **{f"_coded_{r}": c for r, c in coded.items() if c is not None},
                 **{f"_raw_{r}": t[c] for r, c in present.items()}, **odd)
    # each check's own condition, a flag per row (the order of ``ordered`` decides where a
    # row failing several is counted: column readings each, then the ticket checks in turn)
    own: dict[str, object] = {}  # flag column → its condition on ``x``
    checks: list[tuple[str, str, str]] = []  # (check, role, flag column), read column by column
    for role in present:
        if roles[role].kind != "timestamp":
            checks.append((_bad_message(roles[role]), role, f"_bad_{role}"))
            own[f"_bad_{role}"] = x[f"_bad_{role}"]
    extra: list[tuple[str, str, str]] = []  # (check, role, flag column), each after the others
    if ticket_checks:
        own |= {"_no_created": x.created.isnull(), "_no_id": x.ticket_id.isnull()}
        extra += [("no creation time", "created", "_no_created"),
                  ("no ticket id", "ticket_id", "_no_id"),
                  ("duplicate ticket id", "ticket_id", "_dup")]
        for role, what in [("first_response", "first response before creation"),
                           ("resolved", "resolved before creation")]:
            if role in present:
                own[f"_early_{role}"] = (x[role] < x.created).fill_null(False)
                extra.append((what, role, f"_early_{role}"))
    # one pass over the source: the typed columns and every row's flags, kept once in the
    # engine; duplicates, counts, examples and the valid rows are then read from that table
    flags = {**own, **{f"_coded_{r}": x[f"_coded_{r}"] for r, c in coded.items()
                       if c is not None}, **{k: x[k] for k in odd}}
    try:
        y = keep_once(con, x.select(*cols, **flags))
        if ticket_checks:  # the ids seen twice, a small table of their own
            seen = y.group_by("ticket_id").aggregate(_n=y.count())
            twice = keep_once(con, seen.filter((seen._n > 1) & seen.ticket_id.notnull())
                              .select("ticket_id"))
            y = y.mutate(_dup=y.ticket_id.isin(twice.ticket_id).fill_null(False))
        invalid = ibis.literal(False)
        ordered = []  # (check, role, the rows it counts, flag column)
        for name, role, flag in checks:
            ordered.append((name, role, y[flag], flag))
            invalid = invalid | y[flag]
        for name, role, flag in extra:
            ordered.append((name, role, y[flag] & ~invalid, flag))
            invalid = invalid | y[flag]
        aggs = {"n_read": y.count(), "n_bad": trues(invalid)}
        aggs |= {f"c{i}": trues(o[2]) for i, o in enumerate(ordered)}
        aggs |= {f"m_{r}": trues(y[f"_coded_{r}"]) for r in coded if coded[r] is not None}
        aggs |= {k: trues(y[k]) for k in odd}
        aggs |= {f"f_{c}": y[c].count() for c in kept if kept_types[c][2] is None}
        counts = y.aggregate(**aggs).to_pandas().iloc[0].fillna(0).astype(int)
    except Exception as exc:  # noqa: BLE001 - e.g. a text date the engine refuses to cast
        from sqresearch.io.engines import first_line, hide_password

        raise Fallback("the engine could not check every value: "
                       f"{hide_password(first_line(exc))[:160]}") from None
    strange = [k.removeprefix("_odd_") for k in odd if counts[k]]
    if strange:
        _drop(con, y)
        raise Fallback(f"timestamps of {', '.join(strange)} not all written as ISO 8601 "
                       "without an offset")
    n_read = int(counts["n_read"])

    quality: list[dict] = [{"check": "rows read", "column": "", "rows": n_read, "action": "",
                            "examples": ""}]
    if src.source is not None:
        quality.append({"check": f"read in the {src.source.backend} engine (validated there)",
                        "column": "", "rows": n_read, "action": "", "examples": ""})
    label_of = ids[0] if ids else None
    for r, c in coded.items():
        if c is not None and counts[f"m_{r}"]:
            codes = ", ".join(f"{v:g}" for v in src.missing_codes[r])
            quality.append({"check": f"missing-value code {codes} set to missing", "column": r,
                            "rows": int(counts[f"m_{r}"]), "action": "set missing",
                            "examples": _examples(y, y[f"_coded_{r}"], label_of,
                                                  int(counts[f"m_{r}"]))})
    for col in kept:
        filled = kept_types[col][2]
        quality.append({"check": f"type: {kept_types[col][1]}", "column": col,
                        "rows": int(counts[f"f_{col}"]) if filled is None else filled,
                        "action": "", "examples": ""})
    action = "error" if src.on_invalid == "error" else "excluded"
    for i, (name, role, rows, flag) in enumerate(ordered):
        n = int(counts[f"c{i}"])
        if n:
            raw = (x, own.get(flag, ibis.literal(True)), f"_raw_{role}") if role in present \
                else None
            shown = _examples(y, rows, label_of, n, raw)
            quality.append({"check": name, "column": role, "rows": n, "action": action,
                            "examples": shown})
    table = pd.DataFrame(quality, columns=["check", "column", "rows", "action", "examples"])
    origin = f"{source} ({src.where})"
    n_bad = int(counts["n_bad"])
    if src.on_invalid == "error" and n_bad:
        raise DataError(origin, [Problem(f"column '{mapping.get(r.column, r.column)}', "
                                         f"{r.rows} row(s) ({r.examples})", f"{r.check}.",
                                         "correct the data, or set data.on_invalid: exclude "
                                         "to drop such rows (they are counted in the report).")
                                 for r in table[table["action"] == "error"].itertuples()])
    rows_used = n_read - n_bad
    table.loc[len(table)] = ["rows used", "", rows_used, "", ""]
    fixes = {c: "correct those values: data.on_invalid: exclude drops every row that has one."
             for c in table.loc[table["action"] == "excluded", "check"]}
    if rows_used == 0 and n_read > 0:
        raise nothing_left(table, origin, n_read, fixes)
    # the valid rows, typed: read from the tables kept above
    expr = y.filter(~invalid).select(*cols)
    from sqresearch.io.data import InputFile

    if src.source is None:
        path = paths.resolve(src.path)
        info = InputFile(paths.display(path), paths.sha256(path), n_read, src.file_format)
    else:
        info = InputFile(src.where, "", n_read, src.file_format)
    notes = []
    hashed = [c for c, p in src.personal.items() if p == "pseudonymise"]
    if hashed:
        notes.append(f"kept inside the engine, never fetched: {', '.join(hashed)}")
    dropped = [c for c, p in src.personal.items() if p == "drop"]
    if dropped:
        notes.append(f"never read: {', '.join(dropped)}")
    return LazyTable(expr, con, info, table, n_read, notes, origin, personal.provenance(src),
                     fixes)


def _sample(t, used: list[str]) -> pd.DataFrame:
    """At most SAMPLE rows of the used columns, evenly spaced over the table's own order."""
    import ibis

    if not used:
        return pd.DataFrame()
    n = int(t.count().execute())
    step = max(1, n // SAMPLE)
    numbered = t.select(*used).mutate(_i=ibis.row_number())
    return numbered.filter(numbered._i % step == 0).limit(SAMPLE).drop("_i").to_pandas()


def keep_once(con, expr, prefix: str = "sqr_valid_"):
    """``expr`` computed once into a temporary table of its engine (dropped with the
    connection, or by ``_drop`` once spent when its name starts with ``sqr_valid_``), so that
    what follows reads typed rows instead of validating again; Spark keeps its plan (its cache
    is per session and unbounded)."""
    import uuid

    if con is None:  # Spark
        return expr
    return con.create_table(f"{prefix}{uuid.uuid4().hex[:12]}", expr, temp=True)


def _examples(table, rows, label_of: str | None, total: int, raw=None) -> str:
    """The first offending rows (by id) for a message, with their values as written.

    ``rows`` marks the rows of ``table`` (the kept typed columns and flags); ``raw`` is (the
    source's typed view, the check's own condition on it, the raw column): the values as
    written are looked up in the source for those ids only, where the condition holds (rows
    sharing an id are told apart by it). Without ids, or for rows without one, the first rows
    of the source where the condition holds are shown (one more pass)."""
    if label_of is None:
        labels = [f"row {i + 1}" for i in range(min(total, SHOWN))]
        if raw is None:
            return examples(labels, None, total)
        source, cond, column = raw
        got = source.filter(cond).select(column).limit(SHOWN).to_pandas()
        return examples(labels, list(got[column]), total)
    found = table.filter(rows).order_by(label_of).select(label_of).limit(SHOWN).to_pandas()
    ids = list(found[label_of])
    labels = [f"{label_of} {str(v)!r}" for v in ids]
    if raw is None:
        return examples(labels, None, total)
    source, cond, column = raw
    if any(pd.isna(v) for v in ids):
        got = source.filter(cond).order_by(label_of).select(label_of, column).limit(SHOWN)
        got = got.to_pandas()
        return examples([f"{label_of} {str(v)!r}" for v in got[label_of]], list(got[column]),
                        total)
    got = source.filter(source[label_of].isin(ids) & cond).select(label_of, column).to_pandas()
    first = dict(reversed(list(zip(got[label_of], got[column], strict=True))))
    return examples(labels, [first.get(v) for v in ids], total)


__all__ = ["Fallback", "LazyTable", "estimated_rows", "keep_once", "load_lazy", "materialize",
           "note_fallback", "open_table", "release", "use_pushdown"]


def note_fallback(table, reason: str) -> None:
    """Say in the data-quality table that a large table was read in memory, and why."""
    row = pd.DataFrame([{"check": f"read in memory ({reason})", "column": "",
                         "rows": table.rows_read, "action": "", "examples": ""}])
    table.quality = pd.concat([table.quality.iloc[:1], row, table.quality.iloc[1:]],
                              ignore_index=True)


#: tables with at least this many rows are validated and aggregated in their engine (auto)
PUSHDOWN_ROWS = 1_000_000


def estimated_rows(src: DataSource, source: str) -> int:
    """About how many rows the table has, cheaply: a Parquet file's metadata, a CSV's size over
    the length of its first lines, a database's count."""
    if src.source is not None:
        from sqresearch.io import engines

        con = engines.connect(src.source, source)
        return int(engines.table(con, src.source, source).count().execute())
    path = paths.resolve(src.path)
    if not path.is_file():
        return 0
    if src.file_format == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # noqa: BLE001 - not a Parquet file: the reader says why
            return 0
    if src.file_format != "csv":
        return 0
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if not head:
        return 0
    lines = max(1, head.count(b"\n"))
    return int(path.stat().st_size / (len(head) / lines))


def use_pushdown(src: DataSource, source: str) -> bool:
    """Whether the study should validate and aggregate in the engine (``data.engine``)."""
    if src.engine != "auto":
        return src.engine == "pushdown"
    return estimated_rows(src, source) >= PUSHDOWN_ROWS
