"""Benchmarks of the spine, as ratios against a baseline run side by side (not timed tests).

    .venv/bin/python benchmarks/bench_spine.py [--scale 20]

1. business-hours clock: the vectorised ``Schedule.duration`` against a straightforward per-ticket
   day-by-day loop (the baseline), on the same tickets; also checks they agree.
2. reading a large ticket CSV: DuckDB (what ``data.read_raw`` uses) against ``pandas.read_csv``,
   both reading every column as text.
3. the KPI engine: ``prepare`` + ``kpi_table`` by period, per 1,000 tickets, at two sizes, to show
   it scales linearly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sqresearch import kpi, simulate
from sqresearch.kpi.bizhours import Schedule


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def loop_business_hours(s: Schedule, start: pd.Series, end: pd.Series) -> list[float]:
    """Baseline: walk each ticket day by day."""
    hol = {pd.Timestamp(h).date() for h in s.holidays}
    days = {i for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
            if d in s.days}
    out = []
    for a, b in zip(start, end, strict=True):
        total, day = 0.0, a.normalize()
        while day <= b:
            if day.weekday() in days and day.date() not in hol:
                lo = max(a, day + pd.Timedelta(hours=s.start.hour, minutes=s.start.minute))
                hi = min(b, day + pd.Timedelta(hours=s.end.hour, minutes=s.end.minute))
                total += max((hi - lo).total_seconds(), 0)
            day += pd.Timedelta(days=1)
        out.append(total / 3600)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=20, help="tickets per weekday ÷ 32")
    args = ap.parse_args()
    tickets = simulate.support_tickets(seed=5, per_weekday=32 * args.scale,
                                       per_weekend_day=8 * args.scale)
    n = len(tickets)
    print(f"{n:,} simulated tickets")

    s = Schedule(holidays=[dt.date(2026, 4, 3), dt.date(2026, 4, 6)])
    sub = tickets.dropna(subset=["solved_ts"]).head(5000)
    vec = best_of(lambda: s.duration(sub["opened_ts"], sub["solved_ts"]))
    base = best_of(lambda: loop_business_hours(s, sub["opened_ts"], sub["solved_ts"]), 1)
    agree = np.allclose(s.duration(sub["opened_ts"], sub["solved_ts"]),
                        loop_business_hours(s, sub["opened_ts"], sub["solved_ts"]))
    print(f"business hours, 5,000 tickets: vectorised {vec * 1e3:.1f} ms, loop {base:.2f} s, "
          f"ratio {base / vec:,.0f}× faster; results agree: {agree}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        simulate.write_csv(tickets, path)
        mb = path.stat().st_size / 1e6

        def with_duckdb():
            with duckdb.connect(":memory:") as con:
                con.execute("SELECT * FROM read_csv(?, header=true, all_varchar=true)",
                            [str(path)]).df()

        t_duck = best_of(with_duckdb)
        t_pd = best_of(lambda: pd.read_csv(path, dtype=str, keep_default_na=False))
        print(f"read {mb:.0f} MB CSV: duckdb {t_duck:.2f} s, pandas {t_pd:.2f} s, "
              f"ratio pandas/duckdb {t_pd / t_duck:.2f}")

    frame = tickets.rename(columns={"opened_ts": "created", "first_reply_ts": "first_response",
                                    "solved_ts": "resolved", "agent_fcr": "fcr_flag"})
    frame = frame[["ticket_id", "created", "first_response", "resolved", "fcr_flag", "channel"]]
    ctx = kpi.Context(data_cut=pd.Timestamp("2026-06-30 23:59:59"), schedule=s)
    for size in (n // 10, n):
        part = frame.head(size).assign(period=lambda d: kpi.period_labels(d["created"], "month"))
        t = best_of(lambda p=part: kpi.kpi_table(kpi.prepare(p, ctx), ctx, by="period"))
        print(f"KPI engine, {size:,} tickets: {t:.2f} s ({1e3 * t / size * 1000:.1f} ms per "
              "1,000 tickets)")


if __name__ == "__main__":
    main()
