"""``sqr``: validate, run and list studies.

Exit codes: 0 success; 2 a user error (bad params or data: the message says what, where and how
to fix it, no traceback); 1 a study failed for another reason (see its FAILED.html).
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from sqresearch import __version__
from sqresearch.cli import crashlog, limits, runner
from sqresearch.io import paths
from sqresearch.io.errors import UserInputError


def _files(args) -> list[Path]:
    if getattr(args, "all", False) or not args.files:
        return runner.list_studies()
    return [Path(f) for f in args.files]


def cmd_validate(args) -> int:
    code = 0
    files = _files(args)
    shared = runner.shared_study_ids(files)
    for f in files:
        if paths.display(paths.resolve(f)) in shared:
            print(f"invalid  {shared[paths.display(paths.resolve(f))]}", file=sys.stderr)
            code = 2
            continue
        try:
            p = runner.validate_study(f) if args.quick else runner.check_study(f)
            print(f"ok       {paths.display(paths.resolve(f))} ({p.study_type}, {p.study_id})")
        except UserInputError as exc:
            print(f"invalid  {exc}", file=sys.stderr)
            code = 2
    return code


def cmd_list(args) -> int:
    print(f"{'params file':40s} {'type':14s} {'study_id':28s} title")
    for f in runner.list_studies():
        try:
            p = runner.load_params(f)
            print(f"{paths.display(f):40s} {p.study_type:14s} {p.study_id:28s} {p.title}")
        except UserInputError:
            print(f"{paths.display(f):40s} (invalid: run 'sqr validate {paths.display(f)}')")
    return 0


def cmd_run(args) -> int:
    files = _files(args)
    if not files:
        print("no studies: add a YAML file to params/", file=sys.stderr)
        return 2
    out_root = runner.outputs_root(args.outputs)
    shared = runner.shared_study_ids(files)
    outcomes = [runner.Outcome(name, Path(name).stem, "invalid", message)
                for name, message in shared.items()]
    files = [f for f in files if paths.display(paths.resolve(f)) not in shared]
    if not args.force:  # unchanged studies are settled here, without a process or a kernel
        kept = {f: runner.skip_unchanged(f, out_root, args.week) for f in files}
        outcomes += [o for o in kept.values() if o is not None]
        files = [f for f in files if kept[f] is None]
        for i, o in enumerate(outcomes, 1):
            _progress_line(o, i, len(outcomes) + len(files))
    jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(files) or 1))
    total = len(outcomes) + len(files)
    if jobs == 1:
        for f in files:
            outcomes.append(runner.run_study(f, out_root, args.force, args.max_memory,
                                             args.week))
            _progress_line(outcomes[-1], len(outcomes), total)
    else:
        from tqdm import tqdm

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(runner.run_study, f, out_root, args.force, args.max_memory,
                                   args.week) for f in files]
            with tqdm(total=len(files), desc="studies", unit="study", file=sys.stderr) as bar:
                for fut in as_completed(futures):
                    outcomes.append(fut.result())
                    bar.set_postfix_str(f"{outcomes[-1].study}: {outcomes[-1].status}")
                    bar.update()
    index = runner.record(out_root, outcomes)
    _status_table(sorted(outcomes, key=lambda o: o.params))
    print(f"\nindex: {index}")
    for o in outcomes:
        if o.status != "ok":
            print(f"\n{o.study} ({o.status}):\n{o.message}", file=sys.stderr)
    codes = {o.exit_code for o in outcomes}
    return 1 if 1 in codes else max(codes)  # a crash outranks bad input


def _progress_line(o, i, n) -> None:
    how = "unchanged, skipped" if o.note else f"{o.seconds:.1f} s"
    print(f"[{i}/{n}] {o.study}: {o.status} ({how})", file=sys.stderr, flush=True)


def _status_table(outcomes) -> None:
    print(f"\n{'study':32s} {'status':8s} {'time':>7s}  result")
    for o in outcomes:
        what = (o.note or o.headline) if o.status == "ok" else o.message.splitlines()[0][:70]
        print(f"{o.study:32s} {o.status:8s} {o.seconds:6.1f}s  {what}")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sqr", description="Run service-quality studies.")
    ap.add_argument("--version", action="version", version=f"sqresearch {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check params and data without running")
    v.add_argument("files", nargs="*", help="params files (default: all in params/)")
    v.add_argument("--quick", action="store_true", help="params and data only: skip computing "
                   "the study (which finds too few tickets, ITS periods, empty groups …)")
    v.set_defaults(func=cmd_validate)
    r = sub.add_parser("run", help="run studies and write outputs/<study_id>/")
    r.add_argument("files", nargs="*", help="params files")
    r.add_argument("--all", action="store_true", help="every study in params/")
    r.add_argument("--jobs", "-j", type=int, default=None, help="parallel studies (default: cores)")
    r.add_argument("--outputs", default=None, help="output folder (default: outputs/)")
    r.add_argument("--week", default=None, metavar="YYYY-Www",
                   help="weekly (monitor) studies: the report week, e.g. 2026-W47, or latest "
                        "(default: the study file's week)")
    r.add_argument("--force", action="store_true", help="rerun studies whose params, data, "
                   "template and code are unchanged since their last good report (skipped "
                   "otherwise)")
    r.add_argument("--max-memory", type=limits.size_argument, metavar="SIZE",
                   default=limits.default_limit(),
                   help="memory limit of each study's kernel, e.g. 8G, 512M, 50%% or none "
                        "(default: 75%% of the physical memory)")
    r.set_defaults(func=cmd_run)
    ls = sub.add_parser("list", help="list the studies in params/")
    ls.set_defaults(func=cmd_list)
    from sqresearch.cli import pdca

    pdca.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run" and not args.files and not args.all:
        print("sqr run: name params files or use --all", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except UserInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        return _unexpected(exc, args, argv)


def _unexpected(exc: Exception, args, argv) -> int:
    """A read-only or full outputs folder is the machine's problem (exit 2, what to check); any
    other exception is a bug in sqr: the traceback to a log file, one line here (exit 1)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        print(f"cannot use {exc.filename}: {exc.strerror or exc}. Fix: check that it exists, the "
              "outputs folder is writable and the disk has space (or give --outputs).",
              file=sys.stderr)
        return 2
    log = crashlog.write(runner.outputs_root(getattr(args, "outputs", None)), exc,
                         "sqr " + " ".join(argv if argv is not None else sys.argv[1:]))
    print(crashlog.message(exc, log), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
