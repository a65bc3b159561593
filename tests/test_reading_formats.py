"""Timestamps and rows as real files have them: a format per column (day-first allowed), mixed
UTC offsets converted to the study's time zone, dates outside the range or impossible, files with
no rows and tables whose every row was excluded — each read as meant or answered with a message
that shows the offending values with their lines and the fix."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, params_with, write_params

from sqresearch import kpi
from sqresearch.io import data, params
from sqresearch.io.data import Role
from sqresearch.io.errors import DataError, examples, show
from sqresearch.io.schemas import DataSource

TICKET_ROLES = {"ticket_id": Role("id"), "created": Role("timestamp"),
                "resolved": Role("timestamp"), "csat": Role("score", 1, 5)}
STAMPS = ("opened_ts", "first_reply_ts", "solved_ts")


def _study(tmp_path, text: str, **data_keys):
    """A small scorecard on a CSV with the given rows (columns named as the roles)."""
    p = {"study_type": "scorecard", "study_id": "s", "title": "T", "periods": "month",
         "data": {"path": str(_csv(tmp_path, text)), **data_keys},
         "targets": [{"kpi": "csat_mean", "op": ">=", "value": 4}]}
    return write_params(tmp_path, p)


def _csv(tmp_path, text: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load(path, **keys):
    return data.load_table(DataSource(path=str(path), **keys), TICKET_ROLES,
                           ("ticket_id", "created"), source="test")


def _demo(tmp_path, name: str, frame_edit=None, data_keys=None, **changes):
    """A demo study with its CSV edited (``frame_edit``), data keys and top-level keys set."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = demo_params(name)
    if frame_edit is not None:
        df = frame_edit(pd.read_csv(ROOT / p["data"]["path"], dtype=str, keep_default_na=False))
        path = tmp_path / "data.csv"
        df.to_csv(path, index=False)
        p["data"]["path"] = str(path)
    p["data"].update(data_keys or {})
    p.update(changes)
    return write_params(tmp_path, p)


def _kpis(path):
    from sqresearch.designs.scorecard import load

    p = params.load(path)
    table = load(p, "test")
    frame, ctx = kpi.prepare_table(p, table)
    return kpi.kpi_table(frame, ctx), table


def _reformat(fmt: str, rows: int = 600):
    def edit(df):
        df = df.head(rows).copy()
        for c in STAMPS:
            t = pd.to_datetime(df[c].replace("", None))
            df[c] = t.dt.strftime(fmt).fillna("")
        return df
    return edit


# 1. a format per timestamp column --------------------------------------------------------------

def test_a_day_first_file_gives_the_same_kpis_as_the_iso_file(tmp_path):
    iso, _ = _kpis(_demo(tmp_path / "a", "support_desk", _reformat("%Y-%m-%d %H:%M:%S")))
    fmts = {"created": "dayfirst", "first_reply_ts": "%d.%m.%Y %H:%M:%S",
            "resolved": "dayfirst"}
    dmy, table = _kpis(_demo(tmp_path / "b", "support_desk", _reformat("%d/%m/%Y %H:%M:%S"),
                             {"timestamp_format": fmts | {"first_reply_ts": "dayfirst"}}))
    pd.testing.assert_frame_equal(iso, dmy)
    assert len(table.frame) > 500 and table.frame["created"].notna().all()


def test_the_global_format_key_still_applies_to_every_column(tmp_path):
    edit = _reformat("%d/%m/%Y %H:%M:%S", 200)
    iso, _ = _kpis(_demo(tmp_path / "a", "support_desk", _reformat("%Y-%m-%d %H:%M:%S", 200)))
    one, _ = _kpis(_demo(tmp_path / "b", "support_desk", edit,
                         {"timestamp_format": "%d/%m/%Y %H:%M:%S"}))
    pd.testing.assert_frame_equal(iso, one)


def test_formats_differ_per_column(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,resolved,csat\n"
                "T1,03/04/2026 10:00,2026-04-03 12:30,4\nT2,05/04/2026 09:15,20260405 1000,5\n")
    t = _load(path, timestamp_format={"created": "dayfirst", "resolved": "ISO8601"})
    assert list(t.frame["created"]) == [pd.Timestamp("2026-04-03 10:00"),
                                        pd.Timestamp("2026-04-05 09:15")]
    assert t.frame["resolved"].iloc[0] == pd.Timestamp("2026-04-03 12:30")
    us = _load(path, timestamp_format={"created": "monthfirst"}, on_invalid="exclude")
    assert us.frame["created"].iloc[0] == pd.Timestamp("2026-03-04 10:00")


