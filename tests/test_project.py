"""The project's contract: environment files agree, templates are clean, params validate,
demo data are reproducible from the simulator."""

from __future__ import annotations

import ast
import json
import tomllib

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from sqresearch import simulate
from sqresearch.cli import runner
from sqresearch.io import params
from sqresearch.io.schemas import STUDY_TYPES


def test_environment_yml_lists_the_same_runtime_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "conda-forge" in env["channels"] and "python=3.11" in conda
    # pip extras are separate packages on conda-forge
    as_conda = {"ibis-framework[duckdb,postgres]>=10": ["ibis-duckdb>=10", "ibis-postgres>=10"],
                "psycopg[binary]>=3.2": ["psycopg>=3.2"]}
    wanted = [c for d in project["dependencies"] for c in as_conda.get(d, [d])]
    assert [d for d in conda if not d.startswith(("python=", "pip"))] == wanted
    assert pip == ["-e ."]


@pytest.mark.parametrize("study_type", sorted(STUDY_TYPES))
def test_template_is_clean_and_declares_exactly_the_schema(study_type):
    path = ROOT / "notebooks" / f"{study_type}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "sqresearch"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = [t.id for n in ast.parse(tagged[0].source).body for t in n.targets]
    assert names == list(STUDY_TYPES[study_type].model_fields)
    # its defaults are a valid study on the demo data
    ns: dict = {}
    exec(tagged[0].source, ns)  # noqa: S102 - our own template
    params.from_namespace(ns, study_type)


@pytest.mark.parametrize("path", runner.list_studies(), ids=lambda p: p.name)
def test_every_demo_study_validates(path):
    p = runner.validate_study(path)
    assert (ROOT / "notebooks" / f"{p.study_type}.ipynb").is_file()
    assert p.study_id


def test_the_demo_studies_the_issues_ask_for():
    types = [params.load(p).study_type for p in runner.list_studies()]
    wanted = {"scorecard": 2, "before_after": 2, "control_group": 2, "gap_model": 1}
    wanted["synthetic_control"] = 1
    wanted["monitor"] = 1
    assert set(wanted) == set(STUDY_TYPES)
    for study_type, count in wanted.items():
        assert types.count(study_type) >= count, study_type


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 tasks.py test" in ci and "python3 tasks.py test" in readme
    assert "python3 tasks.py report" in readme


def test_demo_data_are_small_documented_and_reproducible(tmp_path):
    files = [p for p in (ROOT / "data").iterdir() if p.name != "README.md"]
    assert sum(p.stat().st_size for p in files) <= 5_000_000
    readme = (ROOT / "data" / "README.md").read_text()
    for p in files:
        assert p.name in readme
    for path in simulate.write_demo(tmp_path):
        committed = ROOT / "data" / path.name
        if path.suffix == ".csv":
            assert path.read_bytes() == committed.read_bytes(), path.name
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(committed))


def test_outputs_are_ignored_by_git():
    assert "outputs/*" in (ROOT / ".gitignore").read_text()
    assert json.loads('{"ok": true}')["ok"]


@pytest.mark.parametrize("study_type, demo", [
    ("scorecard", "support_desk"), ("before_after", "chatbot_launch"),
    ("control_group", "branch_queueing"), ("gap_model", "bank_servqual")])
def test_template_defaults_are_the_demo_study(study_type, demo):
    """The parameters cell is what tools/sync_parameters.py writes from the demo's YAML."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from sync_parameters import parameters_source

    nb = nbformat.read(ROOT / "notebooks" / f"{study_type}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameters_source(ROOT / "params" / f"{demo}.yaml")
