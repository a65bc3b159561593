"""The per-ticket clocks computed by the engine (kpi/pushdown_prepare.py) equal those of the
pandas engine (``kpi.prepare``, rtol 1e-9, NaN as NULL): on the demo tickets in DuckDB and on a
real PostgreSQL server, for flag and repeat-contact FCR, for a schedule with holidays and
weekend work, on hand-checked edge cases and on random tickets and schedules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import ibis
import numpy as np
import pandas as pd
import pytest
from conftest import demo_params, write_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqresearch import kpi
from sqresearch.designs.scorecard.load import load
from sqresearch.io import params
from sqresearch.io.schema_parts import Sla
from sqresearch.kpi.bizhours import Schedule
from sqresearch.kpi.pushdown_prepare import period_expr, prepare_expr, series_start_expr
from tests.support.postgres import load_table

EXAMPLES = int(os.environ.get("SQR_PROPERTY_EXAMPLES", "50"))
ADDED = ["frt_min", "frt_bh_min", "frt_open_min", "frt_open_bh_min", "solved", "ttr_h",
         "ttr_bh_h", "fcr", "reopen"]
EXTRA_SLAS = [  # every branch of _sla_outcome: clock x unit x business hours
    {"name": "response_2bh", "clock": "first_response", "within": 2, "unit": "hours",
     "business_hours": True},
    {"name": "resolution_600min", "clock": "resolution", "within": 600, "unit": "minutes"},
    {"name": "resolution_90bmin", "clock": "resolution", "within": 90, "unit": "minutes",
     "business_hours": True},
    {"name": "resolution_8h", "clock": "resolution", "within": 8, "unit": "hours"},
]
WEEKEND_SHOP = Schedule(["mon", "wed", "thu", "sat", "sun"], dt.time(8, 30), dt.time(20, 15, 30),
                        holidays=["2026-01-01", "2026-01-03", "2026-02-16", "2026-04-05",
                                  "2026-05-01", "2026-12-25"])


@pytest.fixture(scope="module")
def duck():
    return ibis.duckdb.connect()


def demo(tmp_path, **changes):
    """The support desk's loaded ticket frame and KPI context, params changed by ``changes``."""
    p = demo_params("support_desk")
    for key, value in changes.items():
        p[key] = value
    path = write_params(tmp_path, p)
    study = params.load(path)
    frame = load(study, str(path)).frame
    return frame, kpi.context_for(study, frame)


def assert_same(expected: pd.DataFrame, got: pd.DataFrame, ctx) -> None:
    """Every column ``prepare`` adds, ticket by ticket: equal within rtol 1e-9, NaN for NULL."""
    expected = expected.sort_values("ticket_id", kind="mergesort").reset_index(drop=True)
    got = got.sort_values("ticket_id", kind="mergesort").reset_index(drop=True)
    assert got["ticket_id"].astype(str).tolist() == expected["ticket_id"].astype(str).tolist()
    added = [c for c in expected.columns if c in ADDED or c.startswith("sla_")]
    assert {f"sla_{s.name}" for s in ctx.slas} <= set(added)
    assert sorted(got.columns) == sorted(expected.columns)
    for col in added:
        want = expected[col].to_numpy(float)
        have = pd.to_numeric(got[col]).to_numpy(float)
        np.testing.assert_allclose(have, want, rtol=1e-9, atol=0, equal_nan=True, err_msg=col)
        assert (np.isnan(have) == np.isnan(want)).all(), col


def on_duckdb(con, frame: pd.DataFrame, ctx) -> pd.DataFrame:
    return con.to_pandas(prepare_expr(ibis.memtable(frame), ctx))


# --- (1) the demo tickets in DuckDB -------------------------------------------------------------

def test_demo_tickets_flag_fcr_on_duckdb(tmp_path, duck):
    frame, ctx = demo(tmp_path)
    assert ctx.fcr_method == "flag" and any(s.business_hours for s in ctx.slas)
    expected = kpi.prepare(frame, ctx)
    assert expected["sla_resolution_24bh"].isna().any()  # some tickets not yet judged
    assert_same(expected, on_duckdb(duck, frame, ctx), ctx)


