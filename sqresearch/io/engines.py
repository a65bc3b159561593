"""Tables on a database or on Spark, read through Ibis: DuckDB (a database file), PostgreSQL (a
server) and Spark (local mode or a cluster).

A study names such a table under ``data.source`` instead of ``data.path``. Credentials never
appear in params: a PostgreSQL URL comes from an environment variable (``url_env``, default
``SQR_POSTGRES_URL``) or from the libpq variables, and every message shows it without its
password. Only the columns the study uses are fetched, with the types the engine gives them
(no text re-parsed). Why Ibis: one expression API that compiles to each engine's SQL (or Spark
plan), so the same study runs, and is checked, the same way on all three.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import re
from collections.abc import Iterable

import pandas as pd

from sqresearch.io import paths
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.files import column_list

DEFAULT_URL_ENV = "SQR_POSTGRES_URL"
_LIBPQ = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE")
#: the Python package each backend needs, and how to install it
_NEEDS = {"duckdb": ("duckdb", "pip install 'ibis-framework[duckdb]'"),
          "postgres": ("psycopg", "pip install 'ibis-framework[postgres]'"),
          "spark": ("pyspark", "pip install 'ibis-framework[pyspark]' (and Java 17)")}


def hide_password(text: str) -> str:
    """``text`` with any password in a connection URL (or a libpq ``password=``) replaced."""
    text = re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", str(text))
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", text, flags=re.IGNORECASE)


def _key(source: str, spec, what: str, fix: str, key: str = "data.source") -> DataError:
    return DataError(source, Problem(f"key '{key}' ({spec.where})", what, fix))


def _installed(spec, source: str) -> None:
    module, how = _NEEDS[spec.backend]
    try:
        importlib.import_module("ibis")
        importlib.import_module(module)
    except ImportError:
        raise _key(source, spec, f"the {spec.backend} backend is not installed in this "
                   "environment.", f"install it ({how}), or read the data from a file "
                   "(data.path).") from None


def postgres_url(spec, source: str) -> str:
    """The connection URL of a postgres source, from the environment (never from params)."""
    name = spec.url_env or DEFAULT_URL_ENV
    url = os.environ.get(name, "").strip()
    if url:
        if not re.match(r"postgres(ql)?://", url):
            raise _key(source, spec, f"the environment variable {name} does not hold a "
                       f"PostgreSQL URL (it starts {hide_password(url)[:12]!r}).",
                       f"set {name}=postgresql://user:password@host:5432/database.")
        return url
    if spec.url_env is None and any(os.environ.get(v) for v in _LIBPQ):
        return "postgresql://"  # libpq fills in host, port, user, password and database
    raise _key(source, spec, f"no connection: the environment variable {name} is not set.",
               f"set {name}=postgresql://user:password@host:5432/database in the environment "
               "the study runs in (never in params), or the libpq variables PGHOST, PGUSER, "
               "PGPASSWORD and PGDATABASE.")


def connect(spec, source: str):
    """An Ibis connection to the source's engine; a clear DataError when it cannot be made."""
    _installed(spec, source)
    import ibis

    if spec.backend == "spark":
        return None  # the session is started (or reused) when the table is opened
    if spec.backend == "duckdb":
        path = paths.resolve(spec.database)
        why = paths.outside_data_dirs(path)
        if why:
            what, _, fix = why.partition(" Fix: ")
            raise _key(source, spec, what + ".", fix + ".", "data.source.database")
        if not path.is_file():
            raise _key(source, spec, f"database file {spec.database} does not exist.",
                       "give the path of a DuckDB database file relative to the project root.",
                       "data.source.database")
        try:
            return ibis.duckdb.connect(str(path), read_only=True)
        except Exception as exc:  # noqa: BLE001 - any engine error is the user's file
            raise _key(source, spec, f"{spec.database} cannot be opened as a DuckDB database: "
                       f"{first_line(exc)}", "give a DuckDB database file (.duckdb).",
                       "data.source.database") from None
    url = postgres_url(spec, source)
    try:
        con = ibis.connect(url) if url != "postgresql://" else ibis.postgres.connect()
        # the planner misjudges small uploaded tables (the business calendar) and would spend
        # seconds compiling queries that take milliseconds
        con.raw_sql("SET jit = off").close()
        return con
    except Exception as exc:  # noqa: BLE001 - psycopg's OperationalError and kin
        raise _key(source, spec, f"cannot connect to the PostgreSQL server: "
                   f"{hide_password(first_line(exc))}",
                   "check that the server is running and reachable, and the URL in "
                   f"{spec.url_env or DEFAULT_URL_ENV} (host, port, database, user, password)."
                   ) from None


