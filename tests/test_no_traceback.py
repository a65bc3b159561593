"""No traceback for user errors anywhere: `sqr`, plain papermill and the notebook show the
message; a bug keeps its traceback in a log file and the message says where; a folder that
cannot be written is the machine's problem (exit 2), not a crash."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, params_with, snapshot

from sqresearch.cli import runner


def _error_outputs(nb_path) -> list[dict]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.e2e
def test_plain_papermill_shows_the_message_not_a_traceback(tmp_path):
    bad = params_with(tmp_path, "chatbot_launch", intervention="2029-04-01T00:00:00")
    out = tmp_path / "out.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill",
                          str(ROOT / "notebooks" / "before_after.ipynb"), str(out), "-f",
                          str(bad), "--cwd", str(ROOT)], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode != 0  # papermill's own exit code (1) for a failed notebook
    errors = _error_outputs(out)
    assert len(errors) == 1 and errors[0]["ename"] == "DataError"
    shown = "\n".join(errors[0]["traceback"])
    assert "key 'intervention'" in shown and "outside the data" in shown and "Fix:" in shown
    assert "Traceback" not in shown and 'File "' not in shown and "----" not in shown
    assert "DataError: " in run.stderr and "key 'intervention'" in run.stderr


def test_sqr_run_of_a_bug_logs_the_traceback_and_says_where(tmp_path, run_cli, monkeypatch):
    def broken(*_args, **_kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr(runner, "_run_locked", broken)
    out = tmp_path / "outputs"
    inputs = snapshot(ROOT / "data", ROOT / "params")
    code, _, err = run_cli("run", ROOT / "params" / "support_desk.yaml", "--outputs", out)
    assert code == 1
    assert "internal error (a bug, not your input): TypeError" in err
    log = out / "support_desk_scorecard" / "error.log"
    assert log.is_file() and "error.log" in err and "Traceback" not in err
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "def broken" not in err
    assert "unsupported operand" in text and "sqresearch " in text.splitlines()[0]
    assert snapshot(ROOT / "data", ROOT / "params") == inputs
    assert {p.name for p in out.iterdir()} <= {"index.html", "status.json",
                                               "support_desk_scorecard",
                                               ".lock-support_desk_scorecard"}


def test_a_crash_outside_a_study_is_logged_too(tmp_path, run_cli, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(runner, "record", broken)
    monkeypatch.setattr(runner, "run_study", lambda f, *_: runner.Outcome(
        str(f), "x", "ok", "", 0.0, ""))
    out = tmp_path / "outputs"
    code, _, err = run_cli("run", ROOT / "params" / "support_desk.yaml", "--outputs", out)
    assert code == 1 and "internal error" in err and "KeyError" in err
    assert (out / "error.log").is_file() and "Traceback" not in err


def test_an_unwritable_outputs_folder_is_exit_2_with_the_fix(tmp_path, run_cli, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "outputs" / "status.json"))

    monkeypatch.setattr(runner, "record", read_only)
    monkeypatch.setattr(runner, "run_study", lambda f, *_: runner.Outcome(
        str(f), "x", "ok", "", 0.0, ""))
    code, _, err = run_cli("run", ROOT / "params" / "support_desk.yaml", "--outputs",
                           tmp_path / "outputs")
    assert code == 2 and "Traceback" not in err
    assert "status.json: Permission denied" in err and "Fix:" in err
