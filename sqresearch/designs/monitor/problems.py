"""From alerts to problems: how long each alert has been running, its impact in tickets, what
drove it (mix or rate), and the few problems that matter most.

**Running alerts.** The weeks before the report week are judged in order (``history`` weeks);
while a cell's alert runs, its weeks stay out of that cell's baseline, so a problem that
persists is compared with the normal it left and is one problem with its age ("third week
running"), not a baseline that slowly absorbs it.

**Impact** is counted in tickets, the unit a manager counts: this week's tickets of the cell
with a bad outcome beyond what the baseline rate would give, n × (share_now − share_base),
where a bad outcome is a failure (a rate metric: not resolved at first contact, SLA missed …),
a detractor (NPS), or a value worse than the baseline's median (durations and scores: replies
slower than the typical baseline reply). Durations add the excess customer-hours waiting,
n × (mean_now − mean_base) in hours.

**One problem, one place.** A change is reported at the level where it sits: an alert whose
change is driven by rates (Kitagawa decomposition across the finer segments) is left to a finer
alerting cell of the same metric inside it; an alert driven by mix is kept at the coarsest
level whose mix changed, and finer mix-driven alerts inside it are folded into it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sqresearch.designs.monitor.weekly import (
    Metric,
    cell_mask,
    cell_parts,
    finer_segments,
)
from sqresearch.stats.alerts import Alerts, baseline_alerts
from sqresearch.stats.decompose import decompose


def judge_week(weekly: pd.DataFrame, week: str, p, runs: dict | None = None) -> Alerts:
    """The alerts of ``week``; ``runs`` maps (metric, cell) to the weeks of its running alert,
    which are left out of that cell's baseline."""
    w = weekly
    if runs:
        drop = pd.Series(False, index=w.index)
        for (kpi, cell), weeks in runs.items():
            drop |= (w["kpi"] == kpi) & (w["cell"] == cell) & w["week"].isin(weeks)
        w = w[~drop]
    b, a = p.baseline, p.alerts
    with warnings.catch_warnings():  # a cell whose baseline has one week: judged "not judged"
        warnings.simplefilter("ignore", RuntimeWarning)
        return baseline_alerts(
            w, week, baseline_weeks=b.weeks, baseline=(b.start, b.end) if b.start else None,
            seasonal=b.seasonal, control=a.control, expected_false=a.expected_false, q=a.q,
            min_volume=a.min_volume, min_weeks=a.min_weeks)


def running_alerts(weekly: pd.DataFrame, week: str, p) -> tuple[Alerts, dict, dict]:
    """This week's alerts with running alerts kept out of their baselines, the age of every
    alert (weeks running, this one included) and the earlier weeks of each running alert."""
    weeks = sorted(weekly["week"].unique())
    start = max(0, weeks.index(week) - p.alerts.history) if week in weeks else 0
    runs: dict[tuple, list[str]] = {}
    result = None
    for w in [x for x in weeks[start:] if x <= week]:
        result = judge_week(weekly, w, p, runs)
        if w == week:
            break
        hit = result.table.loc[result.table["alert"], ["kpi", "cell"]]
        alerted = set(map(tuple, hit.to_numpy()))
        runs = {k: [*runs.get(k, []), w] for k in alerted}
    now = map(tuple, result.table.loc[result.table["alert"], ["kpi", "cell"]].to_numpy())
    return result, {k: len(runs.get(k, [])) + 1 for k in now}, runs


def baseline_weeks(all_weeks: list[str], week: str, p, skip: list[str]) -> list[str]:
    """The baseline weeks of a cell for ``week`` (as ``judge_week`` uses them)."""
    if p.baseline.start:
        return [w for w in all_weeks if p.baseline.start <= w <= p.baseline.end]
    return [w for w in all_weeks if w < week and w not in skip][-p.baseline.weeks:]


def impact(frame: pd.DataFrame, m: Metric, cell: str, week: str, base: list[str]) -> dict:
    """Excess tickets with a bad outcome in ``cell`` this week (see the module notes)."""
    rows = frame[cell_mask(frame, cell)]
    v = rows[m.values]
    now, past = v[(rows["week"] == week) & v.notna()], v[rows["week"].isin(base) & v.notna()]
    s = m.spec
    if m.kind == "rate":
        bad_now = (now < 0.5) if s.direction == "higher" else (now > 0.5)
        bad_past = (past < 0.5) if s.direction == "higher" else (past > 0.5)
    elif s.type == "nps":
        bad_now, bad_past = now < 0, past < 0
    else:
        med = float(np.median(past)) if len(past) else np.nan
        worse = (lambda x: x > med) if s.direction == "lower" else (lambda x: x < med)
        bad_now, bad_past = worse(now), worse(past)
    share_now = float(bad_now.mean()) if len(now) else np.nan
    share_base = float(bad_past.mean()) if len(past) else np.nan
    out = {"n": len(now), "bad_share_now": share_now, "bad_share_base": share_base,
           "excess": len(now) * (share_now - share_base), "excess_hours": np.nan}
    if s.type == "duration":
        minutes_now, minutes_past = np.exp(now), np.exp(past)
        out["excess_hours"] = len(now) * (minutes_now.mean() - minutes_past.mean()) / 60
    return out