def test_demo_tickets_repeat_contact_fcr_and_every_sla_kind(tmp_path, duck):
    p = demo_params("support_desk")
    frame, ctx = demo(tmp_path, fcr={"method": "repeat_contact", "repeat_window_days": 5},
                      sla=p["sla"] + EXTRA_SLAS)
    assert not frame.duplicated(["customer_id", "created"]).any()  # tie-free: see below
    expected = kpi.prepare(frame, ctx)
    fcr = expected["fcr"]
    assert (fcr == 0).sum() > 50 and (fcr == 1).sum() > 1000 and fcr.isna().sum() > 50
    assert_same(expected, on_duckdb(duck, frame, ctx), ctx)


def test_a_schedule_with_holidays_and_weekend_work(tmp_path, duck):
    frame, ctx = demo(tmp_path, sla=demo_params("support_desk")["sla"] + EXTRA_SLAS)
    ctx = dataclasses.replace(ctx, schedule=WEEKEND_SHOP)
    expected = kpi.prepare(frame, ctx)
    assert_same(expected, on_duckdb(duck, frame, ctx), ctx)


# --- (2) the same on a real PostgreSQL server -----------------------------------------------

def test_demo_tickets_on_postgres(tmp_path, postgres):
    con = ibis.connect(postgres.url)
    try:
        for name, changes, schedule in [
                ("prep_flag", {}, None),
                ("prep_repeat", {"fcr": {"method": "repeat_contact"},
                                 "sla": demo_params("support_desk")["sla"] + EXTRA_SLAS},
                 WEEKEND_SHOP)]:
            frame, ctx = demo(tmp_path, **changes)
            if schedule is not None:
                ctx = dataclasses.replace(ctx, schedule=schedule)
            load_table(postgres.url, name, frame)
            got = con.to_pandas(prepare_expr(con.table(name), ctx))  # calendar uploaded
            assert_same(kpi.prepare(frame, ctx), got, ctx)
    finally:
        con.disconnect()


# --- (3) edge cases, checked by hand as well --------------------------------------------------

CUT = pd.Timestamp("2026-04-08 12:00")  # a Wednesday
NINE_TO_FIVE = Schedule(["mon", "tue", "wed", "thu", "fri"], dt.time(9), dt.time(17),
                        holidays=["2026-04-03", "2026-04-06"])  # Good Friday, Easter Monday
EDGE_SLAS = (Sla(name="r60", clock="first_response", within=60, unit="minutes"),
             Sla(name="r2bh", clock="first_response", within=2, unit="hours",
                 business_hours=True),
             Sla(name="fix8bh", clock="resolution", within=8, unit="hours", business_hours=True),
             Sla(name="fix24h", clock="resolution", within=24, unit="hours"))


