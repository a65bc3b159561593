"""Bad params and bad data: one clear message naming file, key/column/row and fix; exit code 2;
no traceback; input files unchanged."""

from __future__ import annotations

import copy
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, demo_params, snapshot, write_params

DEMO_CSV = ROOT / "data" / "support_tickets.csv"


@pytest.fixture
def small_csv(tmp_path):
    """The first 300 demo tickets, as a file the test may break."""
    lines = DEMO_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[:301]
    path = tmp_path / "tickets.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def base(csv) -> dict:
    p = demo_params("support_desk")
    p["data"]["path"] = str(csv)
    p["baseline"] = {"start": "2026-01-01", "end": "2026-01-05"}
    return p


def edit_csv(path, column, row, value):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(path, index=False)


def _set(p, dotted, value):
    *parents, last = dotted.split(".")
    for k in parents:
        p = p[int(k)] if isinstance(p, list) else p[k]
    if isinstance(p, list):
        p[int(last)] = value
    else:
        p[last] = value


def _del(p, dotted):
    *parents, last = dotted.split(".")
    for k in parents:
        p = p[k]
    del p[last]


# (id, change to the params dict, expected pieces of the message)
PARAM_CASES = [
    ("unknown top-level key", lambda p: p.update(titel="x"),
     ["key 'titel'", "unknown key", "did you mean 'title'"]),
    ("unknown nested key", lambda p: p["data"].update(colums={}),
     ["key 'data.colums'", "did you mean 'columns'"]),
    ("missing required key", lambda p: _del(p, "title"), ["key 'title'", "add this key"]),
    ("missing study_type", lambda p: _del(p, "study_type"), ["study_type", "is missing"]),
    ("unknown study_type", lambda p: p.update(study_type="scorcard"),
     ["not a study type", "did you mean 'scorecard'"]),
    ("wrong type", lambda p: p.update(alpha="high"), ["key 'alpha'", "give a number"]),
    ("alpha out of range", lambda p: p.update(alpha=1.5), ["key 'alpha'", "less than 1"]),
    ("bad date", lambda p: _set(p, "baseline.start", "2026-02-30"),
     ["key 'baseline.start'", "YYYY-MM-DD"]),
    ("bad choice", lambda p: p.update(periods="monthly"),
     ["key 'periods'", "did you mean 'month'"]),
    ("bad study id", lambda p: p.update(study_id="Support Desk"),
     ["key 'study_id'", "lower-case letters"]),
    ("data file missing", lambda p: _set(p, "data.path", "data/nope.csv"),
     ["key 'data.path'", "does not exist"]),
    ("unknown column role", lambda p: p["data"]["columns"].update(opened="opened_ts"),
     ["key 'data.columns.opened'", "not a column role"]),
    ("unknown KPI in a target", lambda p: _set(p, "targets.0.kpi", "frt_medain"),
     ["key 'targets[0].kpi'", "did you mean 'frt_median'"]),
    ("inconsistent AHP matrix", lambda p: _set(p, "index.weights.matrix", [[1, 2, 3], [2, 1, 1],
                                                                            [3, 1, 1]]),
     ["key 'index.weights.matrix'", "not reciprocal"]),
    ("expert weights do not sum to one",
     lambda p: p["index"].update(weights={"method": "expert", "values": {
         "frt_median": 0.5, "fcr": 0.3, "csat_mean": 0.1}}),
     ["key 'index.weights.values'", "sum to 0.9"]),
    ("control charts without baseline", lambda p: _del(p, "baseline"),
     ["key 'baseline'", "control charts need a baseline"]),
    ("code in a parameter name", lambda p: p.update({"x = 1; import os; y": 1}),
     ["unknown key", "remove it"]),
    ("end before start", lambda p: _set(p, "business_hours.end", "08:00"),
     ["key 'business_hours'", "end must be after"]),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in PARAM_CASES],
                         ids=[c[0] for c in PARAM_CASES])
