"""Real-world files: encodings, delimiters and decimal commas are read as meant, and said so in
the data-quality table; what cannot be read gets a message with the fix."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_params

from sqresearch.io import data, files, params
from sqresearch.io.schemas import DataSource

TEXT = ("ticket_id,created,category,csat\n"
        "T1,2026-03-02 09:00,Rückfrage,4\n"
        "T2,2026-03-02 10:00,café,5\n"
        "T3,2026-03-03 11:00,退款,3\n")


@pytest.mark.parametrize(("encoding", "name", "text"), [
    ("utf-8", None, TEXT),
    ("utf-8-sig", "UTF-8 with byte-order mark", TEXT),
    ("utf-16", "UTF-16", TEXT),
    ("gb18030", "GB18030 (GBK)", TEXT.replace("Rückfrage", "投诉").replace("café", "咨询")),
    ("cp1252", "Windows-1252", TEXT.replace("退款", "Erstattung – “dringend”")),
    ("latin-1", "Windows-1252", TEXT.replace("退款", "Erstattung")),
])
def test_encodings_are_detected_and_reported(tmp_path, encoding, name, text):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    raw = data.read_raw(DataSource(path=str(path)), "test")
    expected = pd.read_csv(pd.io.common.StringIO(text), dtype=str)
    assert list(raw["category"]) == list(expected["category"])
    notes = raw.attrs["read_notes"]
    assert (notes == []) if name is None or encoding == "utf-8-sig" else \
        any(name in n for n in notes)


def test_the_encoding_rule_tells_chinese_from_western_bytes():
    assert files.detect_encoding("退款申请 投诉".encode("gb18030")) == "gb18030"
    assert files.detect_encoding("Müller, café, naïve".encode("latin-1")) == "cp1252"
    assert files.detect_encoding(b"plain ascii") == "utf-8"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiters_are_sniffed_and_reported(tmp_path, sep):
    path = tmp_path / "t.csv"
    path.write_text(TEXT.replace(",", sep), encoding="utf-8")
    raw = data.read_raw(DataSource(path=str(path)), "test")
    assert list(raw.columns) == ["ticket_id", "created", "category", "csat"]
    assert any("delimiter" in n for n in raw.attrs["read_notes"])


def _scorecard(tmp_path, csv_text: str, **data_keys):
    path = tmp_path / "t.csv"
    path.write_text(csv_text, encoding="utf-8")
    p = {"study_type": "scorecard", "study_id": "s", "title": "T",
         "data": {"path": str(path), **data_keys}, "periods": "month",
         "targets": [{"kpi": "csat_mean", "op": ">=", "value": 4}]}
    return write_params(tmp_path, p)


def test_a_decimal_comma_without_the_setting_names_the_fix(tmp_path, run_cli):
    text = "ticket_id;created;csat\nT1;2026-03-02;4,0\nT2;2026-03-03;3,0\n"
    path = _scorecard(tmp_path, text)
    code, _, err = run_cli("validate", path)
    assert code == 2 and "decimal comma" in err and "data.decimal: ','" in err, err


def test_a_decimal_comma_with_the_setting_is_read(tmp_path):
    from sqresearch.designs.scorecard import load

    text = "ticket_id;created;csat\nT1;2026-03-02;4,0\nT2;2026-03-03;3,0\n"
    table = load(params.load(_scorecard(tmp_path, text, decimal=",")), "test")
    assert list(table.frame["csat"]) == [4.0, 3.0]
    assert "delimiter: ';' (detected)" in set(table.quality["check"])