def test_a_column_that_fits_one_reading_only_is_read_so_and_said(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,csat\nT1,03/04/2026 10:00,4\n"
                "T2,25/04/2026 9:30,3\nT3,2026-04-30,3\n")
    t = _load(path)
    assert list(t.frame["created"]) == [pd.Timestamp("2026-04-03 10:00"),
                                        pd.Timestamp("2026-04-25 09:30"),
                                        pd.Timestamp("2026-04-30")]
    assert any("day/month/year" in c and "line 3" in c for c in t.quality["check"])


@pytest.mark.parametrize(("text", "words"), [
    ("T1,03/04/2026,4\nT2,05/06/2026,4\n",
     ["column 'opened_ts'", "read day-first or month-first", "line 2: '03/04/2026'",
      "line 3: '05/06/2026'", "{created: dayfirst}"]),
    ("T1,25/04/2026,4\nT2,04/25/2026,4\n",
     ["mixes day/month/year and month/day/year", "line 2: '25/04/2026'",
      "line 3: '04/25/2026'", "state the format"]),
])
def test_ambiguous_dates_without_a_format_are_refused(tmp_path, run_cli, text, words):
    path = _study(tmp_path, "ticket_id,opened_ts,csat\n" + text,
                  columns={"created": "opened_ts"})
    assert_user_error(run_cli, path, words, tmp_path)


def test_format_keys_and_values_are_checked(tmp_path, run_cli):
    path = _demo(tmp_path, "support_desk", _reformat("%Y-%m-%d %H:%M:%S", 50),
                 {"timestamp_format": {"creatd": "dayfirst"}})
    assert_user_error(run_cli, path, ["data.timestamp_format.creatd", "did you mean 'created'"],
                      tmp_path)
    unit = _demo(tmp_path, "coaching_trial", data_keys={"timestamp_format": {"created": "iso"}})
    assert_user_error(run_cli, unit, ["data.timestamp_format.created", "it has none"], tmp_path)
    bad = _demo(tmp_path, "support_desk", data_keys={"timestamp_format": {"created": "DD/MM"}})
    assert_user_error(run_cli, bad, ["timestamp_format", "'DD/MM' is not a timestamp format",
                                     "dayfirst"], tmp_path)


# 2. time zones --------------------------------------------------------------------------------

UTC_TEXT = ("ticket_id,created,resolved,csat\n"
            "T1,2026-03-01T09:00Z,2026-03-01T12:00Z,4\n"
            "T2,2026-03-29T08:00Z,2026-03-29T09:30Z,3\n"
            "T3,2026-07-01T10:00Z,2026-07-02T10:00Z,5\n")
MIXED_TEXT = ("ticket_id,created,resolved,csat\n"
              "T1,2026-03-01T10:00+01:00,2026-03-01T12:00:00Z,4\n"
              "T2,2026-03-29T10:00+02:00,2026-03-29T10:30+0100,3\n"
              "T3,2026-07-01T10:00Z,2026-07-02T12:00+02:00,5\n")


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Shanghai"])
def test_mixed_offsets_give_the_same_instants_as_the_utc_file(tmp_path, zone):
    utc = _load(_csv(tmp_path, UTC_TEXT, "utc.csv"), timezone=zone)
    mixed = _load(_csv(tmp_path, MIXED_TEXT, "mixed.csv"), timezone=zone)
    pd.testing.assert_frame_equal(utc.frame, mixed.frame)
    expected = pd.to_datetime(["2026-03-01T09:00Z", "2026-03-29T08:00Z", "2026-07-01T10:00Z"],
                              utc=True).tz_convert(zone).tz_localize(None)
    assert list(mixed.frame["created"]) == list(expected)
    warn = mixed.quality[mixed.quality["check"] == f"mixed UTC offsets converted to {zone}"]
    assert set(warn["column"]) == {"created", "resolved"} and set(warn["rows"]) == {3}
    assert "line 2: '+01:00'" in warn["examples"].iloc[0]


def test_mixed_offsets_without_a_time_zone_become_utc_with_a_warning(tmp_path):
    t = _load(_csv(tmp_path, MIXED_TEXT))
    assert t.frame["created"].iloc[1] == pd.Timestamp("2026-03-29 08:00")
    assert any(c.startswith("mixed UTC offsets converted to UTC") and "data.timezone" in c
               for c in t.quality["check"])


def test_one_offset_throughout_is_read_as_written(tmp_path):
    t = _load(_csv(tmp_path, "ticket_id,created,csat\nT1,2026-03-01T10:00+01:00,4\n"))
    assert t.frame["created"].iloc[0] == pd.Timestamp("2026-03-01 10:00")
    assert not any("offset" in c for c in t.quality["check"])


