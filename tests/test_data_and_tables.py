"""Loaders (CSV, Parquet, Excel), personal data, escaping, and tables formatted for people."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, demo_params, write_params

from sqresearch import kpi
from sqresearch.io import data, params
from sqresearch.io.errors import ParamsError
from sqresearch.io.schemas import DataSource
from sqresearch.report import tables

ROLES = {"ticket_id": data.Role("id"), "created": data.Role("timestamp"),
         "csat": data.Role("score", 1, 5, integer=True)}
FRAME = pd.DataFrame({"id": ["a", "b", "c"], "opened": ["2026-01-05 10:00:00",
                                                        "2026-01-05 11:00:00", "2026-01-06"],
                      "score": [5, 99, 3], "email": ["x@example.org", "y@example.org", None],
                      "note": ["<script>alert(1)</script>", "fine", "ok"]})


@pytest.mark.parametrize("suffix", ["csv", "parquet", "xlsx"])
def test_every_format_loads_the_same_table(tmp_path, suffix):
    path = tmp_path / f"t.{suffix}"
    {"csv": lambda: FRAME.to_csv(path, index=False),
     "parquet": lambda: FRAME.to_parquet(path, index=False),
     "xlsx": lambda: FRAME.to_excel(path, index=False)}[suffix]()
    src = DataSource(path=str(path), columns={"ticket_id": "id", "created": "opened",
                                              "csat": "score"},
                     missing_codes={"csat": [99]}, personal={"email": "drop"})
    t = data.load_table(src, ROLES, ("ticket_id", "created"), keep=("note",))
    assert t.frame["csat"].tolist()[0] == 5 and pd.isna(t.frame["csat"].iloc[1])
    assert t.frame["created"].iloc[2] == pd.Timestamp("2026-01-06")
    assert "email" not in t.frame and t.rows_read == 3
    assert t.quality.set_index("check").loc["missing-value code 99 set to missing", "rows"] == 1
    assert t.source.format == {"csv": "csv", "parquet": "parquet", "xlsx": "excel"}[suffix]
    label = {"csv": "line 3", "parquet": "row 2", "xlsx": "row 3"}[suffix]
    assert label in t.quality["examples"].str.cat()


def test_pseudonyms_are_keyed_stable_and_hide_the_value(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    src = DataSource(path=str(path), columns={"ticket_id": "id", "created": "opened"},
                     personal={"email": "pseudonymise"})
    monkeypatch.setenv("SQR_PSEUDONYM_KEY", "k1")
    a = data.load_table(src, ROLES, keep=("email",)).frame["email"]
    b = data.load_table(src, ROLES, keep=("email",)).frame["email"]
    monkeypatch.setenv("SQR_PSEUDONYM_KEY", "k2")
    c = data.load_table(src, ROLES, keep=("email",)).frame["email"]
    assert a.tolist() == b.tolist() and a.iloc[0] != c.iloc[0]
    assert a.iloc[0].startswith("p_") and "example" not in a.iloc[0] and pd.isna(a.iloc[2])


def test_input_file_is_hashed_and_never_written(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False)
    before = path.read_bytes()
    src = DataSource(path=str(path), columns={"ticket_id": "id", "created": "opened"})
    t = data.load_table(src, ROLES)
    import hashlib
    assert t.source.sha256 == hashlib.sha256(before).hexdigest()
    assert path.read_bytes() == before


def test_free_text_is_html_escaped_in_tables():
    html = tables.html(FRAME[["id", "note"]], caption="a <b>caption</b>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;caption" in html


def test_a_personal_column_cannot_be_a_segment(tmp_path):
    p = demo_params("support_desk")
    p["segments"] = ["channel", "comment"]
    with pytest.raises(ParamsError, match="'comment' is declared personal data"):
        params.load(write_params(tmp_path, p))


@pytest.mark.parametrize("value, unit, text", [
    (0.8234, "share", "82.3 %"), (12.345, "min", "12.3 min"), (0.456, "h", "0.46 h"),
    (31.1, "points", "+31.1"), (4512, "contacts", "4,512"), (4.0915, "score", "4.09"),
    (float("nan"), "min", "–"), (250.4, "min", "250 min"),
])
def test_numbers_for_people(value, unit, text):
    assert tables.fmt(value, unit) == text


def test_intervals_for_people():
    assert tables.fmt_ci(3.4, 3.9, "business h") == "3.4 to 3.9 business h"
    assert tables.fmt_estimate(3.6, 3.4, 3.9, "h") == "3.6 h (3.4 to 3.9 h)"
    assert tables.fmt_ci(0.5, 0.6, "share") == "50.0 to 60.0 %"
    assert tables.fmt_ci(12.0, float("nan"), "h") == "12.0 h to not reached"
    assert tables.fmt_ci(float("nan"), float("nan"), "h") == ""


def test_kpi_wide_orders_rows_and_uses_labels():
    tidy = pd.DataFrame({"kpi": ["nps", "fcr", "nps", "fcr"], "label": ["NPS", "FCR"] * 2,
                         "group": ["a", "a", "b", "b"], "estimate": [10.0, 0.5, 20.0, 0.6],
                         "ci_low": [5.0, 0.4, 15.0, 0.5], "ci_high": [15.0, 0.6, 25.0, 0.7],
                         "unit": ["points", "share"] * 2})
    wide = tables.kpi_wide(tidy, {"fcr": "First contact"})
    assert wide["KPI"].tolist() == ["NPS", "First contact"]
    assert wide.loc[1, "b"] == "60.0 % (50.0 to 70.0 %)"


def test_catalogue_defines_every_kpi_it_offers():
    for k in kpi.CATALOGUE.values():
        assert k.definition and k.unit and set(k.needs) <= set(kpi.ROLE_NAMES)


def test_ruff_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout


def test_a_dropped_personal_column_that_is_an_optional_role_is_simply_absent(tmp_path):
    path = tmp_path / "t.csv"
    FRAME.rename(columns={"email": "customer_id"}).to_csv(path, index=False)
    src = DataSource(path=str(path), columns={"ticket_id": "id", "created": "opened"},
                     personal={"customer_id": "drop"})
    roles = ROLES | {"customer_id": data.Role("key")}
    t = data.load_table(src, roles, ("ticket_id", "created"))
    assert "customer_id" not in t.frame and len(t.frame) == 3


def test_template_refuses_another_study_type():
    ns = {"study_type": "before_after"}
    with pytest.raises(ParamsError, match="this template runs 'scorecard' studies"):
        params.from_namespace(ns, "scorecard")
