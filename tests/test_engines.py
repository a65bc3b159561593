"""A study reading a table on an engine (``data.source``) instead of a file: the same results
as from the file, rows in one order whatever the engine, engine types checked against the
roles, and every way the engine can fail a clear message (exit 2, no traceback, no password).

The PostgreSQL and Spark runs are in test_engine_postgres.py and test_engine_spark.py; the
helpers here (``engine_study``, ``assert_same_results``) are shared with them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, write_params

from sqresearch.io import engines
from sqresearch.io.data import canonical_order

#: results.json keys that name where the data came from, not what was computed from it
PROVENANCE = (".inputs", ".data_quality", ".study_id", ".title")


def engine_study(folder: Path, demo: str, source: dict, study_id: str | None = None) -> Path:
    """The demo study's params reading ``source`` instead of its file."""
    p = demo_params(demo)
    p["data"].pop("path")
    p["data"]["source"] = source
    p["study_id"] = study_id or f"{p['study_id']}_{source['backend']}"
    return write_params(folder, p, f"{p['study_id']}.yaml")


def _flat(x, prefix=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _flat(v, f"{prefix}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _flat(v, f"{prefix}[{i}]")
    else:
        yield prefix, x


def assert_same_results(expected: Path, got: Path, rtol: float = 1e-9) -> int:
    """Every computed value of two results.json files agrees (numbers to ``rtol``); only where
    the data came from may differ. Returns how many values were compared."""
    a = dict(_flat(json.loads(expected.read_text(encoding="utf-8"))))
    b = dict(_flat(json.loads(got.read_text(encoding="utf-8"))))
    keys = [k for k in set(a) | set(b) if not k.startswith(PROVENANCE)]
    differ = []
    for k in sorted(keys):
        x, y = a.get(k, "<missing>"), b.get(k, "<missing>")
        if isinstance(x, float) and isinstance(y, float):
            if not (math.isclose(x, y, rel_tol=rtol, abs_tol=1e-12) or
                    (math.isnan(x) and math.isnan(y))):
                differ.append((k, x, y))
        elif x != y:
            differ.append((k, x, y))
    assert not differ, differ[:20]
    assert len(keys) > 500
    return len(keys)


def run_on_engine(run_all, run_cli, folder: Path, demo: str, source: dict):
    """Run the demo study reading ``source``, check its results equal the file's (from the
    session's run of every demo), and return (its output folder, its input's provenance)."""
    path = engine_study(folder, demo, source)
    out = folder / "outputs"
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 0, err
    study = demo_params(demo)["study_id"]
    got = out / f"{study}_{source['backend']}"
    assert_same_results(run_all[1] / study / "results.json", got / "results.json")
    return got, json.loads((got / "results.json").read_text(encoding="utf-8"))["inputs"][0]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """A DuckDB database file holding the demo tables with DuckDB's own types."""
    folder = tmp_path_factory.mktemp("duckdb")
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE support_tickets AS SELECT * FROM "
                    f"read_csv('{ROOT / 'data' / 'support_tickets.csv'}', header = true)")
        con.execute("CREATE SCHEMA branches")
        con.execute("CREATE TABLE branches.visits AS SELECT * FROM "
                    f"read_parquet('{ROOT / 'data' / 'branch_visits.parquet'}')")
        # the same tickets in another order, and one with csat written as text
        con.execute("CREATE TABLE shuffled AS SELECT * FROM support_tickets ORDER BY hash("
                    "ticket_id)")
        con.execute("CREATE TABLE csat_text AS SELECT * REPLACE (CASE WHEN csat = 3 THEN "
                    "'n/a' ELSE csat::VARCHAR END AS csat) FROM support_tickets")
        con.execute("CREATE TABLE stamps_as_numbers AS SELECT * REPLACE (epoch(opened_ts) "
                    "AS opened_ts) FROM support_tickets")
    return path


def test_the_column_types_come_from_the_engine(warehouse):
    spec = engine_params(warehouse, "support_tickets")
    frame = engines.read(spec, "study.yaml", ["ticket_id", "opened_ts", "csat", "agent_fcr",
                                              "no_such_column"])
    assert list(frame.columns) == ["ticket_id", "opened_ts", "csat", "agent_fcr"]
    assert pd.api.types.is_datetime64_any_dtype(frame["opened_ts"])
    assert frame["csat"].dtype.kind in "iuf" and frame["agent_fcr"].dtype == float
    assert set(frame["agent_fcr"].dropna()) <= {0.0, 1.0}
    assert "customer_email" in frame.attrs["columns"]  # listed, never fetched
    assert frame.attrs["types"]["opened_ts"].startswith("timestamp")
    csv = pd.read_csv(ROOT / "data" / "support_tickets.csv")
    assert len(frame) == len(csv)
    assert (frame["opened_ts"] == pd.to_datetime(csv["opened_ts"])).all()


def engine_params(database: Path, table: str):
    from sqresearch.io.schemas import EngineTable

    return EngineTable(backend="duckdb", database=str(database), table=table)


def test_rows_from_an_engine_come_in_one_order_named_by_their_id():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": [f"T{i:03d}" for i in range(50)],
                          "x": rng.normal(size=50), "when": pd.date_range("2026-01-01",
                                                                          periods=50)})
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    a, label = canonical_order(frame, ["id"])
    b, _ = canonical_order(shuffled, ["id"])
    pd.testing.assert_frame_equal(a, b)
    assert label(4) == "id 'T004'"
    c, label = canonical_order(shuffled.drop(columns="id"), [])
    pd.testing.assert_frame_equal(c, frame.drop(columns="id").sort_values("x")
                                  .reset_index(drop=True))
    assert label(0).startswith("row 1 (sorted by x")


