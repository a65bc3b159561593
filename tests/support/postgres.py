"""A throwaway PostgreSQL cluster for the tests and benchmarks, and loaders of typed tables.

``postgres_server()`` runs ``initdb`` on a fresh temporary directory (password authentication,
user ``sqr``, a generated password), starts the server on a free port of 127.0.0.1 with its
socket inside that directory, creates the database ``warehouse`` and, on exit, stops the server
(``pg_ctl stop -m immediate``) and deletes the directory, also when the body failed. PostgreSQL
refuses to run as root: as root, ``initdb`` and ``pg_ctl`` run as ``nobody`` (``runuser``).

``load_table()`` reads a file (or a frame) with DuckDB, so the column types are DuckDB's typed
detection (timestamps, BIGINT, DOUBLE, BOOLEAN, VARCHAR), creates the table with the matching
PostgreSQL types and fills it with one ``COPY … FROM STDIN``. ``load_mistyped()`` makes a table
with one column deliberately wrong (text with 'n/a' among the numbers) for the bad-input tests,
``load_synthetic()`` a table of n simulated tickets for the benchmarks.

The session fixture ``postgres`` is one server with every demo file of ``data/`` loaded as a
table named after the file (``support_tickets``, ``branch_visits``, ``agent_coaching``, …).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
USER = "sqr"
DATABASE = "warehouse"
HOST = "127.0.0.1"
RUN_AS = "nobody"  # the unprivileged account initdb and the server run as when we are root
SERVER_OPTIONS = ("-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                  "-c timezone=UTC -c max_connections=40")
DEMO_FILES = sorted([*DATA.glob("*.csv"), *DATA.glob("*.parquet")])

# DuckDB type (its name without parameters) -> PostgreSQL type.
PG_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric", "HUGEINT": "numeric", "UHUGEINT": "numeric",
    "FLOAT": "real", "DOUBLE": "double precision",
    "VARCHAR": "text", "UUID": "uuid", "DATE": "date", "TIME": "time",
    "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class PostgresError(RuntimeError):
    """The throwaway server could not be set up; the message says which step and how to fix."""


def pg_binary(name: str) -> Path:
    """A PostgreSQL server program: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if versions:
        return versions[-1]
    raise PostgresError(
        f"the PostgreSQL server program {name!r} is not on PATH nor in "
        "/usr/lib/postgresql/*/bin. Fix: run the tests with `python3 tasks.py test` as root "
        "(it installs the Debian package postgresql), or install it yourself: "
        "sudo apt-get install -y postgresql")


