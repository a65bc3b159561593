"""Property-based tests (hypothesis): generated params files and small data files — random keys,
types, encodings, delimiters, dates and Unicode (right-to-left marks, zero-width characters,
markup) — never make `sqr validate` crash: the exit code is 0 or 2, never a traceback or an
"internal error", and nothing is written anywhere.

CI runs a few hundred examples; the slow run (at least 10,000) is
``SQR_PROPERTY_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_properties.py`` (three tests
of 5,000 each, plus 500 deep ones) — see README.md, "The two commands".
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, demo_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqresearch.cli import main as cli
from sqresearch.io.schemas import STUDY_TYPES

EXAMPLES = int(os.environ.get("SQR_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

#: text that has broken parsers and renderers: right-to-left and zero-width characters, markup,
#: quotes, separators, Chinese, an emoji, line breaks, NUL
HARD = ["\u202e", "\u200b", "\ufeff", "<script>", "&amp;", "\"", "'", ",", ";", "\t", "\n",
        "客户", "满意度", "🙂", "\x00", "\\", "{", "}", "[", "]", "#", ":", "-", "*", "&", "!"]
text = st.one_of(st.text(max_size=30),
                 st.lists(st.sampled_from(HARD + list(string.ascii_letters)), max_size=12)
                 .map("".join))
scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**12),
                   st.floats(allow_nan=True, allow_infinity=True), text,
                   st.sampled_from(["2026-02-30", "2026-04-01", "2026-04-01T25:00:00",
                                    "01/04/2026", "1e400", "-0", "NaN", "yes", "~"]))
values = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)), max_leaves=12)


def _keys(study_type: str) -> list[str]:
    return list(STUDY_TYPES[study_type].model_fields)


@st.composite
def params_mappings(draw):
    """A demo study with some keys replaced, removed or added, values of any type."""
    demo = draw(st.sampled_from(["support_desk", "chatbot_launch", "branch_queueing",
                                 "bank_servqual", "agent_coaching"]))
    p = demo_params(demo)
    keys = _keys(p["study_type"])
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["set", "drop", "add", "nested"]))
        key = draw(st.sampled_from(keys))
        if action == "set":
            p[key] = draw(values)
        elif action == "drop":
            p.pop(key, None)
        elif action == "add":
            p[draw(text)] = draw(values)
        elif isinstance(p.get(key), dict) and p[key]:
            sub = draw(st.sampled_from(sorted(p[key], key=str)))
            p[key][sub] = draw(values)
    return p


encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "gb18030", "cp1252"])


def _validate(path: Path, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["validate", *extra, str(path)])
    return code, err.getvalue()


def _check(code: int, err: str, folder: Path, written: set[str]) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert {p.name for p in folder.iterdir()} == written  # validate writes nothing


@pytest.fixture(scope="module", autouse=True)
def _no_outputs_written():
    """However the examples go, the project's outputs folder is not touched."""
    folder = ROOT / "outputs"

    def listing():
        return sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*")) \
            if folder.exists() else []

    before = listing()
    yield
    assert listing() == before


@SETTINGS
@given(mapping=params_mappings(), encoding=encodings)
def test_generated_params_files_never_crash_validate(tmp_path_factory, mapping, encoding):
    folder = tmp_path_factory.mktemp("p")
    path = folder / "study.yaml"
    try:
        body = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True)
        path.write_bytes(body.encode(encoding, errors="replace"))
    except yaml.YAMLError:
        return
    code, err = _validate(path, "--quick")
    _check(code, err, folder, {"study.yaml"})


@SETTINGS
@given(content=st.binary(max_size=400) | text.map(lambda t: t.encode("utf-8", "replace")))
def test_random_bytes_as_a_params_file_never_crash(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("b")
    path = folder / "study.yaml"
    path.write_bytes(b"study_type: scorecard\n" + content)
    code, err = _validate(path, "--quick")
    _check(code, err, folder, {"study.yaml"})


# --- data files --------------------------------------------------------------------------------

COLUMNS = ["ticket_id", "opened_ts", "first_reply_ts", "solved_ts", "channel", "team",
           "category", "agent_fcr", "reopens", "csat", "nps", "ces", "is_complaint"]
cell = st.one_of(
    st.sampled_from(["", "NA", "null", "2026-01-05 09:00:00", "2026-01-05T09:00:00+02:00",
                     "05/01/2026 09:00", "2026-13-01", "9999-12-31 23:59:59", "1200-01-01",
                     "true", "False", "yes", "0", "1", "3", "5", "99", "-1", "3,5", "1e309",
                     "T000001", "chat", "email", "<img src=x onerror=alert(1)>"]),
    text, st.integers(-10**9, 10**9).map(str), st.floats(allow_nan=True).map(str))


@st.composite
def data_files(draw):
    columns = draw(st.lists(st.sampled_from(COLUMNS) | text, min_size=1, max_size=15))
    rows = draw(st.lists(st.lists(cell, min_size=len(columns), max_size=len(columns)),
                         max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))

    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in f'"\n\r{delimiter}') else v

    lines = [delimiter.join(quote(str(c)) for c in columns)]
    lines += [delimiter.join(quote(v) for v in row) for row in rows]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


def _scorecard_on(data: Path, **changes) -> dict:
    p = demo_params("support_desk")
    p["data"]["path"] = str(data)
    p["baseline"] = {"start": "2026-01-01", "end": "2026-01-31"}
    p.update(changes)
    return p


@SETTINGS
@given(content=data_files(), encoding=encodings,
       on_invalid=st.sampled_from(["error", "exclude"]))
def test_generated_data_files_never_crash_validate(tmp_path_factory, content, encoding,
                                                   on_invalid):
    folder = tmp_path_factory.mktemp("d")
    data = folder / "tickets.csv"
    data.write_bytes(content.encode(encoding, errors="replace"))
    p = _scorecard_on(data)
    p["data"]["on_invalid"] = on_invalid
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False, allow_unicode=True), encoding="utf-8")
    code, err = _validate(path, "--quick")
    _check(code, err, folder, {"study.yaml", "tickets.csv"})


@settings(max_examples=max(10, EXAMPLES // 10), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(keep=st.lists(st.integers(1, 300), min_size=1, max_size=40, unique=True),
       edits=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(COLUMNS[1:]), cell),
                      max_size=6))
def test_real_rows_with_random_edits_never_crash_the_full_check(tmp_path_factory, keep, edits):
    """The demo's own rows, a random subset with a few cells broken, checked the deep way (the
    study computed as the kernel would): a verdict or a clear message, never a crash."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("r")
    demo = pd.read_csv(ROOT / "data" / "support_tickets.csv", dtype=str,
                       keep_default_na=False, nrows=301)
    df = demo.iloc[sorted(keep)].reset_index(drop=True)
    for row, col, value in edits:
        if row < len(df):
            df.loc[row, col] = value
    data = folder / "tickets.csv"
    df.to_csv(data, index=False)
    p = _scorecard_on(data, series_freq="day", data_cut="2026-01-31T23:59:59")
    p["data"]["on_invalid"] = "exclude"
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False, allow_unicode=True), encoding="utf-8")
    code, err = _validate(path)
    _check(code, err, folder, {"study.yaml", "tickets.csv"})
