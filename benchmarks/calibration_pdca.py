"""How often the automatic PDCA check calls a change that is not there — and finds one that is.

    PYTHONPATH=. .venv/bin/python benchmarks/calibration_pdca.py [--reps 1000] [--seed 2026]

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

The defaults took N min on one core and printed::

    (table pasted below after the run)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
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
    print(f"\n{time.perf_counter() - t0:.0f} s", np.__version__)


if __name__ == "__main__":
    main()
