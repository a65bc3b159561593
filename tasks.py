#!/usr/bin/env python3
"""Set up and run the workbench with nothing but Python 3.11 (standard library only).

    python3 tasks.py report   # create .venv, install, register the kernel, run every study
    python3 tasks.py test     # create .venv, install (with test tools), run the tests
                              # (and, as root, apt-get install chromium for the browser test
                              # and postgresql for the PostgreSQL tests when missing)
    python3 tasks.py lab      # start JupyterLab in the project's environment
    python3 tasks.py setup    # only create/refresh .venv
    python3 tasks.py demo-data  # regenerate data/ from the simulator (overwrites the demo files)

The environment is rebuilt only when pyproject.toml changes (a hash stamp in .venv).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".sqresearch-installed"
KERNEL = "sqresearch"


def sh(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def setup() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"sqresearch needs Python 3.11; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PY.exists():
        return
    t0 = time.perf_counter()
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    sh(PY, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL,
       "--display-name", "Python (sqresearch)")
    STAMP.write_text(wanted)
    print(f"environment ready in {time.perf_counter() - t0:.0f} s", flush=True)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """The browser test drives Debian's Chromium through Playwright (Playwright's own browser
    download is not used). Install it with apt-get when running as root; else say how."""
    if CHROMIUM.exists():
        return
    apt = Path("/usr/bin/apt-get")
    if os.name == "posix" and os.geteuid() == 0 and apt.exists():
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
            print("+", " ".join(str(c) for c in cmd), flush=True)
            if subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode != 0:
                break
    if not CHROMIUM.exists():
        print(f"note: no Chromium at {CHROMIUM}; the browser test (tests/test_report_browser.py) "
              "will skip. Install it with: sudo apt-get install -y chromium", flush=True)


def postgres_initdb() -> Path | None:
    """PostgreSQL's initdb: on PATH, else the newest /usr/lib/postgresql/*/bin (Debian)."""
    found = shutil.which("initdb")
    if found:
        return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return versions[-1] if versions else None


def ensure_postgres() -> None:
    """The PostgreSQL tests start a throwaway server with initdb/pg_ctl (tests/support/
    postgres.py). Install the server with apt-get when running as root and it is missing; else
    say how (the tests then fail with the same advice)."""
    if postgres_initdb():
        return
    apt = Path("/usr/bin/apt-get")
    if os.name == "posix" and os.geteuid() == 0 and apt.exists():
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "postgresql"]):
            print("+", " ".join(str(c) for c in cmd), flush=True)
            if subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode != 0:
                break
    if not postgres_initdb():
        print("note: no PostgreSQL server (initdb) on PATH or in /usr/lib/postgresql/*/bin; "
              "the PostgreSQL tests will fail. Install it with: sudo apt-get install -y "
              "postgresql", flush=True)


def main(argv: list[str]) -> int:
    task = argv[1] if len(argv) > 1 else "help"
    rest = argv[2:]
    if task in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    if task not in {"setup", "report", "test", "lab", "demo-data"}:
        print(f"unknown task {task!r}\n{__doc__}", file=sys.stderr)
        return 2
    setup()
    commands = {
        "setup": None,
        "report": [BIN / "sqr", "run", "--all", *rest],
        "test": [PY, "-m", "pytest", *rest],
        "lab": [BIN / "jupyter", "lab", "--notebook-dir", ROOT, *rest],
        "demo-data": [PY, "-m", "sqresearch.simulate", "--out", ROOT / "data", *rest],
    }
    cmd = commands[task]
    if task == "test":
        ensure_chromium()
        ensure_postgres()
    if cmd is None:
        return 0
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
