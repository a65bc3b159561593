"""Incremental runs: a study whose params, template, code and input files are unchanged since
its last good report is skipped (the report kept); any change, or --force, runs it again."""

from __future__ import annotations

import yaml
from conftest import ROOT
from test_bad_input import DEMO_CSV, base

from sqresearch.cli import fingerprint, runner
from sqresearch.io import params as params_mod


def _study(tmp_path):
    csv = tmp_path / "tickets.csv"
    csv.write_text("".join(DEMO_CSV.read_text(encoding="utf-8").splitlines(True)[:301]),
                   encoding="utf-8")
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({**base(csv), "series_freq": "day"}, sort_keys=False),
                    encoding="utf-8")
    return path, csv


def test_an_unchanged_study_is_skipped_and_any_change_reruns_it(tmp_path, run_cli,
                                                                 monkeypatch):
    path, csv = _study(tmp_path)
    out = tmp_path / "outputs"
    assert run_cli("run", path, "--outputs", out)[0] == 0
    report = (out / "support_desk_scorecard" / "report.html").stat().st_mtime_ns
    code, stdout, err = run_cli("run", path, "--outputs", out)
    assert code == 0 and "unchanged since" in stdout and "unchanged, skipped" in err
    assert (out / "support_desk_scorecard" / "report.html").stat().st_mtime_ns == report

    ran = []
    monkeypatch.setattr(runner, "_run_locked", lambda p, *a: ran.append(p.study_id) or
                        runner.Outcome(str(path), p.study_id, "ok"))
    run_cli("run", path, "--outputs", out, "--force")
    assert ran == ["support_desk_scorecard"]
    csv.write_text(csv.read_text(encoding="utf-8").replace("chat", "Chat", 1), encoding="utf-8")
    run_cli("run", path, "--outputs", out)  # the data changed
    assert len(ran) == 2


def test_the_fingerprint_follows_params_data_and_template(tmp_path, monkeypatch):
    path, csv = _study(tmp_path)
    p = params_mod.load(path)
    first = fingerprint.of(p, "0")
    assert fingerprint.of(params_mod.load(path), "0") == first  # deterministic
    assert fingerprint.of(p.model_copy(update={"title": "Another title"}), "0") != first
    assert fingerprint.of(p, "1") != first
    assert fingerprint.input_paths(p) == [csv.resolve()]
    csv.write_bytes(csv.read_bytes() + b"\n")
    assert fingerprint.of(p, "0") != first
    demo = params_mod.load(ROOT / "params" / "bank_servqual.yaml")
    assert len(fingerprint.input_paths(demo)) >= 2  # the survey and the instrument at least
