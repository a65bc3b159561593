"""Internal errors (bugs, not bad input): the traceback goes to a log file, the person running
the study gets one line saying what broke and where the details are."""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path

from sqresearch import __version__
from sqresearch.io import paths


def write(folder: Path, exc: BaseException, context: str) -> Path | None:
    """Write ``exc``'s traceback to ``folder/error.log``; returns the file (None when even that
    fails, e.g. a read-only folder)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "error.log"
        when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        log.write_text(f"sqresearch {__version__}, {when}\n{context}\n\n"
                       + "".join(traceback.format_exception(exc)), encoding="utf-8")
        return log
    except OSError:
        return None


def message(exc: BaseException, log: Path | None) -> str:
    """'internal error (a bug, not your input): TypeError: …; traceback in outputs/x/error.log'."""
    where = (f"the traceback is in {paths.display(log)}" if log is not None
             else "the traceback could not be written")
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return (f"internal error (a bug, not your input): {type(exc).__name__}: {text}; {where}. "
            "Fix: please report it with that file; other studies are not affected.")
