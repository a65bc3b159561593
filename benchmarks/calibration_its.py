"""Calibration of the interrupted-time-series tests (a simulation, not a timed test).

    .venv/bin/python benchmarks/calibration_its.py [--reps 1000] [--structural-reps 200]

(about 15 minutes on one core; ``--reps 0`` runs only the structural model.)

Weekly series with yearly seasonality (1.5 sin + 0.8 cos of the 52.18-week cycle), a trend of
0.02 per week and AR(1) errors with unit innovations; the intervention halfway through, with or
without a 3-week washout (the week before the intervention, its week and the week after). Every
segmented fit uses seasonal="fourier:2" (the true season model; "auto" picks it only from two
years on).

For each cell (phi in {0, 0.3, 0.6} × 52 / 104 weeks × washout or not), ``--reps`` series with no
change give the false-positive rate of the level-change test at 5 %, and ``--reps`` fresh series
with a planted level change of +2 give the coverage of its 95 % CI; both for the default AR(1)
errors and for Newey–West. "band" is the share of post periods of the no-change series whose
value lies inside the 95 % prediction band of the counterfactual (AR(1) errors). The structural
model is run on 104 weeks with the washout, with the yearly cycle (fitted with fourier:2) and
without it (fitted with none): false-positive rate and coverage of the average post effect.
Seeded: the same arguments print the same table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sqresearch.simulate import its_series
from sqresearch.stats.its import interrupted_time_series

DELTA = 2.0


def segmented_cell(rng, n, phi, washout, reps):
    out = {"ar1_fpr": 0, "ar1_cover": 0, "nw_fpr": 0, "nw_cover": 0, "band": []}
    for _ in range(reps):
        d, y, when, window = its_series(rng, n, phi, washout)
        res = interrupted_time_series(d, y, when, "fourier:2", washout=window, errors="ar1")
        out["ar1_fpr"] += res.term("post").p_value < 0.05
        s = res.series[res.series["post"] & ~res.series["washout"]]
        out["band"].append(((s["observed"] >= s["pi_low"]) &
                            (s["observed"] <= s["pi_high"])).mean())
        nw = interrupted_time_series(d, y, when, "fourier:2", washout=window,
                                     errors="newey-west")
        out["nw_fpr"] += nw.term("post").p_value < 0.05
        d, y, when, window = its_series(rng, n, phi, washout, DELTA)
        for key, errors in (("ar1_cover", "ar1"), ("nw_cover", "newey-west")):
            r = interrupted_time_series(d, y, when, "fourier:2", washout=window,
                                        errors=errors).term("post")
            out[key] += r.ci_low <= DELTA <= r.ci_high
    return {k: (np.mean(v) if k == "band" else v / reps) for k, v in out.items()}


def structural_cell(rng, phi, reps, season, n=104):
    fpr = cover = 0
    spec = "fourier:2" if season else "none"
    for _ in range(reps):
        d, y, when, window = its_series(rng, n, phi, True, 0.0, season)
        fpr += interrupted_time_series(d, y, when, spec, washout=window,
                                       model="structural").cumulative["average"]["p_value"] < 0.05
        d, y, when, window = its_series(rng, n, phi, True, DELTA, season)
        a = interrupted_time_series(d, y, when, spec, washout=window,
                                    model="structural").cumulative["average"]
        cover += a["ci_low"] <= DELTA <= a["ci_high"]
    return fpr / reps, cover / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--structural-reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20260)
    args = ap.parse_args()
    started = time.perf_counter()
    if args.reps:  # --reps 0 runs the structural model only
        print(f"Segmented model, level change, 5 % tests / 95 % CIs, {args.reps} + {args.reps} "
              "series per cell (seasonal = fourier:2)")
        print(f"{'phi':>4} {'weeks':>5} {'washout':>7} | {'AR(1) FPR':>9} {'cover':>6} {'band':>6} "
              f"| {'NW FPR':>7} {'cover':>6}")
        cell = 0
        for phi in (0.0, 0.3, 0.6):
            for n in (52, 104):
                for washout in (False, True):
                    rng = np.random.default_rng([args.seed, cell])
                    cell += 1
                    r = segmented_cell(rng, n, phi, washout, args.reps)
                    print(f"{phi:>4} {n:>5} {'yes' if washout else 'no':>7} | "
                          f"{r['ar1_fpr']:>9.3f} {r['ar1_cover']:>6.3f} {r['band']:>6.3f} | "
                          f"{r['nw_fpr']:>7.3f} {r['nw_cover']:>6.3f}", flush=True)
    if args.structural_reps:
        print(f"\nStructural model (local linear trend, + fourier:2 regressors when the series "
              f"has the yearly cycle), 104 weeks with the washout, average post effect, "
              f"{args.structural_reps} + {args.structural_reps} series per cell")
        print(f"{'phi':>4} {'cycle':>5} | {'FPR':>6} {'cover':>6}")
        for phi in (0.0, 0.3, 0.6):
            for season in (1.0, 0.0):
                rng = np.random.default_rng([args.seed, 100 + int(10 * phi), int(season)])
                fpr, cover = structural_cell(rng, phi, args.structural_reps, season)
                print(f"{phi:>4} {'yes' if season else 'no':>5} | {fpr:>6.3f} {cover:>6.3f}",
                      flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
