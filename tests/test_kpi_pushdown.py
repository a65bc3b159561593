"""KPIs aggregated in the engine (``kpi.pushdown.kpi_table_expr``) equal the pandas KPI table
(``kpi.engine.kpi_table``): the demo studies on DuckDB, a real PostgreSQL server and a local
Spark, edge cases (one ticket, all open, ties, no survey answers, a large offset) and random
tables.
Estimates and intervals to rtol 1e-9, NaN where pandas has NaN; every other column equal."""

from __future__ import annotations

import os

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqresearch import kpi
from sqresearch.designs.scorecard.load import load
from sqresearch.io import params as params_mod
from sqresearch.io.schema_parts import Sla
from sqresearch.kpi import pushdown
from sqresearch.kpi.bizhours import Schedule
from sqresearch.kpi.pushdown import kpi_table_expr
from sqresearch.kpi.pushdown_sorted import SortedValues, _positions
from tests.support.postgres import ROOT, engine_table, load_table

EXAMPLES = int(os.environ.get("SQR_PROPERTY_EXAMPLES", "50"))
NUMBERS = ["estimate", "ci_low", "ci_high"]
CUT = pd.Timestamp("2026-06-30 23:59:59")


def assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(expected.drop(columns=NUMBERS), got.drop(columns=NUMBERS))
    for col in NUMBERS:
        np.testing.assert_allclose(got[col].to_numpy(float), expected[col].to_numpy(float),
                                   rtol=1e-9, atol=0, equal_nan=True, err_msg=col)


def prepared(study: str) -> tuple[pd.DataFrame, kpi.Context, list[str]]:
    """A demo scorecard's tickets as the study prepares them, with its period column."""
    p = params_mod.load(ROOT / "params" / f"{study}.yaml")
    frame, ctx = kpi.prepare_table(p, load(p, study))
    frame["period"] = kpi.period_labels(frame["created"], p.periods)
    return frame, ctx, ["period", *p.segments]


@pytest.fixture(scope="module")
def demos():
    return {s: prepared(s) for s in ("support_desk", "branch_network")}


def no_fallback(*args, **kwargs):
    raise AssertionError("a Kaplan–Meier median was refitted in pandas")


@pytest.mark.parametrize("study", ["support_desk", "branch_network"])
def test_the_demo_kpis_on_duckdb_are_the_pandas_kpis(demos, study, monkeypatch):
    frame, ctx, groupings = demos[study]
    # every median of the demos is decided in the engine (no curve within rounding of a
    # threshold), so the engine's own Kaplan–Meier path is what is compared here
    monkeypatch.setattr(pushdown, "kaplan_meier", no_fallback)
    con = ibis.duckdb.connect()
    t = con.create_table(study, ibis.memtable(frame))
    ordered = SortedValues(t, ["frt_min", "ttr_h", "ttr_bh_h"], groupings)
    for by in [None, *groupings]:
        expected = kpi.kpi_table(frame, ctx, by)
        assert_same(expected, kpi_table_expr(t, ctx, by))
        got = kpi_table_expr(t, ctx, by, ordered=ordered)
        exact = expected["kpi"].isin(ORDERED)
        pd.testing.assert_frame_equal(expected[exact], got[exact], check_exact=True)
    only = {"frt_p90", "ttr_median_bh", "contacts"}
    assert_same(kpi.kpi_table(frame, ctx, "period", only),
                kpi_table_expr(t, ctx, "period", only))


@pytest.mark.parametrize("study", ["support_desk", "branch_network"])
def test_the_demo_kpis_on_postgres_are_the_pandas_kpis(demos, postgres, study):
    frame, ctx, groupings = demos[study]
    name = f"prepared_{study}"
    load_table(postgres.url, name, frame)
    con = ibis.postgres.connect(host=postgres.host, port=postgres.port, user=postgres.user,
                                password=postgres.password, database=postgres.database)
    try:
        t = con.table(name)
        ordered = SortedValues(t, ["frt_min", "ttr_h", "ttr_bh_h"], groupings)
        for by in [None, *groupings]:
            expected = kpi.kpi_table(frame, ctx, by)
            assert_same(expected, kpi_table_expr(t, ctx, by))
            assert_same(expected, kpi_table_expr(t, ctx, by, ordered=ordered))
    finally:
        con.disconnect()