def edge_tickets() -> pd.DataFrame:
    T = pd.Timestamp
    rows = [  # ticket, created, first response, resolved
        ("E01", T("2026-04-03 10:00"), T("2026-04-07 09:30"), T("2026-04-07 17:00")),  # holiday
        ("E02", T("2026-04-04 11:00"), T("2026-04-07 10:00"), None),  # Saturday, open
        ("E03", T("2026-04-07 07:15"), T("2026-04-07 08:15"), T("2026-04-08 09:00")),  # early
        ("E04", T("2026-04-07 18:30"), T("2026-04-08 09:00:00.5"), T("2026-04-08 11:00")),
        ("E05", T("2026-04-08 10:00"), T("2026-04-08 12:30"), None),  # answered after the cut
        ("E06", T("2026-04-08 11:30"), None, None),  # open, still within every limit
        ("E07", T("2026-04-07 09:00"), T("2026-04-07 10:00"), T("2026-04-08 09:00")),  # at limits
        ("E08", T("2026-04-02 16:00"), T("2026-04-02 16:59:59.999999"), T("2026-04-09 10:00")),
        ("E09", T("2026-04-01 09:00"), T("2026-04-01 09:00"), T("2026-04-01 09:00")),  # instant
    ]
    df = pd.DataFrame(rows, columns=["ticket_id", "created", "first_response", "resolved"])
    for c in ("created", "first_response", "resolved"):
        df[c] = pd.to_datetime(df[c])
    df["reopened"] = [0, np.nan, 1, 0, 0, np.nan, 2, 0, 0]
    df["fcr_flag"] = [1, np.nan, 0, 1, 1, np.nan, 0, 1, 1]
    df["customer_id"] = ["a", "b", "c", "c", "a", None, "d", "d", None]
    return df


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_edge_cases_match_pandas_and_hand_values(engine, request):
    frame = edge_tickets()
    ctx = kpi.Context(data_cut=CUT, schedule=NINE_TO_FIVE, slas=EDGE_SLAS)
    if engine == "duckdb":
        got = on_duckdb(request.getfixturevalue("duck"), frame, ctx)
    else:
        server = request.getfixturevalue("postgres")
        load_table(server.url, "prep_edges", frame)
        con = ibis.connect(server.url)
        got = con.to_pandas(prepare_expr(con.table("prep_edges"), ctx))
        con.disconnect()
    expected = kpi.prepare(frame, ctx)
    assert_same(expected, got, ctx)
    g = got.set_index("ticket_id")
    # created on a holiday, answered the next working day at 09:30: 30 business minutes
    assert g.loc["E01", "frt_bh_min"] == 30 and g.loc["E01", "ttr_bh_h"] == 8
    # created on Saturday, answered Tuesday 10:00 (Monday a holiday): one business hour
    assert g.loc["E02", "frt_bh_min"] == 60 and g.loc["E02", "solved"] == 0
    assert g.loc["E02", "ttr_bh_h"] == 11 and g.loc["E02", "sla_fix8bh"] == 0  # open, late
    # before opening: the clock starts at 09:00; answered before opening costs nothing
    assert g.loc["E03", "frt_bh_min"] == 0 and g.loc["E03", "frt_min"] == 60
    assert g.loc["E03", "sla_r60"] == 1 and g.loc["E03", "sla_fix8bh"] == 1
    # after closing, answered next morning half a second after opening: whole seconds count
    assert g.loc["E04", "frt_bh_min"] == 0 and g.loc["E04", "ttr_bh_h"] == 2
    # a first response after the cut is no response yet: open clocks run to the cut
    assert np.isnan(g.loc["E05", "frt_min"]) and g.loc["E05", "frt_open_min"] == 120
    assert g.loc["E05", "sla_r60"] == 0  # past the limit while open: missed
    assert np.isnan(g.loc["E05", "sla_r2bh"])  # open exactly 2 business hours: not yet judged
    assert np.isnan(g.loc["E05", "sla_fix8bh"])
    # open and within every limit: not yet judged
    assert g.loc["E06", ["sla_r60", "sla_r2bh", "sla_fix8bh", "sla_fix24h"]].isna().all()
    assert np.isnan(g.loc["E06", "fcr"]) and np.isnan(g.loc["E06", "reopen"])
    # exactly at the limits: met (at most)
    assert g.loc["E07", "frt_min"] == 60 and g.loc["E07", "sla_r60"] == 1
    assert g.loc["E07", "ttr_h"] == 24 and g.loc["E07", "sla_fix24h"] == 1
    assert g.loc["E07", "ttr_bh_h"] == 8 and g.loc["E07", "sla_fix8bh"] == 1
    assert g.loc["E07", "reopen"] == 1
    # a microsecond: calendar clocks keep it, business clocks count whole seconds
    assert g.loc["E08", "frt_min"] == pytest.approx((3600 - 1e-6) / 60, rel=1e-12)
    assert g.loc["E08", "frt_bh_min"] == pytest.approx(59 / 60 + 59, rel=1e-12)
    # resolved after the cut: open at the cut, 140 h; 12 business h over the Easter holidays
    assert g.loc["E08", "solved"] == 0 and g.loc["E08", "ttr_h"] == 140
    assert g.loc["E08", "ttr_bh_h"] == 12 and g.loc["E08", "sla_fix8bh"] == 0
    assert g.loc["E09", "frt_min"] == 0 and g.loc["E09", "ttr_bh_h"] == 0


