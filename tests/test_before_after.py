"""The before/after study: known effects recovered, honest error rates, test choice, goals,
caveats, and the bad inputs the issue names (clear message, exit 2, nothing written)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, params_with

from sqresearch import simulate
from sqresearch.designs.before_after import comparisons as prepost
from sqresearch.designs.before_after.study import BeforeAfter
from sqresearch.io import params
from sqresearch.io.errors import DataError
from sqresearch.kpi.targets import judge_goal
from sqresearch.report import caveats
from sqresearch.stats import its


@pytest.fixture(scope="module")
def chatbot():
    return BeforeAfter(params.load(ROOT / "params" / "chatbot_launch.yaml"))


@pytest.fixture(scope="module")
def coaching():
    return BeforeAfter(params.load(ROOT / "params" / "agent_coaching.yaml"))


def _effect(study, metric, segment="all"):
    e = study.effects
    return e[(e.metric == metric) & (e.segment == segment)].iloc[0]


def test_chatbot_study_recovers_the_simulated_effects(chatbot):
    truth = simulate.TRUTH["support_tickets"]
    frt = _effect(chatbot, "frt")
    assert frt.estimate_name == "ratio of geometric means"
    assert frt.ci_low <= truth["chat_frt_ratio"] <= frt.ci_high
    v = chatbot.verdict("frt")
    assert v.verdict == "improved" and v.method == "cluster_robust_cr2"
    assert v.ci_low <= np.log(truth["chat_frt_ratio"]) <= v.ci_high
    assert chatbot.clustering.columns == ("_week",)  # default: 13 weeks each side
    fcr = _effect(chatbot, "fcr")
    assert fcr.ci_low <= truth["chat_fcr_uplift"] <= fcr.ci_high
    assert set(chatbot.frame["channel"]) == {"chat"}  # the filter holds
    q = chatbot.table.quality.set_index("check")
    assert q.loc["inside the wash-out window", "rows"] > 0


def test_coaching_study_recovers_the_simulated_effects(coaching):
    truth = simulate.TRUTH["agent_coaching"]
    csat = _effect(coaching, "csat_mean")
    assert csat.test == "paired t-test" and csat.ci_low <= truth["csat_uplift"] <= csat.ci_high
    aht = _effect(coaching, "handle_time")
    assert aht.ci_low <= truth["handle_time_ratio"] <= aht.ci_high
    qa = _effect(coaching, "qa_pass")
    assert qa.test == "McNemar"  # one 0/1 outcome per agent and period
    diff = truth["qa_pass_after"] - truth["qa_pass_before"]
    assert qa.ci_low <= diff <= qa.ci_high


def test_holm_runs_over_the_primary_metrics_only(chatbot):
    v = chatbot.verdicts
    assert len(v) == 6 * 4  # six metrics, overall + three teams
    primary = v[v.segment == "all"]
    assert (primary.family == "confirmatory").all()
    assert (primary.p_adjusted >= primary.p_value - 1e-15).all() and primary.p_adjusted.max() <= 1
    seg = v[v.segment != "all"]
    assert (seg.family == "exploratory").all() and (seg.p_adjusted == seg.p_value).all()
    # a CI shown beside a confirmatory verdict excludes 0 exactly when Holm's p is below α
    excl = (primary.ci_low > 0) | (primary.ci_high < 0)
    assert (excl == (primary.p_adjusted < 0.05)).all()


def test_adding_a_segment_never_changes_a_primary_verdict(tmp_path):
    base = BeforeAfter(params.load(ROOT / "params" / "chatbot_launch.yaml"))
    more = BeforeAfter(params.load(params_with(tmp_path, "chatbot_launch",
                                               segments=["team", "category"])))
    cols = ["metric", "verdict", "p_adjusted", "ci_low", "ci_high"]
    a = base.verdicts[base.verdicts.segment == "all"][cols].reset_index(drop=True)
    b = more.verdicts[more.verdicts.segment == "all"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_email_triage_says_equivalent_and_inconclusive_out_loud():
    s = BeforeAfter(params.load(ROOT / "params" / "email_triage.yaml"))
    v = s.verdicts.set_index(["metric", "segment"])
    assert v.loc[("frt", "all"), "verdict"] == "equivalent"  # no true change in e-mail
    assert v.loc[("nps", "all"), "family"] == "exploratory"  # not in primary
    assert "inconclusive" in set(v.verdict)
    assert s.clustering.columns == ("_week",) and bool(v.loc[("fcr", "all"), "guardrail"])
    text = " ".join(s.summary_lines())
    assert "equivalent" in text and "smallest effect of interest ± 10 %" in text


def test_its_and_control_chart_see_the_launch(chatbot):
    level = chatbot.timeseries.its["frt_median"].term("post")
    assert level.ci_high < 0  # first-response median dropped at the launch
    chart = chatbot.timeseries.control_charts[0]
    assert len(chart.signals) >= 5 and (chart.signals["value"] < chart.signals["centre"]).all()


def test_its_in_the_study_is_the_its_function_on_the_weekly_calendar(chatbot):
    res = chatbot.timeseries.its["frt_median"]
    # wash-out: 7 days after the intervention (Wed 2026-04-01): the weeks of Mar 30 and Apr 6
    # overlap it and are left out of the fit, kept on the axis
    wash = res.series.loc[res.series["washout"], "date"].dt.strftime("%Y-%m-%d").tolist()
    assert wash == ["2026-03-30", "2026-04-06"]
    assert chatbot.timeseries.washout() == (pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-07"))
    assert res.t0_date == pd.Timestamp("2026-04-13") and res.errors == "ar1"
    pts = chatbot.timeseries.points("frt_median")
    direct = its.interrupted_time_series(pts["date"], pts["estimate"], "2026-04-01",
                                         washout=("2026-04-01", "2026-04-07"), freq="week")
    pd.testing.assert_frame_equal(res.coefficients, direct.coefficients)
    table, caption = chatbot.timeseries.its_table("fcr")
    assert table["Estimate"].str.endswith("points").all()  # shares in percentage points
    assert "AR(1)" in caption and "t with" in caption
    # FCR's jump fades (slope change against it): said in the caveats with display units
    assert chatbot.timeseries.its["fcr"].fading
    assert any("may be fading" in c and "points" in c for c in chatbot.caveats())


def test_its_without_washout_leaves_out_the_week_that_straddles_the_intervention(tmp_path):
    s = BeforeAfter(params.load(_chatbot_with(tmp_path, washout_days_after=0)))
    res = s.timeseries.its["frt_median"]
    assert s.timeseries.washout() == (pd.Timestamp("2026-04-01"),) * 2  # a Wednesday
    assert res.series.loc[res.series["washout"], "date"].tolist() == [pd.Timestamp("2026-03-30")]


def test_its_options_reach_the_model(tmp_path):
    s = BeforeAfter(params.load(_chatbot_with(tmp_path, its={
        "freq": "week", "metrics": ["frt_median"], "model": "structural"})))
    res = s.timeseries.its["frt_median"]
    assert res.model == "structural" and res.series.loc[res.series["post"], "fitted"].isna().all()
    keys = set(s.results().items)
    assert "its.frt_median.cumulative_effect" in keys and "its.frt_median.pre_trend" not in keys
    nw = BeforeAfter(params.load(_chatbot_with(tmp_path, its={
        "freq": "day", "metrics": ["fcr"], "seasonality": "weekday", "lags": 3})))
    res = nw.timeseries.its["fcr"]
    assert res.errors == "newey-west" and res.lags == 3 and res.seasonal == "weekday"
    assert res.freq == "day" and any(c.startswith("weekday_") for c in res.coefficients.term)


def test_its_too_short_for_its_terms_is_a_data_error(tmp_path):
    s = BeforeAfter(params.load(_chatbot_with(tmp_path, its={"freq": "month",
                                                             "metrics": ["fcr"]})))
    with pytest.raises(DataError, match="key 'its' \\(fcr\\).*(at least|too many)"):
        _ = s.timeseries.its


def test_every_summary_number_is_in_results(chatbot):
    res = chatbot.results()
    keys = set(res.items)
    for m in ("frt", "ttr", "fcr", "sla_response_5min", "csat", "nps"):
        assert f"effect.{m}" in keys and f"verdict.{m}" in keys and f"mde.{m}" in keys
    assert "goal.0.frt" in keys and "its.frt_median.level_change" in keys
    assert "its.frt_median.cumulative_effect" in keys and "its.fcr.effect_at_the_end" in keys
    v = res.items["verdict.frt"]
    assert v.verdict == "improved" and v.decided_by == "cluster_robust_cr2"
    assert v.family == "confirmatory" and v.sesoi == 5 and v.clusters["week"] == 27
    assert res.summary_lines == chatbot.summary_lines()


@pytest.mark.parametrize("kind, draw", [
    ("duration", lambda rng, n: rng.lognormal(1.5, 0.9, n)),
    ("binary", lambda rng, n: (rng.random(n) < 0.7).astype(float)),
    ("continuous", lambda rng, n: rng.integers(1, 6, n).astype(float)),
])
def test_false_positive_rate_is_near_alpha_without_an_effect(kind, draw):
    spec = prepost.MetricSpec("m", "m", kind, "min", "lower", "m")
    rng = np.random.default_rng(31)
    runs = 1000
    hits = sum(prepost.compare_metric(draw(rng, 150), draw(rng, 120), spec, resamples=200)
               .primary.p_value < 0.05 for _ in range(runs))
    assert 0.03 <= hits / runs <= 0.07


def test_paired_shares_use_a_paired_t_test_when_units_have_many_outcomes():
    spec = prepost.MetricSpec("m", "m", "binary", "share", "higher", "m")
    rng = np.random.default_rng(3)
    c = prepost.compare_metric(rng.random(20), rng.random(20), spec, "paired", one_per_unit=False)
    assert c.primary.test == "paired t-test" and c.tests.iloc[1].test == "Wilcoxon signed-rank"


@pytest.mark.parametrize("change, lo, hi, status", [
    (5, 5.5, 12, "achieved"), (5, -2, 4.9, "not achieved"), (5, 2, 9, "inconclusive"),
    (-10, -30, -12, "achieved"), (-10, -8, 3, "not achieved"), (-10, -15, -5, "inconclusive"),
    (5, float("nan"), float("nan"), "inconclusive"),
])
def test_goal_judgement(change, lo, hi, status):
    assert judge_goal(change, lo, hi) == status


def test_caveats_fire_when_they_apply():
    worse_at_end = [10, 11, 10, 9, 10, 11, 10, 10, 14, 15]
    assert "Regression to the mean" in caveats.regression_to_mean("FRT", worse_at_end, "lower")
    assert caveats.regression_to_mean("FRT", [10, 11, 10, 9, 10, 11, 10, 10], "lower") is None
    assert "understate" in caveats.pre_trend("FRT", 0.5, 0.01, 0.05, "min", change=-2.0)
    assert "that trend continuing" in caveats.pre_trend("FRT", -0.5, 0.01, 0.05, "min", -2.0)
    assert caveats.pre_trend("FRT", -0.5, 0.2, 0.05, "min", -2.0) is None
    assert "Small sample" in caveats.small_sample("CSAT", 12, 40)
    assert "Heavy censoring" in caveats.heavy_censoring("TTR", 0.35, "after")
    d = pd.Series(pd.to_datetime(["2026-01-10", "2026-02-10"]))
    assert "Seasonality" in caveats.seasonality(d, d + pd.Timedelta(days=90))


# --- bad inputs ------------------------------------------------------------------------------

def _coaching_with(tmp_path, rows=None, **changes):
    return params_with(tmp_path, "agent_coaching", rows, **changes)


def _chatbot_with(tmp_path, **changes):
    return params_with(tmp_path, "chatbot_launch", **changes)


BAD = [
    ("no data after the intervention", lambda t: _chatbot_with(t, washout_days_after=400),
     ["the after period", "holds no rows"]),
    ("intervention outside the data", lambda t: _chatbot_with(t, intervention="2027-01-01"),
     ["key 'intervention'", "outside the data"]),
    ("empty period in a unit table",
     lambda t: _coaching_with(t, rows=lambda d: d[d.period == "before"]),
     ["the after period", "holds no rows"]),
    ("paired units missing a period",
     lambda t: _coaching_with(t, rows=lambda d: d[~((d.agent_id == "A003") &
                                                    (d.period == "after"))]),
     ["column 'agent_id'", "only one period: line", "'A003'", "design: independent"]),
    ("unknown metric", lambda t: _chatbot_with(t, metrics=["frt", "fcrr"]),
     ["key 'metrics[1]'", "did you mean 'fcr'"]),
    ("goal on a metric not compared",
     lambda t: _chatbot_with(t, goals=[{"metric": "ces", "change": -1, "unit": "absolute"}]),
     ["key 'goals[0].metric'", "not one of the study's metrics"]),
    ("both intervention and period column",
     lambda t: _chatbot_with(t, period_column="period"), ["either intervention"]),
    ("paired design without unit", lambda t: _chatbot_with(t, design="paired"),
     ["needs the unit column"]),
    ("built-in metric on a unit table",
     lambda t: _coaching_with(t, metrics=["frt"]),
     ["computed from a ticket table", "role 'created'"]),
    ("metric without its column",
     lambda t: _chatbot_with(t, data={**demo_params("chatbot_launch")["data"],
                                      "columns": {"created": "opened_ts"}}),
     ["key 'metrics' (frt)", "needs column role(s) first_response"]),
    ("score out of range in a custom metric",
     lambda t: _coaching_with(t, rows=lambda d: d.assign(csat_mean=d.csat_mean.where(
         d.index != 5, 7.5))), ["column 'csat_mean'", "not a number in 1–5", "line 7"]),
    ("constant period column",
     lambda t: _coaching_with(t, rows=lambda d: d.assign(period="pre")),
     ["no rows are left", "neither 'before' nor 'after'",
      "before_value"]),
    ("cluster column not in the file", lambda t: _chatbot_with(t, cluster="agent"),
     ["column 'agent'", "not found"]),
    ("case-mix column misspelt", lambda t: _chatbot_with(t, adjust_for=["chanel"]),
     ["column 'chanel'", "did you mean 'channel'"]),
    ("a smallest effect of the wrong sign", lambda t: _chatbot_with(t, sesoi={"frt": -5}),
     ["key 'sesoi'", "must be positive", "frt"]),
    ("a primary metric the study does not compare",
     lambda t: _chatbot_with(t, primary=["frt", "ces"]),
     ["key 'primary[1]'", "not one of the study's metrics"]),
    ("a guardrail metric the study does not compare",
     lambda t: _chatbot_with(t, guardrails=["csatt"]),
     ["key 'guardrails[0]'", "did you mean 'csat'"]),
    ("an ITS season the tool does not know",
     lambda t: _chatbot_with(t, its={"metrics": ["fcr"], "seasonality": "weekly"}),
     ["key 'its.seasonality'", "'weekly' is not understood", "fourier:K"]),
    ("weekday season terms on a weekly series",
     lambda t: _chatbot_with(t, its={"metrics": ["fcr"], "seasonality": "weekday"}),
     ["key 'its'", "needs a daily series", "freq: day"]),
    ("a Newey–West lag with AR(1) errors",
     lambda t: _chatbot_with(t, its={"metrics": ["fcr"], "errors": "ar1", "lags": 2}),
     ["key 'its'", "errors: newey-west"]),
]


@pytest.mark.parametrize("make, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_before_after_input(tmp_path, run_cli, make, expected):
    assert_user_error(run_cli, make(tmp_path), expected, tmp_path)


def test_bad_input_run_overwrites_nothing(tmp_path, run_cli):
    out = tmp_path / "outputs"
    (out / "chatbot_launch").mkdir(parents=True)
    (out / "chatbot_launch" / "report.html").write_text("last good report")
    path = _chatbot_with(tmp_path, intervention="2027-01-01")
    code, _, err = run_cli("run", path, "--outputs", out)
    assert code == 2 and "outside the data" in err
    assert (out / "chatbot_launch" / "report.html").read_text() == "last good report"
    assert not (out / "chatbot_launch" / "FAILED.html").exists()


def test_the_study_is_a_result_object(chatbot):
    frame = chatbot.to_frame()
    assert "inference" not in frame and len(frame) == len(chatbot.verdicts)
    assert list(chatbot.summary()["verdict"]) == list(frame["verdict"])
    axes = chatbot.plot()
    confirmatory = frame[frame.family == "confirmatory"]
    assert [a.get_title(loc="left") for a in axes] == list(confirmatory["label"])
    assert axes[0].get_xlabel() == "% change"  # first response time: a log ratio shown as %
    assert "<table" in chatbot._repr_html_()