def test_offsets_on_some_values_only_are_refused(tmp_path, run_cli):
    text = "ticket_id,opened_ts,csat\nT1,2026-03-01T10:00+01:00,4\nT2,2026-03-01 11:00,4\n"
    path = _study(tmp_path, text, columns={"created": "opened_ts"})
    assert_user_error(run_cli, path, ["column 'opened_ts'", "with a UTC offset and without",
                                      "line 2: '2026-03-01T10:00+01:00'",
                                      "line 3: '2026-03-01 11:00'", "with its offset"], tmp_path)


def test_one_column_with_offsets_and_one_without_needs_the_time_zone(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,resolved,csat\n"
                "T1,2026-03-01T10:00+01:00,2026-03-01 12:00,4\n")
    with pytest.raises(DataError, match="set data.timezone"):
        _load(path)
    t = _load(path, timezone="Europe/London")
    assert t.frame["created"].iloc[0] == pd.Timestamp("2026-03-01 09:00")
    assert t.frame["resolved"].iloc[0] == pd.Timestamp("2026-03-01 12:00")


def test_an_unknown_time_zone_is_a_params_error(tmp_path, run_cli):
    path = _demo(tmp_path, "support_desk", data_keys={"timezone": "Europe/Berln"})
    assert_user_error(run_cli, path, ["data.timezone", "did you mean 'Europe/Berlin'"], tmp_path)


def test_a_data_cut_with_an_offset_is_read_in_the_time_zone(tmp_path, run_cli):
    cut = "2026-06-30T23:59:59+02:00"
    path = _demo(tmp_path, "support_desk", data_cut=cut)
    assert_user_error(run_cli, path, ["data_cut", "has a UTC offset", "data.timezone"],
                      tmp_path)
    p = params.load(_demo(tmp_path, "support_desk", data_keys={"timezone": "UTC"},
                                data_cut=cut))
    assert p.data_cut == pd.Timestamp("2026-06-30 21:59:59")


def test_a_typed_parquet_column_is_converted_to_the_time_zone(tmp_path):
    import duckdb

    path = tmp_path / "t.parquet"
    duckdb.execute(f"COPY (SELECT 'T1' AS ticket_id, TIMESTAMPTZ '2026-03-01 09:00:00+00' AS "
                   f"created) TO '{path}'")
    t = _load(path, timezone="Europe/Berlin")
    assert t.frame["created"].iloc[0] == pd.Timestamp("2026-03-01 10:00")


# 3. dates outside the range, impossible dates --------------------------------------------------

BAD_DATES = ("ticket_id,created,csat\nT1,1200-03-01,4\nT2,9999-12-31,3\nT3,0000-00-00,3\n"
             "T4,2026-02-30,3\nT5,2026-03-01,3\nT6,yesterday,3\nT7,2026-13-01 10:00,3\n"
             "T8,2026-03-02,4\n")


def test_bad_dates_stop_the_run_with_values_and_lines(tmp_path):
    with pytest.raises(DataError) as err:
        _load(_csv(tmp_path, BAD_DATES))
    text = str(err.value)
    assert "outside 1677-09-22 to 2262-04-10" in text
    assert "line 2: '1200-03-01', line 3: '9999-12-31'" in text
    assert "no such calendar date" in text and "line 4: '0000-00-00', line 5: '2026-02-30'" \
        in text and "line 8: '2026-13-01 10:00'" in text
    assert "timestamp cannot be parsed" in text and "line 7: 'yesterday'" in text
    assert "Traceback" not in text and "Fix:" in text


def test_bad_dates_are_excluded_and_counted(tmp_path):
    t = _load(_csv(tmp_path, BAD_DATES), on_invalid="exclude")
    assert list(t.frame["ticket_id"]) == ["T5", "T8"]
    q = t.quality.set_index("check")
    assert q.filter(like="outside", axis=0)["rows"].iloc[0] == 2
    assert q.filter(like="no such calendar date", axis=0)["rows"].iloc[0] == 3
    assert q.loc["rows used", "rows"] == 2


def test_a_stated_format_tells_out_of_range_from_unmatched(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,csat\nT1,31/12/9999,4\nT2,31/02/2026,4\n"
                "T3,01/03/2026,4\n")
    t = _load(path, timestamp_format="%d/%m/%Y", on_invalid="exclude")
    checks = list(t.quality["check"])
    assert any(c.startswith("date outside") for c in checks)
    assert any("does not match the format '%d/%m/%Y'" in c for c in checks)
    assert list(t.frame["ticket_id"]) == ["T3"]


