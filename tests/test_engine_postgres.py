"""The demo studies on a real PostgreSQL 15 server (a throwaway cluster started by the tests,
tests/support/postgres.py): the same results.json as from the files, and the ways a server
table goes wrong as clear messages (a missing table, a wrong column type, a wrong password)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import assert_user_error, demo_params, write_params
from test_engines import engine_study, run_on_engine

from tests.support.postgres import DATA, load_mistyped, load_table


@pytest.fixture
def warehouse_env(postgres, monkeypatch):
    """The server's URL in the environment, under a name the params give (url_env)."""
    monkeypatch.setenv("SQR_TEST_WAREHOUSE", postgres.url)
    return {"backend": "postgres", "url_env": "SQR_TEST_WAREHOUSE"}


@pytest.mark.e2e
@pytest.mark.parametrize("demo, table", [("support_desk", "support_tickets"),
                                         ("chatbot_launch", "public.support_tickets"),
                                         ("branch_pilot", "branch_pilot")])
def test_a_demo_study_on_postgres_gives_the_results_of_its_file(run_all, tmp_path, run_cli,
                                                                warehouse_env, postgres,
                                                                demo, table):
    got, inputs = run_on_engine(run_all, run_cli, tmp_path, demo,
                                {**warehouse_env, "table": table})
    assert inputs["path"] == f"postgres table {table}" and inputs["format"] == "postgres"
    for f in got.iterdir():  # the URL and its password are nowhere in the outputs
        if f.is_file():
            assert postgres.password not in f.read_text(encoding="utf-8", errors="replace")


def test_a_missing_table_on_the_server(tmp_path, run_cli, warehouse_env):
    path = engine_study(tmp_path, "support_desk", {**warehouse_env,
                                                   "table": "support_ticket"})
    assert_user_error(run_cli, path, ["data.source.table", "'support_ticket' not found",
                                      "did you mean 'support_tickets'?"])
    path = engine_study(tmp_path, "support_desk", {**warehouse_env, "table": "sales.tickets"})
    assert_user_error(run_cli, path, ["'sales.tickets' not found"])


def test_a_wrong_column_type_on_the_server(tmp_path, run_cli, postgres, warehouse_env):
    bad = load_mistyped(postgres.url, "tickets_csat_text", DATA / "support_tickets.csv",
                        column="csat", bad="n/a", every=10)
    path = engine_study(tmp_path, "support_desk", {**warehouse_env,
                                                   "table": "tickets_csat_text"})
    assert_user_error(run_cli, path, ["column 'csat'", f"{bad} row(s)", "ticket_id 'T0",
                                      "'n/a'"])
    frame = pd.read_csv(DATA / "support_tickets.csv")
    frame["opened_ts"] = pd.to_datetime(frame["opened_ts"]).astype("int64") // 10**9
    load_table(postgres.url, "tickets_epoch", frame)
    path = engine_study(tmp_path, "support_desk", {**warehouse_env, "table": "tickets_epoch"})
    assert_user_error(run_cli, path, ["column 'opened_ts'", "has the type int64",
                                      "role 'created' needs a timestamp"])
    p = demo_params("support_desk")  # two roles given one column
    p["data"]["columns"]["created"] = "csat"
    p["data"].pop("path")
    p["data"]["source"] = {**warehouse_env, "table": "support_tickets"}
    assert_user_error(run_cli, write_params(tmp_path, p), [
        "column 'csat'", "is given to 2 roles (created, csat)"])


def test_a_wrong_password_is_refused_and_not_shown(tmp_path, run_cli, postgres, monkeypatch):
    wrong = postgres.url.replace(postgres.password, "not-the-password")
    monkeypatch.setenv("SQR_TEST_WAREHOUSE", wrong)
    path = engine_study(tmp_path, "support_desk", {"backend": "postgres", "table": "t",
                                                   "url_env": "SQR_TEST_WAREHOUSE"})
    assert_user_error(run_cli, path, ["cannot connect to the PostgreSQL server",
                                      "password authentication failed"])
    err = run_cli("validate", path)[2]
    assert "not-the-password" not in err and postgres.password not in err


def test_validation_in_postgres_counts_what_memory_counts(postgres, warehouse_env):
    """io/lazy on the server (PostgreSQL has no TRY_CAST: text is checked by its shape) gives
    the rows and check counts io/data gives on the same table, text-typed scores included."""
    from test_lazy_load import _counts, _same_rows

    from sqresearch import kpi
    from sqresearch.io import params
    from sqresearch.io.data import load_table as load_eager
    from sqresearch.io.lazy import load_lazy
    from sqresearch.io.schemas import REQUIRED_TICKET_ROLES, DataSource

    load_mistyped(postgres.url, "tickets_csat_na", DATA / "support_tickets.csv", column="csat",
                  bad="n/a", every=25)
    p = params.load(DATA.parent / "params" / "support_desk.yaml")
    for table in ("support_tickets", "tickets_csat_na"):
        src = DataSource.model_validate({**p.data.model_dump(exclude={"path", "source"}),
                                         "source": {**warehouse_env, "table": table},
                                         "on_invalid": "exclude"})
        roles = kpi.ticket_roles(p)
        eager = load_eager(src, roles, REQUIRED_TICKET_ROLES, ("channel", "team"),
                           (kpi.ticket_checks,), "s")
        lazy = load_lazy(src, roles, REQUIRED_TICKET_ROLES, ("channel", "team"), "s",
                         ticket_checks=True)
        _same_rows(eager, lazy)
        assert _counts(eager) == _counts(lazy)
