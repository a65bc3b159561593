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


#: the project-level settings file (optional): ``data_dirs = ["data", "/shared/exports"]``
CONFIG = "sqresearch.toml"


def data_dirs() -> list[Path]:
    """The folders input data may come from, symlinks resolved: ``data/`` by default, or the
    ``data_dirs`` of ``sqresearch.toml`` at the project root, plus any in ``$SQR_DATA_DIRS``
    (separated by the OS path separator)."""
    import tomllib

    root = project_root()
    dirs = ["data"]
    config = root / CONFIG
    if config.is_file():
        with open(config, "rb") as fh:
            dirs = list(tomllib.load(fh).get("data_dirs", dirs))
    dirs += [d for d in os.environ.get("SQR_DATA_DIRS", "").split(os.pathsep) if d]
    return [resolve(d).resolve() for d in dirs]


def outside_data_dirs(path: str | os.PathLike) -> str:
    """Why an input file may not be read ('' when it may): a path that, with symlinks resolved,
    lies outside every data folder — so `../../etc/passwd`, an absolute path elsewhere or a
    symlink out of data/ is refused before a byte is read."""
    real = resolve(path).resolve()
    allowed = data_dirs()
    if any(real.is_relative_to(d) for d in allowed):
        return ""
    names = ", ".join(display(d) + "/" for d in allowed)
    return (f"is outside the data folders ({names}); input files are read only from there. "
            f"Fix: move the file under data/, or list its folder under data_dirs in {CONFIG} "
            "at the project root")


def display(path: str | os.PathLike) -> str:
    """A path as people should see it: relative to the project root when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(project_root()))
    except ValueError:
        return str(p)


def sha256(path) -> str:
    """The SHA-256 of a file, read in 1 MB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
