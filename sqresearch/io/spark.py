"""Spark as a study's data source: a local session, and a catalog table or a folder of files as an
Ibis table.

``data.source`` names either a table in the Spark catalog (``table:``) or Parquet/CSV files read
by Spark (``path:``). With ``warehouse:`` the catalog is a Hive metastore kept in that folder
(an embedded Derby database, ``<warehouse>/metastore_db``, next to the table files in
``<warehouse>/tables``), so a table saved by one process is visible to the next — the study's
kernel is a fresh process. Embedded Derby admits one process at a time, so this module holds the
metastore only while it looks a table up or saves one (:func:`release`).

The JVM's own output (start-up banner, warnings, stack traces) goes to a log file, never to the
user's terminal or the notebook: ``<warehouse>/spark.log``, or ``sqresearch-spark-<uid>.log`` in
the temporary folder. Every failure the user can fix is a :class:`DataError`.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqresearch.io import paths
from sqresearch.io.errors import DataError, Problem

#: environment variable naming the Spark master (default ``local[2]``)
MASTER_ENV = "SQR_SPARK_MASTER"
DEFAULT_MASTER = "local[2]"
_INSTALL = "install it with: pip install pyspark (and Java 17 or 21)"
_warehouse_in_use: str | None = None  # the warehouse of the session this module started


def session(warehouse: str | os.PathLike | None = None, source: str = "Spark"):
    """A local SparkSession, started once per process and reused.

    warehouse : folder holding the catalog (``metastore_db``) and the tables (``tables/``),
        relative to the project root; None for an in-memory catalog (files by path only)
    source : what an error message names (the params file)

    Settings: master from ``$SQR_SPARK_MASTER`` (default ``local[2]``), UI off, session time
    zone and JVM time zone UTC, 4 shuffle partitions, 1 GB driver memory, log level ERROR, Arrow
    for pandas transfers. A process has one Spark session and so one warehouse: asking for
    another one is an error.
    """
    global _warehouse_in_use
    _require_pyspark(source)
    from pyspark.sql import SparkSession

    wanted = str(paths.resolve(warehouse).resolve()) if warehouse is not None else None
    active = SparkSession.getActiveSession()
    if active is not None:
        if wanted is not None and _warehouse_in_use is not None and wanted != _warehouse_in_use:
            raise DataError(source, Problem(
                "data.source.warehouse",
                f"this process already runs Spark with the warehouse "
                f"{paths.display(_warehouse_in_use)}, not {paths.display(wanted)}; a process "
                "has one Spark session and one warehouse.",
                "use the same warehouse for every Spark source of a study (or restart the "
                "kernel)."))
        return active

    _require_java(source)
    master = os.environ.get(MASTER_ENV, DEFAULT_MASTER)
    if wanted is not None:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        log = Path(wanted) / "spark.log"
    else:
        log = Path(tempfile.gettempdir()) / f"sqresearch-spark-{os.getuid()}.log"
    java_opts = "-Duser.timezone=UTC"
    builder = (SparkSession.builder.master(master).appName("sqresearch")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.executor.extraJavaOptions", java_opts))
    if wanted is not None:
        builder = (builder.enableHiveSupport()
                   .config("spark.sql.warehouse.dir", str(Path(wanted) / "tables"))
                   .config("spark.hadoop.javax.jdo.option.ConnectionURL", _derby_url(wanted))
                   # a connection per metastore call, so release() can close the database
                   .config("spark.hadoop.datanucleus.connectionPoolingType", "None")
                   # a metastore held by another process: say so at once (default: 10 × 2 s)
                   .config("spark.hadoop.hive.hmshandler.retry.attempts", "1"))
        java_opts += f" -Dderby.system.home={wanted}"  # derby.log goes there too
    builder = builder.config("spark.driver.extraJavaOptions", java_opts)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "hostname resolves to" warning

    start = log.stat().st_size if log.exists() else 0
    try:
        with _stderr_to(log):
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, or Spark refused its settings
        java = getattr(exc, "java_exception", None) is not None  # started, then refused
        reason = (not java and _jvm_reason(log, start)) or _first_line(exc)
        raise DataError(source, Problem(
            f"Spark (master {master!r})",
            f"could not start: {reason}",
            f"check that `java -version` runs and is Java 17 or 21, and that ${MASTER_ENV} "
            f"(if set) is a Spark master URL such as local[2]; Spark's log: {log}")) from None
    spark.sparkContext.setLogLevel("ERROR")
    _warehouse_in_use = wanted
    return spark


def spark_table(spec: Any, source: str):
    """The Spark table or files ``spec`` names, as an Ibis table on the PySpark backend.

    spec : has ``backend`` ("spark"), ``table`` or ``path`` (one of them), ``warehouse``
        (optional); relative paths are taken from the project root
    source : what an error message names (the params file)

    A ``path`` may be a Parquet file, a CSV file (header row; column types inferred by Spark)
    or a folder of either. Nothing is read until the table is queried.
    """
    import ibis

    table, path = getattr(spec, "table", None), getattr(spec, "path", None)
    if bool(table) == bool(path):
        raise DataError(source, Problem(
            "data.source", "a Spark source names exactly one of 'table' and 'path'.",
            "give table: <name in the Spark catalog> or path: <Parquet/CSV file or folder>."))
    warehouse = getattr(spec, "warehouse", None)
    spark = session(warehouse, source)
    con = ibis.pyspark.connect(spark)
    frame = _read_path(spark, path, source) if path else _read_table(spark, table, source)
    view = "sqr_" + re.sub(r"\W", "_", str(table or Path(str(path)).stem))
    frame.createOrReplaceTempView(view)  # the resolved plan: no catalog look-up when queried
    release(spark)
    return con.table(view)


def write_table(frame_or_path, name: str, warehouse: str | os.PathLike,
                source: str = "Spark") -> int:
    """Save a pandas DataFrame, or a CSV/Parquet file, as the catalog table ``name`` in
    ``warehouse`` (replacing it), with Spark's types: timestamps as TimestampType, integers,
    doubles, booleans (a CSV's types are inferred by Spark; a frame's come from its dtypes).
    Returns the number of rows written. For tests and demos."""
    import pandas as pd

    spark = session(warehouse, source)
    if isinstance(frame_or_path, pd.DataFrame):
        df = spark.createDataFrame(frame_or_path)
    else:
        df = _read_path(spark, frame_or_path, source)
    df.write.mode("overwrite").format("parquet").saveAsTable(name)
    rows = spark.table(name).count()
    release(spark)
    return rows


def release(spark) -> None:
    """Close this process's hold on the warehouse's Derby metastore, so another process (the
    study's kernel, a test) can open it; the next catalog call here reopens it. Embedded Derby
    admits one process at a time."""
    url = spark.sparkContext.getConf().get("spark.hadoop.javax.jdo.option.ConnectionURL", "")
    if not url.startswith("jdbc:derby:"):
        return
    shutdown = url.replace(";create=true", "") + ";shutdown=true"
    with contextlib.suppress(Exception):  # Derby reports a clean shutdown as an SQLException
        spark._jvm.java.sql.DriverManager.getConnection(shutdown)


def _derby_url(warehouse: str) -> str:
    return f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true"


def _read_table(spark, name: str, source: str):
    from pyspark.errors import AnalysisException

    try:
        exists = spark.catalog.tableExists(name)
    except AnalysisException as exc:
        if "MetaStoreClient" not in str(exc):
            raise
        raise DataError(source, Problem(
            "data.source.warehouse", f"the Spark catalog ({_catalog_name(spark)}) is open in "
            "another process: its embedded Derby metastore admits one process at a time.",
            "stop the other Spark session using this warehouse (another notebook or kernel), "
            "or have it call sqresearch.io.spark.release(spark) first.")) from None
    if not exists:
        db = name.rsplit(".", 1)[0] if "." in name else None
        try:
            known = [t.name for t in spark.catalog.listTables(db) if not t.isTemporary]
        except AnalysisException:  # the database itself does not exist
            known = []
        close = difflib.get_close_matches(name.rsplit(".", 1)[-1], known, n=3, cutoff=0.5)
        where = _catalog_name(spark)
        hint = (f"Did you mean {', '.join(repr(c) for c in close)}? " if close else "") + \
            (f"Tables there: {', '.join(sorted(known)[:20])}." if known else "It has no tables.")
        raise DataError(source, Problem(
            "data.source.table", f"no table {name!r} in the Spark catalog ({where}). {hint}",
            "correct data.source.table, or set data.source.warehouse to the folder the table "
            "was saved in."))
    try:
        return spark.table(name)
    except AnalysisException as exc:
        raise DataError(source, Problem("data.source.table", f"Spark cannot read table "
                                        f"{name!r}: {_first_line(exc)}")) from None


def _read_path(spark, path, source: str):
    from pyspark.errors import AnalysisException

    text = str(path)
    remote = re.match(r"^[a-z][a-z0-9+.-]*://", text) is not None
    if not remote:
        local = paths.resolve(text)
        if not local.exists():
            raise DataError(source, Problem(
                "data.source.path", f"{paths.display(local)} does not exist.",
                "correct data.source.path (relative paths start at the project root)."))
        refused = paths.outside_data_dirs(local)
        if refused:
            what, _, fix = refused.partition(" Fix: ")
            raise DataError(source, Problem("data.source.path",
                                            f"{paths.display(local)} {what}.", fix))
        text = str(local)
    kind = _kind(text, remote)
    try:
        if kind == "csv":
            df = spark.read.csv(text, header=True, inferSchema=True)
        else:
            df = spark.read.parquet(text)
        df.schema  # noqa: B018 - forces Spark to open the files now, inside this try
        return df
    except AnalysisException as exc:
        if "TIMESTAMP(NANOS" in str(exc) and not remote:
            return _read_nanos(spark, text)
        raise DataError(source, Problem(
            "data.source.path", f"Spark cannot read {text} as {kind}: {_first_line(exc)}",
            "point data.source.path at Parquet or CSV files (a file or a folder of them).")) \
            from None


def _read_nanos(spark, text: str):
    """Parquet with nanosecond timestamps (pandas' default), which Spark cannot read as
    timestamps: read them as nanoseconds since the epoch and make them microsecond timestamps
    (the wall-clock values pandas wrote, in the UTC session)."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    first = next((f for f in sorted(Path(text).rglob("*.parquet"))), Path(text))
    nanos = [f.name for f in pq.read_schema(first)
             if getattr(f.type, "unit", None) == "ns" and str(f.type).startswith("timestamp")]
    # read when the query runs, not only now: the setting stays for the session
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    df = spark.read.parquet(text)
    quoted = {c: "`" + c.replace("`", "``") + "`" for c in nanos}
    return df.withColumns({c: F.expr(f"timestamp_micros({q} div 1000)")
                           for c, q in quoted.items()})


def _kind(text: str, remote: bool) -> str:
    """'csv' or 'parquet', from the file's suffix or, for a local folder, its files'."""
    p = Path(text)
    if p.suffix.lower() in (".csv", ".txt"):
        return "csv"
    if not remote and p.is_dir():
        suffixes = {f.suffix.lower() for f in p.rglob("*") if f.is_file()
                    and not f.name.startswith(("_", "."))}
        if suffixes & {".csv", ".txt"} and not suffixes & {".parquet"}:
            return "csv"
    return "parquet"


def _catalog_name(spark) -> str:
    conf = spark.sparkContext.getConf()
    url = conf.get("spark.hadoop.javax.jdo.option.ConnectionURL", "")
    m = re.search(r"databaseName=([^;]+)", url)
    if m:
        return f"warehouse {paths.display(Path(m.group(1)).parent)}"
    return "in-memory catalog: no data.source.warehouse was given"


def _require_pyspark(source: str) -> None:
    try:
        found = importlib.util.find_spec("pyspark") is not None
    except ValueError:  # sys.modules['pyspark'] is None: the import is blocked
        found = False
    if found:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            found = False
    if not found:
        raise DataError(source, Problem(
            "data.source.backend", "is 'spark', but pyspark is not installed in this Python "
            "environment.", _INSTALL + "; or read the files with the default backend."))


def _require_java(source: str) -> None:
    home = os.environ.get("JAVA_HOME")
    if home:
        if not (Path(home) / "bin" / "java").is_file():
            raise DataError(source, Problem(
                "JAVA_HOME", f"is {home!r}, which has no bin/java; Spark runs on Java.",
                "set JAVA_HOME to a Java 17 or 21 installation (the folder holding bin/java), "
                "or unset it to use the java on PATH."))
    elif shutil.which("java") is None:
        raise DataError(source, Problem(
            "data.source.backend", "is 'spark', but Java is not installed: Spark runs on Java "
            "and no `java` is on PATH (and JAVA_HOME is not set).",
            "install Java 17 or 21 (e.g. apt-get install openjdk-17-jre-headless) or set "
            "JAVA_HOME."))


class _stderr_to:
    """Point file descriptor 2 at ``log`` while the JVM starts: the JVM inherits it, so its
    banner, warnings and stack traces go to the log for good (also under Jupyter, which would
    copy descriptor 2 into the notebook)."""

    def __init__(self, log: Path):
        self.log = log

    def __enter__(self):
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


def _jvm_reason(log: Path, start: int) -> str:
    """The first line of the JVM's own complaint in the log, written since ``start``."""
    try:
        with open(log, errors="replace") as fh:
            fh.seek(start)
            lines = [ln.strip() for ln in fh]
    except OSError:
        return ""
    for ln in lines:
        if ln and not ln.startswith(("at ", "WARNING", "Using Spark", "...")) and re.search(
                r"error|exception|could not|unrecognized|invalid", ln, re.I):
            return re.sub(r"^\S+ \S+ ERROR \S+: ", "", ln)[:300]
    return ""


def _first_line(exc: BaseException) -> str:
    """A Spark/Py4J error as one line, without the Java stack trace."""
    java = getattr(exc, "java_exception", None)
    text = str(java.getMessage()) if java is not None else str(exc)
    text = re.sub(r"\s*(SQLSTATE|JVM stacktrace).*", "", text, flags=re.S)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]
