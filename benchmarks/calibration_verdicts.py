"""Calibration of the before/after verdict path with clustered tickets (issue 9).

Tickets of 2 × W calendar weeks share week-level shocks (intra-week correlation ICC). For each
outcome kind (score, 0/1 share, log-normal duration), ICC and number of weeks, the script runs
R replications with no effect (false-positive rate of an improved/worsened verdict at α = 0.05)
and R with a true effect (coverage of the 95 % CI), for the verdict's inference — CR2 errors
clustered by week with Bell–McCaffrey df — and, side by side, for the naive inference that
treats tickets as independent (Welch). Resolution times with censoring (the RMST ratio, cluster
bootstrap by week with t df) get their own rows: false positives under no effect and coverage
of the true RMST ratio at the data's horizon (closed form, ``simulate.lognormal_rmst``).
Run: ``.venv/bin/python benchmarks/calibration_verdicts.py [--reps 2000]``.
Seeded: the same table every run.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from sqresearch import simulate
from sqresearch.designs.before_after import effects as pe
from sqresearch.designs.before_after.comparisons import MetricSpec

SPECS = {"score": MetricSpec("y", "y", "continuous", "score", "higher", "y"),
         "share": MetricSpec("y", "y", "binary", "share", "higher", "y"),
         "duration": MetricSpec("y", "y", "duration", "min", "lower", "y")}


def cell(kind: str, icc: float, weeks: int, reps: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    clustered = pe.Clustering(("_week",), "week")
    naive = pe.Clustering((), "none")
    out = {"fp_cr2": 0, "fp_naive": 0, "cover_cr2": 0, "cover_naive": 0}
    for effect, key in ((0.0, "fp"), (0.1, "cover")):
        for _ in range(reps):
            df = simulate.clustered_tickets(rng, icc, effect, weeks=weeks, kind=kind)
            for name, clus in (("cr2", clustered), ("naive", naive)):
                lo, hi = pe.regression_effect(df, SPECS[kind], clus, []).interval(0.95)
                out[f"{key}_{name}"] += (lo > 0 or hi < 0) if key == "fp" else lo <= effect <= hi
    return {k: v / reps for k, v in out.items()}


def cell_rmst(icc: float, weeks: int, reps: int, seed: int, resamples: int = 499) -> dict:
    spec = MetricSpec("y", "y", "censored", "min", "lower", "y", "event")
    rng = np.random.default_rng(seed)
    clus = pe.Clustering(("_week",), "week")
    out = {"fp": 0, "cover": 0}
    for effect, key in ((0.0, "fp"), (0.2, "cover")):
        for i in range(reps):
            df = simulate.clustered_tickets(rng, icc, effect, weeks=weeks, kind="censored")
            inf, tau = pe.rmst_effect(df, spec, clus, seed + i, resamples)
            lo, hi = inf.interval(0.95)
            truth = math.log(simulate.lognormal_rmst(tau, effect) / simulate.lognormal_rmst(tau, 0))
            out[key] += (lo > 0 or hi < 0) if key == "fp" else lo <= truth <= hi
    return {k: v / reps for k, v in out.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print(f"{args.reps:,} replications per cell; α = 0.05; effect 0.1 for coverage")
    print("kind      ICC   weeks | false positives: CR2+BM  naive | 95 % coverage: CR2+BM  naive")
    seed = 1
    for kind in ("score", "share", "duration"):
        for icc in (0.05, 0.1, 0.2):
            for weeks in (8, 13):
                r = cell(kind, icc, weeks, args.reps, seed)
                seed += 1
                print(f"{kind:9s} {icc:4.2f}  {weeks:5d} |                  {r['fp_cr2']:6.3f} "
                      f"{r['fp_naive']:6.3f} |                {r['cover_cr2']:6.3f} "
                      f"{r['cover_naive']:6.3f}")
    print("\nresolution time (RMST ratio, cluster bootstrap by week, t with G − 2 df; "
          "effect 0.2 on log time for coverage)")
    print("ICC   weeks | false positives | 95 % coverage")
    for icc in (0.05, 0.1, 0.2):
        for weeks in (8, 13):
            r = cell_rmst(icc, weeks, max(args.reps // 4, 100), seed)
            seed += 1
            print(f"{icc:4.2f}  {weeks:5d} |          {r['fp']:6.3f} |        {r['cover']:6.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
