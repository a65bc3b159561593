"""The weekly monitor on a table validated in its engine (``data.engine: pushdown``): the file
through DuckDB and a table on a real PostgreSQL server give the report of the in-memory read.

The demo's study file declares a time zone and a masked free-text column, both of which are read
in memory (``io.lazy.Fallback``); here they are left out, so the engine path is the one taken."""

from __future__ import annotations

import json

import pytest
from conftest import demo_params, study_folder, write_params
from test_engines import assert_same_results

pytestmark = pytest.mark.e2e


def _params(folder, engine: str, source: dict | None = None):
    p = demo_params("weekly_monitor")
    p["data"].pop("timezone")
    p["data"]["personal"].pop("complaint_text")
    p.pop("text")
    p["data"]["engine"] = engine
    if source is not None:
        p["data"].pop("path")
        p["data"]["source"] = source
    p["study_id"] = f"monitor_{engine}_{'pg' if source else 'file'}"
    return write_params(folder, p, f"{p['study_id']}.yaml"), p["study_id"]


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory):
    from sqresearch.cli import main as cli

    folder = tmp_path_factory.mktemp("monitor_memory")
    path, study = _params(folder, "memory")
    assert cli.main(["run", str(path), "--outputs", str(folder / "outputs")]) == 0
    return study_folder(folder / "outputs", study) / "results.json"


def _run(run_cli, folder, path, study):
    out = folder / "outputs"
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 0, err
    return study_folder(out, study) / "results.json"


def assert_validated_in_the_engine(results):
    checks = [r["check"] for r in json.loads(results.read_text(encoding="utf-8"))["data_quality"]]
    assert checks[-1] == "rows used"
    assert not [c for c in checks if c.startswith("read in memory")], checks


def test_the_monitor_on_the_file_validated_in_duckdb(in_memory, run_cli, tmp_path):
    got = _run(run_cli, tmp_path, *_params(tmp_path, "pushdown"))
    assert_same_results(in_memory, got)
    assert_validated_in_the_engine(got)


def test_the_monitor_on_a_postgres_table(in_memory, run_cli, tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("SQR_TEST_WAREHOUSE", postgres.url)
    got = _run(run_cli, tmp_path, *_params(tmp_path, "pushdown", {
        "backend": "postgres", "table": "weekly_monitor", "url_env": "SQR_TEST_WAREHOUSE"}))
    assert_same_results(in_memory, got)
    assert_validated_in_the_engine(got)
