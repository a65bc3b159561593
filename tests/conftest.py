"""Shared fixtures: the project root, demo params as dicts, a CLI runner, input-file snapshots."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sqresearch.cli import main as cli
from sqresearch.io import paths
from sqresearch.io.yaml_files import read_yaml
from tests.support.postgres import postgres  # noqa: F401  (the session's PostgreSQL server)

ROOT = paths.project_root()


@pytest.fixture(autouse=True, scope="session")
def _tmp_data_dirs(tmp_path_factory):
    """Tests write their own data files under pytest's temporary folder: allow it as a data
    folder (as a project would list a shared export folder in sqresearch.toml)."""
    import os

    base = str(tmp_path_factory.getbasetemp())
    old = os.environ.get("SQR_DATA_DIRS")
    os.environ["SQR_DATA_DIRS"] = base
    yield
    if old is None:
        os.environ.pop("SQR_DATA_DIRS", None)
    else:
        os.environ["SQR_DATA_DIRS"] = old


def demo_params(name: str = "support_desk") -> dict:
    path = ROOT / "params" / f"{name}.yaml"
    if not path.is_file():
        path = path.with_suffix(".yml")
    return read_yaml(path.read_text(encoding="utf-8"))


def write_params(folder: Path, mapping: dict, name: str = "study.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


def snapshot(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file below the folders: to show inputs are never written."""
    out = {}
    for folder in folders:
        for f in sorted(Path(folder).rglob("*")):
            if f.is_file():
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def params_with(tmp_path: Path, demo: str, rows=None, **changes) -> Path:
    """A demo study's params with top-level keys changed; ``rows`` edits a copy of its CSV."""
    p = demo_params(demo)
    if rows is not None:
        df = rows(pd.read_csv(ROOT / p["data"]["path"]))
        path = tmp_path / "data.csv"
        df.to_csv(path, index=False)
        p["data"]["path"] = str(path)
    p.update(changes)
    return write_params(tmp_path, p)


def assert_user_error(run_cli, path: Path, expected: list[str], *watched: Path) -> None:
    """`sqr validate` exits 2 with every expected piece, a fix, no traceback, files unchanged."""
    before = snapshot(*watched, ROOT / "data")
    code, _, err = run_cli("validate", path)
    assert code == 2, err
    for piece in expected:
        assert piece in err, (piece, err)
    assert "Traceback" not in err and "Fix:" in err
    assert snapshot(*watched, ROOT / "data") == before


@pytest.fixture
def run_cli(capsys):
    """Run ``sqr`` in-process: returns (exit code, stdout, stderr)."""

    def _run(*args: str):
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.fixture(scope="session")
def run_all(tmp_path_factory):
    """`sqr run --all` on the demo studies, once per test session (e2e, report lint, browser):
    (exit code, outputs folder, snapshot of the inputs taken before the run)."""
    out = tmp_path_factory.mktemp("outputs")
    inputs = snapshot(ROOT / "data", ROOT / "params", ROOT / "notebooks")
    code = cli.main(["run", "--all", "--outputs", str(out)])
    return code, out, inputs


def study_folder(out: Path, study: str) -> Path:
    """Where a study's report lives: ``out/<study>``, or for a weekly study (monitor) its
    newest week's folder ``out/<study>/<week>``."""
    folder = out / study
    if (folder / "weeks.json").is_file():
        weeks = json.loads((folder / "weeks.json").read_text(encoding="utf-8"))
        return folder / weeks[-1]["week"]
    return folder
