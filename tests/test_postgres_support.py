"""The throwaway PostgreSQL server of tests/support/postgres.py: it starts, holds the demo files
as typed tables equal to the files, checks passwords, stops cleanly, and runs beside another."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import psycopg
import pyarrow.parquet as pq
import pytest

from tests.support.postgres import (
    DATA,
    load_mistyped,
    load_synthetic,
    load_table,
    postgres_server,
    synthetic_tickets,
)


def fetch(server, query: str, *args) -> list[tuple]:
    with server.connect() as con:
        return con.execute(query, args or None).fetchall()


def column_types(server, table: str, schema: str = "public") -> dict[str, str]:
    rows = fetch(server, "SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = %s AND table_name = %s", schema, table)
    return dict(rows)


def as_text(frame: pd.DataFrame) -> list[tuple]:
    """Rows with every value as its text (None for missing), to compare across readers."""
    obj = frame.astype(object).where(frame.notna(), None)
    return [tuple(None if v is None else str(v) for v in row)
            for row in obj.itertuples(index=False)]


def table_frame(server, table: str, order: str) -> pd.DataFrame:
    with server.connect() as con, con.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} ORDER BY {order}")
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description],
                            dtype=object)


def test_server_is_postgres_15(postgres):  # noqa: F811
    (version,), = fetch(postgres, "SELECT version()")
    assert version.startswith("PostgreSQL 15"), version
    assert fetch(postgres, "SELECT current_database(), current_user") == [("warehouse", "sqr")]
    if os.geteuid() == 0:  # PostgreSQL refuses root: the cluster belongs to an ordinary user
        assert postgres.pgdata.stat().st_uid != 0


def test_every_demo_file_is_a_table_with_its_rows(postgres):  # noqa: F811
    expected = {p.stem: len(pd.read_csv(p)) for p in DATA.glob("*.csv")}
    expected.update({p.stem: pq.read_metadata(p).num_rows for p in DATA.glob("*.parquet")})
    assert postgres.tables == expected
    for table, rows in expected.items():
        assert fetch(postgres, f"SELECT count(*) FROM {table}") == [(rows,)]


def test_columns_have_sql_types(postgres):  # noqa: F811
    types = column_types(postgres, "support_tickets")
    for col in ("opened_ts", "first_reply_ts", "solved_ts"):
        assert types[col] == "timestamp without time zone"
    for col in ("csat", "nps", "ces", "reopens"):
        assert types[col] == "bigint"
    assert types["agent_fcr"] == types["is_complaint"] == "boolean"
    assert types["ticket_id"] == types["channel"] == types["comment"] == "text"
    visits = column_types(postgres, "branch_visits")
    assert visits["arrived"] == visits["served"] == visits["left"] == \
        "timestamp without time zone"
    assert visits["csat"] == "bigint" and visits["complaint"] == "boolean"


def test_ticket_values_equal_the_csv(postgres):  # noqa: F811
    csv = pd.read_csv(DATA / "support_tickets.csv", keep_default_na=False, na_values=[""])
    for col in ("opened_ts", "first_reply_ts", "solved_ts"):
        csv[col] = pd.to_datetime(csv[col])
    for col in ("reopens", "csat", "nps", "ces"):
        csv[col] = csv[col].astype("Int64")
    table = table_frame(postgres, "support_tickets", "ticket_id")
    assert list(table.columns) == list(csv.columns)
    assert as_text(table) == as_text(csv.sort_values("ticket_id"))


def test_visit_values_equal_the_parquet(postgres):  # noqa: F811
    parquet = pq.read_table(DATA / "branch_visits.parquet").to_pandas()
    parquet["csat"] = parquet["csat"].astype("Int64")
    table = table_frame(postgres, "branch_visits", "visit_id")
    assert as_text(table) == as_text(parquet.sort_values("visit_id"))


def test_awkward_values_round_trip_into_a_schema(postgres):  # noqa: F811
    frame = pd.DataFrame({
        "x": [0.1 + 0.2, 1 / 3, 1e-300, -2.5e17, 123456789.12345679],
        "text": ["", None, 'quote " and, comma', "line\nbreak", "Chloé <b>&</b> \\N"],
        "n": pd.array([1, None, -(2 ** 62), 0, 7], dtype="Int64"),
        "ts": pd.to_datetime(["2026-01-01 00:00:00.000001", None, "1999-12-31 23:59:59",
                              "2026-03-29 02:30:00", "2026-06-30 12:00:00"], format="ISO8601"),
        "flag": [True, False, None, True, False],
    })
    assert load_table(postgres.url, "sales.awkward", frame) == 5
    assert column_types(postgres, "awkward", "sales") == {
        "x": "double precision", "text": "text", "n": "bigint",
        "ts": "timestamp without time zone", "flag": "boolean"}
    rows = fetch(postgres, "SELECT x, text, n, ts, flag FROM sales.awkward "
                 "ORDER BY x")
    want = sorted(zip(frame["x"], frame["text"], [None if pd.isna(v) else int(v)
                                                   for v in frame["n"]],
                      [None if pd.isna(t) else t.to_pydatetime() for t in frame["ts"]],
                      frame["flag"], strict=True), key=lambda r: r[0])
    assert rows == want  # doubles bit for bit, '' apart from NULL, microseconds kept
    assert rows[[r[0] for r in rows].index(0.1 + 0.2)][3] == dt.datetime(2026, 1, 1, 0, 0, 0, 1)


def test_loading_again_replaces_and_types_override(postgres):  # noqa: F811
    path = DATA / "agent_coaching.csv"
    load_table(postgres.url, "scratch.coaching", path)
    rows = load_table(postgres.url, "scratch.coaching", path, types={"agent_id": "varchar(40)"})
    assert rows == len(pd.read_csv(path))
    assert fetch(postgres, "SELECT count(*) FROM scratch.coaching") == [(rows,)]
    assert column_types(postgres, "coaching", "scratch")["agent_id"] == "character varying"
    with pytest.raises(ValueError, match="not in the source"):
        load_table(postgres.url, "scratch.coaching", path, types={"nope": "text"})
    with pytest.raises(ValueError, match="schema.table"):
        load_table(postgres.url, "a.b.c", path)


def test_a_mistyped_table_for_the_bad_input_tests(postgres):  # noqa: F811
    spoiled = load_mistyped(postgres.url, "bad.tickets_csat_text",
                            DATA / "support_tickets.csv", column="csat", bad="n/a", every=10)
    csat = pd.read_csv(DATA / "support_tickets.csv")["csat"]
    assert spoiled == csat.notna().sum() // 10 > 0
    assert column_types(postgres, "tickets_csat_text", "bad")["csat"] == "text"
    counts = dict(fetch(postgres, "SELECT csat = 'n/a', count(*) FROM bad.tickets_csat_text "
                        "WHERE csat IS NOT NULL GROUP BY 1"))
    assert counts == {True: spoiled, False: csat.notna().sum() - spoiled}
    digits = fetch(postgres, "SELECT DISTINCT csat FROM bad.tickets_csat_text "
                   "WHERE csat <> 'n/a' ORDER BY 1")
    assert [d for (d,) in digits] == sorted(str(int(v)) for v in csat.dropna().unique())


def test_the_url_carries_the_password_and_a_wrong_one_fails(postgres):  # noqa: F811
    assert postgres.url == (f"postgresql://sqr:{postgres.password}@127.0.0.1:"
                            f"{postgres.port}/warehouse")
    with psycopg.connect(postgres.url) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres.url_for("warehouse", password="wrong-" + postgres.password))
    assert postgres.password not in repr(postgres) and postgres.password not in str(postgres)
    pg_hba = (postgres.pgdata / "pg_hba.conf").read_text()
    assert "trust" not in [line.split()[-1] for line in pg_hba.splitlines()
                           if line.strip() and not line.startswith("#")]


def test_a_second_server_beside_the_first_and_stopping_deletes_it(postgres):  # noqa: F811
    with pytest.raises(RuntimeError, match="body failed"), postgres_server() as second:
        directory, url = second.directory, second.url
        assert second.port != postgres.port and second.password != postgres.password
        assert directory.is_dir() and directory != postgres.directory
        with psycopg.connect(url) as con:
            assert con.execute("SELECT current_setting('port')").fetchone() == \
                (str(second.port),)
        raise RuntimeError("body failed")
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)
    assert fetch(postgres, "SELECT count(*) FROM support_tickets") == \
        [(postgres.tables["support_tickets"],)]
    second.stop()  # a second stop does nothing


def test_synthetic_tickets_are_seeded_and_exactly_n(postgres):  # noqa: F811
    a, b = synthetic_tickets(3000, seed=4), synthetic_tickets(3000, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3000 and a["ticket_id"].is_unique
    assert a["opened_ts"].is_monotonic_increasing
    assert not a.equals(synthetic_tickets(3000, seed=5))
    assert load_synthetic(postgres.url, "bench.tickets", 3000, seed=4) == 3000
    (rows, first, last, csat_sum), = fetch(
        postgres, "SELECT count(*), min(opened_ts), max(opened_ts), sum(csat) FROM bench.tickets")
    assert rows == 3000 and int(csat_sum) == int(a["csat"].sum())
    assert (first, last) == (a["opened_ts"].min().to_pydatetime(),
                             a["opened_ts"].max().to_pydatetime())
