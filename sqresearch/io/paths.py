"""The project root: the one place paths are resolved from (never the working directory)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The folder holding ``params/``, ``data/`` and ``notebooks/``.

    ``SQR_PROJECT_ROOT`` overrides it (tests, or a study folder kept elsewhere); otherwise it is
    the parent of the installed package (the project is installed in editable mode).
    """
    env = os.environ.get("SQR_PROJECT_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


def resolve(path: str | os.PathLike) -> Path:
    """An absolute path: relative paths are taken from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def display(path: str | os.PathLike) -> str:
    """A path as people should see it: relative to the project root when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(project_root()))
    except ValueError:
        return str(p)
