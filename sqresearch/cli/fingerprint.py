"""What a study's report depends on, as one hash: its params (schema defaults filled in), the
template, the package's own code, the versions of the libraries that compute, and the bytes of
every input file. ``sqr run`` skips a study whose fingerprint equals the one in the manifest of
its last good report (``--force`` reruns it)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from sqresearch.io import paths
from sqresearch.io.paths import sha256

PACKAGE = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def code() -> str:
    """The package's source and report templates, and the computing libraries' versions."""
    from sqresearch.io import provenance

    h = hashlib.sha256()
    for f in sorted(PACKAGE.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".j2", ".json", ".css", ".csv", ".yaml"):
            h.update(str(f.relative_to(PACKAGE)).encode() + b"\0" + f.read_bytes())
    h.update(json.dumps(provenance.versions(), sort_keys=True).encode())
    return h.hexdigest()


def input_paths(params) -> list[Path]:
    """Every file a study reads: each ``path`` in its params (the data, instruments, tables)."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "path" and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(params.model_dump(mode="json"))
    extra = []
    if getattr(params, "pdca", None) is not None:  # the monitor's improvement log
        extra.append(paths.project_root() / params.pdca.log)
    return [paths.resolve(f) for f in dict.fromkeys(found)] + extra


def engine_tables(params) -> list[str]:
    """The tables a study reads from a database or Spark (``data.source``), by name."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("source"), dict) and "backend" in value["source"]:
                s = value["source"]
                found.append(f"{s['backend']}:{s.get('table') or s.get('path')}")
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(params.model_dump(mode="json"))
    return found


def of(params, hash_seed: str) -> str:
    """The study's fingerprint (a missing input file gives a fingerprint that matches none; so
    does a table on a database or Spark, whose content may change without the study knowing:
    such a study is always rerun)."""
    import os

    template = paths.project_root() / "notebooks" / f"{params.study_type}.ipynb"
    inputs = {t: "rerun-" + os.urandom(8).hex() for t in engine_tables(params)}
    for f in input_paths(params):
        inputs[str(f)] = sha256(f) if f.is_file() else "missing"
    doc = {"params": params.model_dump(mode="json"), "template": sha256(template),
           "code": code(), "inputs": inputs, "hash_seed": hash_seed}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def unchanged(folder: Path, fingerprint: str) -> dict | None:
    """The last good run's manifest when it has this fingerprint, a report, and no failure
    after it; else None."""
    manifest = folder / "manifest.json"
    if not (manifest.is_file() and (folder / "report.html").is_file()
            and (folder / "results.json").is_file()) or (folder / "FAILED.html").exists():
        return None
    try:
        last = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return last if last.get("fingerprint") == fingerprint else None
