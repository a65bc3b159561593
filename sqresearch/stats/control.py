"""Control charts with limits from a baseline window: XmR for a mean KPI, p-chart for a rate.

Signals (stated in reports): a point beyond a 3-sigma limit, or a run of 8 consecutive points on
one side of the centre line (Western Electric rule 4), counted only after the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

XMR_FACTOR = 2.66  # 3 / d2 with d2 = 1.128 for moving ranges of two
RUN_LENGTH = 8


@dataclass
class ControlChart:
    """``points``: date, value, centre, lcl, ucl, baseline, beyond, run, signal."""

    kind: str
    kpi: str
    points: pd.DataFrame

    @property
    def signals(self) -> pd.DataFrame:
        return self.points[self.points["signal"]]


def xmr(dates, values, baseline_mask, kpi: str = "", lower_bound: float | None = None
        ) -> ControlChart:
    """Individuals chart: centre = baseline mean, limits = centre ± 2.66 × mean moving range.

    ``lower_bound`` is the KPI's natural floor (0 for durations): a lower limit below it is
    raised to it, as no point can fall there.
    """
    v = np.asarray(values, dtype=float)
    base = np.asarray(baseline_mask, dtype=bool) & ~np.isnan(v)
    if base.sum() < 2:
        raise ValueError("the baseline window holds fewer than two points")
    b = v[base]
    centre = b.mean()
    mr = np.abs(np.diff(b)).mean()
    lcl = np.full(v.size, centre - XMR_FACTOR * mr)
    if lower_bound is not None:
        lcl = np.maximum(lcl, lower_bound)
    ucl = np.full(v.size, centre + XMR_FACTOR * mr)
    return ControlChart("XmR", kpi, _signals(dates, v, centre, lcl, ucl, base))


def p_chart(dates, successes, n, baseline_mask, kpi: str = "") -> ControlChart:
    """p-chart: centre = pooled baseline rate, limits p̄ ± 3 √(p̄(1 − p̄)/n_i), clipped to 0…1."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    base = np.asarray(baseline_mask, dtype=bool) & (n > 0)
    if base.sum() < 2:
        raise ValueError("the baseline window holds fewer than two points")
    pbar = x[base].sum() / n[base].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        half = 3 * np.sqrt(pbar * (1 - pbar) / n)
    return ControlChart("p", kpi, _signals(dates, p, pbar, np.clip(pbar - half, 0, 1),
                                            np.clip(pbar + half, 0, 1), base))


def _signals(dates, v, centre, lcl, ucl, base) -> pd.DataFrame:
    side = np.sign(v - centre)
    run = np.zeros(v.size, dtype=bool)
    count, last = 0, 0
    for i, s in enumerate(side):
        count = count + 1 if (s != 0 and s == last) else (1 if s != 0 else 0)
        last = s
        if count >= RUN_LENGTH:
            run[i - RUN_LENGTH + 1: i + 1] = True
    beyond = (v > ucl) | (v < lcl)
    df = pd.DataFrame({"date": pd.to_datetime(dates), "value": v, "centre": centre, "lcl": lcl,
                       "ucl": ucl, "baseline": base, "beyond": beyond, "run": run})
    df["signal"] = (df["beyond"] | df["run"]) & ~df["baseline"]
    return df


def chart_for(points, baseline_mask, kpi: str) -> ControlChart:
    """The chart that fits a KPI series (``kpi.series`` rows of one KPI, date-sorted): a p-chart
    for a share, else an XmR chart, floored at 0 for durations."""
    unit = points["unit"].iloc[0]
    if unit == "share":
        return p_chart(points["date"], (points["estimate"] * points["n"]).round(), points["n"],
                       baseline_mask, kpi)
    floor = 0.0 if unit in ("min", "h", "business h") else None
    return xmr(points["date"], points["estimate"], baseline_mask, kpi, lower_bound=floor)
