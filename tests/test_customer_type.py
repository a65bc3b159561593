"""The customer_type segment (kpi/customers.py): new vs returning customers from the ticket
history. The rule on a hand-built table with the expected labels written out (ties, lookback,
missing ids), pseudonymised ids, the engine twin equal on DuckDB and PostgreSQL, the segment in
scorecard, before/after and control-group studies, and the error without a customer id."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from conftest import demo_params, write_params

from sqresearch.designs.before_after.study import BeforeAfter
from sqresearch.designs.control_group.study import ControlGroup
from sqresearch.designs.scorecard.load import load as load_scorecard
from sqresearch.io import params
from sqresearch.io.errors import DataError
from sqresearch.kpi import customers
from sqresearch.kpi.pushdown_prepare import customer_type_expr
from tests.support.postgres import ROOT, engine_table

T = pd.Timestamp
# ticket, customer, created — in a scrambled order (the rule sorts)
ROWS = [
    ("T06", "A", T("2026-01-20 09:00")),  # 16 days after T03
    ("T05", "C", T("2026-01-03 12:00")),  # same instant as T04: T04 first by id
    ("T01", "A", T("2026-01-01 09:00")),
    ("T07", None, T("2026-01-05 10:00")),  # no customer id
    ("T03", "A", T("2026-01-04 09:00")),  # exactly 3 days after T01
    ("T02", "B", T("2026-01-01 09:00")),  # same instant as T01, another customer
    ("T04", "C", T("2026-01-03 12:00")),
    ("T09", "B", T("2026-01-02 08:59:59")),  # 23:59:59 after T02
    ("T08", "", T("2026-01-06 10:00")),  # blank customer id
]
EXPECTED = {  # lookback_days -> labels of T01 … T09
    None: ["new", "new", "returning", "new", "returning", "returning", "unknown", "unknown",
           "returning"],
    3: ["new", "new", "returning", "new", "returning", "new", "unknown", "unknown", "returning"],
    2: ["new", "new", "new", "new", "returning", "new", "unknown", "unknown", "returning"],
}


def hand_table() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["ticket_id", "customer_id", "created"])


def labels(series: pd.Series, frame: pd.DataFrame) -> list[str]:
    return series.set_axis(frame["ticket_id"]).sort_index().tolist()


@pytest.mark.parametrize("lookback", [None, 3, 2])
def test_the_rule_on_a_hand_built_table(lookback):
    frame = hand_table()
    assert labels(customers.customer_type(frame, lookback), frame) == EXPECTED[lookback]


def test_pseudonymised_ids_give_the_same_labels():
    frame = hand_table()
    hashed = frame.assign(customer_id=frame["customer_id"].map(
        lambda c: c if not c else hashlib.sha256(b"key" + c.encode()).hexdigest()[:16]))
    for lookback in EXPECTED:
        assert customers.customer_type(hashed, lookback).tolist() == \
            customers.customer_type(frame, lookback).tolist()


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_engine_twin_on_the_hand_table(engine, request):
    frame = hand_table()
    con, t = engine_table(engine, "customer_hand", frame, request)
    try:
        for lookback, want in EXPECTED.items():
            got = t.mutate(k=customer_type_expr(t, lookback)).select("ticket_id", "k") \
                .order_by("ticket_id").to_pandas()
            assert got["k"].tolist() == want, lookback
    finally:
        con.disconnect()


def demo_frame(tmp_path) -> pd.DataFrame:
    """The support desk's loaded tickets (customer ids pseudonymised)."""
    p = demo_params("support_desk")
    path = write_params(tmp_path, p)
    return load_scorecard(params.load(path), str(path)).frame


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_engine_twin_on_the_demo_tickets(engine, request, tmp_path):
    frame = demo_frame(tmp_path)
    cols = ["ticket_id", "customer_id", "created"]
    con, t = engine_table(engine, "customer_demo", frame[cols], request)
    try:
        for lookback in (None, 7, 30, 90):
            want = customers.customer_type(frame, lookback).set_axis(frame["ticket_id"])
            got = t.mutate(k=customer_type_expr(t, lookback)).select("ticket_id", "k") \
                .to_pandas().set_index("ticket_id")["k"]
            assert got.reindex(want.index).tolist() == want.tolist(), lookback
            assert {"new", "returning"} <= set(want)
    finally:
        con.disconnect()


def independent_labels(lookback: int | None) -> pd.Series:
    """The rule from the raw CSV with a plain loop (ticket id -> label)."""
    raw = pd.read_csv(ROOT / "data" / "support_tickets.csv",
                      usecols=["ticket_id", "customer_id", "opened_ts"])
    raw["opened_ts"] = pd.to_datetime(raw["opened_ts"])
    last: dict[str, pd.Timestamp] = {}
    out = {}
    for r in raw.sort_values(["opened_ts", "ticket_id"]).itertuples():
        prev = last.get(r.customer_id)
        back = lookback is None or (prev is not None and
                                    r.opened_ts - prev <= pd.Timedelta(days=lookback))
        out[r.ticket_id] = "returning" if prev is not None and back else "new"
        last[r.customer_id] = r.opened_ts
    return pd.Series(out)


def test_the_demo_study_counts_new_and_returning_customers_as_the_raw_file_does(tmp_path):
    path = ROOT / "params" / "support_customers.yaml"
    p = params.load(path)
    assert p.segments == ["customer_type"] and p.customer_history.lookback_days == 90
    table = load_scorecard(p, str(path))
    want = independent_labels(90)
    got = table.frame.set_index("ticket_id")["customer_type"]
    assert got.reindex(want.index).tolist() == want.tolist()
    counts = want.value_counts()
    note = next(n for n in table.notes if n.startswith("Customer type"))
    assert f"new {counts['new']:,}, returning {counts['returning']:,}, unknown 0" in note
    created = table.frame["created"]
    early = ((got == "new").to_numpy() & (created < T("2026-04-01")).to_numpy()).sum()
    assert next(n for n in table.notes if n.startswith("Left truncation:")).startswith(
        f"Left truncation: {early:,} of {counts['new']:,} tickets labelled new")