def test_bad_params(tmp_path, small_csv, run_cli, change, expected):
    p = base(small_csv)
    change(p)
    path = write_params(tmp_path, p)
    before = snapshot(tmp_path, ROOT / "data")
    code, _, err = run_cli("validate", path)
    assert code == 2
    assert str(path) in err or "study.yaml" in err
    for piece in expected:
        assert piece in err, (piece, err)
    assert "Fix:" in err and "Traceback" not in err
    assert snapshot(tmp_path, ROOT / "data") == before


DATA_CASES = [
    ("unparseable timestamp", lambda f: edit_csv(f, "opened_ts", 4, "yesterday"), {},
     ["column 'opened_ts'", "timestamp cannot be parsed", "line 6", "on_invalid"]),
    ("score out of range", lambda f: edit_csv(f, "csat", 9, "7"), {},
     ["column 'csat'", "not a whole number in 1–5", "line 11"]),
    ("response before creation",
     lambda f: edit_csv(f, "first_reply_ts", 2, "2025-12-31 08:00:00"), {},
     ["first response before creation", "line 4"]),
    ("duplicate ticket id", lambda f: edit_csv(f, "ticket_id", 7, "T000001"), {},
     ["duplicate ticket id", "line 2", "line 9"]),
    ("not a boolean", lambda f: edit_csv(f, "is_complaint", 3, "maybe"), {},
     ["column 'is_complaint'", "not true/false", "line 5"]),
    ("missing column", lambda f: None, {"data.columns.created": "opened_at"},
     ["column 'opened_at'", "not found", "did you mean 'opened_ts'"]),
    ("missing segment column", lambda f: None, {"segments": ["chanel", "team"]},
     ["column 'chanel'", "did you mean 'channel'"]),
    ("KPI without its column", lambda f: pd.read_csv(f).drop(columns=["csat"]).to_csv(
        f, index=False), {}, ["KPI 'csat_mean' needs column role(s) ['csat']"]),
    ("empty table", lambda f: f.write_text(f.read_text().splitlines()[0] + "\n"), {},
     ["header but no rows"]),
    ("baseline outside the data", lambda f: None, {"baseline": {"start": "2025-01-01",
                                                                "end": "2025-02-01"}},
     ["key 'baseline'", "no tickets were created between"]),
    ("unreadable file", lambda f: f.write_bytes(b"\x00\x01binary\xff\xfe" * 50), {},
     ["cannot be read as csv"]),
]


@pytest.mark.parametrize("break_file, changes, expected", [c[1:] for c in DATA_CASES],
                         ids=[c[0] for c in DATA_CASES])
def test_bad_data(tmp_path, small_csv, run_cli, break_file, changes, expected):
    break_file(small_csv)
    p = base(small_csv)
    for k, v in changes.items():
        _set(p, k, v)
    path = write_params(tmp_path, p)
    before = snapshot(tmp_path, ROOT / "data")
    code, _, err = run_cli("validate", path)
    assert code == 2, err
    for piece in expected:
        assert piece in err, (piece, err)
    assert "Traceback" not in err
    assert snapshot(tmp_path, ROOT / "data") == before


def test_every_problem_in_a_file_is_reported_together(tmp_path, small_csv, run_cli):
    p = base(small_csv)
    p.update(titel="x", alpha="high", periods="monthly")
    _del(p, "study_id")
    code, _, err = run_cli("validate", write_params(tmp_path, p))
    assert code == 2
    assert "4 parameter problems" in err
    for key in ("'titel'", "'alpha'", "'periods'", "'study_id'"):
        assert key in err


def test_every_bad_row_is_reported_together(tmp_path, small_csv, run_cli):
    edit_csv(small_csv, "opened_ts", 4, "yesterday")
    edit_csv(small_csv, "csat", 9, "0")
    edit_csv(small_csv, "nps", 12, "11")
    code, _, err = run_cli("validate", write_params(tmp_path, base(small_csv)))
    assert code == 2 and "3 data problems" in err


def test_malformed_yaml_names_the_line(tmp_path, run_cli):
    path = tmp_path / "broken.yaml"
    path.write_text("study_type: scorecard\nstudy_id: x\n  title: [oops\n", encoding="utf-8")
    code, _, err = run_cli("validate", path)
    assert code == 2 and "not valid YAML" in err and "line 3" in err and "broken.yaml" in err


