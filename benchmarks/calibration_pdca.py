"""How often the automatic PDCA check calls a change that is not there — and finds one that is.

    PYTHONPATH=. .venv/bin/python benchmarks/calibration_pdca.py [--reps 300] [--power-reps 100]

Tickets from the simulator of tests/test_pdca_check.py (raw tickets through the KPI engine's
``prepare``; log first-response times with a shock per week, sd 0.15, and per cell × week, sd
0.10; FCR shares moved by the same shocks), an action on the Monday after n weeks, checked
after n complete weeks (equal windows). For each scenario ``check_item`` runs with α = 0.05 and
the rates are the share of replications whose verdict is "improved" or "worsened" (nominal:
α = 5 % in all under the null, split 2.5 % / 2.5 %) and, with a planted effect (−0.2 on the log
scale = −18 % for FRT, +5 points for FCR, in the treated cells), the share "improved" (power).
Monte Carlo SE of a 5 % rate over 300 replications: 1.3 points.

- before/after: the action covers the whole segment (8 cells): the week-clustered CR2 regression
  of ``designs/before_after/effects`` (resolution time: RMST ratio, week-cluster bootstrap);
- did: the action covers some cells; the rest are controls; two-way fixed effects on the
  cell × week panel, inference by ``control_group.inference.did_inference`` (randomization
  inference with 2 of 8 treated cells, exact over 28 assignments; the wild cluster bootstrap
  with 6 of 12).

The defaults took 17 min on one core of a shared, busy machine and printed (rates in %)::

          design        kpi  weeks  cells  null_improved  null_worsened  null_any  power_improved
    before/after   frt_mean      4      8            1.7            1.7       3.3            31.0
    before/after   frt_mean      8      8            1.3            1.0       2.3            67.0
    before/after frt_median     12      8            2.7            3.0       5.7            81.0
    before/after        fcr      4      8            2.3            3.3       5.7            21.0
    before/after        fcr      8      8            2.0            3.7       5.7            38.0
    before/after ttr_median      8      8            4.3            2.3       6.7            99.0
      did 2 of 8   frt_mean      4      8            2.7            3.0       5.7            20.0
      did 2 of 8        fcr      8      8            1.3            2.3       3.7            10.0
     did 6 of 12   frt_mean      8     12            2.3            3.0       5.3            81.0

False verdicts stay within Monte Carlo error of 5 % (2.3–6.7 %, SE 1.3 points) on every path.
Power is modest with 4 weeks a side (31 % for an 18 % FRT cut) and grows with the window;
the DiD with 2 treated of 8 cells has little power (randomization p-values move in steps of
1/28). The simulated resolution times carry no week shocks, so their row checks the
restricted-mean bootstrap under independent weeks only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_pdca_check import check, item, simulate_tickets  # noqa: E402  (the tests' simulator)

TEAMS4 = ("east", "west", "north", "south")
TEAMS6 = (*TEAMS4, "centre", "islands")


def scenarios():
    """(name, kpi, window weeks, teams, treated cells or None, effect kwargs)."""
    two = [("east", "phone"), ("west", "phone")]
    six = [(t, "phone") for t in TEAMS6]
    return [
        ("before/after", "frt_mean", 4, TEAMS4, None, "frt_effect"),
        ("before/after", "frt_mean", 8, TEAMS4, None, "frt_effect"),
        ("before/after", "frt_median", 12, TEAMS4, None, "frt_effect"),
        ("before/after", "fcr", 4, TEAMS4, None, "fcr_effect"),
        ("before/after", "fcr", 8, TEAMS4, None, "fcr_effect"),
        ("before/after", "ttr_median", 8, TEAMS4, None, "ttr_effect"),
        ("did 2 of 8", "frt_mean", 4, TEAMS4, two, "frt_effect"),
        ("did 2 of 8", "fcr", 8, TEAMS4, two, "fcr_effect"),
        ("did 6 of 12", "frt_mean", 8, TEAMS6, six, "frt_effect"),
    ]


def run(reps: int, seed: int, effect: float, name, kpi, n, teams, treated, knob,
        resamples: int) -> dict:
    cells = ";".join(f"team={t} & channel={c}" for t, c in treated) if treated else ""
    size = {"frt_effect": effect, "ttr_effect": effect, "fcr_effect": -effect / 4}[knob]
    out = []
    for r in range(reps):
        tk, ctx, start = simulate_tickets(seed * 100_003 + r, weeks=2 * n, action_week=n,
                                          teams=teams, per_cell_week=20, treated=treated,
                                          **{knob: size})
        res = check(item(start, kpi=kpi, action_segments=cells), tk, ctx, weeks_after_min=n,
                    weeks_max=n, seed=r, resamples=resamples)
        out.append(res.verdict)
    v = pd.Series(out)
    return {"design": name, "kpi": kpi, "weeks": n, "cells": 2 * len(teams),
            "improved": 100 * (v == "improved").mean(), "worsened": 100 * (v == "worsened").mean(),
            "inconclusive": 100 * (v == "inconclusive").mean()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--power-reps", type=int, default=100)
    ap.add_argument("--resamples", type=int, default=399)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rows = []
    t0 = time.perf_counter()
    for i, sc in enumerate(scenarios()):
        null = run(args.reps, args.seed + i, 0.0, *sc, args.resamples)
        power = run(args.power_reps, args.seed + 50 + i, -0.2, *sc, args.resamples)
        rows.append({**{k: null[k] for k in ("design", "kpi", "weeks", "cells")},
                     "null_improved": null["improved"], "null_worsened": null["worsened"],
                     "null_any": null["improved"] + null["worsened"],
                     "power_improved": power["improved"]})
        print(f"  {sc[0]} {sc[1]} n={sc[2]} done ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    table = pd.DataFrame(rows).round(1)
    print(f"\nnull: {args.reps} replications; power: {args.power_reps} (effect −0.2 log FRT / "
          f"+5 points FCR); α = 0.05; rates in %\n")
    print(table.to_string(index=False))
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