def test_the_scorecard_segment_in_memory_and_in_the_engine_agree(tmp_path):
    from sqresearch.kpi.tickets import for_study

    p = demo_params("support_customers")
    got = {}
    for engine in ("memory", "pushdown"):
        if engine == "pushdown":
            p["data"]["engine"] = "pushdown"
        path = write_params(tmp_path, p, f"{engine}.yaml")
        study = params.load(path)
        table = load_scorecard(study, str(path))
        got[engine] = for_study(study, table).kpi_table("customer_type")
    pd.testing.assert_frame_equal(got["memory"], got["pushdown"], rtol=1e-9)
    contacts = got["memory"].query("kpi == 'contacts'").set_index("group")["estimate"]
    assert contacts.to_dict() == independent_labels(90).value_counts().to_dict()


def with_tickets(tmp_path, p: dict, raw: pd.DataFrame, fmt: str = "csv"):
    """The study ``p`` pointed at ``raw`` written as a CSV or Parquet file; its params path."""
    data = tmp_path / "data" / f"tickets.{fmt}"
    data.parent.mkdir(exist_ok=True)
    raw.to_csv(data, index=False) if fmt == "csv" else raw.to_parquet(data, index=False)
    p["data"]["path"] = str(data)
    return write_params(tmp_path, p)


def test_tickets_without_a_customer_id_are_counted_as_unknown(tmp_path):
    p = demo_params("support_customers")
    raw = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str, keep_default_na=False)
    raw.loc[raw.index[::10], "customer_id"] = ""
    path = with_tickets(tmp_path, p, raw)
    table = load_scorecard(params.load(path), str(path))
    assert (table.frame["customer_type"] == "unknown").sum() == len(raw.index[::10])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_file_column_named_like_the_derived_segment_is_refused(tmp_path, fmt):
    p = demo_params("support_customers")
    raw = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str, keep_default_na=False)
    raw["customer_type"] = "vip"  # the file's own segment: it must not vanish silently
    path = with_tickets(tmp_path, p, raw, fmt)
    with pytest.raises(DataError) as err:
        load_scorecard(params.load(path), str(path))
    text = str(err.value)
    assert "column 'customer_type'" in text and "silently replace" in text
    assert "customer_type_file" in text and "Traceback" not in text


def test_an_engine_table_column_named_like_the_derived_segment_is_refused(
        tmp_path, postgres, monkeypatch):
    from tests.support.postgres import load_table

    raw = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str, keep_default_na=False)
    raw["customer_type"] = "vip"
    (tmp_path / "clash.csv").write_text(raw.to_csv(index=False), encoding="utf-8")
    load_table(postgres.url, "customer_clash", tmp_path / "clash.csv")
    monkeypatch.setenv("SQR_TEST_WAREHOUSE", postgres.url)
    p = demo_params("support_customers")
    p["data"].pop("path")
    p["data"]["source"] = {"backend": "postgres", "table": "customer_clash",
                           "url_env": "SQR_TEST_WAREHOUSE"}
    path = write_params(tmp_path, p)
    with pytest.raises(DataError) as err:
        load_scorecard(params.load(path), str(path))
    text = str(err.value)
    assert "column 'customer_type'" in text and "the table has its own column" in text
    assert postgres.url not in text and "Traceback" not in text


def test_the_segment_without_a_customer_id_names_the_key_and_the_fix(tmp_path):
    p = demo_params("support_customers")
    del p["data"]["columns"]["customer_id"]
    p["data"]["personal"] = {"customer_id": "drop", "customer_name": "drop",
                             "customer_email": "drop", "comment": "drop"}
    path = write_params(tmp_path, p)
    with pytest.raises(DataError) as err:
        load_scorecard(params.load(path), str(path))
    text = str(err.value)
    assert "key 'segments' (customer_type)" in text and "customer_id role" in text
    assert "map it in data.columns" in text and "Traceback" not in text


def test_before_after_compares_new_and_returning_customers(tmp_path):
    p = demo_params("chatbot_launch")
    p["segments"] = ["customer_type"]
    p["customer_history"] = {"lookback_days": 30}
    p["data"].setdefault("columns", {})["customer_id"] = "customer_id"
    path = write_params(tmp_path, p)
    study = BeforeAfter(params.load(path), str(path))
    segments = set(study.effects["segment"])
    assert {"customer_type=new", "customer_type=returning"} <= segments
    new = study.segment_frame("customer_type=new")
    assert set(new["customer_type"]) == {"new"} and len(new) < len(study.frame)


def test_control_group_splits_tickets_by_customer_type(tmp_path):
    p = demo_params("branch_queueing")
    p["segments"] = ["region", "customer_type"]
    p["data"]["columns"]["customer_id"] = "customer_ref"
    p["data"]["personal"] = {"customer_ref": "pseudonymise"}
    path = write_params(tmp_path, p)
    study = ControlGroup(params.load(path), str(path))
    effects = study.effects
    rows = effects[effects["segment"].str.startswith("customer_type=")]
    assert set(rows["segment"]) >= {"customer_type=new", "customer_type=returning"}
    assert (rows["family"] == "exploratory").all()
    assert "customer_type" not in study.units.columns  # a ticket-level segment