def test_yaml_that_is_not_a_mapping(tmp_path, run_cli):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    code, _, err = run_cli("validate", path)
    assert code == 2 and "must be a YAML mapping" in err


HOSTILE_YAML = [
    ("alias bomb", b"study_type: scorecard\nstudy_id: x\na: &a [x, x, x, x, x, x, x, x, x]\n"
     b"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n",
     ["line 3", "anchors and aliases", "write the values out in full"]),
    ("a key given twice", b"study_type: scorecard\nstudy_id: a\ntitle: T\nstudy_id: b\n",
     ["line 4", "'study_id' is given twice", "first on line 2", "keep one of them"]),
    ("a nested key given twice", b"study_type: scorecard\nstudy_id: a\ndata:\n  path: x.csv\n"
     b"  path: y.csv\n", ["line 5", "'path' is given twice"]),
    ("Latin-1 bytes", b"study_type: scorecard\nstudy_id: a\ntitle: Caf\xe9 service\n",
     ["line 3, column 11", "0xe9 is not UTF-8", "save the file as UTF-8"]),
    ("UTF-16", "study_type: scorecard\n".encode("utf-16"), ["is not UTF-8"]),
    ("a huge file", b"study_type: scorecard\n# " + b"x" * 300_000 + b"\n",
     ["bytes; a study file is at most"]),
]


@pytest.mark.parametrize("content, expected", [c[1:] for c in HOSTILE_YAML],
                         ids=[c[0] for c in HOSTILE_YAML])
def test_hostile_params_files_are_refused_with_the_place(tmp_path, run_cli, content, expected):
    path = tmp_path / "study.yaml"
    path.write_bytes(content)
    code, _, err = run_cli("validate", path)
    assert code == 2 and "Traceback" not in err and "study.yaml" in err, err
    for piece in expected:
        assert piece in err, (piece, err)
    assert path.read_bytes() == content


def test_a_utf8_byte_order_mark_is_fine(tmp_path, small_csv):
    from sqresearch.io import params

    path = write_params(tmp_path, base(small_csv))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert params.load(path).study_type == "scorecard"


def test_missing_params_file(tmp_path, run_cli):
    code, _, err = run_cli("validate", tmp_path / "nope.yaml")
    assert code == 2 and "does not exist" in err


def test_excluding_invalid_rows_is_counted_not_fatal(tmp_path, small_csv):
    from sqresearch.designs.scorecard import study as scorecard
    from sqresearch.io import params

    edit_csv(small_csv, "csat", 9, "7")
    edit_csv(small_csv, "ticket_id", 7, "T000001")
    p = base(small_csv)
    p["data"]["on_invalid"] = "exclude"
    study = scorecard.Scorecard(params.load(write_params(tmp_path, p)))
    q = study.table.quality.set_index("check")
    assert q.loc["rows read", "rows"] == 300
    assert q.loc["duplicate ticket id", "rows"] == 2
    assert q.loc["value is not a whole number in 1–5", "rows"] == 1
    assert study.table.rows_excluded == 3 and len(study.frame) == 297


