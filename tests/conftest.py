"""Shared fixtures: the project root, demo params as dicts, a CLI runner, input-file snapshots."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from sqresearch import cli, paths
from sqresearch.params import read_yaml

ROOT = paths.project_root()


def demo_params(name: str = "support_desk") -> dict:
    return read_yaml((ROOT / "params" / f"{name}.yaml").read_text(encoding="utf-8"))


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


@pytest.fixture
def run_cli(capsys):
    """Run ``sqr`` in-process: returns (exit code, stdout, stderr)."""

    def _run(*args: str):
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run
