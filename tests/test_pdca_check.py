"""The automatic Check step of PDCA items (designs/monitor/pdca_check.py) on simulated tickets
with a planted action effect: improved → keep, no effect → inconclusive / keep watching, harm →
roll back, an action on some cells → difference-in-differences → extend, too few weeks → not
checked with the weeks still needed; and a reduced null calibration (the full table:
benchmarks/calibration_pdca.py).

The tickets are raw (created, first_response, resolved, fcr_flag, csat) and go through the KPI
engine's ``prepare`` as in a study. Their log first-response times carry a shock per week and
one per team × channel × week (so tickets of a week are correlated, as in real queues)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from sqresearch.designs.monitor.pdca_check import (
    NOT_CHECKED,
    CheckResult,
    PdcaCheckError,
    check_item,
    last_complete_week,
    week_label,
)
from sqresearch.kpi import engine
from sqresearch.kpi.bizhours import Schedule

START = date(2026, 1, 5)  # a Monday


def simulate_tickets(seed: int, *, reps: int = 1, weeks: int = 16, per_cell_week: int = 30,
                     teams=("east", "west", "north", "south"), channels=("phone", "email"),
                     action_week: int = 8, frt_effect: float = 0.0, fcr_effect: float = 0.0,
                     ttr_effect: float = 0.0, treated=None, week_sd: float = 0.15,
                     cell_week_sd: float = 0.10) -> tuple[pd.DataFrame, engine.Context, date]:
    """(prepared tickets with ``team``, ``channel`` and ISO ``week``, their KPI context, the
    action start): ``weeks`` ISO weeks from START, the action on the Monday of week index
    ``action_week``; ``frt_effect``, ``ttr_effect`` (log scale) and ``fcr_effect`` (share
    points) apply after it in the ``treated`` (team, channel) cells (None: every cell). The
    data cut is the Monday after the last week, so every week is complete. ``reps`` > 1 stacks
    independent replications (seeds ``seed``, ``seed + 1`` …, column ``rep``), prepared at
    once."""
    cut = pd.Timestamp(START + timedelta(days=7 * weeks))
    raws = [_raw(np.random.default_rng(seed + r), weeks, per_cell_week, teams, channels,
                 action_week, frt_effect, fcr_effect, ttr_effect, treated, week_sd,
                 cell_week_sd, cut).assign(rep=r) for r in range(reps)]
    ctx = engine.Context(data_cut=cut, schedule=Schedule())
    frame = engine.prepare(pd.concat(raws, ignore_index=True), ctx)
    frame["week"] = engine.period_labels(frame["created"], "week")
    return frame, ctx, START + timedelta(days=7 * action_week)


def _raw(rng, weeks, per_cell_week, teams, channels, action_week, frt_effect, fcr_effect,
         ttr_effect, treated, week_sd, cell_week_sd, cut) -> pd.DataFrame:
    cells = [(t, c) for t in teams for c in channels]
    treated = set(cells if treated is None else treated)
    wk = np.repeat(np.arange(weeks), len(cells) * per_cell_week)
    ci = np.tile(np.repeat(np.arange(len(cells)), per_cell_week), weeks)
    n = wk.size
    created = (pd.Timestamp(START) + pd.to_timedelta(wk * 7, unit="D") +
               pd.to_timedelta(rng.uniform(0, 7 * 24 * 3600, n).round(), unit="s"))
    on = np.array([cells[i] in treated for i in range(len(cells))])[ci] & (wk >= action_week)
    week_shock = rng.normal(0, week_sd, weeks)[wk]
    cell_shock = rng.normal(0, cell_week_sd, (weeks, len(cells)))[wk, ci]
    cell_level = np.array([0.1 * i for i in range(len(cells))])[ci]
    log_frt = math.log(30) + cell_level + week_shock + cell_shock + rng.normal(0, 0.8, n)
    frt = np.exp(log_frt + frt_effect * on)
    p_fcr = np.clip(0.7 + week_shock / 3 + cell_shock / 3 + fcr_effect * on, 0.02, 0.98)
    resolved = created + pd.to_timedelta(np.exp(math.log(20) + rng.normal(0, 1, n) +
                                                ttr_effect * on), unit="h")
    return pd.DataFrame({
        "ticket_id": np.arange(n), "created": created,
        "first_response": created + pd.to_timedelta(frt, unit="min"),
        "resolved": resolved.where(resolved <= cut),
        "fcr_flag": (rng.random(n) < p_fcr).astype(float),
        "csat": rng.integers(1, 6, n).astype(float),
        "team": [cells[i][0] for i in ci], "channel": [cells[i][1] for i in ci]})


def item(action_start, kpi="frt_mean", segment="all", action_segments="", id="PDCA-0001"):
    return {"id": id, "kpi": kpi, "segment": segment, "action_start": str(action_start),
            "action_segments": action_segments, "status": "doing"}


def check(it, tickets, ctx, **kw) -> CheckResult:
    kw = {"weeks_after_min": 4, "alpha": 0.05, "seed": 1, "resamples": 199, **kw}
    return check_item(it, tickets, ctx=ctx, **kw)


# --- planted effects ------------------------------------------------------------------------
def test_improvement_on_the_whole_segment_is_kept_and_the_estimate_is_the_log_mean_change():
    tk, ctx, start = simulate_tickets(11, frt_effect=-0.5)
    r = check(item(start), tk, ctx)
    assert (r.verdict, r.act) == ("improved", "keep")
    assert r.method == "before_after: cluster_robust_cr2" and not r.control_cells
    assert r.weeks_after == tuple(week_label(start + timedelta(days=7 * i)) for i in range(8))
    assert r.weeks_before == tuple(week_label(START + timedelta(days=7 * i)) for i in range(8))
    # closed form: the regression on the after dummy is the difference of mean log FRT
    logs = np.log(tk["frt_min"])
    after = tk["week"].isin(r.weeks_after)
    expected = 100 * math.expm1(logs[after].mean() - logs[~after].mean())
    assert r.estimate == pytest.approx(expected, rel=1e-9)
    assert r.ci_low < 100 * math.expm1(-0.5) < r.ci_high < 0
    assert r.unit == "%" and r.sentence.endswith("keep the change.")
    assert r.sentence.count(". ") == 0 and "down" in r.sentence


def test_harm_is_rolled_back_and_a_share_kpi_reads_in_percentage_points():
    tk, ctx, start = simulate_tickets(12, fcr_effect=-0.15)
    r = check(item(start, kpi="fcr"), tk, ctx)
    assert (r.verdict, r.act, r.unit) == ("worsened", "roll back", "percentage points")
    after = tk["week"].isin(r.weeks_after)
    expected = 100 * (tk.loc[after, "fcr"].mean() - tk.loc[~after, "fcr"].mean())
    assert r.estimate == pytest.approx(expected, rel=1e-9)
    assert r.ci_low < -15 < r.ci_high


def test_no_effect_is_inconclusive_keep_watching_until_the_window_is_full():
    tk, ctx, start = simulate_tickets(13)
    r = check(item(start), tk, ctx)
    assert r.verdict == "inconclusive" and r.ci_low < 0 < r.ci_high
    assert r.act == "keep watching"  # 8 weeks so far, the window may grow to 12
    full = check(item(start), tk, ctx, weeks_max=8)
    assert (full.verdict, full.act) == ("inconclusive", "rethink")
    # a tiny SESOI cannot make a null equivalent; a wide one makes the absence of effect shown
    wide = check(item(start), tk, ctx, sesoi=60.0)
    assert (wide.verdict, wide.act) == ("equivalent", "rethink")


def test_an_action_on_some_cells_is_a_did_against_the_others_and_is_extended():
    cells = [("east", "phone"), ("west", "phone")]
    tk, ctx, start = simulate_tickets(14, frt_effect=-0.6, treated=cells)
    it = item(start, action_segments="team=east & channel=phone;team=west & channel=phone")
    r = check(it, tk, ctx)
    assert r.method == "did: randomization_inference"  # 2 treated of 8 cells
    assert r.treated_cells == ("channel=phone & team=east", "channel=phone & team=west")
    assert len(r.control_cells) == 6 and "channel=email & team=north" in r.control_cells
    assert (r.verdict, r.act) == ("improved", "extend")
    assert "extend it to the other cells" in r.sentence
    # closed form: balanced panel, so the TWFE interaction is the 2 × 2 DiD of cell-week means
    w = tk[tk["week"].isin(r.weeks_before + r.weeks_after)]
    m = np.log(w.groupby(["team", "channel", "week"])["frt_min"].mean()).reset_index()
    m["t"] = m["channel"].eq("phone") & m["team"].isin(["east", "west"])
    m["a"] = m["week"].isin(r.weeks_after)
    g = m.groupby(["t", "a"])["frt_min"].mean()
    did = (g[True, True] - g[True, False]) - (g[False, True] - g[False, False])
    assert r.estimate == pytest.approx(100 * math.expm1(did), rel=1e-9)
    # p-value of the exact randomization test: 1 of the 28 assignments is as extreme
    assert r.p_value == pytest.approx(1 / 28)


def test_cells_named_inside_the_items_segment_and_too_few_cells_for_a_verdict():
    tk, ctx, start = simulate_tickets(15, frt_effect=-0.6, treated=[("east", "phone")])
    r = check(item(start, segment="channel=phone", action_segments="team=east"), tk, ctx)
    assert r.treated_cells == ("channel=phone & team=east",)
    assert r.control_cells == tuple(f"channel=phone & team={t}" for t in
                                    ("north", "south", "west"))
    # 1 treated of 4 cells: randomization p-values are multiples of 1/4, never below 0.05
    assert r.p_value >= 0.25 and r.verdict == "inconclusive" and r.act == "review"
    assert "review it by hand" in r.sentence
    gone = check(item(start, segment="channel=phone", action_segments="team=nowhere"), tk, ctx)
    assert (gone.verdict, gone.act) == (NOT_CHECKED, "review")
    assert "no tickets in the action's cell channel=phone & team=nowhere" in gone.sentence


def test_too_few_weeks_says_how_many_more_are_needed():
    tk, ctx, _ = simulate_tickets(16)
    late = START + timedelta(days=7 * 13 + 2)  # a Wednesday: its week is partly treated
    r = check(item(late), tk, ctx)
    assert (r.verdict, r.act, r.weeks_needed) == (NOT_CHECKED, "keep watching", 2)
    assert "2 complete weeks" in r.sentence and "2 more needed" in r.sentence
    assert math.isnan(r.estimate) and not r.checked
    # the report week decides, not the data: an earlier report week needs more weeks
    early = check(item(START + timedelta(days=7 * 8)), tk, ctx,
                  through_week=week_label(START + timedelta(days=7 * 9)))
    assert early.weeks_needed == 2
    assert check(item(""), tk, ctx).weeks_needed == 4  # no action date yet


def test_a_partly_treated_week_is_left_out_and_a_monday_start_counts_its_week():
    tk, ctx, _ = simulate_tickets(17, weeks=12)
    monday = START + timedelta(days=7 * 4)
    r = check(item(monday), tk, ctx)
    assert r.weeks_after[0] == week_label(monday) and r.weeks_before[-1] == week_label(
        monday - timedelta(days=7))
    r = check(item(monday + timedelta(days=3)), tk, ctx)
    assert r.weeks_after[0] == week_label(monday + timedelta(days=7))
    assert r.weeks_before[-1] == week_label(monday - timedelta(days=7))
    assert len(r.weeks_before) == len(r.weeks_after) == 4  # equal: 4 weeks of data before
    r = check(item(START + timedelta(days=7 * 3)), tk, ctx)  # 3 weeks of data before the action
    assert (r.verdict, r.act) == (NOT_CHECKED, "review") and "only 3 weeks" in r.sentence
    assert last_complete_week(ctx.data_cut) == START + timedelta(days=7 * 11)


def test_resolution_time_uses_restricted_means_and_a_volume_is_not_checked():
    tk, ctx, start = simulate_tickets(18, ttr_effect=-0.5)
    r = check(item(start, kpi="ttr_median"), tk, ctx)
    assert r.method == "before_after: rmst_ratio_cluster_bootstrap"
    assert (r.verdict, r.act) == ("improved", "keep")
    v = check(item(start, kpi="contacts"), tk, ctx)
    assert v.verdict == NOT_CHECKED and "no better direction" in v.sentence


def test_a_segment_column_the_tickets_lack_is_a_clear_error():
    tk, ctx, start = simulate_tickets(19, weeks=10)
    with pytest.raises(PdcaCheckError, match="region"):
        check(item(start, segment="region=north"), tk, ctx)
    with pytest.raises(PdcaCheckError, match="not a real calendar date"):
        check(item("2026-02-30"), tk, ctx)


# --- calibration ------------------------------------------------------------------------------
def null_verdicts(reps: int, seed: int, **kw) -> pd.Series:
    """The verdicts of ``reps`` checks of 4 weeks after vs 4 before, no effect planted."""
    tk, ctx, start = simulate_tickets(seed, reps=reps, weeks=8, action_week=4, **kw)
    it = item(start, action_segments=_cells(kw.get("treated")))
    return pd.Series([check(it, part, ctx, weeks_max=4, seed=r).verdict
                      for r, part in tk.groupby("rep")])


def _cells(treated) -> str:
    return ";".join(f"team={t} & channel={c}" for t, c in treated) if treated else ""


def test_reduced_calibration_false_verdicts_stay_near_alpha():
    """No effect planted: the share of "improved" or "worsened" checks is near α = 5 % (the
    full table, with power: benchmarks/calibration_pdca.py)."""
    ba = null_verdicts(150, 5000, teams=("east",), channels=("phone",), per_cell_week=40)
    rate = ba.isin(["improved", "worsened"]).mean()
    assert 0.01 <= rate <= 0.10, rate  # binomial(150, 0.05): 2.5–97.5 % range 2.0–8.7 %
    did = null_verdicts(60, 9000, per_cell_week=8,
                        treated=[("east", "phone"), ("west", "phone")])
    assert did.isin(["improved", "worsened"]).mean() <= 0.10  # exact test: at most α in theory
