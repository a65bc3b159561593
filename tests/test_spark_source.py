"""Spark as a data source (sqresearch.io.spark) on a real local Spark: a catalog table saved here
is read by a separate Python process (as a study's kernel would), with the same rows, types and
timestamps as pandas reads from the CSV; every failure is one message, never a Java trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pandas as pd
import pytest

from sqresearch.io import paths
from sqresearch.io.errors import DataError
from sqresearch.io.spark import release, session, spark_table, write_table

ROOT = paths.project_root()
CSV = ROOT / "data" / "support_tickets.csv"
STAMPS = ["opened_ts", "first_reply_ts", "solved_ts"]


def spec(table=None, path=None, warehouse=None):
    return SimpleNamespace(backend="spark", table=table, path=path, warehouse=warehouse)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """One Spark session for the module, its catalog in a temporary warehouse holding
    support_tickets.csv as a typed table."""
    folder = tmp_path_factory.mktemp("spark") / "warehouse"
    spark = session(str(folder))
    assert write_table(CSV, "support_tickets", str(folder)) == len(pd.read_csv(CSV))
    yield folder
    release(spark)


def expected() -> pd.DataFrame:
    return pd.read_csv(CSV, parse_dates=STAMPS)


def run(code: str, env: dict | None = None, drop: tuple = ()) -> subprocess.CompletedProcess:
    """Python code in a fresh interpreter with this worktree on the path."""
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full, timeout=240)


def test_catalog_table_is_typed(warehouse):
    from pyspark.sql import SparkSession, types

    schema = {f.name: type(f.dataType) for f in
              SparkSession.getActiveSession().table("support_tickets").schema}
    assert {schema[c] for c in STAMPS} == {types.TimestampType}
    assert schema["csat"] is schema["reopens"] is types.IntegerType
    assert schema["agent_fcr"] is types.BooleanType
    assert schema["ticket_id"] is types.StringType
    release(SparkSession.getActiveSession())  # catalog calls reopen the metastore: close it


def test_table_read_by_another_process(warehouse):
    """While this process holds the catalog the reader gets one message; once released, it
    reads the table. The reader runs in a time zone far from UTC: timestamps must not move."""
    from pyspark.sql import SparkSession

    code = f"""
        import json, sys
        from types import SimpleNamespace
        from sqresearch.io.errors import DataError
        from sqresearch.io.spark import spark_table
        spec = SimpleNamespace(backend="spark", table="support_tickets", path=None,
                               warehouse={str(warehouse)!r})
        try:
            spark_table(spec, "study.yaml")
            print(json.dumps("opened"), flush=True)
        except DataError as e:
            print(json.dumps(str(e)), flush=True)
        sys.stdin.readline()
        t = spark_table(spec, "study.yaml")
        df = t.to_pandas().sort_values("ticket_id")
        print(json.dumps({{
            "rows": int(t.count().to_pyarrow().as_py()),
            "types": {{k: str(v) for k, v in t.schema().items()}},
            "stamps": {{c: df[c].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").tolist()
                        for c in {STAMPS!r}}},
            "csat_mean": float(t.csat.mean().to_pyarrow().as_py())}}))
        """
    spark = SparkSession.getActiveSession()
    spark.catalog.listTables()  # this process opens the metastore
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TZ": "Pacific/Auckland"})
    try:
        busy = json.loads(reader.stdout.readline())
    finally:
        release(spark)
    stdout, stderr = reader.communicate("go\n", timeout=240)
    assert reader.returncode == 0, stderr[-2000:]
    assert "is open in another process" in busy and "release(spark)" in busy, busy
    got = json.loads(stdout.strip().splitlines()[-1])
    want = expected().sort_values("ticket_id")
    assert got["rows"] == len(want)
    assert got["types"]["opened_ts"] == "timestamp"
    assert got["types"]["csat"] == "int32" and got["types"]["agent_fcr"] == "boolean"
    for c in STAMPS:
        assert got["stamps"][c] == want[c].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").tolist()
    assert got["csat_mean"] == pytest.approx(want["csat"].mean(), rel=1e-12)
    assert "Exception" not in stderr and "WARN" not in stderr  # JVM output goes to the log


def test_same_table_in_this_process(warehouse):
    df = spark_table(spec("support_tickets", warehouse=str(warehouse)), "s.yaml").to_pandas()
    want = expected()
    df = df.sort_values("ticket_id").reset_index(drop=True)
    for c in STAMPS:
        pd.testing.assert_series_equal(df[c].astype("datetime64[ns]"), want[c],
                                       check_names=False)
    assert df["reopens"].tolist() == want["reopens"].tolist()


def test_path_reading_parquet_and_csv(warehouse, tmp_path):
    want = expected()
    parquet = tmp_path / "lake" / "tickets.parquet"
    parquet.parent.mkdir()
    want.to_parquet(parquet, coerce_timestamps="us")  # as Spark and most lakes write
    for path in (parquet.parent, CSV):
        t = spark_table(spec(path=str(path), warehouse=str(warehouse)), "s.yaml")
        df = t.to_pandas().sort_values("ticket_id").reset_index(drop=True)
        assert len(df) == len(want)
        assert t.schema()["opened_ts"].is_timestamp()
        for c in STAMPS:
            pd.testing.assert_series_equal(df[c].astype("datetime64[ns]"), want[c],
                                           check_names=False)
    visits = ROOT / "data" / "branch_visits.parquet"  # pandas' nanosecond timestamps
    t = spark_table(spec(path=str(visits), warehouse=str(warehouse)), "s.yaml")
    want = pd.read_parquet(visits).sort_values("visit_id").reset_index(drop=True)
    df = t.to_pandas().sort_values("visit_id").reset_index(drop=True)
    assert t.schema()["arrived"].is_timestamp()
    for c in ("arrived", "served", "left"):
        pd.testing.assert_series_equal(df[c].astype("datetime64[ns]"), want[c])
    agg = t.aggregate(n=t.count(), p50=t.csat.quantile(0.5)).to_pandas()
    assert agg["n"].iloc[0] == len(want)
    assert agg["p50"].iloc[0] == want["csat"].quantile(0.5)  # Spark's exact percentile


def test_missing_table_names_close_matches(warehouse):
    with pytest.raises(DataError) as err:
        spark_table(spec("support_ticket", warehouse=str(warehouse)), "study.yaml")
    text = str(err.value)
    assert "no table 'support_ticket'" in text and "Did you mean 'support_tickets'" in text
    assert "data.source.table" in text and "study.yaml" in text


def test_missing_path(warehouse):
    with pytest.raises(DataError, match=r"data/no_such_lake does not exist"):
        spark_table(spec(path="data/no_such_lake", warehouse=str(warehouse)), "study.yaml")


def test_another_warehouse_in_the_same_process(warehouse, tmp_path):
    with pytest.raises(DataError, match="one Spark session and one warehouse"):
        session(str(tmp_path / "elsewhere"))


CALL = """
    from types import SimpleNamespace
    from sqresearch.io.errors import DataError
    from sqresearch.io.spark import spark_table
    try:
        spark_table(SimpleNamespace(backend="spark", table="t", path=None, warehouse=None),
                    "study.yaml")
    except DataError as e:
        print(e)
    """


@pytest.mark.parametrize("prefix, env, message", [
    ("import sys; sys.modules['pyspark'] = None", {}, "pip install pyspark"),
    ("", {"JAVA_HOME": "/nonexistent/jdk"}, "JAVA_HOME: is '/nonexistent/jdk', which has no"),
    ("", {"PATH": "/nonexistent"}, "Java is not installed"),
    ("", {"JAVA_TOOL_OPTIONS": "-XX:+NoSuchOption"},
     "could not start: Unrecognized VM option 'NoSuchOption'"),
], ids=["no-pyspark", "bad-java-home", "no-java", "jvm-fails"])
def test_environment_problems_are_one_message(prefix, env, message):
    out = run(prefix + "\n" + textwrap.dedent(CALL), env, drop=("JAVA_HOME",))
    assert out.returncode == 0, out.stderr[-2000:]
    assert message in out.stdout, out.stdout
    assert out.stdout.startswith("study.yaml: 1 data problem")
    assert "Traceback" not in out.stdout + out.stderr
    assert "at org.apache" not in out.stdout + out.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("demo, source", [
    ("support_desk", {"table": "support_tickets"}),
    ("chatbot_launch", {"path": "data/support_tickets.csv"}),
])
def test_a_demo_study_on_spark_gives_the_results_of_its_file(run_all, tmp_path, run_cli,
                                                             warehouse, demo, source):
    """The study's kernel starts its own local Spark and reads the catalog table (or the
    files) there; the numbers are those of the file read in memory."""
    from test_engines import run_on_engine

    _, inputs = run_on_engine(run_all, run_cli, tmp_path, demo, {
        "backend": "spark", "warehouse": str(warehouse), **source})
    assert inputs["format"] == "spark" and inputs["path"].startswith("spark ")


def test_a_wrong_column_type_and_a_missing_table_on_spark(tmp_path, run_cli, warehouse):
    """The bad-input path on Spark: a number where the creation time belongs is refused with
    its Spark type; a misspelt table is named with the close one. Exit 2, no Java trace."""
    from conftest import assert_user_error
    from test_engines import engine_study

    frame = pd.read_csv(CSV)
    frame["opened_ts"] = pd.to_datetime(frame["opened_ts"]).astype("int64") // 10**9
    write_table(frame[["ticket_id", "opened_ts", "channel"]], "epoch_tickets", str(warehouse))
    path = engine_study(tmp_path, "support_desk", {"backend": "spark", "table":
                                                   "epoch_tickets", "warehouse": str(warehouse)})
    assert_user_error(run_cli, path, ["column 'opened_ts'", "has the type int64",
                                      "role 'created' needs a timestamp"])
    path = engine_study(tmp_path, "support_desk", {"backend": "spark", "table":
                                                   "support_ticket", "warehouse": str(warehouse)})
    assert_user_error(run_cli, path, ["support_ticket", "support_tickets"])
    assert "java." not in run_cli("validate", path)[2]
