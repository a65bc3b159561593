"""Run studies: validate, execute the template with papermill, write the outputs atomically.

A run writes into ``outputs/.tmp-<id>-…`` and moves it to ``outputs/<id>/`` only when every file
is written, so a failed run never touches the last good report; it adds ``FAILED.html`` (the
executed notebook, code shown, the failing cell marked) and ``failed.json`` beside it instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from sqresearch.cli import crashlog, fingerprint, limits, weeks
from sqresearch.cli.fingerprint import sha256
from sqresearch.io import params as params_mod
from sqresearch.io import paths, provenance
from sqresearch.io.errors import UserInputError

KERNEL = "sqresearch"
STATUS_FILE = "status.json"
#: The kernels sqr starts log errors only: ipykernel's start-up warning that a local kernel
#: talks over TCP without encryption is noise on every run.
KERNEL_ARGS = ["--log-level=ERROR"]
HASH_SEED = "0"  # fixed for the kernels sqr starts, so results.json is byte-identical


@dataclass
class Outcome:
    """How one study's run ended. status: ok, failed (a bug or crash) or invalid (user input)."""

    params: str
    study: str
    status: str
    message: str = ""
    seconds: float = 0.0
    headline: str = ""
    note: str = ""  # e.g. skipped: nothing it depends on changed

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "invalid": 2}.get(self.status, 1)


#: params already read in this process, by (file, size, mtime): ``sqr run --all`` reads each
#: study file once for the study_id check, the skip decision and the index
_LOADED: dict[tuple, object] = {}


def load_params(path: str | Path):
    """``params.load``, remembered for this process while the file is unchanged (errors are
    not remembered: each caller gets its own)."""
    f = paths.resolve(path)
    try:
        st = f.stat()
    except OSError:
        return params_mod.load(path)
    key = (str(f), st.st_size, st.st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = params_mod.load(path)
    return _LOADED[key]


def study_module(study_type: str):
    """The module holding a study type's ``load`` (data checks) and analysis."""
    return importlib.import_module(f"sqresearch.designs.{study_type}")


def shared_study_ids(files) -> dict[str, str]:
    """Params files whose study_id another of ``files`` also uses -> the message saying so
    (both are refused: the study_id names the output folder, one would overwrite the other).
    Files that do not load are left to their own message."""
    by_id: dict[str, list[str]] = {}
    for f in files:
        try:
            by_id.setdefault(load_params(f).study_id, []).append(paths.display(
                paths.resolve(f)))
        except UserInputError:
            continue
    out = {}
    for study_id, names in by_id.items():
        for name in names if len(names) > 1 else []:
            others = ", ".join(n for n in names if n != name)
            out[name] = (f"{name}: key 'study_id' ({study_id}) is also the study_id of {others}; "
                         "it names the output folder, so one study would overwrite the other. "
                         "Fix: give each study its own study_id.")
    return out


def validate_study(path: str | Path, p=None):
    """Check a study's params (``p``: already loaded from ``path``) and data without running
    anything; return the params."""
    p = p or params_mod.load(path)
    loaded = study_module(p.study_type).load(p, paths.display(paths.resolve(path)))
    if weeks.weekly(p):  # the report week, resolved from the data (week: latest)
        p = p.model_copy(update={"week": loaded.week})
    return p


#: the result object of each study type (``sqresearch.designs.<type>``)
STUDY_CLASSES = {"before_after": "BeforeAfter", "control_group": "ControlGroup",
                 "gap_model": "GapModel", "scorecard": "Scorecard"}
STUDY_CLASSES["synthetic_control"] = "SyntheticControl"
STUDY_CLASSES["monitor"] = "Monitor"


def check_study(path: str | Path):
    """``sqr validate``: what the kernel would reject, found without a kernel — the params,
    the data, and then the study computed as the template computes it (minimum sample sizes,
    ITS periods, empty groups …); nothing is written. Returns the params."""
    import matplotlib

    matplotlib.use("Agg")  # nothing is drawn, but a backend must never need a display
    p = validate_study(path)
    cls = getattr(study_module(p.study_type), STUDY_CLASSES[p.study_type])
    cls(p, paths.display(paths.resolve(path))).results()
    return p


def list_studies() -> list[Path]:
    return sorted((paths.project_root() / "params").glob("*.y*ml"))


def outputs_root(out: str | Path | None = None) -> Path:
    root = Path(out) if out else paths.project_root() / "outputs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_study(path: str | Path, out: str | Path | None = None, force: bool = False,
              max_memory: int | None | str = "default", week: str | None = None) -> Outcome:
    """Run one study end to end, or skip it when nothing it depends on changed since its last
    good report (``force`` reruns it); never raises for a study's own failure. ``max_memory``:
    the kernel's memory limit in bytes (None: no limit; "default": 75 % of the physical
    memory)."""
    t0 = time.perf_counter()
    limit = limits.default_limit() if max_memory == "default" else max_memory
    try:
        return _run_study(path, out, t0, force, limit, week)
    except OSError as exc:  # a read-only or full outputs folder: the machine, not the study
        if exc.filename is None:
            return _crashed(path, out, exc, t0)
        return Outcome(paths.display(paths.resolve(path)), Path(path).stem, "invalid",
                       f"cannot use {exc.filename}: {exc.strerror or exc}. Fix: check that it "
                       "exists, the outputs folder is writable and the disk has space.",
                       time.perf_counter() - t0)
    except Exception as exc:  # a bug: report it as this study's failure, let the others run
        return _crashed(path, out, exc, t0)