def driver(frame: pd.DataFrame, m: Metric, cell: str, week: str, base: list[str],
           segments: list[str]) -> dict:
    """The mix-vs-rate decomposition of the cell's change across each finer segment; the
    segment whose decomposition explains most is kept."""
    rows = frame[cell_mask(frame, cell) & frame[m.values].notna()]
    rows = rows.assign(_period=np.where(rows["week"] == week, "now",
                                        np.where(rows["week"].isin(base), "base", "")))
    best = {"driver": "rate", "by": "", "top": "", "rate_effect": np.nan,
            "mix_effect": np.nan, "table": None}
    for seg in finer_segments(cell, segments):
        d = decompose(rows[rows["_period"] != ""].astype({seg: str}), seg, m.values, "_period",
                      "base", "now")
        size = abs(d.rate_effect) + abs(d.mix_effect)
        if best["table"] is None or size > abs(best["rate_effect"]) + abs(best["mix_effect"]):
            best = {"driver": d.driver, "by": seg, "top": str(d.top_segment),
                    "rate_effect": d.rate_effect, "mix_effect": d.mix_effect, "table": d.table}
    return best


def contains(outer: str, inner: str) -> bool:
    """Whether cell ``inner`` lies inside cell ``outer`` (and differs from it)."""
    o, i = cell_parts(outer), cell_parts(inner)
    return outer != inner and all(i.get(k) == v for k, v in o.items()) and len(i) > len(o)


def problems(frame: pd.DataFrame, alerts: Alerts, ages: dict, runs: dict,
             metrics: list[Metric], week: str, p) -> pd.DataFrame:
    """One row per problem, largest impact first: the alert, its age, impact, driver and the
    baseline weeks used (see the module notes on levels)."""
    t = alerts.table[alerts.table["alert"]]
    if t.empty:
        return pd.DataFrame(columns=[*t.columns, "age", "excess", "driver", "also"])
    by_name = {m.name: m for m in metrics}
    all_weeks = sorted(frame["week"].unique())
    rows = []
    for r in t.itertuples(index=False):
        m = by_name[r.kpi]
        base = baseline_weeks(all_weeks, week, p, runs.get((r.kpi, r.cell), []))
        d = driver(frame, m, r.cell, week, base, list(p.segments))
        rows.append({**r._asdict(), "age": ages.get((r.kpi, r.cell), 1),
                     **impact(frame, m, r.cell, week, base), "driver": d["driver"],
                     "driver_by": d["by"], "driver_top": d["top"],
                     "rate_effect": d["rate_effect"], "mix_effect": d["mix_effect"],
                     "decomposition": d["table"], "baseline_first": base[0] if base else "",
                     "baseline_last": base[-1] if base else "", "label": m.spec.label,
                     "unit": m.spec.unit, "type": m.spec.type})
    return group(pd.DataFrame(rows))


def group(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts grouped into problems (see the module notes): a rate-driven alert is left to a
    finer alerting cell of its metric; rate-driven alerts of one cell are one problem (its
    metrics listed); mix-driven alerts moving toward the same sub-segment are one problem,
    placed at the coarsest such cell. Largest impact first."""
    keep = []
    for r in alerts.itertuples():
        same = alerts[(alerts["kpi"] == r.kpi) & (alerts.index != r.Index)]
        if r.driver == "rate" and any(contains(r.cell, c) for c in same["cell"]):
            continue  # the rate change sits in a finer cell that alerted
        keep.append(r.Index)
    a = alerts.loc[keep].copy()
    a["depth"] = [len(cell_parts(c)) for c in a["cell"]]
    a["key"] = [f"mix:{r.driver_by}={r.driver_top}" if r.driver == "mix" else f"rate:{r.cell}"
                for r in a.itertuples()]
    out = []
    for _, g in a.groupby("key", sort=True):
        g = g.sort_values(["depth", "excess"], ascending=[True, False], kind="mergesort") \
            if g["driver"].iloc[0] == "mix" else \
            g.sort_values("excess", ascending=False, kind="mergesort")
        lead = g.iloc[0].to_dict()
        lead["also"] = [f"{r.label} ({r.cell})" for r in g.iloc[1:].itertuples()]
        out.append(lead)
    cols = [*alerts.columns, "also"]
    if not out:
        return pd.DataFrame(columns=cols)
    res = pd.DataFrame(out)[cols]
    return res.sort_values(["excess", "kpi", "cell"], ascending=[False, True, True],
                           kind="mergesort").reset_index(drop=True)


def playbook(p, metric: str, drive: str) -> str:
    """The playbook's action for a metric and driver (never invented: empty when none)."""
    for play in p.playbook:
        if play.metric == metric and play.driver in (drive, "any"):
            return play.action
    return ""
