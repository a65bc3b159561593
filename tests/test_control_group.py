"""The control-group study: known effects recovered on the demo data, the checks that go with a
DiD, and the bad inputs the issue names (clear message, exit 2, nothing written)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, params_with

from sqresearch import simulate
from sqresearch.designs.control_group.analysis import DID_2X2
from sqresearch.designs.control_group.study import ControlGroup
from sqresearch.io import params


@pytest.fixture(scope="module")
def branches():
    return ControlGroup(params.load(ROOT / "params" / "branch_queueing.yaml"))


@pytest.fixture(scope="module")
def trial():
    return ControlGroup(params.load(ROOT / "params" / "coaching_trial.yaml"))


def test_branch_panel_recovers_the_queueing_effect(branches):
    r = branches.results_by_metric["frt_median"]
    truth = math.log(simulate.TRUTH["branch_visits"]["wait_ratio"])
    e = r.estimates.set_index("estimator")
    twfe = e.loc["two-way fixed effects (unit and period)"]
    assert twfe.ci_low <= truth <= twfe.ci_high and twfe.scale == "log"
    # balanced panel: two-way fixed effects and the 2 x 2 DiD give the same estimate
    assert twfe.estimate == pytest.approx(e.loc[DID_2X2].estimate)
    v = branches.effects.set_index(["metric", "segment"]).loc[("frt_median", "all")]
    # 4 treated of 12 branches: the verdict rests on randomization inference, exact over all
    # C(12, 4) = 495 assignments, so its p-value is a multiple of 1/495
    assert v.method == "randomization_inference" and v.treated_clusters == 4
    assert v.p_value * 495 == pytest.approx(round(v.p_value * 495))
    assert v.verdict == "improved" and v.ci_low <= truth <= v.ci_high
    assert r.pretrend["p_value"] > 0.05 and abs(r.placebo["estimate"]) < 0.1
    assert len(r.loo) == 12 and (r.loo["ci_high"] < 0).all()
    assert (r.event[r.event.k >= 0]["estimate"] < 0).all()
    q = branches.table.quality.set_index("check")
    assert q.loc["in the period that contains the intervention", "rows"] > 0


def test_rates_get_a_linear_probability_did(branches):
    e = branches.results_by_metric["sla_wait_10min"].estimates
    lpm = e[e.estimator.str.startswith("linear probability")].iloc[0]
    assert lpm.scale == "linear" and lpm.n > 10_000 and lpm.clusters == 12
    assert lpm.ci_low > 0


def test_randomized_trial_uses_ancova_and_recovers_the_effects(trial):
    truth = simulate.TRUTH["coaching_trial"]
    csat = trial.results_by_metric["csat_mean"]
    assert csat.primary.estimator.startswith("ANCOVA")
    assert csat.primary.ci_low <= truth["csat_effect"] <= csat.primary.ci_high
    aht = trial.results_by_metric["handle_time"].primary
    assert aht.ci_low <= math.log(truth["handle_time_ratio"]) <= aht.ci_high
    assert "Interaction" in set(csat.mixed["Source"])
    assert csat.event is None and csat.notes  # two periods: no event study, and it says so


def test_balance_flags_and_holm_families(trial):
    b = trial.balance.set_index("variable")
    assert b.loc["tenure_years", "flag"] == "imbalanced"
    e = trial.effects
    overall = e[e.segment == "all"]
    assert (overall.family == "confirmatory").all() and len(overall) == 2
    assert (overall.p_adjusted >= overall.p_value - 1e-15).all()
    segments = e[e.segment != "all"]
    assert len(segments) == 6 and (segments.family == "exploratory").all()  # 2 metrics × 3 teams
    assert (segments.p_adjusted == segments.p_value).all() and (segments.ci_level == 0.95).all()


def test_coaching_trial_ancova_matches_r(trial):
    """The verdict effects of the demo trial against R on the same file
    (tests/reference_coaching_trial.R): lm(post ~ treated + pre + tenure_years) with
    sandwich::vcovHC(type = "HC2") and lmtest::coefci(df = n − k). tenure_years is a number,
    not a 37-level factor. Both effects are confirmatory: CSAT (smaller p) at Holm's first step
    (97.5 % CI), handle time at the second (95 %)."""
    e = trial.effects.set_index(["metric", "segment"])
    csat, aht = e.loc[("csat_mean", "all")], e.loc[("handle_time", "all")]
    assert csat.method == "ancova_hc2_t" and csat.verdict == "improved"
    assert csat.estimate == pytest.approx(0.160336243971302, rel=1e-9)
    assert csat.inference.se == pytest.approx(0.0301096759087568, rel=1e-9)
    assert csat.p_value == pytest.approx(1.84869021565513e-06, rel=1e-6)
    assert csat.ci_level == pytest.approx(0.975)
    assert [csat.ci_low, csat.ci_high] == pytest.approx([0.0909855000412062,
                                                         0.229686987901398], rel=1e-9)
    assert [csat.eq_low, csat.eq_high] == pytest.approx([0.100019315159568, 0.220653172783036],
                                                        rel=1e-9)  # 1 − 2 × 0.025 = 95 %
    assert aht.estimate == pytest.approx(-0.0909545273345966, rel=1e-9)
    assert aht.ci_level == pytest.approx(0.95)
    assert [aht.ci_low, aht.ci_high] == pytest.approx([-0.131472976818318,
                                                       -0.0504360778508747], rel=1e-9)
    assert aht.verdict == "improved"  # −8.7 % (handle time: lower is better)


@pytest.fixture(scope="module")
def pilot():
    return ControlGroup(params.load(ROOT / "params" / "branch_pilot.yaml"))


def test_pilot_with_two_treated_units_is_not_called_a_success(pilot):
    """No true effect (simulate.TRUTH["branch_pilot"]): the naive cluster-robust t-test calls
    the pilot a success, randomization inference over all C(12, 2) = 66 assignments does not."""
    assert simulate.TRUTH["branch_pilot"]["wait_ratio"] == 1.0
    naive = pilot.results_by_metric["wait"].primary
    assert naive.p_value < 0.05 and naive.ci_high < 0
    v = pilot.effects.set_index(["metric", "segment"]).loc[("wait", "all")]
    assert v.method == "randomization_inference" and v.treated_clusters == 2
    assert v.p_value > 0.05 and v.p_value * 66 == pytest.approx(round(v.p_value * 66))
    assert v.verdict == "inconclusive" and v.ci_low < 0 < v.ci_high
    assert any("Very few treated units" in c for c in pilot.caveats())
    # periods 1 … 16 are numbers: the event study runs in week order, not 1, 10, 11, …
    order = pilot.results_by_metric["wait"].event["k"].tolist()
    assert order == sorted(order) and len(order) == 16


def test_results_hold_every_summary_estimate(branches):
    res = branches.results()
    for m in ("frt_median", "sla_wait_10min", "csat_mean"):
        assert f"effect.{m}" in res.items and f"pretrend.{m}" in res.items
    assert res.items["goal.0.frt_median"].verdict == "achieved"


def _trial_with(tmp_path, rows=None, **changes):
    return params_with(tmp_path, "coaching_trial", rows, **changes)


def _branches_with(tmp_path, **changes):
    return params_with(tmp_path, "branch_queueing", **changes)


BAD = [
    ("no treated units", lambda t: _branches_with(t, treated_units=["B99"]),
     ["key 'treated_units' (B99)", "is not a unit", "there are no treated units"]),
    ("no control units", lambda t: _branches_with(t, treated_units=[f"B{i:02d}" for i in
                                                                   range(1, 13)]),
     ["there are no control units"]),
    ("a unit in both arms",
     lambda t: _trial_with(t, rows=lambda d: d.assign(arm=d.arm.where(
         ~((d.agent_id == "T001") & (d.period == "post")), "control" if d.loc[0, "arm"] ==
         "coached" else "coached"))), ["unit(s) in both arms: line", "'T001'"]),
    ("no pre period", lambda t: _branches_with(t, intervention="2025-06-01"),
     ["there is no pre-intervention period"]),
    ("constant outcome", lambda t: _trial_with(t, rows=lambda d: d.assign(csat_mean=4.0)),
     ["column 'csat_mean'", "the outcome is constant"]),
    ("treated units named twice", lambda t: _trial_with(t, treated_units=["T001"]),
     ["name the treated units one way"]),
    ("covariate not numeric", lambda t: _trial_with(t, covariates=["team"]),
     ["column 'team'", "covariates must be numbers", "line 2: 'north'"]),
    ("KPI metric on a unit table", lambda t: _trial_with(t, metrics=["frt_median"], custom_metrics=[
        {"name": "csat_agent", "column": "csat_mean", "type": "continuous",
         "direction": "higher"}], goals=[]),
     ["computed from a ticket table", "role 'created'"]),
]


@pytest.mark.parametrize("make, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_control_group_input(tmp_path, run_cli, make, expected):
    assert_user_error(run_cli, make(tmp_path), expected, tmp_path)


def test_mixed_anova_interaction_is_the_squared_t_of_change_scores(trial):
    """Textbook identity for a 2 × 2 mixed design: the arm × time F equals t² of the
    pooled-variance two-sample t-test on the change scores (post − pre)."""
    from scipy import stats

    r = trial.results_by_metric["csat_mean"]
    wide = r.panel.pivot_table(index="_unit", columns="post", values="value")
    change = wide[1.0] - wide[0.0]
    arm = trial.units.loc[change.index, "treated"]
    t = stats.ttest_ind(change[arm == 1], change[arm == 0], equal_var=True).statistic
    f = r.mixed.set_index("Source").loc["Interaction", "F"]
    assert f == pytest.approx(t ** 2, rel=1e-9)


def test_periods_are_ordered_pre_before_post():
    from sqresearch.designs.control_group.load import period_order

    panel = pd.DataFrame({"period": ["post", "pre", "2026-02", "2026-01"],
                          "post": [1.0, 0.0, 1.0, 0.0]})
    assert period_order(panel) == ["2026-01", "pre", "2026-02", "post"]


def test_the_study_is_a_result_object():
    study = ControlGroup(params.load(ROOT / "params" / "coaching_trial.yaml"))
    frame = study.to_frame()
    assert "inference" not in frame and len(frame) == len(study.effects)
    axes = study.plot()
    assert [a.get_xlabel() for a in axes] == ["score", "% change"]
    assert "<table" in study._repr_html_()