@pytest.mark.e2e
@pytest.mark.parametrize("demo, table", [("support_desk", "support_tickets"),
                                         ("chatbot_launch", "shuffled"),
                                         ("branch_queueing", "branches.visits")])
def test_a_duckdb_table_gives_the_results_of_its_file(run_all, tmp_path, run_cli, warehouse,
                                                      demo, table):
    got, inputs = run_on_engine(run_all, run_cli, tmp_path, demo, {
        "backend": "duckdb", "database": str(warehouse), "table": table})
    assert inputs["path"] == f"duckdb table {table}" and inputs["format"] == "duckdb"
    # a table on an engine may change without the study knowing: it is never skipped
    path = got.parent.parent / f"{got.name}.yaml"
    code, stdout, _ = run_cli("run", path, "--outputs", got.parent)
    assert code == 0 and "unchanged" not in stdout


def test_a_missing_table_is_named_with_the_close_one(tmp_path, run_cli, warehouse):
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": str(warehouse),
                                                   "table": "support_ticket"})
    assert_user_error(run_cli, path, ["data.source.table", "'support_ticket' not found",
                                      "did you mean 'support_tickets'?"], warehouse.parent)


def test_a_missing_database_file_and_one_outside_the_data_folders(tmp_path, run_cli):
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": str(tmp_path / "none.duckdb"),
                                                   "table": "t"})
    assert_user_error(run_cli, path, ["data.source.database", "does not exist"])
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": "/etc/passwd", "table": "t"})
    assert_user_error(run_cli, path, ["data.source.database"])


def test_a_file_that_is_not_a_duckdb_database(tmp_path, run_cli):
    fake = tmp_path / "fake.duckdb"
    fake.write_text("ticket_id,created\n1,2026-01-01\n", encoding="utf-8")
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": str(fake), "table": "t"})
    assert_user_error(run_cli, path, ["cannot be opened as a DuckDB database"], tmp_path)


def test_an_engine_type_that_cannot_hold_the_role_is_refused(tmp_path, run_cli, warehouse):
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": str(warehouse),
                                                   "table": "stamps_as_numbers"})
    assert_user_error(run_cli, path, ["column 'opened_ts'", "has the type float64",
                                      "role 'created' needs a timestamp"])


def test_text_in_a_number_column_is_found_by_ticket_id(tmp_path, run_cli, warehouse):
    path = engine_study(tmp_path, "support_desk", {"backend": "duckdb",
                                                   "database": str(warehouse),
                                                   "table": "csat_text"})
    n = duckdb.connect(str(warehouse), read_only=True).execute(
        "SELECT count(*) FROM csat_text WHERE csat = 'n/a'").fetchone()[0]
    assert_user_error(run_cli, path, ["column 'csat'", f"{n} row(s)", "ticket_id 'T0",
                                      "'n/a'", "value is not a whole number in 1–5"])