def test_repeat_contact_tie_rule(duck):
    """Ties (one customer, two tickets created at the same instant) follow the frame's order in
    ``prepare`` and ticket id order in SQL: equal when the frame is in ticket id order (as a
    table read from an engine is), and only the tied tickets can differ otherwise."""
    T = pd.Timestamp
    frame = pd.DataFrame({
        "ticket_id": ["K1", "K2", "K3", "K4", "K5"],
        "created": [T("2026-03-02 10:00"), T("2026-03-02 10:00"), T("2026-03-20 10:00"),
                    T("2026-03-02 11:00"), T("2026-03-04 11:00")],
        "resolved": [T("2026-03-02 12:00"), T("2026-03-03 12:00"), T("2026-03-20 12:00"),
                     T("2026-03-02 12:00"), T("2026-03-05 12:00")],
        "customer_id": ["x", "x", "x", "y", "y"]})
    ctx = kpi.Context(data_cut=T("2026-03-25"), schedule=NINE_TO_FIVE,
                      fcr_method="repeat_contact", repeat_window_days=7)
    got = on_duckdb(duck, frame, ctx).set_index("ticket_id")["fcr"]
    # K1 is followed by its twin K2 (a repeat); K2 by K3 18 days later (none); K5 follows K4
    assert got.loc[["K1", "K2", "K4", "K5"]].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert np.isnan(got["K3"])  # its window passes the cut with no repeat: not judged
    assert_same(kpi.prepare(frame, ctx), on_duckdb(duck, frame, ctx), ctx)
    swapped = kpi.prepare(frame.iloc[[1, 0, 2, 3, 4]], ctx).set_index("ticket_id")["fcr"]
    assert swapped[["K1", "K2"]].tolist() == [1.0, 0.0]  # pandas follows the frame's order
    assert swapped.drop(["K1", "K2"]).sort_index().equals(got.drop(["K1", "K2"]).sort_index())


# --- periods ---------------------------------------------------------------------------------

def period_stamps() -> pd.Series:
    days = ["2015-12-31", "2016-01-03", "2016-01-04", "2020-12-31", "2021-01-01", "2021-01-03",
            "2021-01-04", "2024-12-29", "2024-12-30", "2025-12-29", "2026-01-01", "2026-03-01",
            "2026-03-02", "2026-03-31", "2026-06-30", "2026-12-31", "2027-01-01", "2027-01-03"]
    return pd.Series(pd.to_datetime([d + " 23:59:59.5" for d in days] + days, format="ISO8601"),
                     name="created")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_period_labels_and_series_starts(engine, request):
    stamps = period_stamps()
    frame = pd.DataFrame({"ticket_id": [f"P{i:02d}" for i in range(len(stamps))],
                          "created": stamps})
    if engine == "duckdb":
        con, t = request.getfixturevalue("duck"), ibis.memtable(frame)
    else:
        server = request.getfixturevalue("postgres")
        load_table(server.url, "prep_periods", frame)
        con = ibis.connect(server.url)
        t = con.table("prep_periods")
    expr = t.select("ticket_id", **{f"p_{f}": period_expr(t.created, f)
                                    for f in ("month", "quarter", "week")},
                    **{f"s_{f}": series_start_expr(t.created, f)
                       for f in ("day", "week", "month")})
    got = con.to_pandas(expr.order_by("ticket_id")).set_index("ticket_id")
    for f in ("month", "quarter", "week"):
        assert got[f"p_{f}"].tolist() == kpi.period_labels(stamps, f).tolist(), f
    assert "2020-W53" in got["p_week"].tolist() and "2025-W01" in got["p_week"].tolist()
    ctx = kpi.Context(data_cut=stamps.max(), schedule=NINE_TO_FIVE)
    for f in ("day", "week", "month"):  # the period each ticket is counted in by series()
        want = kpi.series(frame, ctx, f, {"contacts"}).set_index("date")["n"]
        have = pd.to_datetime(got[f"s_{f}"]).value_counts().sort_index()
        assert have.to_dict() == want.to_dict(), f


# --- (4) random tickets and schedules --------------------------------------------------------

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BASE = np.datetime64("2025-12-01T00:00:00", "us")


