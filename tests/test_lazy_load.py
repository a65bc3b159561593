"""Validation in the engine (io/lazy.py) agrees with the in-memory reader (io/data.py): the same
valid rows, the same counts per check, the same decision to stop; what it cannot read the same
way it hands back (Fallback) with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from sqresearch import kpi
from sqresearch.io import params
from sqresearch.io.data import load_table
from sqresearch.io.errors import DataError
from sqresearch.io.lazy import Fallback, load_lazy
from sqresearch.io.schemas import REQUIRED_TICKET_ROLES


def _both(src, p, keep=()):
    roles = kpi.ticket_roles(p)
    eager = load_table(src, roles, REQUIRED_TICKET_ROLES, keep, (kpi.ticket_checks,), "s")
    lazy = load_lazy(src, roles, REQUIRED_TICKET_ROLES, keep, "s", ticket_checks=True)
    return eager, lazy


def _same_rows(eager, lazy, skip=("customer_id",)):
    a = eager.frame.sort_values("ticket_id").reset_index(drop=True)
    b = lazy.expr.to_pandas().sort_values("ticket_id").reset_index(drop=True)
    assert sorted(a.columns) == sorted(b.columns)
    for c in a.columns:
        if c in skip:
            continue
        x, y = a[c], b[c]
        if pd.api.types.is_datetime64_any_dtype(x):
            assert (x.astype("datetime64[ns]") == y.astype("datetime64[ns]")).where(
                x.notna(), y.isna()).all(), c
        elif pd.api.types.is_numeric_dtype(x):
            np.testing.assert_array_equal(x.astype(float).to_numpy(), y.astype(float).to_numpy(),
                                          err_msg=c)
        else:
            assert list(x.astype("string").fillna("<NA>")) == \
                list(y.astype("string").fillna("<NA>")), c


def _counts(table):
    q = table.quality
    return {(r.check, r.column): r.rows for r in q.itertuples()
            if not r.check.startswith(("read in the", "read from the"))}


@pytest.mark.parametrize("demo", ["support_desk", "branch_network"])
def test_a_clean_demo_table_reads_the_same_in_the_engine(demo):
    p = params.load(ROOT / "params" / f"{demo}.yaml")
    eager, lazy = _both(p.data, p, tuple(p.segments))
    _same_rows(eager, lazy)
    assert _counts(eager) == _counts(lazy)
    assert lazy.rows_used == len(eager.frame)


def _spoiled(tmp_path) -> tuple[object, object, pd.DataFrame]:
    p = params.load(ROOT / "params" / "support_desk.yaml")
    df = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str, keep_default_na=False)
    df.loc[3, "csat"] = "n/a"
    df.loc[5, "csat"] = "7"
    df.loc[8, "nps"] = "4.5"
    df.loc[11, "agent_fcr"] = "maybe"
    df.loc[12, "reopens"] = "-1"
    df.loc[20, "ticket_id"] = df.loc[21, "ticket_id"]
    df.loc[30, "solved_ts"] = "2025-01-01 00:00:00"
    df.loc[31, "first_reply_ts"] = "2025-01-01 00:00:00"
    df.loc[40, "ticket_id"] = ""
    df.loc[41, "opened_ts"] = ""
    df.loc[3, "nps"] = "11"  # a row bad twice is counted once, under its first check
    path = tmp_path / "spoiled.csv"
    df.to_csv(path, index=False)
    src = p.data.model_copy(update={"path": str(path), "on_invalid": "exclude"})
    return p, src, df


def test_bad_rows_are_counted_alike_and_excluded_alike(tmp_path):
    p, src, _ = _spoiled(tmp_path)
    eager, lazy = _both(src, p, tuple(p.segments))
    _same_rows(eager, lazy)
    assert _counts(eager) == _counts(lazy)
    q = lazy.quality.set_index(["check", "column"])
    assert q.loc[("duplicate ticket id", "ticket_id"), "rows"] == 2
    assert "ticket_id 'T0000" in q.loc[("value is not a whole number in 1–5", "csat"), "examples"]
    assert "'n/a'" in q.loc[("value is not a whole number in 1–5", "csat"), "examples"]


def test_bad_rows_stop_the_run_with_the_same_checks(tmp_path):
    p, src, _ = _spoiled(tmp_path)
    src = src.model_copy(update={"on_invalid": "error"})
    roles = kpi.ticket_roles(p)
    with pytest.raises(DataError) as eager:
        load_table(src, roles, REQUIRED_TICKET_ROLES, (), (kpi.ticket_checks,), "s")
    with pytest.raises(DataError) as lazy:
        load_lazy(src, roles, REQUIRED_TICKET_ROLES, (), "s", ticket_checks=True)
    checks = [pr.what for pr in eager.value.problems]
    assert [pr.what for pr in lazy.value.problems] == checks
    assert len(checks) >= 7


@pytest.mark.parametrize("change, reason", [
    (lambda df: df.assign(opened_ts=df["opened_ts"].str.replace(
        r"^(\d{4})-(\d\d)-(\d\d)", r"\3/\2/\1", regex=True)), "not all written as ISO 8601"),
    (lambda df: df.assign(opened_ts=df["opened_ts"] + "+01:00"), "ISO 8601 without an offset"),
])
def test_what_the_engine_cannot_read_alike_falls_back(tmp_path, change, reason):
    p = params.load(ROOT / "params" / "support_desk.yaml")
    df = change(pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str,
                            keep_default_na=False))
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    src = p.data.model_copy(update={"path": str(path)})
    with pytest.raises(Fallback, match=reason):
        load_lazy(src, kpi.ticket_roles(p), REQUIRED_TICKET_ROLES, (), "s", ticket_checks=True)


def test_other_encodings_excel_and_declared_formats_fall_back(tmp_path):
    p = params.load(ROOT / "params" / "support_desk.yaml")
    text = (ROOT / "data" / "support_tickets.csv").read_text(encoding="utf-8")
    path = tmp_path / "latin.csv"
    path.write_bytes(text.replace("T000001", "T00000é", 1).encode("cp1252"))
    roles = kpi.ticket_roles(p)
    for src, reason in [(p.data.model_copy(update={"path": str(path)}), "not UTF-8"),
                        (p.data.model_copy(update={"timestamp_format": "iso8601"}),
                         "declared timestamp formats"),
                        (p.data.model_copy(update={"path": "data/x.xlsx"}), "excel")]:
        with pytest.raises(Fallback, match=reason):
            load_lazy(src, roles, REQUIRED_TICKET_ROLES, (), "s", ticket_checks=True)


def test_a_missing_column_and_a_personal_column_are_refused_as_in_memory(tmp_path):
    p = params.load(ROOT / "params" / "support_desk.yaml")
    roles = kpi.ticket_roles(p)
    src = p.data.model_copy(update={"columns": {**p.data.columns, "created": "opened"}})
    with pytest.raises(DataError, match="did you mean 'opened_ts'"):
        load_lazy(src, roles, REQUIRED_TICKET_ROLES, (), "s", ticket_checks=True)
    src = p.data.model_copy(update={"personal": {"customer_id": "pseudonymise"}})
    with pytest.raises(DataError, match="customer_email.*looks like personal data"):
        load_lazy(src, roles, REQUIRED_TICKET_ROLES, ("customer_email",), "s",
                  ticket_checks=True)


def test_exclusions_are_counted_and_an_empty_result_refused():
    p = params.load(ROOT / "params" / "support_desk.yaml")
    lazy = load_lazy(p.data, kpi.ticket_roles(p), REQUIRED_TICKET_ROLES, ("channel",), "s",
                     ticket_checks=True)
    n = lazy.rows_used
    chat = lazy.expr.channel == "chat"
    k = int(lazy.expr.filter(chat).count().execute())
    lazy.exclude(chat, "channel chat", "channel")
    assert lazy.rows_used == n - k and int(lazy.expr.count().execute()) == n - k
    with pytest.raises(DataError, match="no rows are left"):
        lazy.exclude(lazy.expr.ticket_id.notnull(), "everything", "ticket_id")


def test_a_study_asked_to_push_down_what_needs_memory_says_so(tmp_path):
    """engine: pushdown on a table with day-first dates: read in memory, and the data-quality
    table says why (no silent change of method)."""
    p = params.load(ROOT / "params" / "chatbot_launch.yaml")
    df = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str, keep_default_na=False)
    df["opened_ts"] = df["opened_ts"].str.replace(r"^(\d{4})-(\d\d)-(\d\d)", r"\3/\2/\1",
                                                  regex=True)
    path = tmp_path / "dayfirst.csv"
    df.to_csv(path, index=False)
    p = p.model_copy(update={"data": p.data.model_copy(update={"path": str(path),
                                                               "engine": "pushdown"})})
    table = kpi.load_study_table(p, p.data, {}, (), "s")
    assert hasattr(table, "frame")
    checks = list(table.quality["check"])
    assert checks[0] == "rows read" and checks[-1] == "rows used"
    assert "read in memory (timestamps of created not all written as ISO 8601" in checks[1]
