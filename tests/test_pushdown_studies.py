"""Demo studies with their tables validated, and (scorecard) aggregated, in the engine
(``data.engine: pushdown``) give the results of the in-memory path: on the file through DuckDB,
and on a real PostgreSQL server."""

from __future__ import annotations

import json

import pytest
from conftest import demo_params, write_params
from test_engines import assert_same_results

pytestmark = pytest.mark.e2e


def _pushdown(folder, demo: str, source: dict | None = None, suffix: str = "push"):
    p = demo_params(demo)
    p["data"]["engine"] = "pushdown"
    if source is not None:
        p["data"].pop("path")
        p["data"]["source"] = source
    p["study_id"] = f"{p['study_id']}_{suffix}"
    return write_params(folder, p, f"{p['study_id']}.yaml"), p["study_id"]


@pytest.mark.parametrize("demo", ["support_desk", "branch_network", "chatbot_launch",
                                  "email_triage"])
def test_a_demo_validated_in_duckdb_gives_the_in_memory_results(run_all, tmp_path, run_cli,
                                                                demo):
    path, study = _pushdown(tmp_path, demo)
    out = tmp_path / "outputs"
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 0, err
    assert_same_results(run_all[1] / demo_params(demo)["study_id"] / "results.json",
                        out / study / "results.json")
    quality = json.loads((out / study / "results.json").read_text(encoding="utf-8"))
    assert quality["data_quality"][-1]["check"] == "rows used"


def test_the_scorecard_aggregated_in_postgres_gives_the_in_memory_results(
        run_all, tmp_path, run_cli, postgres, monkeypatch):
    monkeypatch.setenv("SQR_TEST_WAREHOUSE", postgres.url)
    path, study = _pushdown(tmp_path, "support_desk", {
        "backend": "postgres", "table": "support_tickets", "url_env": "SQR_TEST_WAREHOUSE"},
        "pg_push")
    out = tmp_path / "outputs"
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 0, err
    assert_same_results(run_all[1] / "support_desk_scorecard" / "results.json",
                        out / study / "results.json")