def test_cli_subprocess_prints_no_traceback_and_exits_2(tmp_path, small_csv):
    p = base(small_csv)
    p["data"]["columns"]["created"] = "opened_at"
    path = write_params(tmp_path, p)
    r = subprocess.run([sys.executable, "-m", "sqresearch", "validate", str(path)],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert "column 'opened_at'" in r.stderr and "Traceback" not in r.stderr


def test_personal_column_needed_as_a_role_cannot_be_dropped(tmp_path, small_csv, run_cli):
    p = copy.deepcopy(base(small_csv))
    p["data"]["personal"]["ticket_id"] = "drop"
    code, _, err = run_cli("validate", write_params(tmp_path, p))
    assert code == 2 and "declared personal with policy drop" in err


def test_index_unit_without_data_is_a_clear_data_error(tmp_path, small_csv):
    from sqresearch import DataError
    from sqresearch.designs.scorecard import study as scorecard
    from sqresearch.io import params

    df = pd.read_csv(small_csv, dtype=str, keep_default_na=False)
    df.loc[df["team"] == "tier2", "csat"] = ""  # tier2 has no CSAT answers
    df.to_csv(small_csv, index=False)
    study = scorecard.Scorecard(params.load(write_params(tmp_path, base(small_csv))))
    with pytest.raises(DataError, match=r"key 'index'.*no value for tier2/csat_mean"):
        _ = study.index


def test_baseline_with_one_point_is_a_clear_data_error(tmp_path, small_csv):
    from sqresearch import DataError
    from sqresearch.designs.scorecard import study as scorecard
    from sqresearch.io import params

    p = base(small_csv)
    p["baseline"] = {"start": "2026-01-01", "end": "2026-01-02"}
    p["series_freq"] = "week"
    study = scorecard.Scorecard(params.load(write_params(tmp_path, p)))
    with pytest.raises(DataError, match="control limits need at least two"):
        _ = study.control_charts


def test_two_studies_with_one_study_id_are_both_refused(tmp_path, run_cli, small_csv):
    a = write_params(tmp_path, base(small_csv), "a.yaml")
    b = write_params(tmp_path, base(small_csv), "b.yaml")
    code, _, err = run_cli("validate", a, b)
    assert code == 2 and "is also the study_id of" in err and "give each study its own" in err
    out = tmp_path / "outputs"
    code, _, err = run_cli("run", a, b, "--outputs", out)
    assert code == 2 and err.count("is also the study_id of") >= 2
    assert not (out / base(small_csv)["study_id"]).exists()


@pytest.mark.parametrize("where", ["../../etc/passwd", "/etc/hostname", "symlink"])
def test_data_paths_outside_the_data_folders_are_refused_unread(tmp_path, run_cli, small_csv,
                                                                where):
    p = base(small_csv)
    if where == "symlink":  # a link inside an allowed folder pointing out of it
        link = small_csv.parent / "innocent.csv"
        link.symlink_to("/etc/hostname")
        where = str(link)
    p["data"]["path"] = where
    code, _, err = run_cli("validate", write_params(tmp_path, p))
    assert code == 2 and "outside the data folders" in err and "sqresearch.toml" in err, err
    assert "root:" not in err and "Traceback" not in err


def test_a_project_lists_its_data_folders_in_sqresearch_toml(tmp_path, monkeypatch):
    from sqresearch.io import paths

    (tmp_path / "exports").mkdir()
    (tmp_path / paths.CONFIG).write_text('data_dirs = ["data", "exports"]\n')
    monkeypatch.setenv("SQR_PROJECT_ROOT", str(tmp_path))
    monkeypatch.delenv("SQR_DATA_DIRS")
    assert paths.data_dirs() == [(tmp_path / "data").resolve(), (tmp_path / "exports").resolve()]
    assert paths.outside_data_dirs("exports/tickets.csv") == ""
    assert "outside the data folders (data/, exports/)" in paths.outside_data_dirs("x/t.csv")


def test_two_runs_of_one_study_cannot_interleave(tmp_path, small_csv):
    from sqresearch.cli import runner

    path = write_params(tmp_path, base(small_csv))
    out = tmp_path / "outputs"
    out.mkdir()
    study = base(small_csv)["study_id"]
    with runner.study_lock(out, study) as held:  # another run holds the study
        assert held
        o = runner.run_study(path, out)
        assert o.status == "invalid" and o.exit_code == 2
        assert "another run of study" in o.message and "wait for it to finish" in o.message
    assert not (out / study).exists()
    with runner.study_lock(out, study) as held:  # released: the next run may go
        assert held


def test_a_killed_runs_temporary_folders_are_cleared_by_the_next(tmp_path):
    from sqresearch.cli import runner

    for name in (".tmp-s1-0a1b2c3d", ".old-s1-99", ".tmp-s2-0a1b2c3d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.html").write_text("half written")
    runner._remove_leftovers(tmp_path, "s1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-s2-0a1b2c3d"]  # others' kept
