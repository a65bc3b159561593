"""What produced a result: code version, environment, inputs."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

from sqresearch import __version__
from sqresearch.io import paths

PACKAGES = ("sqresearch", "numpy", "scipy", "pandas", "statsmodels", "pingouin", "matplotlib",
            "seaborn", "duckdb", "pyarrow", "pydantic", "papermill", "nbconvert", "ipykernel",
            "semopy")


def git_state() -> dict:
    """Commit and dirty flag of the project checkout (None when git or the repo is absent)."""
    root = paths.project_root()

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["sqresearch"] = __version__
    return out


def environment() -> dict:
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "packages": versions(), "git": git_state(),
            "pythonhashseed": os.environ.get("PYTHONHASHSEED", "random")}
