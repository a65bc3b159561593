"""False drift alarms per week and time to detect a slow drift — a Monte Carlo of the drift charts.

    .venv/bin/python benchmarks/calibration_drift.py [--reports 10] [--cells 200]

Each report holds ``--cells`` stable cells of one KPI kind as ``stats.alerts.baseline_alerts``
sees them — rates (FCR 80 %, higher is better), durations (mean log duration 2.0, per-ticket
log-SD 0.8, lower is better), scores (mean 4.2, SD 0.9, higher is better) — Poisson(400)
tickets a cell-week, a fixed baseline of the first k weeks (12 or 26) and 40 monitored weeks
after it (``stats.alerts_drift.weekly_scores``). One-sided EWMA, λ = 0.2, designed for
expected_false = 0.5 false alarms a week across the 200 cells (ARL0 = 400 weeks per cell):

- ``before``: the textbook design (baseline treated as known, ``estimated=False``) and the old
  count — cells whose statistic is above the limit at the report week (no restart);
- ``known_rs``: the textbook limit, counting signals with the restart after each;
- ``after``: each cell's limit designed for its ρ (the baseline's share of a week's
  prediction variance) and df (``estimated=True``), counting signals with the restart; also
  over the last 20 monitored weeks only (``after_late``: nearer the steady state, the chart
  starts at 0 and needs a few weeks to reach its stationary spread).

Rates per week across the 200 cells (target 0.5); MC SE from the spread between reports.
Slow drift: the cells' weekly mean moves in the bad direction by 0.05 of a week's sampling SD
per week from the first monitored week (+0.25 SD in 5 weeks, +1 SD after 20, +2 SD after 40);
``det_b``/``det_a``: share of drifting cells signalling within the 40 weeks, ``wk_b``/``wk_a``:
mean weeks from the drift's start to the first signal among those, before (textbook limit) and
after.
Seeded.

Printed by the defaults (10 reports × 200 cells per row; 2026-12-01, 14 min on a busy core;
the column names shortened since)::

        kind  k   rho   df    before  known_rs     after after_late  det_b  wk_b  det_a  wk_a
        rate 12 0.077  inf 2.43±0.22 0.97±0.08 0.41±0.04  0.44±0.05  0.994  20.0  0.983  22.6
        rate 26 0.037  inf 1.17±0.11 0.57±0.04 0.35±0.03  0.36±0.04  0.999  19.7  0.996  21.3
    duration 12 0.077 11.0 3.06±0.21 1.18±0.07 0.42±0.03  0.45±0.04  0.984  20.9  0.939  24.4
    duration 26 0.037 25.0 1.42±0.14 0.73±0.06 0.36±0.04  0.46±0.05  0.996  19.8  0.989  21.8
       score 12 0.077  inf 1.48±0.12 0.66±0.06 0.25±0.02  0.29±0.02  0.986  21.9  0.952  25.0
       score 26 0.037  inf 1.05±0.12 0.53±0.03 0.33±0.04  0.36±0.05  0.997  20.5  0.992  22.4

Reading: the old count said 0.5 and meant 1.0–3.1 a week (2.4–3.1 with a 12-week baseline):
it counted cells above the limit, not signals, and the textbook limit ignores the baseline's
shared error (``known_rs``: restarts with the textbook limit, still 0.5–1.2). The designed
limits bring the signals to 0.25–0.42 a week over weeks 13–52 and 0.29–0.46 over the last 20.
For scale:
scores drawn from the model itself (ρ = 1/27 or 1/13, ``stats.alerts_drift.signals`` on
100,000 cells) give 0.445 over the 40 weeks and 0.51 over the last 20 with these limits — the
chart starts at 0 and takes ≈ 10 weeks to reach its running spread. Durations (df = k − 1:
Hartung–Knapp's shared scale) sit on the model. Rates at k = 26 (0.35) are ≈ 2 SE under it,
partly the reports whose pooled test sent half their cells to Laney p′ (5 % of cells; only
cells with σ̂_z > 1 switch, which shrinks their scores: 0.1 a week). Scores are under target
for the reason their one-week check is (``calibration_alerts.py``: 0.25–0.34 of 0.5): the
DerSimonian–Laird switch adds between-week variance that is not there, so their scores have
variance ≈ 0.85. The price of the wider limits: a drift of 0.05 weekly SD a week is found
2–3 weeks later (21–25 weeks instead of 20–22) and, at k = 12, in 94–98 % of cells within 40
weeks instead of 98–99 %.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from sqresearch.stats import alerts_drift

SD = {"rate": np.sqrt(0.8 * 0.2 / 400), "duration": 0.8 / 20, "score": 0.9 / 20}


def simulate(rng, kind: str, reports: int, cells: int, k: int, drift: float = 0.0,
             monitored: int = 40) -> pd.DataFrame:
    """One row per KPI (a report) × cell × ISO week; the weekly mean moves by ``drift`` week
    sampling SDs a week (bad direction) from week k + 1."""
    m, weeks = reports * cells, k + monitored
    n = rng.poisson(400, (m, weeks)).astype(float)
    step = drift * SD[kind] * np.maximum(0, np.arange(1, weeks + 1) - k)
    labels = [f"{2026 + (w - 1) // 52}-W{(w - 1) % 52 + 1:02d}" for w in range(1, weeks + 1)]
    cols: dict = {}
    if kind == "rate":
        x = rng.binomial(n.astype(int), np.clip(0.8 - step, 0, 1)).astype(float)
        cols = {"successes": x.ravel(), "direction": "higher"}
    elif kind == "duration":
        v = 2.0 + step + rng.standard_normal((m, weeks)) * np.sqrt(0.64 / n)
        sd = 0.8 * np.sqrt(rng.chisquare(n - 1) / (n - 1))
        cols = {"value": v.ravel(), "sd": sd.ravel(), "direction": "lower"}
    else:
        v = 4.2 - step + rng.standard_normal((m, weeks)) * np.sqrt(0.81 / n)
        sd = 0.9 * np.sqrt(rng.chisquare(n - 1) / (n - 1))
        cols = {"value": v.ravel(), "sd": sd.ravel(), "direction": "higher"}
    return pd.DataFrame({"kpi": np.repeat([f"{kind}{r}" for r in range(reports)],
                                          cells * weeks),
                         "cell": np.tile(np.repeat([f"c{i}" for i in range(cells)], weeks),
                                         reports),
                         "week": np.tile(labels, m), "kind": kind, "n": n.ravel(), **cols})


def scores(table: pd.DataFrame, k: int):
    weeks = sorted(table["week"].unique())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return alerts_drift.weekly_scores(table, (weeks[0], weeks[k - 1]), weeks[-1])


def false_rates(sc, labels, reports: int, cells: int, arl0: float) -> dict:
    """Alarms per week across ``cells`` cells: the old count, restart signals with the textbook
    limit and with the designed one, each report's weekly mean, then mean and SE."""
    z = sc[labels].to_numpy(float)
    chart = alerts_drift.design("ewma", arl0=arl0)
    stat, _ = alerts_drift.signals(z, chart, restart=False)
    _, known = alerts_drift.signals(z, chart)
    after = alerts_drift.chart_scores(sc, labels, arl0=arl0)
    out = {}
    for name, hits in (("before", stat > chart.limit), ("known_rs", known)):
        per = hits.reshape(reports, cells, -1).sum(axis=1).mean(axis=1)
        out[name] = per
    designed = np.zeros_like(known)
    for (r_, d_), rows in after.groupby(["rho", "df"]).groups.items():
        ch = alerts_drift.design("ewma", arl0=arl0, rho=r_, df=d_)
        designed[rows] = alerts_drift.signals(z[rows], ch)[1]
    per = designed.reshape(reports, cells, -1).sum(axis=1)
    out["after"], out["after_late"] = per.mean(axis=1), per[:, -20:].mean(axis=1)
    return {n: (v.mean(), v.std(ddof=1) / np.sqrt(reports)) for n, v in out.items()}, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=10)
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261201)
    a = ap.parse_args()
    arl0 = a.cells / 0.5
    rows = []
    for i, kind in enumerate(("rate", "duration", "score")):
        for k in (12, 26):
            t0 = time.time()
            rng = np.random.default_rng([a.seed, i, k])
            sc, labels = scores(simulate(rng, kind, a.reports, a.cells, k), k)
            rates, after = false_rates(sc, labels, a.reports, a.cells, arl0)
            row = {"kind": kind, "k": k, "rho": round(after["rho"].mean(), 3),
                   "df": after["df"].median()}
            for name, (mean, se) in rates.items():
                row[name] = f"{mean:.2f}±{se:.2f}"
            sd, labels = scores(simulate(rng, kind, a.reports, a.cells, k, drift=0.05), k)
            z = sd[labels].to_numpy(float)
            before = alerts_drift.run_chart(z, alerts_drift.design("ewma", arl0=arl0))[1]
            now = alerts_drift.chart_scores(sd, labels, arl0=arl0)
            first_after = np.array([labels.index(w) if w else -1 for w in now["first_signal"]])
            for name, f in (("b", before), ("a", first_after)):
                row[f"det_{name}"] = round((f >= 0).mean(), 3)
                row[f"wk_{name}"] = round(f[f >= 0].mean() + 1, 1)
            rows.append(row)
            print(f"{kind} k={k}: {time.time() - t0:.0f} s", flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