def _crashed(path, out, exc: Exception, t0: float) -> Outcome:
    try:
        study = params_mod.load(path).study_id
    except Exception:  # noqa: BLE001 - the params may be what is broken
        study = Path(path).stem
    log = crashlog.write(outputs_root(out) / study, exc, f"running {path}")
    return Outcome(paths.display(paths.resolve(path)), study, "failed",
                   crashlog.message(exc, log), time.perf_counter() - t0)


def _run_study(path: str | Path, out: str | Path | None, t0: float, force: bool = False,
               limit=None, week: str | None = None) -> Outcome:
    started = dt.datetime.now(dt.UTC)
    source = paths.display(paths.resolve(path))
    study = Path(path).stem
    out_root = outputs_root(out)
    try:
        p = weeks.override(load_params(path), week, source)
        last, folder = None, weeks.folder(p, out_root)
        if weeks.weekly(p) and folder is not None:
            p = p.model_copy(update={"week": folder.name})
        print_ = fingerprint.of(p, os.environ.get("PYTHONHASHSEED", HASH_SEED))
        if not force and folder is not None:
            last = fingerprint.unchanged(folder, print_)
        if last is not None:
            return _skipped(source, p.study_id, folder, last, t0)
        p = validate_study(path, p)
        print_ = fingerprint.of(p, os.environ.get("PYTHONHASHSEED", HASH_SEED))
    except UserInputError as exc:
        return Outcome(source, study, "invalid", str(exc), time.perf_counter() - t0)
    study = p.study_id
    with study_lock(out_root, study) as held:
        if not held:
            return Outcome(source, study, "invalid", f"{source}: another run of study "
                           f"{study!r} is writing {paths.display(out_root / study)} right now. "
                           "Fix: wait for it to finish, then run again.",
                           time.perf_counter() - t0)
        _remove_leftovers(out_root, study)
        return _run_locked(p, path, source, out_root, started, t0, print_, limit)


def skip_unchanged(path: str | Path, out: str | Path | None = None,
                   week: str | None = None) -> Outcome | None:
    """The outcome "unchanged, report kept" when nothing a study depends on changed since its
    last good report; None when it must run (or its params do not load: the run says why).
    ``sqr run`` asks this first, so a rerun with nothing changed starts no process or kernel."""
    t0 = time.perf_counter()
    source = paths.display(paths.resolve(path))
    try:
        p = weeks.override(load_params(path), week, source)
    except UserInputError:
        return None
    folder = weeks.folder(p, outputs_root(out))
    if folder is None:
        return None
    if weeks.weekly(p):
        p = p.model_copy(update={"week": folder.name})
    last = fingerprint.unchanged(folder,
                                 fingerprint.of(p, os.environ.get("PYTHONHASHSEED", HASH_SEED)))
    if last is None:
        return None
    return _skipped(source, p.study_id, folder, last, t0)