def test_the_demo_kpis_on_spark_are_the_pandas_kpis(demos, tmp_path):
    from pyspark.sql import SparkSession

    frame, ctx, _ = demos["support_desk"]
    spark = (SparkSession.builder.master("local[2]").appName("sqr-kpi-pushdown")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse")).getOrCreate())
    try:
        con = ibis.pyspark.connect(spark)
        # NaN, not NULL, in Spark's float columns from pandas: treated as missing all the same
        text = {c: object for c in frame.columns if frame[c].dtype == "string"}
        t = con.create_table("prepared_tickets", ibis.memtable(frame.astype(text)),
                             overwrite=True)
        ordered = SortedValues(t, ["frt_min", "ttr_h", "ttr_bh_h"], ["period"])
        for by in (None, "period"):
            expected = kpi.kpi_table(frame, ctx, by)
            assert_same(expected, kpi_table_expr(t, ctx, by))
            assert_same(expected, kpi_table_expr(t, ctx, by, ordered=ordered))
    finally:
        spark.stop()


def context(alpha: float = 0.05) -> kpi.Context:
    sla = Sla(name="response_60min", clock="first_response", within=60, unit="minutes")
    return kpi.Context(data_cut=CUT, schedule=Schedule(), alpha=alpha, slas=(sla,))


def tickets(group, frt, ttr, solved, csat=None, nps=None, ces=None, flags=None) -> pd.DataFrame:
    """A prepared ticket table (the columns ``kpi.prepare`` leaves) from its per-ticket values;
    the role columns are there so that every KPI is available."""
    n = len(group)
    rng = np.random.default_rng(n)

    def col(values, default):
        return np.asarray(values if values is not None else default(n), dtype=float)

    frt, ttr, solved = col(frt, None), col(ttr, None), col(solved, None)
    flags = col(flags, lambda k: rng.integers(0, 2, k))
    created = CUT - pd.to_timedelta(np.full(n, 1000.0), unit="h")
    answered = ~np.isnan(frt)
    return pd.DataFrame({
        "created": created, "first_response": created, "resolved": created,
        "reopened": flags, "fcr_flag": flags,
        "csat": col(csat, lambda k: rng.integers(1, 6, k)),
        "nps": col(nps, lambda k: rng.integers(0, 11, k)),
        "ces": col(ces, lambda k: rng.integers(1, 8, k)),
        "complaint": flags, "group": pd.Series(group, dtype="string"),
        "frt_min": frt, "frt_bh_min": frt, "frt_open_min": np.where(answered, np.nan, 90.0),
        "frt_open_bh_min": np.where(answered, np.nan, 90.0), "solved": solved,
        "ttr_h": ttr, "ttr_bh_h": np.round(ttr / 3),
        "sla_response_60min": np.where(answered, (frt <= 60).astype(float), 0.0),
        "fcr": flags, "reopen": np.where(solved == 1, flags, np.nan)})


ORDERED = ["frt_median", "frt_p90", "ttr_median", "ttr_median_bh"]


def assert_engine_agrees(frame: pd.DataFrame, ctx: kpi.Context | None = None) -> None:
    """The engine's KPI table equals pandas' (rtol 1e-9), by window functions and from the
    values fetched once (``SortedValues``: the order-based KPIs bit for bit)."""
    ctx = ctx or context()
    # a second grouping, integer, so that cells (``pushdown.Cells``) combine over it
    frame = frame.assign(other=np.arange(len(frame)) % 3)
    t = ibis.duckdb.connect().create_table("tickets", ibis.memtable(frame))
    ordered = SortedValues(t, ["frt_min", "ttr_h", "ttr_bh_h"], ["group"])
    cells = pushdown.Cells.fetch(t, ctx, ["group", "other"])
    for by in (None, "group", "other"):
        expected = kpi.kpi_table(frame, ctx, by)
        assert_same(expected, kpi_table_expr(t, ctx, by))
        assert_same(expected, kpi_table_expr(t, ctx, by, cells=cells))
        if by == "other":
            continue
        got = kpi_table_expr(t, ctx, by, ordered=ordered)
        assert_same(expected, got)
        exact = expected["kpi"].isin(ORDERED)
        pd.testing.assert_frame_equal(expected[exact], got[exact], check_exact=True)


def test_edge_cases_one_ticket_all_open_ties_no_answers():
    frame = tickets(
        group=["one", "open", "open", "open", "ties", "ties", "ties", "ties", "ties", "ties"],
        frt=[5, 1, 2, 3, 4, 4, 4, 4, 7, 7],
        ttr=[2, 3, 4, 5, 1, 1, 2, 2, 2, 3],
        solved=[1, 0, 0, 0, 1, 1, 1, 0, 1, 1],
        csat=[np.nan] * 10, nps=[np.nan] * 10)
    expected = kpi.kpi_table(frame, context(), "group").set_index(["group", "kpi"])
    assert np.isnan(expected.loc[("open", "ttr_median"), "estimate"])  # never reaches 0.5
    assert expected.loc[("one", "frt_mean"), "n"] == 1
    assert np.isnan(expected.loc[("ties", "csat_mean"), "estimate"])
    assert_engine_agrees(frame)


def test_a_curve_flat_at_one_half_and_a_curve_ending_there(monkeypatch):
    # S = 1/2 over a stretch (the midpoint rule): decided in the engine
    flat = tickets(group=["flat"] * 4, frt=[1, 2, 3, 4], ttr=[1, 2, 3, 4], solved=[1] * 4)
    with monkeypatch.context() as m:
        m.setattr(pushdown, "kaplan_meier", no_fallback)
        assert_engine_agrees(flat)
    # S ending at 1/2 (median to the last time): the engine's 1 - exp(log 3/4 + log 2/3) is
    # 0.4999999999999999, numpy's 0.5, and "never reached" is an exact comparison, so the group
    # is refitted by kaplan_meier
    end = tickets(group=["end"] * 4, frt=[1, 2, 3, 4], ttr=[1, 2, 5, 5], solved=[1, 1, 0, 0])
    assert_engine_agrees(end)
    assert kpi.kpi_table(end, context()).set_index("kpi").loc["ttr_median", "estimate"] == 3.5


def test_means_far_from_zero_keep_their_digits():
    rng = np.random.default_rng(7)
    n = 2000
    frame = tickets(group=np.where(rng.random(n) < 0.5, "a", "b"), frt=1e7 + rng.random(n),
                    ttr=rng.exponential(10, n), solved=(rng.random(n) < 0.8).astype(float))
    assert_engine_agrees(frame)


def test_a_missing_group_and_an_empty_table():
    frame = tickets(group=["a", None, "b"], frt=[1, 2, np.nan], ttr=[1, 2, 3],
                    solved=[np.nan, 1, 0])
    assert_engine_agrees(frame)
    assert_engine_agrees(frame.iloc[:0])  # no rows: one group "all" with n = 0, or no groups
    empty = kpi_table_expr(ibis.memtable(frame.iloc[:0]), context()).set_index("kpi")
    assert empty.loc["contacts", "n"] == 0 and empty["estimate"].drop("contacts").isna().all()


def test_ninety_groups_radix_positions_and_ties_of_the_upper_band():
    # more than 64 groups: their positions come from a stable radix sort, not one comparison
    # per group; both give the rising positions of each code, and the KPIs bit for bit. This
    # table also caught the window functions' upper band choosing a censored time (g047): its
    # value equalled the event time's before it in numpy but not in DuckDB's last bit
    rng = np.random.default_rng(11)
    codes = rng.integers(-1, 100, 5000).astype(np.int8)
    for k in (5, 100):
        got = _positions(np.where(codes < k, codes, -1).astype(np.int8), k)
        assert [p.tolist() for p in got] == [np.flatnonzero(codes == i).tolist()
                                             for i in range(k)]
    n = 3000
    frame = tickets(group=[f"g{i:03d}" for i in rng.integers(0, 90, n)],
                    frt=rng.integers(0, 50, n).astype(float), ttr=rng.exponential(10, n),
                    solved=(rng.random(n) < 0.7).astype(float))
    assert_engine_agrees(frame)


@st.composite
def ticket_tables(draw):
    n = draw(st.integers(1, 40))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    # few distinct durations, so that ties and flat stretches are common
    dur = st.one_of(st.none(), st.integers(0, 6).map(float),
                    st.floats(0, 50, allow_nan=False, allow_infinity=False))
    score = st.one_of(st.none(), st.integers(0, 10).map(float))
    frt, ttr, csat, nps = (draw(st.lists(s, min_size=n, max_size=n))
                           for s in (dur, dur, score, score))
    solved = draw(st.lists(st.sampled_from([0.0, 1.0, None]), min_size=n, max_size=n))

    def arr(values):
        return [np.nan if v is None else v for v in values]

    frame = tickets(groups, arr(frt), arr(ttr), arr(solved),
                    csat=[np.nan if v is None else min(v, 5.0) for v in csat], nps=arr(nps))
    alpha = draw(st.sampled_from([0.05, 0.1, 0.2]))
    return frame, alpha


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ticket_tables())
def test_random_tables_agree_with_pandas(case):
    frame, alpha = case
    assert_engine_agrees(frame, context(alpha))


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_kpis_by_customer_type_derived_in_the_engine(demos, engine, request):
    from sqresearch.kpi.customers import customer_type
    from sqresearch.kpi.pushdown_prepare import customer_type_expr

    frame, ctx, _ = demos["support_desk"]
    con, t = engine_table(engine, "by_customer", frame, request)
    try:
        for lookback in (None, 30):
            want = kpi.kpi_table(frame.assign(customer_type=customer_type(frame, lookback)),
                                 ctx, "customer_type")
            got = kpi_table_expr(t.mutate(customer_type=customer_type_expr(t, lookback)), ctx,
                                 "customer_type")
            assert_same(want, got)
            assert set(want["group"]) == {"new", "returning"}
    finally:
        con.disconnect()