def first_line(exc: BaseException) -> str:
    """An engine's error as one line (the first non-empty one, at most 300 characters)."""
    lines = [s.strip() for s in str(exc).strip().splitlines() if s.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def table(con, spec, source: str):
    """The source's table as an Ibis expression (nothing is read yet)."""
    if spec.backend == "spark":
        from sqresearch.io import spark

        return spark.spark_table(spec, source)
    *prefix, name = spec.table.split(".")
    database = tuple(prefix) if len(prefix) > 1 else (prefix[0] if prefix else None)
    try:
        return con.table(name, database=database)
    except Exception as exc:  # noqa: BLE001 - each backend has its own "no such table"
        try:
            known = con.list_tables(database=database)
        except Exception:  # noqa: BLE001 - the schema itself may not exist
            known = []
        close = difflib.get_close_matches(name, known, n=1)
        fix = (f"did you mean {close[0]!r}?" if close else
               f"tables{' in ' + '.'.join(prefix) if prefix else ''}: "
               f"{column_list(sorted(known)) or 'none'}.")
        raise _key(source, spec, f"table {spec.table!r} not found ("
                   f"{hide_password(first_line(exc))}).", fix, "data.source.table") from None


def read(spec, source: str, wanted: Iterable[str] | None = None,
         limit: int | None = None) -> pd.DataFrame:
    """The columns ``wanted`` (all when None; names the table lacks are left out, to be reported
    by the caller) of the source's table, typed by the engine, as a pandas frame.

    ``attrs["columns"]`` lists every column of the table (for "did you mean" messages)."""
    con = connect(spec, source)
    try:
        t = table(con, spec, source)
        names = list(t.schema().names)
        keep = names if wanted is None else [c for c in dict.fromkeys(wanted) if c in names]
        expr = t.select(*keep) if keep else t.select(names[:1]).limit(0)
        if limit is not None:
            expr = expr.limit(int(limit))
        try:
            out = expr.to_pandas()
        except Exception as exc:  # noqa: BLE001 - the engine's own error while reading
            raise _key(source, spec, f"the table cannot be read: "
                       f"{hide_password(first_line(exc))}",
                       "check that the columns the study uses have simple types (numbers, "
                       "text, dates, timestamps, booleans).") from None
        out = _plain(out.loc[:, keep] if keep else out.iloc[:, :0])
    finally:
        _close(con, spec)
    out.attrs["columns"] = names
    out.attrs["types"] = {c: str(t.schema()[c]) for c in keep}
    return out


#: what an engine type can hold, by the role kinds of ``io.data.Role``
_KINDS = {"timestamp": ("timestamp", "date", "string"),
          "score": ("int", "uint", "float", "decimal", "string"),
          "count": ("int", "uint", "float", "decimal", "boolean", "string"),
          "bool": ("boolean", "int", "uint", "float", "decimal", "string")}


def type_problems(types: dict[str, str], kinds: dict[str, tuple[str, str]],
                  where: str) -> list[Problem]:
    """Columns whose engine type cannot hold their role (a timestamp role on a number column,
    a score on a timestamp …): one problem each, with the type found and the fix.

    ``kinds``: column -> (role, kind)."""
    out = []
    for col, (role, kind) in kinds.items():
        found = types.get(col)
        allowed = _KINDS.get(kind)
        if found is None or allowed is None:
            continue
        base = re.sub(r"^!|\(.*$", "", found).lower()
        if not base.startswith(allowed):
            want = {"timestamp": "a timestamp (or date)", "bool": "a boolean or 0/1",
                    "count": "a whole number"}.get(kind, "a number")
            out.append(Problem(f"column {col!r} in {where}", f"has the type {found} in the "
                               f"engine, but the role {role!r} needs {want}.",
                               f"map the role to a column of that type in data.columns, or "
                               f"cast it in a view (CAST({col} AS ...))."))
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine types as the rest of ``io`` reads them: booleans and integers with missing values
    as floats (0/1), decimals as floats, time-zone-aware timestamps kept (``timestamps``
    converts them to the study's zone)."""
    import decimal

    for c in frame.columns:
        col = frame[c]
        nullable_number = pd.api.types.is_extension_array_dtype(col) and \
            pd.api.types.is_numeric_dtype(col)
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean" or nullable_number:
            frame[c] = col.astype("Float64").astype(float)
        elif col.dtype == object and col.map(lambda v: isinstance(v, decimal.Decimal)).any():
            frame[c] = pd.to_numeric(col, errors="coerce").astype(float)
    return frame


def _close(con, spec) -> None:
    if spec.backend == "spark":
        return  # the session is shared by the run
    with contextlib.suppress(Exception):  # closing is best effort
        con.disconnect()