def test_a_parquet_date_outside_the_range_is_an_invalid_value(tmp_path):
    import duckdb

    path = tmp_path / "t.parquet"
    duckdb.execute(f"COPY (SELECT 'T1' AS ticket_id, TIMESTAMP '1200-03-01 10:00' AS created "
                   f"UNION ALL SELECT 'T2', TIMESTAMP '2026-03-01 10:00') TO '{path}'")
    with pytest.raises(DataError, match="row 1: '1200-03-01 10:00:00'"):
        _load(path)
    t = _load(path, on_invalid="exclude")
    assert list(t.frame["created"]) == [pd.Timestamp("2026-03-01 10:00")]


def test_many_bad_values_show_five_and_count_the_rest(tmp_path):
    rows = "".join(f"T{i},2026-02-{30 + i % 2},4\n" for i in range(12))
    with pytest.raises(DataError) as err:
        _load(_csv(tmp_path, "ticket_id,created,csat\n" + rows + "T99,2026-03-01,4\n"))
    assert "line 6: '2026-02-30' … (7 more)" in str(err.value)


# 4. no rows: empty files, and every row excluded -----------------------------------------------

@pytest.mark.parametrize(("content", "words"), [
    (b"", ["the file is empty"]),
    (b"  \r\n\n\t \n", ["the file is empty"]),
    (b"\xef\xbb\xbf\n", ["the file is empty"]),
    (b"ticket_id,opened_ts,csat\n", ["the file has a header but no rows"]),
    ("ticket_id,opened_ts\r\n".encode("utf-16"), ["the file has a header but no rows"]),
])
def test_files_without_rows_are_clear_errors(tmp_path, run_cli, content, words):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    params_path = _demo(tmp_path, "support_desk", data_keys={"path": str(path), "personal": {}})
    assert_user_error(run_cli, params_path, ["t.csv", *words], tmp_path)


def test_a_parquet_file_without_rows_is_a_clear_error(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"ticket_id": pd.Series([], dtype=str), "created": pd.Series(
        [], dtype="datetime64[ns]")}).to_parquet(path)
    with pytest.raises(DataError, match="the file has a header but no rows"):
        _load(path)


def _every(column: str, value: str):
    return lambda df: df.head(300).assign(**{column: value})


