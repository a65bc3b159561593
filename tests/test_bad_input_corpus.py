"""The bad-input corpus: every case is run with `sqr run` against an outputs folder that already
holds a good report of the same study, and must

- exit 2 with a message holding the expected words and a fix, and no traceback;
- leave every input file (the case's own, data/, params/) byte for byte as it was;
- leave the last good report (report.html, results.json, manifest.json) intact;
- write nothing outside ``outputs/<study_id>/`` but the index and the status file.

The cases are grouped by category (params files, YAML, paths, data files, data values, study
checks); the lists of tests/test_bad_input.py are run here too, through the whole command.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, snapshot
from test_bad_input import DATA_CASES, DEMO_CSV, HOSTILE_YAML, PARAM_CASES, _set, base

from sqresearch.cli import main as cli

STUDY = "support_desk_scorecard"
KEPT = ("report.html", "results.json", "manifest.json")


@pytest.fixture(scope="session")
def good_outputs(tmp_path_factory) -> Path:
    """An outputs folder holding a good run of the small support-desk study."""
    folder = tmp_path_factory.mktemp("good")
    csv = folder / "tickets.csv"
    csv.write_text("".join(DEMO_CSV.read_text(encoding="utf-8").splitlines(True)[:301]),
                   encoding="utf-8")
    params = folder / "study.yaml"
    params.write_text(yaml.safe_dump(_good(csv), sort_keys=False), encoding="utf-8")
    out = folder / "outputs"
    assert cli.main(["run", str(params), "--outputs", str(out)]) == 0
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run_case(tmp_path, good_outputs, capsys, params: Path, expected: list[str]) -> str:
    out = tmp_path / "outputs"
    shutil.copytree(good_outputs, out)
    before_out = _digest(out)
    before_in = snapshot(tmp_path / "in", ROOT / "data", ROOT / "params")
    capsys.readouterr()
    code = cli.main(["run", str(params), "--outputs", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    for piece in expected:
        assert piece in err, (piece, err)
    assert "Fix:" in err and "Traceback" not in err, err
    assert snapshot(tmp_path / "in", ROOT / "data", ROOT / "params") == before_in
    after_out = _digest(out)
    for name in KEPT:
        key = f"{STUDY}/{name}"
        assert after_out[key] == before_out[key], f"the last good {name} changed"
    changed = {k for k in set(before_out) | set(after_out) if before_out.get(k) != after_out.get(k)}
    outside = {k for k in changed if not k.startswith(f"{STUDY}/")
               and k not in ("index.html", "status.json") and not k.startswith(".lock-")}
    assert not outside, f"written outside outputs/{STUDY}/: {sorted(outside)}"
    return err


def _inputs(tmp_path) -> tuple[Path, dict]:
    folder = tmp_path / "in"
    folder.mkdir()
    csv = folder / "tickets.csv"
    csv.write_text("".join(DEMO_CSV.read_text(encoding="utf-8").splitlines(True)[:301]),
                   encoding="utf-8")
    return csv, _good(csv)


def _good(csv: Path) -> dict:
    """The small study the corpus breaks: 300 tickets, daily control-chart points."""
    return {**base(csv), "series_freq": "day"}


def _write(tmp_path, mapping: dict) -> Path:
    path = tmp_path / "in" / "study.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


# --- params files: keys, types, values ----------------------------------------------------------

def _long(p, key, n):
    p[key] = "x" * n


PARAMS_MORE = [
    ("title too long", lambda p: _long(p, "title", 20_000),
     ["key 'title'", "20,000 characters", "use at most 200"]),
    ("control characters in the title", lambda p: p.update(title="a\x00b\x1b[31mred"),
     ["key 'title'", "control characters"]),
    ("description too long", lambda p: _long(p, "description", 50_000),
     ["key 'description'", "use at most 4,000"]),
    ("study_type given as a list", lambda p: p.update(study_type=["scorecard"]),
     ["key 'study_type'", "not a study type"]),
    ("right-to-left override in study_id", lambda p: p.update(study_id="ab\u202ecd"),
     ["key 'study_id'", "lower-case letters"]),
    ("zero-width space in study_id", lambda p: p.update(study_id="ab\u200bcd"),
     ["key 'study_id'", "lower-case letters"]),
    ("path traversal in study_id", lambda p: p.update(study_id="../../etc"),
     ["key 'study_id'", "lower-case letters"]),
    ("negative seed", lambda p: p.update(seed=-5), ["key 'seed'", "give a larger value"]),
    ("alpha not a number", lambda p: p.update(alpha=float("nan")), ["key 'alpha'"]),
    ("a date that does not exist", lambda p: p.update(data_cut="0000-00-00"),
     ["key 'data_cut'", "YYYY-MM-DD"]),
    ("text where a list belongs", lambda p: p.update(segments="channel"),
     ["key 'segments'", "give a list"]),
    ("a mapping where a list belongs", lambda p: p.update(targets={"a": 1}),
     ["key 'targets'", "give a list"]),
    ("negative SLA limit", lambda p: p.update(sla=[{"name": "x", "clock": "first_response",
                                                    "within": -1, "unit": "minutes"}]),
     ["key 'sla[0].within'", "give a larger value"]),
    ("unknown weighting method", lambda p: _set(p, "index.weights.method", "magic"),
     ["key 'index.weights.method'", "'magic' is not allowed"]),
]

# --- paths ---------------------------------------------------------------------------------------

PATHS = [
    ("parent-directory traversal", "../../etc/passwd", ["outside the data folders"]),
    ("absolute path outside the project", "/etc/hostname", ["outside the data folders"]),
    ("a device", "/dev/zero", ["outside the data folders"]),
    ("a NUL byte in the path", "in/t\x00.csv", ["key 'data.path'", "control characters"]),
    ("a path of 5,000 characters", "in/" + "a" * 5000 + ".csv",
     ["key 'data.path'", "use at most 1,024"]),
    ("a folder instead of a file", "<in>", ["key 'data.path'", "does not exist"]),
    ("a file that is not there", "<in>/nope.csv", ["key 'data.path'", "does not exist"]),
    ("a symlink out of the data folders", "<link>", ["outside the data folders"]),
]

# --- data files that are not what they claim -----------------------------------------------------

FILES = [
    ("NUL bytes in a CSV", lambda t: t[:5000] + b"\x00" + t[5000:], ".csv",
     ["cannot be read as csv", "binary data"]),
    ("a gzip file named .csv", gzip.compress, ".csv", ["cannot be read as csv"]),
    ("two encodings in one file (a UTF-8 export with a Windows-1252 line appended)",
     lambda t: t + next(x for x in t.split(b"\n") if max(x, default=0) >= 0x80).decode()
     .encode("cp1252", "replace") + b"\n", ".csv",
     ["mixes text encodings", "is UTF-8 but line 302", "save the whole file again as UTF-8"]),
    ("a corrupt Parquet file", lambda t: b"PAR1" + b"x" * 1000 + b"PAR1", ".parquet",
     ["cannot be read as parquet"]),
    ("a text file named .xlsx", lambda t: t, ".xlsx", ["cannot be read as excel"]),
    ("bytes that are no table", lambda t: bytes(range(256)) * 40, ".csv",
     ["cannot be read as csv"]),
    ("a row with more fields than the header",
     lambda t: t + b"T9,2026-01-01 00:00:00,,,,x,y,z,1,2,3,4,5,6,7,8,9,10,11,12\n", ".csv",
     ["is not a regular table", "line 302 has 20 fields where the header has 17"]),
    ("a quote left open", lambda t: t + b'T9,"2026-01-01 00:00:00\n', ".csv",
     ["is not a regular table", "line 302", "a quote left open"]),
    ("a column name given twice",
     lambda t: b"\n".join(line + (b",team" if i == 0 else b",x") for i, line in
                          enumerate(t.rstrip(b"\n").split(b"\n"))) + b"\n", ".csv",
     ["the column name 'team' is in the header twice", "rename one of them"]),
    ("a JSON file", lambda t: b'{"ticket_id": "T1"}', ".json",
     ["key 'data'", "a .json file is not a table"]),
    ("twenty thousand columns",
     lambda t: (",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("1" for _ in
                                                                          range(20_000))
                + "\n").encode(), ".csv", ["the file has: c0, c1", "(19,980 more)"]),
]


def _case_params(tmp_path, change):
    _, p = _inputs(tmp_path)
    change(p)
    return _write(tmp_path, p)


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in PARAM_CASES + PARAMS_MORE],
                         ids=[c[0] for c in PARAM_CASES + PARAMS_MORE])
def test_bad_params(tmp_path, good_outputs, capsys, change, expected):
    _run_case(tmp_path, good_outputs, capsys, _case_params(tmp_path, change), expected)


YAML_MORE = [
    ("nested ten thousand deep", b"study_type: scorecard\na: " + b"[" * 5000 + b"]" * 5000,
     ["nests too deeply"]),
    ("a 5,000-digit number", b"study_type: scorecard\nseed: " + b"9" * 5000 + b"\n",
     ["cannot be read", "digits"]),
    ("a Python object tag", b"study_type: !!python/object/apply:os.system ['echo hi']\n",
     ["line 1", "not valid YAML", "constructor"]),
    ("a tab as indentation", b"study_type: scorecard\n\tstudy_id: x\n",
     ["line 2", "not valid YAML"]),
    ("an empty file", b"", ["must be a YAML mapping"]),
    ("a list, not a mapping", b"- a\n- b\n", ["must be a YAML mapping"]),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in HOSTILE_YAML + YAML_MORE],
                         ids=[c[0] for c in HOSTILE_YAML + YAML_MORE])
def test_hostile_yaml(tmp_path, good_outputs, capsys, content, expected):
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "study.yaml"
    path.write_bytes(content)
    _run_case(tmp_path, good_outputs, capsys, path, expected)


@pytest.mark.parametrize(("where", "expected"), [c[1:] for c in PATHS],
                         ids=[c[0] for c in PATHS])
def test_bad_paths(tmp_path, good_outputs, capsys, where, expected):
    csv, p = _inputs(tmp_path)
    if where == "<link>":
        link = csv.parent / "innocent.csv"
        link.symlink_to("/etc/hostname")
        where = str(link)
    elif where.startswith(("<in>", "in/")):
        where = str(csv.parent) + where.removeprefix("<in>").removeprefix("in")
    p["data"]["path"] = where
    _run_case(tmp_path, good_outputs, capsys, _write(tmp_path, p), expected)


@pytest.mark.parametrize(("make", "suffix", "expected"), [c[1:] for c in FILES],
                         ids=[c[0] for c in FILES])
def test_files_that_are_not_tables(tmp_path, good_outputs, capsys, make, suffix, expected):
    csv, p = _inputs(tmp_path)
    bad = csv.with_suffix(suffix) if suffix != ".csv" else csv
    bad.write_bytes(make(csv.read_bytes()))
    p["data"]["path"] = str(bad)
    _run_case(tmp_path, good_outputs, capsys, _write(tmp_path, p), expected)


@pytest.mark.parametrize(("break_file", "changes", "expected"), [c[1:] for c in DATA_CASES],
                         ids=[c[0] for c in DATA_CASES])
def test_bad_data_values(tmp_path, good_outputs, capsys, break_file, changes, expected):
    csv, p = _inputs(tmp_path)
    break_file(csv)
    for k, v in changes.items():
        _set(p, k, v)
    _run_case(tmp_path, good_outputs, capsys, _write(tmp_path, p), expected)


# --- study checks: the data load, but the study cannot be computed (found in the kernel) -------

def _no_tier2_csat(csv: Path) -> None:
    import pandas as pd

    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    df.loc[df["team"] == "tier2", "csat"] = ""
    df.to_csv(csv, index=False)


STUDY_CHECKS = [
    ("an index unit without data", _no_tier2_csat, {},
     ["DataError", "key 'index'", "no value for tier2/csat_mean"]),
    ("a baseline with one point", lambda f: None,
     {"baseline": {"start": "2026-01-01", "end": "2026-01-02"}, "series_freq": "week"},
     ["DataError", "control limits need at least two"]),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("break_file", "changes", "expected"), [c[1:] for c in STUDY_CHECKS],
                         ids=[c[0] for c in STUDY_CHECKS])
def test_study_checks_in_the_kernel(tmp_path, good_outputs, capsys, break_file, changes,
                                    expected):
    csv, p = _inputs(tmp_path)
    break_file(csv)
    p = copy.deepcopy(p)
    p.update(changes)
    err = _run_case(tmp_path, good_outputs, capsys, _write(tmp_path, p), expected)
    assert (tmp_path / "outputs" / STUDY / "FAILED.html").is_file(), err


def test_the_corpus_is_large_enough():
    n = (len(PARAM_CASES) + len(PARAMS_MORE) + len(HOSTILE_YAML) + len(YAML_MORE) + len(PATHS)
         + len(FILES) + len(DATA_CASES) + len(STUDY_CHECKS))
    assert n >= 60, n
