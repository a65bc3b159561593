"""Scale benchmarks of issue 12, each run side by side with its baseline in one invocation and
printed as ratios (never timed assertions in tests). Every measurement runs in a fresh process
so that its peak resident memory is its own.

    .venv/bin/python benchmarks/engine_scale.py kpi [--sizes 100000 1000000 10000000]
    .venv/bin/python benchmarks/engine_scale.py before-after [--sizes ...]
    .venv/bin/python benchmarks/engine_scale.py engines [--size 1000000]
    .venv/bin/python benchmarks/engine_scale.py fixed-cost
    .venv/bin/python benchmarks/engine_scale.py limit [--size 10000000 --format csv --memory 3G]

kpi:          the scorecard's KPI step (validate, prepare, KPIs overall, by period and by each
              segment) against one hand-written DuckDB query computing the same KPIs from the
              same file, Parquet and CSV; peak RSS of both.
before-after: a before/after study of the median first-response time (BCa bootstrap, Mann–
              Whitney/Hodges–Lehmann, ITS), the whole study object, at each size.
engines:      the same scorecard on PostgreSQL (a throwaway server) and on Spark local, against
              DuckDB on the file.
fixed-cost:   a report's fixed cost (a scorecard on 1,000 tickets) and the support-desk demo
              through `sqr run`, against papermill + nbconvert on a notebook that only imports
              pandas, seaborn, pingouin and statsmodels.
limit:        the scorecard KPI step on a file larger than the memory it may use: the process
              runs in a memory cgroup of the given size (needs root and cgroup v1 or v2).

Synthetic files come from benchmarks/synthetic_tickets.py (cached in outputs/bench-data).

Last measured (2026-12-02, a quiet machine, 2 cores); the stages are the imports, validation
and clocks (kept in the engine) and the KPIs:

    tickets     format        DuckDB query       scorecard KPI step   ratio  stages (s)
    1,000,000   parquet       1.3 s   216 MiB      9.7 s   772 MiB    7.7×  1.4  5.5  2.8
    1,000,000   csv           1.7 s   299 MiB     13.3 s   783 MiB    8.0×  1.3  9.3  2.7
    10,000,000  parquet       7.2 s  1432 MiB     52.6 s  2352 MiB    7.3×  1.4 34.5 16.7
    10,000,000  csv          13.1 s  1497 MiB     87.1 s  2371 MiB    6.7×  1.4 67.8 17.9

At the start of that session, on the same quiet machine, the 10M Parquet step took about 81 s
(11.9×; peak 2,802 MiB; KPIs 35 s); mid-session the 10M CSV step peaked at 3,064 MiB (the
fetched columns were held twice while joined). What changed: text is
stripped only where a value starts or ends with whitespace (the validated rows at 10M kept in
8.5 s, were 13.7 s); the counts, sums, means and variances of every grouping come from one query
over the cells of period x segments; the order-based KPIs' columns are sorted side by side,
unstably, gathered once, and filled into arrays allocated at the table's size.

What still separates the step from one query, at 10M Parquet (52.6 s against 7.2 s):
- keeping the prepared clocks (about 19 s): computing them takes 3.7 s, but writing 27 columns
  of 10 million rows next to the validated rows (2.3 GB uncompressed) exceeds the 1.5 GB the
  engine may use (so that the whole step stays within 3 GB), and DuckDB spills to disk. With
  6 GB for the engine the same write takes 12.6 s; compressing the kept tables (ATTACH ...
  COMPRESS) saves the memory but its checkpoint costs 10 s a table. Not keeping the validated
  rows is slower (validation and clocks 45.8 s, against 34.9 s keeping them). Not keeping the
  clocks (a view over the validated rows) saves the write but every later query recomputes
  them: measured twice each on a quiet machine, validation + clocks / KPIs / the report's
  series, Pareto and window took 17.2 / 33.6 / 3.2 s and 15.9 / 29.5 / 3.0 s as a view,
  34.1 / 19.3 / 1.0 s and 33.1 / 16.9 / 1.2 s kept: 0-6 % apart in total, so the clocks are
  kept (a server engine would recompute them at a higher cost);
- validation: the validated rows and flags (8.5 s) and the duplicate-id aggregate (2.4 s);
- exact order statistics: first-response quantiles and Kaplan-Meier medians with their bands
  for four groupings need every value in order (about 12 s of sorting and gathering, two
  columns at a time on 2 cores), where the query computes plain medians.
The query is a floor, not the same work: no validation, no business-hours clocks, no intervals.

    limit: the 10M CSV scorecard KPI step in a 3 GB memory cgroup completes: 135.7 s, peak
    2,363 MiB (2026-12-02, beside a test run; 231.8 s and 2,921 MiB on 2026-12-01).

    engines (2026-12-02, 1M tickets, 2 cores shared with a test run):
      DuckDB (the file)                 18.6 s      762 MiB   1.0×
      PostgreSQL 15 (a table)           59.2 s      967 MiB   3.2×   (was 135 s)
      Spark local[2] (the file)        347.3 s      595 MiB  18.7×   (was 594 s)

Before the changes of 2026-12-01: 14.5× / 16.8× at 1M, 14.4× (1.9 GB) / 16.3× (3.8 GB) at 10M
(a busy machine), and the 3 GB cgroup run was killed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
PY = sys.executable

#: the demo scorecard's settings, pointed at a synthetic file
SCORECARD = {
    "study_type": "scorecard", "study_id": "bench_scorecard", "title": "Scale benchmark",
    "seed": 1, "periods": "month", "segments": ["channel", "team"],
    "data_cut": "2026-06-30T23:59:59", "series_freq": "week",
    "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00",
                       "end": "18:00", "holidays": ["2026-01-01", "2026-04-03"]},
    "sla": [{"name": "response_60min", "clock": "first_response", "within": 60,
             "unit": "minutes"},
            {"name": "resolution_24bh", "clock": "resolution", "within": 24, "unit": "hours",
             "business_hours": True}],
    "targets": [{"kpi": "sla_response_60min", "op": ">=", "value": 0.8}],
    "fcr": {"method": "flag"},
}
COLUMNS = {"created": "opened_ts", "first_response": "first_reply_ts", "resolved": "solved_ts",
           "fcr_flag": "agent_fcr", "reopened": "reopens", "complaint": "is_complaint"}

#: the hand-written baseline: the same KPIs in one DuckDB query (quantiles exact, KM median
#: replaced by the plain median of closed tickets, business hours left out: it is the floor)
BASELINE_SQL = """
WITH t AS (
  SELECT strftime(opened_ts, '%Y-%m') AS period, channel, team,
         date_diff('second', opened_ts, first_reply_ts) / 60.0 AS frt,
         date_diff('second', opened_ts, solved_ts) / 3600.0 AS ttr,
         (solved_ts IS NOT NULL)::INT AS solved, agent_fcr::INT AS fcr,
         CASE WHEN solved_ts IS NOT NULL THEN (reopens > 0)::INT END AS reopen,
         CASE WHEN csat <> 99 THEN csat END AS csat, nps, ces, is_complaint::INT AS complaint
  FROM {source}
  WHERE opened_ts <= TIMESTAMP '2026-06-30 23:59:59')