@pytest.mark.parametrize("source, said", [
    ({"backend": "duckdb", "table": "t"}, "a duckdb source needs database"),
    ({"backend": "postgres"}, "a postgres source needs table"),
    ({"backend": "spark"}, "a spark source needs table or path"),
    ({"backend": "postgres", "table": "t", "database": "data/x.duckdb"},
     "database do(es) not apply to a postgres source"),
    ({"backend": "postgres", "table": "t; DROP TABLE x"}, "data.source.table"),
    ({"backend": "postgres", "table": "t", "url": "postgresql://u:secret@h/d"}, "url"),
    ({"backend": "oracle", "table": "t"}, "data.source.backend"),
])
def test_an_incomplete_or_unsafe_source_is_a_params_error(tmp_path, run_cli, source, said):
    path = engine_study(tmp_path, "support_desk", source)
    assert_user_error(run_cli, path, [said])
    code, _, err = run_cli("validate", path)
    assert "secret" not in err


def test_path_and_source_together_or_neither(tmp_path, run_cli):
    p = demo_params("support_desk")
    p["data"]["source"] = {"backend": "postgres", "table": "t"}
    assert_user_error(run_cli, write_params(tmp_path, p), ["give path (a file) or source"])
    p["data"].pop("path")
    p["data"].pop("source")
    assert_user_error(run_cli, write_params(tmp_path, p), ["give path (a file) or source"])
    p["data"]["source"] = {"backend": "postgres", "table": "t"}
    p["data"]["format"] = "csv"
    assert_user_error(run_cli, write_params(tmp_path, p), ["format describes a file"])


def test_postgres_without_a_url_in_the_environment(tmp_path, run_cli, monkeypatch):
    for var in ("SQR_POSTGRES_URL", "WAREHOUSE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE",
                "PGSERVICE"):
        monkeypatch.delenv(var, raising=False)
    path = engine_study(tmp_path, "support_desk", {"backend": "postgres",
                                                   "table": "public.tickets",
                                                   "url_env": "WAREHOUSE"})
    assert_user_error(run_cli, path, ["environment variable WAREHOUSE is not set",
                                      "WAREHOUSE=postgresql://user:password@host"])
    monkeypatch.setenv("WAREHOUSE", "mysql://root:hunter2@db/x")
    assert_user_error(run_cli, path, ["does not hold a PostgreSQL URL"])
    assert "hunter2" not in run_cli("validate", path)[2]


def test_an_unreachable_server_is_named_without_its_password(tmp_path, run_cli, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SQR_POSTGRES_URL",
                       f"postgresql://sqr:s3cr3t-pw@127.0.0.1:{port}/warehouse?connect_timeout=3")
    path = engine_study(tmp_path, "support_desk", {"backend": "postgres",
                                                   "table": "support_tickets"})
    assert_user_error(run_cli, path, ["cannot connect to the PostgreSQL server",
                                      "check that the server is running"])
    assert "s3cr3t-pw" not in run_cli("validate", path)[2]


def test_passwords_are_hidden_in_any_text():
    assert engines.hide_password("could not connect postgresql://a:b@c:5/d x") == \
        "could not connect postgresql://a:***@c:5/d x"
    assert engines.hide_password("host=h password=abc user=u") == "host=h password=*** user=u"
    assert engines.hide_password("postgresql://a@c/d") == "postgresql://a@c/d"


def test_a_backend_that_is_not_installed(tmp_path):
    """The real import failing (the package made unimportable in a fresh interpreter)."""
    import subprocess
    import sys

    path = engine_study(tmp_path, "support_desk", {"backend": "spark", "table": "t"})
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "from sqresearch.cli.main import main\n"
            f"sys.exit(main(['validate', {str(path)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "the spark backend is not installed" in done.stderr
    assert "pip install 'ibis-framework[pyspark]'" in done.stderr
    assert "Traceback" not in done.stderr