def _skipped(source: str, study: str, folder: Path, last: dict, t0: float) -> Outcome:
    results_file = folder / "results.json"
    headline = json.loads(results_file.read_text(encoding="utf-8")).get("headline", "")
    when = last.get("timings", {}).get("started", "")
    return Outcome(source, study, "ok", "", time.perf_counter() - t0, headline,
                   f"unchanged since {when[:16].replace('T', ' ')}: report kept (--force reruns)")


@contextlib.contextmanager
def study_lock(out_root: Path, study: str):
    """An exclusive, non-blocking lock on ``outputs/.lock-<study>`` for one run of a study:
    yields True when this run holds it, False when another run does (released on exit, also
    when the process dies)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield True
        return
    with open(out_root / f".lock-{study}", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(out_root: Path, study: str) -> None:
    """Temporary folders a killed run of this study left behind (safe: we hold its lock)."""
    for stale in [*out_root.glob(f".tmp-{study}-*"), *out_root.glob(f".old-{study}-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _run_locked(p, path, source: str, out_root: Path, started, t0: float,
                print_: str, limit=None) -> Outcome:
    from sqresearch.report import export as report
    from sqresearch.report import results

    study = p.study_id
    final = weeks.folder(p, out_root)
    tmp = out_root / f".tmp-{p.study_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    t_valid = time.perf_counter() - t0
    try:
        nb, error = _execute(p, tmp / "notebook.ipynb", limit)
        t_exec = time.perf_counter() - t0 - t_valid
        payload = results.extract(nb) if error is None else None
        if error is None and payload is None:
            error = ("NoResults", "the template did not publish its results (last cell)", None)
        if error is not None:
            status = "invalid" if error[0] in ("ParamsError", "DataError") else "failed"
            _write_failure(final, nb, p, error)
            msg = f"{error[0]}: {error[1]}" + (f" (cell {error[2]})" if error[2] is not None
                                               else "")
            if limits.is_memory_error(error[0], error[1]):
                status, msg = "invalid", limits.memory_message(source, study, limit, nb, error)
            if status == "failed":
                msg += (f"; the notebook with the traceback is "
                        f"{paths.display(final / 'FAILED.html')}")
            return Outcome(source, study, status, msg, time.perf_counter() - t0)
        (tmp / "results.json").write_text(results.to_json(payload), encoding="utf-8")
        (tmp / "report.html").write_text(report.to_html(nb, p.title), encoding="utf-8")
        if payload.get("meeting_summary"):
            (tmp / "summary.md").write_text(payload["meeting_summary"], encoding="utf-8")
        timings = {"started": started.isoformat(timespec="seconds"),
                   "validate_s": round(t_valid, 3), "execute_s": round(t_exec, 3),
                   "export_s": round(time.perf_counter() - t0 - t_valid - t_exec, 3)}
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        manifest = {**_manifest(p, paths.resolve(path), payload, timings),
                    "fingerprint": print_}
        (tmp / "manifest.json").write_text(results.to_json(manifest), encoding="utf-8")
        final.parent.mkdir(parents=True, exist_ok=True)
        _swap(tmp, final)
        if weeks.weekly(p):
            weeks.write_index(final.parent, p.title)
        return Outcome(source, study, "ok", "", time.perf_counter() - t0, payload.get("headline",
                                                                                       ""))
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _kernel_name() -> str:
    from jupyter_client.kernelspec import find_kernel_specs

    return KERNEL if KERNEL in find_kernel_specs() else "python3"


def _execute(p, target: Path, limit: int | None = None):
    """Execute the template; return (notebook, None) or (notebook, (ename, evalue, cell))."""
    import nbformat
    import papermill as pm

    template = paths.project_root() / "notebooks" / f"{p.study_type}.ipynb"
    # The kernel inherits this: some libraries (semopy) order variables through sets, so with a
    # random hash seed their results differ in the last digits from run to run.
    os.environ.setdefault("PYTHONHASHSEED", HASH_SEED)
    # Every declared parameter, with schema defaults filled in: a key the study omits must not
    # inherit the demo value the template's parameters cell holds.
    mapping = p.model_dump(mode="json")
    error = None
    try:
        pm.execute_notebook(str(template), str(target), parameters=mapping,
                            kernel_name=_kernel_name(), cwd=str(paths.project_root()),
                            progress_bar=False, log_output=False,
                            report_mode=False,
                            extra_arguments=KERNEL_ARGS + limits.kernel_arguments(limit))
    except pm.PapermillExecutionError as exc:
        error = (exc.ename, exc.evalue, exc.exec_count)
    except RuntimeError as exc:  # nbclient's DeadKernelError, or death before kernel_info
        if limit is None or "died" not in str(exc).lower():
            raise
        error = (limits.KERNEL_DIED, str(exc), None)  # under a memory cap: out of memory
    return nbformat.read(target if target.exists() else template, as_version=4), error


def _write_failure(final: Path, nb, p, error) -> None:
    from sqresearch.report import export as report

    final.mkdir(parents=True, exist_ok=True)
    html = report.to_html(nb, f"FAILED: {p.title}", show_code=True)
    (final / "FAILED.html").write_text(html, encoding="utf-8")
    info = {"study_id": p.study_id, "error": error[0], "message": error[1], "cell": error[2],
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    (final / "failed.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


def _swap(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` (two renames; the old folder is deleted last)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _manifest(p, params_path: Path, payload: dict, timings: dict) -> dict:
    template = paths.project_root() / "notebooks" / f"{p.study_type}.ipynb"
    return {"study_id": p.study_id, "study_type": p.study_type,
            "params_file": {"path": paths.display(params_path), "sha256": sha256(params_path)},
            "params": p.model_dump(mode="json"),
            "template": {"path": paths.display(template), "sha256": sha256(template)},
            "inputs": payload.get("inputs", []), "seed": p.seed,
            "environment": provenance.environment(), "timings": timings}


# --- status of the last run of every study, and the index ----------------------------------


def record(out_root: Path, outcomes: list[Outcome]) -> Path:
    """Remember the outcomes and rewrite outputs/index.html."""
    status_path = out_root / STATUS_FILE
    status = json.loads(status_path.read_text()) if status_path.exists() else {}
    for o in outcomes:
        status[o.params] = asdict(o) | {"when": dt.datetime.now().isoformat(timespec="seconds")}
    status_path.write_text(json.dumps(status, indent=2, sort_keys=True), encoding="utf-8")
    from sqresearch.report import export as report

    return report.write_index(out_root, _index_rows(out_root, status))


def _index_rows(out_root: Path, status: dict) -> list[dict]:
    # the studies in params/ now, and any other params file run into this folder that still
    # exists: a deleted study drops out of the index
    files = {paths.display(f) for f in list_studies()} | \
        {f for f in status if paths.resolve(f).is_file()}
    rows = []
    for f in sorted(files):
        s = status.get(f, {})
        row = {"params": f, "study": s.get("study", Path(f).stem), "status": s.get("status",
                                                                                  "not run"),
               "message": s.get("message", "") if s.get("status") != "ok" else ""}
        try:
            p = load_params(f)
            row.update(study=p.study_id, title=p.title, type=p.study_type)
        except UserInputError:
            pass
        folder = out_root / row["study"]
        latest = weeks.latest_report(folder) if (folder / "weeks.json").exists() else None
        if latest is not None:
            folder = latest
        if (folder / "manifest.json").exists():
            man = json.loads((folder / "manifest.json").read_text())
            res = json.loads((folder / "results.json").read_text())
            row.update(report=f"{row['study']}/" + ("index.html" if latest else "report.html"),
                       headline=res.get("headline", ""),
                       date=man["timings"]["started"][:16].replace("T", " ") + " UTC")
        if (folder / "FAILED.html").exists():
            row["failed"] = f"{folder.relative_to(out_root).as_posix()}/FAILED.html"
        rows.append(row)
    return rows