SELECT period, channel, team, count(*) AS contacts, avg(frt), median(frt),
       quantile_cont(frt, 0.9), median(ttr), avg(solved), avg(fcr), avg(reopen), avg(csat),
       avg((csat >= 4)::INT), avg(CASE WHEN nps >= 9 THEN 100 WHEN nps <= 6 THEN -100
       ELSE 0 END), avg(ces), sum(complaint) * 1000.0 / count(*),
       avg((frt <= 60)::INT), stddev_samp(frt), stddev_samp(csat)
FROM t GROUP BY GROUPING SETS ((), (period), (channel), (team))
"""


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(task: str, args: list[str]) -> dict:
    """One measurement in this (fresh) process: seconds and peak RSS."""
    t0 = time.perf_counter()
    if task == "duckdb":
        import duckdb

        path, fmt = args
        source = (f"read_parquet('{path}')" if fmt == "parquet" else
                  f"read_csv('{path}', header = true)")
        rows = duckdb.connect().execute(BASELINE_SQL.format(source=source)).fetchall()
        out = {"groups": len(rows)}
    elif task == "scorecard":
        from sqresearch.designs.scorecard.study import Scorecard
        from sqresearch.io import params

        t1 = time.perf_counter()
        s = Scorecard(params.load(args[0]), "bench")
        t2 = time.perf_counter()
        out = {"kpis": len(s.overall) + len(s.by_period) +
               sum(len(t) for t in s.by_segment.values()),
               "pushdown": type(s.tickets).__name__ == "PushedTickets",
               # the stages: imports; validation and clocks (kept in the engine); the KPIs
               "stages": [t1 - t0, t2 - t1, time.perf_counter() - t2]}
    elif task == "before_after":
        from sqresearch.designs.before_after.study import BeforeAfter
        from sqresearch.io import params

        s = BeforeAfter(params.load(args[0]), "bench")
        out = {"results": len(s.results().summary)}
    else:
        raise SystemExit(f"unknown task {task}")
    return {**out, "seconds": time.perf_counter() - t0, "peak_mib": _peak_mib()}


def measure(task: str, *args: str, cgroup: str | None = None, env: dict | None = None) -> dict:
    """Run ``child`` in a fresh interpreter (optionally inside a memory cgroup)."""
    def enter():
        if cgroup:
            Path(cgroup, "cgroup.procs").write_text(str(os.getpid()))

    done = subprocess.run([PY, __file__, "_child", task, *args], capture_output=True, text=True,
                          preexec_fn=enter if cgroup else None, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["killed"])[-1][:300],
                "returncode": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_params(folder: Path, data: dict, extra: dict | None = None,
                 base: dict = SCORECARD) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    p = {**base, **(extra or {}), "data": data}
    path = folder / f"{p['study_id']}_{abs(hash(json.dumps(data, sort_keys=True)))}.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")
    return path


def file_data(path: Path, engine: str = "auto") -> dict:
    return {"path": str(path), "columns": COLUMNS, "engine": engine,
            "personal": {"customer_id": "pseudonymise"}, "missing_codes": {"csat": [99]}}


def _fmt(r: dict) -> str:
    if "error" in r:
        return f"FAILED ({r['error']})"
    return f"{r['seconds']:8.1f} s {r['peak_mib']:8.0f} MiB"


def run_kpi(sizes, formats) -> None:
    from synthetic_tickets import files

    tmp = Path(tempfile.mkdtemp(prefix="sqr-bench-"))
    env = {"SQR_DATA_DIRS": str(files(100, 1)["csv"].parent)}
    print(f"{'tickets':>11} {'format':8} {'DuckDB query':>24} {'scorecard KPI step':>24} "
          "ratio  [imports, validation + clocks, KPIs: seconds]")
    for n in sizes:
        for fmt in formats:
            path = files(n)[fmt]
            base = measure("duckdb", str(path), fmt)
            ours = measure("scorecard", str(write_params(tmp, file_data(path))), env=env)
            ratio = ours["seconds"] / base["seconds"] if "seconds" in ours and \
                "seconds" in base else float("nan")
            stages = "  ".join(f"{x:.1f}" for x in ours.get("stages", []))
            print(f"{n:>11,} {fmt:8} {_fmt(base):>24} {_fmt(ours):>24} {ratio:5.1f}×  "
                  f"[{stages}]", flush=True)


def _before_after_params(tmp: Path, path: Path) -> Path:
    """The demo chatbot study's design on a synthetic file: median first-response time, all
    channels, ITS by week, BCa bootstrap of 2,000 resamples."""
    base = {"study_type": "before_after", "study_id": "bench_before_after",
            "title": "Scale benchmark", "seed": 20260401, "data_cut": "2026-06-30T23:59:59",
            "intervention": "2026-04-01T00:00:00", "washout_days_after": 7,
            "design": "independent", "metrics": ["frt"],
            "goals": [{"metric": "frt", "change": -25, "unit": "percent"}],
            "its": {"freq": "week", "metrics": ["frt_median"]},
            "bootstrap": {"resamples": 2000, "method": "BCa"}}
    return write_params(tmp, file_data(path), base=base)


def run_before_after(sizes) -> None:
    from synthetic_tickets import files

    tmp = Path(tempfile.mkdtemp(prefix="sqr-bench-"))
    env = {"SQR_DATA_DIRS": str(files(100, 1)["csv"].parent)}
    print(f"{'tickets':>11} {'before/after study (Parquet)':>30}")
    for n in sizes:
        r = measure("before_after", str(_before_after_params(tmp, files(n)["parquet"])),
                    env=env)
        print(f"{n:>11,} {_fmt(r):>30}", flush=True)


def run_engines(n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from synthetic_tickets import files

    from tests.support.postgres import load_table, postgres_server

    tmp = Path(tempfile.mkdtemp(prefix="sqr-bench-"))
    path = files(n)["parquet"]
    env = {"SQR_DATA_DIRS": str(path.parent)}
    rows = [("DuckDB (the file)", measure("scorecard", str(write_params(
        tmp, file_data(path, "pushdown"))), env=env))]
    with postgres_server() as server:
        load_table(server.url, "tickets", path)
        data = {**file_data(path, "pushdown"), "source": {"backend": "postgres",
                                                          "table": "tickets"}}
        data.pop("path")
        rows.append(("PostgreSQL 15 (a table)", measure(
            "scorecard", str(write_params(tmp, data)), env={**env, "SQR_POSTGRES_URL":
                                                             server.url})))
    data = {**file_data(path, "pushdown"), "source": {"backend": "spark", "path": str(path)}}
    data.pop("path")
    rows.append(("Spark local[2] (the file)", measure("scorecard", str(write_params(tmp, data)),
                                                      env=env)))
    base = rows[0][1].get("seconds", float("nan"))
    print(f"scorecard KPI step on {n:,} tickets")
    for name, r in rows:
        ratio = r["seconds"] / base if "seconds" in r else float("nan")
        print(f"  {name:28} {_fmt(r):>24} {ratio:5.1f}×", flush=True)


def run_fixed_cost() -> None:
    """The fixed cost of a report (kernel, imports, plotting, export) is a scorecard on 1,000
    synthetic tickets, where computing takes little; the demo's whole report is printed too."""
    import nbformat
    from synthetic_tickets import files

    tmp = Path(tempfile.mkdtemp(prefix="sqr-bench-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import pandas, seaborn, pingouin, statsmodels.api")]
    nb.metadata["kernelspec"] = {"name": "sqresearch", "display_name": "Python (sqresearch)",
                                 "language": "python"}
    floor_nb = tmp / "floor.ipynb"
    nbformat.write(nb, floor_nb)
    bindir = Path(PY).parent
    small = write_params(tmp, file_data(files(1000)["csv"]))
    env = {**os.environ, "SQR_DATA_DIRS": str(files(1000)["csv"].parent)}

    def timed(cmd) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
        return time.perf_counter() - t0

    floor, fixed, demo = [], [], []
    for _ in range(3):
        floor.append(timed([bindir / "papermill", floor_nb, tmp / "out.ipynb", "-k",
                            "sqresearch", "--no-progress-bar"]) +
                     timed([bindir / "jupyter", "nbconvert", "--to", "html",
                            tmp / "out.ipynb", "--output-dir", tmp]))
        fixed.append(timed([bindir / "sqr", "run", small, "--force", "--outputs",
                            tmp / "outputs"]))
        demo.append(timed([bindir / "sqr", "run", "params/support_desk.yaml", "--force",
                           "--outputs", tmp / "outputs"]))
    f = min(floor)
    print(f"papermill + nbconvert, imports only:      {f:6.1f} s (best of 3)")
    print(f"sqr run, scorecard on 1,000 tickets:      {min(fixed):6.1f} s  "
          f"{min(fixed) / f:4.2f}×  (the fixed cost)")
    print(f"sqr run support_desk (4,530 tickets):     {min(demo):6.1f} s  {min(demo) / f:4.2f}×")