@st.composite
def tickets_and_context(draw):
    n = draw(st.integers(1, 40))
    span_us = 120 * 86400 * 10**6
    whole = draw(st.booleans())  # whole seconds, or any microsecond
    created = np.array(draw(st.lists(st.integers(0, span_us), min_size=n, max_size=n)))
    lag = st.one_of(st.none(), st.integers(0, 20 * 86400 * 10**6))
    frs = draw(st.lists(lag, min_size=n, max_size=n))
    res = draw(st.lists(lag, min_size=n, max_size=n))
    if whole:
        created = created // 10**6 * 10**6
    stamps = BASE + created.astype("timedelta64[us]")

    def after(lags):
        return pd.to_datetime([None if lag is None else s + np.timedelta64(lag, "us")
                               for s, lag in zip(stamps, lags, strict=True)])

    frame = pd.DataFrame({
        "ticket_id": [f"R{i:03d}" for i in range(n)], "created": pd.to_datetime(stamps),
        "first_response": after(frs), "resolved": after(res),
        "reopened": draw(st.lists(st.sampled_from([0.0, 1.0, 3.0, np.nan]), min_size=n,
                                  max_size=n)),
        "customer_id": draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n,
                                     max_size=n))})
    frame = frame[~frame.duplicated(["customer_id", "created"]) | frame["customer_id"].isna()]
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    start = draw(st.integers(0, 23 * 3600))
    end = draw(st.integers(start + 1, 86399))
    clock = [dt.time(s // 3600, s // 60 % 60, s % 60) for s in (start, end)]
    holidays = draw(st.lists(st.dates(dt.date(2025, 11, 1), dt.date(2026, 6, 1)), max_size=12))
    cut = BASE + np.timedelta64(draw(st.integers(0, 150 * 86400 * 10**6)), "us")
    slas = tuple(Sla(name=f"s{i}", clock=c, within=w, unit=u, business_hours=b)
                 for i, (c, w, u, b) in enumerate(draw(st.lists(st.tuples(
                     st.sampled_from(["first_response", "resolution"]),
                     st.sampled_from([1, 30, 60, 90.5, 480, 1440]),
                     st.sampled_from(["minutes", "hours"]), st.booleans()), max_size=4))))
    ctx = kpi.Context(data_cut=pd.Timestamp(cut), schedule=Schedule(days, *clock, holidays),
                      slas=slas, fcr_method=draw(st.sampled_from(["flag", "repeat_contact"])),
                      repeat_window_days=draw(st.integers(1, 14)))
    frame["fcr_flag"] = frame["reopened"].map({0.0: 1.0, 1.0: 0.0, 3.0: 1.0})
    return frame.reset_index(drop=True), ctx


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=tickets_and_context())
def test_random_tickets_and_schedules_match_pandas(duck, case):
    frame, ctx = case
    assert_same(kpi.prepare(frame, ctx), on_duckdb(duck, frame, ctx), ctx)


# --- (5) the customer_type segment (kpi/customers.py) -------------------------------------------

@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_customer_type_in_the_engine_is_the_pandas_column(engine, request, tmp_path):
    from sqresearch.kpi.customers import customer_type
    from sqresearch.kpi.pushdown_prepare import customer_type_expr

    frame, ctx = demo(tmp_path)
    frame = pd.concat([frame, edge_tickets().assign(ticket_id=lambda d: "Z" + d["ticket_id"])],
                      ignore_index=True)  # ties, a missing customer id
    if engine == "duckdb":
        con = request.getfixturevalue("duck")
        t = ibis.memtable(frame)
    else:
        server = request.getfixturevalue("postgres")
        load_table(server.url, "prep_customers", frame)
        con = ibis.connect(server.url)
        t = con.table("prep_customers")
    for lookback in (None, 14):
        expr = prepare_expr(t.mutate(customer_type=customer_type_expr(t, lookback)), ctx)
        got = con.to_pandas(expr).sort_values("ticket_id").reset_index(drop=True)
        want = frame.assign(customer_type=customer_type(frame, lookback)) \
            .sort_values("ticket_id").reset_index(drop=True)
        assert got["customer_type"].tolist() == want["customer_type"].tolist(), lookback
    if engine == "postgres":
        con.disconnect()
