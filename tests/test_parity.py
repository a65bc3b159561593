"""One template, one answer: the same results.json whether a study runs through `sqr run`, plain
papermill with `-f params/<study>.yaml`, or — for the demo a template's parameters cell holds —
the template as it is (what JupyterLab's "Run all" executes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT

from sqresearch.io import params
from sqresearch.report import results

pytestmark = pytest.mark.e2e
DEMOS = sorted((ROOT / "params").glob("*.yaml"))
#: the demo each template's parameters cell holds (tests/test_project.py checks the cell)
TEMPLATE_DEMOS = {"scorecard": "support_desk", "before_after": "chatbot_launch",
                  "control_group": "branch_queueing", "gap_model": "bank_servqual"}


def _papermill(template: str, out, yaml_file=None) -> dict:
    cmd = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / f"{template}.ipynb"),
           str(out), "--log-level", "ERROR", "--no-progress-bar"]
    if yaml_file is not None:
        cmd += ["-f", str(yaml_file)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}  # as a user has it
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(results.to_json(results.extract(nbformat.read(out, as_version=4))))


def _sqr(run_all, study_id: str) -> dict:
    _, out, _ = run_all
    return json.loads((out / study_id / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", DEMOS, ids=[p.stem for p in DEMOS])
def test_plain_papermill_gives_the_sqr_results(run_all, tmp_path, path):
    p = params.load(path)
    assert _papermill(p.study_type, tmp_path / "out.ipynb", path) == _sqr(run_all, p.study_id)


@pytest.mark.parametrize("template", sorted(TEMPLATE_DEMOS))
def test_the_template_as_it_is_runs_its_demo(run_all, tmp_path, template):
    p = params.load(ROOT / "params" / f"{TEMPLATE_DEMOS[template]}.yaml")
    assert _papermill(template, tmp_path / "out.ipynb") == _sqr(run_all, p.study_id)


def test_a_key_the_study_leaves_out_takes_the_default_not_the_demo_value():
    # the before/after template's parameters cell holds the chatbot demo's `its`; a study
    # without `its` must not inherit it
    source = "# Parameters\nstudy_type = 'before_after'\nstudy_id = 'x'\n"
    assert params.injected_names([source, "x = 1"]) == {"study_type", "study_id"}
    assert params.injected_names(["# Parameters: the defaults run the demo\nx = 1"]) is None