@pytest.mark.parametrize(("demo", "make", "words"), [
    ("support_desk", lambda t: _demo(t, "support_desk", _every("opened_ts", "31/02/2026"),
                                     {"on_invalid": "exclude"}),
     ["no rows are left", "all 300 row(s)", "no such calendar date",
      "line 2: '31/02/2026'", "correct those values"]),
    ("support_desk", lambda t: params_with(t, "support_desk", data_cut="2025-01-01T00:00:00"),
     ["no rows are left", "created after the data cut", "set data_cut after"]),
    ("email_triage", lambda t: _demo(t, "email_triage", filters={"channel": ["fax"]}),
     ["no rows are left", "channel not one of: fax", "filters.channel"]),
    ("chatbot_launch", lambda t: _demo(t, "chatbot_launch", data_cut="2025-01-01T00:00:00"),
     ["no rows are left", "created after the data cut"]),
    ("branch_queueing", lambda t: _demo(t, "branch_queueing", data_cut="2020-01-01T00:00:00"),
     ["no rows are left", "created after the data cut", "data_cut"]),
    ("coaching_trial", lambda t: _demo(t, "coaching_trial", _every("csat_mean", "n/a"),
                                       {"on_invalid": "exclude"}),
     ["no rows are left", "line 2: 'n/a'"]),
    ("bank_servqual", lambda t: _demo(t, "bank_servqual", _every("P_q01", "9"),
                                      {"on_invalid": "exclude"}),
     ["no rows are left", "column 'P_q01'", "line 2: '9'"]),
    ("bank_servqual", lambda t: _demo(t, "bank_servqual", data_cut="2020-01-01T00:00:00"),
     ["no rows are left", "created after the data cut"]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_every_row_excluded_is_a_clear_error(tmp_path, run_cli, demo, make, words):
    assert_user_error(run_cli, make(tmp_path), words, tmp_path)


def test_all_excluded_names_the_largest_exclusions_first(tmp_path):
    text = "ticket_id,created,csat\n" + "".join(f"T{i},2026-02-30,4\n" for i in range(3)) + \
        "T9,yesterday,4\n"
    with pytest.raises(DataError) as err:
        _load(_csv(tmp_path, text), on_invalid="exclude")
    msg = str(err.value)
    assert msg.index("no such calendar date") < msg.index("cannot be parsed")
    assert "all 4 row(s) read were excluded" in msg


# 5. offending values shown the same way everywhere --------------------------------------------

def test_examples_format_and_escape_hostile_values():
    assert examples(["line 4", "line 9"], ["2026-02-30", "yesterday"], 14) == \
        "line 4: '2026-02-30', line 9: 'yesterday' … (12 more)"
    assert examples([f"line {i}" for i in range(2, 10)]) == \
        "line 2, line 3, line 4, line 5, line 6 … (3 more)"
    assert show("a\x1b[31mred\nnext") == "'a\\x1b[31mred\\nnext'"
    assert show("\u202eevil\u200b") == "'\\u202eevil\\u200b'"
    long = show("x" * 500)
    assert len(long) == 42 and long.endswith("…'")
    assert show(None) == "(empty)"


def test_a_hostile_value_in_a_file_is_shown_escaped(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,csat\nT1,\"2026\x1b[2J\u202e-03-01\",4\n")
    with pytest.raises(DataError) as err:
        _load(path)
    assert "line 2: '2026\\x1b[2J\\u202e-03-01'" in str(err.value)
    assert "\x1b" not in str(err.value) and "\u202e" not in str(err.value)


def test_duplicate_ids_show_the_ids(tmp_path):
    path = _csv(tmp_path, "ticket_id,created,csat\nT1,2026-03-01,4\nT1,2026-03-02,4\n")
    with pytest.raises(DataError, match="line 2: 'T1', line 3: 'T1'"):
        data.load_table(DataSource(path=str(path)), TICKET_ROLES, ("ticket_id", "created"),
                        checks=(kpi.ticket_checks,), source="test")


def test_a_covariate_that_varies_within_a_unit_shows_the_rows(tmp_path, run_cli):
    def spoil(df):
        df.loc[df.index[1], "tenure_years"] = "9.9"
        return df
    path = _demo(tmp_path, "coaching_trial", spoil, covariates=["tenure_years"])
    assert_user_error(run_cli, path, ["column 'tenure_years'", "one value per unit",
                                      "line 2: 'T001 = 3.6', line 3: 'T001 = 9.9'"], tmp_path)


def test_the_demo_studies_still_validate(run_cli):
    for name in ("support_desk", "chatbot_launch", "branch_queueing", "bank_servqual"):
        code, _, err = run_cli("validate", ROOT / "params" / f"{name}.yaml")
        assert code == 0, err



# 6. random timestamp columns: a table or a DataError, never anything else ----------------------

FRAGMENTS = ["2026-03-01", "2026-03-01 10:00", "2026-03-01T10:00+01:00", "2026-03-29T10:00+02:00",
             "2026-03-01T10:00Z", "2026-03-01T10:00-05", "03/04/2026", "25/03/2026 9:30",
             "03/25/2026", "1.3.26 10:00", "1200-03-01", "9999-12-31", "0000-00-00",
             "2026-02-30", "2026-13-01", "yesterday", "", " ", "2026-03-01T10:00+25:00",
             "\u202e2026-03-01", "2026-03-01\u200b", "٢٠٢٦-٠٣-٠١", "2026-03-01 10:00 Z",
             "20260301", "45000", "2262-04-12", "1677-01-01", "31/12/9999 23:59"]


@pytest.mark.parametrize("seed", range(60))
def test_random_timestamp_columns_load_or_raise_a_data_error(tmp_path, seed):
    import random

    rng = random.Random(seed)
    lines = [f"T{i},\"{rng.choice(FRAGMENTS)}\",\"{rng.choice(FRAGMENTS)}\",4"
             for i in range(rng.randint(1, 8))]
    path = _csv(tmp_path, "ticket_id,created,resolved,csat\n" + "\n".join(lines) + "\n")
    keys = {"timestamp_format": rng.choice([None, "dayfirst", "monthfirst", "%d/%m/%Y %H:%M",
                                            {"created": "dayfirst"}, {"resolved": "iso8601"}]),
            "timezone": rng.choice([None, "UTC", "Europe/Berlin"]),
            "on_invalid": rng.choice(["error", "exclude"])}
    try:
        t = _load(path, **keys)
    except DataError as exc:
        assert "Fix:" in str(exc) and "Traceback" not in str(exc)
        return
    for c in ("created", "resolved"):
        assert str(t.frame[c].dtype) == "datetime64[ns]", (c, t.frame[c].dtype)
    assert len(t.frame) > 0