@dataclass
class PostgresServer:
    """A running throwaway cluster. ``url`` carries the password: do not print it."""

    directory: Path
    port: int
    password: str = field(repr=False)
    host: str = HOST
    user: str = USER
    database: str = DATABASE
    stopped: bool = False
    tables: dict[str, int] = field(default_factory=dict)  # name -> rows, filled by loaders

    @property
    def pgdata(self) -> Path:
        return self.directory / "pgdata"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def url(self) -> str:
        """postgresql://sqr:PASSWORD@127.0.0.1:PORT/warehouse"""
        return self.url_for(self.database)

    def url_for(self, database: str, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{self.user}:{pw}@{self.host}:{self.port}/{database}"

    def connect(self, database: str | None = None, **kwargs) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=database or self.database,
                               connect_timeout=10, **kwargs)

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its directory; safe to call twice."""
        if self.stopped:
            return
        try:
            if (self.pgdata / "postmaster.pid").exists():
                done = _run([pg_binary("pg_ctl"), "stop", "-D", self.pgdata, "-m", "immediate",
                             "-w", "-t", "30"], self.directory, check=False)
                if done.returncode != 0:
                    _kill_postmaster(self.pgdata)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.stopped = True


def _as_user_prefix() -> list[str]:
    if os.name == "posix" and os.geteuid() == 0:
        return ["runuser", "-u", RUN_AS, "--"]
    return []


def _run(cmd: list, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a server program (as ``nobody`` when we are root), from a folder it may read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env |= {"LC_ALL": "C", "LANG": "C", "TZ": "UTC"}
    done = subprocess.run([*_as_user_prefix(), *(str(c) for c in cmd)], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise PostgresError(f"{Path(str(cmd[0])).name} {cmd[1]} failed "
                            f"(exit {done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done


def _kill_postmaster(pgdata: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _make_directory(base: Path | None) -> Path:
    """A fresh folder for the cluster, owned by the account the server runs as. The socket
    lives inside it, so keep it short (the system temp folder by default)."""
    directory = Path(tempfile.mkdtemp(prefix="sqr-pg-", dir=base))
    if _as_user_prefix():
        shutil.chown(directory, user=RUN_AS, group=None)
        probe = subprocess.run([*_as_user_prefix(), "test", "-w", str(directory)],
                               capture_output=True)
        if probe.returncode != 0:
            shutil.rmtree(directory, ignore_errors=True)
            raise PostgresError(
                f"the server must run as {RUN_AS!r} (PostgreSQL refuses root), but {RUN_AS!r} "
                f"cannot reach {directory}. Fix: give a base folder every user may traverse "
                "(the system temp folder, the default)")
    return directory


def start_server(base: Path | None = None, attempts: int = 5) -> PostgresServer:
    """Create and start a cluster (the caller stops it: prefer ``postgres_server()``)."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    directory = _make_directory(base)
    server = PostgresServer(directory, 0, secrets.token_urlsafe(18))
    try:
        pwfile = directory / "pwfile"
        pwfile.write_text(server.password + "\n")
        if _as_user_prefix():
            shutil.chown(pwfile, user=RUN_AS, group=None)
        _run([initdb, "-D", server.pgdata, "-U", USER, "--auth=scram-sha-256",
              f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync"], directory)
        pwfile.unlink()
        for attempt in range(attempts):
            server.port = _free_port()
            options = (f"-p {server.port} -k {shlex.quote(str(directory))} "
                       f"-c listen_addresses={HOST} {SERVER_OPTIONS}")
            started = _run([pg_ctl, "start", "-D", server.pgdata, "-l", server.log, "-w",
                            "-t", "60", "-o", options], directory, check=False)
            if started.returncode == 0:
                break
            log = server.log.read_text(errors="replace") if server.log.exists() else ""
            if "could not bind" not in log or attempt == attempts - 1:
                raise PostgresError(f"pg_ctl start failed: {started.stderr.strip()}\n"
                                    f"server log:\n{log[-2000:]}")
        _wait_ready(server)
        with server.connect("postgres", autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: PostgresServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with server.connect("postgres") as con:
                con.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def postgres_server(base: Path | None = None) -> Iterator[PostgresServer]:
    """A running throwaway cluster for the ``with`` block; stopped and deleted afterwards."""
    server = start_server(base)
    try:
        yield server
    finally:
        server.stop()


# --- loading tables --------------------------------------------------------------------------

def split_name(name: str) -> sql.Identifier:
    """``table`` or ``schema.table`` as a quoted SQL identifier."""
    parts = name.split(".")
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"table name {name!r}: use 'table' or 'schema.table'")
    return sql.Identifier(*parts)


def _relation(con: duckdb.DuckDBPyConnection, source) -> duckdb.DuckDBPyRelation:
    if isinstance(source, pd.DataFrame | pa.Table):
        return con.from_arrow(source) if isinstance(source, pa.Table) else con.from_df(source)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(path)
    if path.suffix.lower() == ".parquet":
        return con.read_parquet(str(path))
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        return con.read_csv(str(path))
    raise ValueError(f"{path.name}: load_table reads .csv or .parquet files, or a frame")


def _base_type(duck_type: str) -> str:
    return duck_type.split("(")[0].strip()


def pg_type(duck_type: str, column: str = "?") -> str:
    """The PostgreSQL type of a DuckDB column type."""
    base = _base_type(duck_type)
    if base == "DECIMAL":
        return duck_type.replace("DECIMAL", "numeric")
    if base in PG_TYPES:
        return PG_TYPES[base]
    raise TypeError(f"column {column!r}: no PostgreSQL type for DuckDB type {duck_type}")


def load_table(url: str, name: str, source, types: dict[str, str] | None = None) -> int:
    """Create (or replace) table ``name`` (``table`` or ``schema.table``) on the database at
    ``url`` from ``source`` — a .csv or .parquet path, a pandas DataFrame or a pyarrow Table —
    with the PostgreSQL types of DuckDB's typed reading; ``types`` overrides the SQL type of
    named columns (their values are sent as text for PostgreSQL to parse). Returns the rows."""
    types = dict(types or {})
    con = duckdb.connect()
    try:
        rel = _relation(con, source)
        columns = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
        unknown = sorted(set(types) - set(columns))
        if unknown:
            raise ValueError(f"types names columns not in the source: {unknown}")
        defs, selects = [], []
        for col, duck in columns.items():
            quoted = '"' + col.replace('"', '""') + '"'
            if col in types:
                defs.append(sql.SQL("{} {}").format(sql.Identifier(col), sql.SQL(types[col])))
                selects.append(f"CAST({quoted} AS VARCHAR) AS {quoted}")
                continue
            defs.append(sql.SQL("{} {}").format(sql.Identifier(col), sql.SQL(pg_type(duck, col))))
            if _base_type(duck) in {"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}:
                selects.append(f"CAST({quoted} AS TIMESTAMP) AS {quoted}")
            else:
                selects.append(quoted)
        with tempfile.TemporaryDirectory(prefix="sqr-load-") as tmp:
            csv_path = Path(tmp) / "rows.csv"
            con.register("src", rel)
            con.execute(f"COPY (SELECT {', '.join(selects)} FROM src) TO "
                        f"'{csv_path}' (FORMAT csv, HEADER false)")
            return _copy_into(url, name, defs, csv_path)
    finally:
        con.close()


def _copy_into(url: str, name: str, defs: list, csv_path: Path) -> int:
    table = split_name(name)
    with psycopg.connect(url) as pg, pg.cursor() as cur:
        if "." in name:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(name.split(".")[0])))
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(defs)))
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)
        with cur.copy(copy_sql) as copy, open(csv_path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        rows = cur.rowcount
        cur.execute(sql.SQL("ANALYZE {}").format(table))
    return rows


def read_frame(source) -> pd.DataFrame:
    """A file (or frame) as DuckDB types it, as a pandas frame (nullable integers)."""
    con = duckdb.connect()
    try:
        return _relation(con, source).df()
    finally:
        con.close()


def load_mistyped(url: str, name: str, source, column: str = "csat", bad: str = "n/a",
                  every: int = 10) -> int:
    """Load ``source`` as ``name`` with ``column`` as text: its values as digits, and every
    ``every``-th non-missing one replaced by ``bad``. Returns how many values were spoiled."""
    frame = read_frame(source)
    if column not in frame.columns:
        raise ValueError(f"{column!r} is not a column of the source")
    text = frame[column].astype("string")
    present = np.flatnonzero(text.notna().to_numpy())
    spoiled = present[every - 1::every]
    text.iloc[spoiled] = bad
    frame[column] = text
    load_table(url, name, frame, types={column: "text"})
    return int(spoiled.size)


# --- synthetic tickets for the benchmarks ----------------------------------------------------

def synthetic_tickets(n: int, seed: int = 0) -> pd.DataFrame:
    """Exactly ``n`` tickets from the demo simulator (``simulate.support_tickets``) over the demo
    half-year, the desk scaled up to about n tickets and a seeded random n of them kept
    (ticket ids renumbered T1…Tn in time order)."""
    from sqresearch import simulate

    days = pd.date_range("2026-01-01", "2026-06-30", freq="D")
    weekdays = int((days.weekday < 5).sum())
    expected = weekdays * 32 + (days.size - weekdays) * 8  # tickets at the demo's scale
    scale = max(1.0, n / expected) * 1.03
    while True:
        df = simulate.support_tickets(seed=seed, per_weekday=32 * scale,
                                      per_weekend_day=8 * scale)
        if len(df) >= n:
            break
        scale *= 1.1
    keep = np.sort(np.random.default_rng(seed).choice(len(df), size=n, replace=False))
    df = df.iloc[keep].reset_index(drop=True)
    df["ticket_id"] = pd.Series(np.arange(1, n + 1)).map("T{:08d}".format)
    return df


def load_synthetic(url: str, name: str, n: int, seed: int = 0) -> int:
    """Table ``name`` with ``synthetic_tickets(n, seed)``; returns the rows (n)."""
    return load_table(url, name, synthetic_tickets(n, seed))


# --- the pytest fixture ----------------------------------------------------------------------

def load_demo(url: str) -> dict[str, int]:
    """Every demo file of data/ as a table named after the file; rows per table."""
    return {path.stem: load_table(url, path.stem, path) for path in DEMO_FILES}


def engine_table(engine: str, name: str, frame: pd.DataFrame, request):
    """``frame`` as a table on a fresh DuckDB (``engine="duckdb"``) or on the session's
    PostgreSQL server (the ``postgres`` fixture, through ``request``): (Ibis connection, table).
    The caller disconnects."""
    import ibis

    if engine == "duckdb":
        con = ibis.duckdb.connect()
        return con, con.create_table(name, ibis.memtable(frame))
    server = request.getfixturevalue("postgres")
    load_table(server.url, name, frame)
    con = ibis.connect(server.url)
    return con, con.table(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway server for the session with the demo files loaded (see ``load_demo``)."""
    with postgres_server() as server:
        server.tables = load_demo(server.url)
        yield server