def run_limit(n: int, fmt: str, memory: str) -> None:
    from synthetic_tickets import files

    limit = int(float(memory[:-1]) * 1024 ** {"M": 2, "G": 3}[memory[-1].upper()])
    group = Path(f"/sys/fs/cgroup/memory/sqr-bench-{os.getpid()}")
    unified = Path(f"/sys/fs/cgroup/sqr-bench-{os.getpid()}")
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(limit))
        if (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(limit))
    except OSError:
        group = unified
        group.mkdir()
        (group / "memory.max").write_text(str(limit))
        (group / "memory.swap.max").write_text("0")
    try:
        tmp = Path(tempfile.mkdtemp(prefix="sqr-bench-"))
        path = files(n)[fmt]
        r = measure("scorecard", str(write_params(tmp, file_data(path))), cgroup=str(group),
                    env={"SQR_DATA_DIRS": str(path.parent)})
        size = path.stat().st_size / 1024 ** 3
        print(f"scorecard KPI step, {n:,} tickets, {fmt} ({size:.1f} GB on disk), in a "
              f"{memory} memory cgroup: {_fmt(r)}")
    finally:
        group.rmdir()


def main(argv: list[str]) -> None:
    if argv and argv[0] == "_child":
        print(json.dumps(child(argv[1], argv[2:])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["kpi", "before-after", "engines", "fixed-cost", "limit"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--format", default="csv")
    ap.add_argument("--memory", default="3G")
    args = ap.parse_args(argv)
    args.size = args.size or (10_000_000 if args.what == "limit" else 1_000_000)
    if args.what == "kpi":
        run_kpi(args.sizes, args.formats)
    elif args.what == "before-after":
        run_before_after(args.sizes)
    elif args.what == "engines":
        run_engines(args.size)
    elif args.what == "fixed-cost":
        run_fixed_cost()
    else:
        run_limit(args.size, args.format, args.memory)


if __name__ == "__main__":
    main(sys.argv[1:])
