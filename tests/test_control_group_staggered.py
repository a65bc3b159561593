"""Staggered adoption in the control-group study: ATT(g, t) against the closed-form 2 × 2 on the
study's own panel, the demo's overall ATT against the simulator's truth, the bad-input messages
and the end-to-end demo run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, params_with, write_params

from sqresearch.designs.control_group import ControlGroup
from sqresearch.designs.control_group.staggered import StaggeredControlGroup
from sqresearch.io import params
from sqresearch.io.errors import ParamsError
from sqresearch.simulate.rollout import regional_rollout, true_overall_att
from sqresearch.simulate.truth import TRUTH

DEMO = ROOT / "params" / "regional_rollout.yaml"


@pytest.fixture(scope="module")
def study():
    import matplotlib

    matplotlib.use("Agg")
    return ControlGroup(params.load(DEMO), str(DEMO))


def test_the_demo_data_is_the_simulators():
    expected = regional_rollout()
    got = pd.read_csv(ROOT / "data" / "regional_rollout.csv", dtype={"chatbot_live": str},
                      keep_default_na=False)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_staggered_params_file_makes_a_staggered_study(study):
    assert isinstance(study, StaggeredControlGroup)
    assert study.cohort_sizes.to_dict() == {"2024-05": 6, "2024-09": 6, "2025-01": 6}
    assert int((study.cohort == 0).sum()) == TRUTH["regional_rollout"]["never_treated"]


def test_att_gt_is_the_closed_form_two_by_two(study):
    """Without covariates ATT(g, t) = mean(Y_t − Y_b | cohort g) − mean(Y_t − Y_b | never),
    b = t − 1 before adoption and g − 1 after it (base_period: varying)."""
    r = study.results_by_metric["frt"]
    wide = r.panel.pivot(index="_unit", columns="t", values="value")
    # the panel itself: log of the CSV's monthly means
    raw = pd.read_csv(ROOT / "data" / "regional_rollout.csv", dtype=str, keep_default_na=False)
    months = sorted(raw["month"].unique())
    raw_wide = raw.assign(t=raw["month"].map({m: i + 1 for i, m in enumerate(months)})).pivot(
        index="region", columns="t", values="frt_min").astype(float)
    np.testing.assert_allclose(wide.to_numpy(), np.log(raw_wide.loc[wide.index].to_numpy()),
                               rtol=1e-12)
    live = raw.groupby("region")["chatbot_live"].first()
    cohort = live.map(lambda v: months.index(v) + 1 if v else 0).loc[wide.index]
    checked = 0
    for row in r.att_gt.itertuples():
        g, t = row.group, row.time
        b = t - 1 if t < g else g - 1
        dy = wide[t] - wide[b]
        expected = dy[cohort == g].mean() - dy[cohort == 0].mean()
        assert row.att == pytest.approx(expected, rel=1e-9, abs=1e-12), (g, t)
        checked += 1
    assert checked == 3 * 17
    # the overall ATT: the cohort-size-weighted mean of the post-adoption cells (equal cohorts)
    post = r.att_gt[r.att_gt["post"]]
    assert r.overall["estimate"] == pytest.approx(post["att"].mean(), rel=1e-12)


def test_the_demo_recovers_the_true_overall_effect(study):
    e = study.verdict("frt")
    truth = true_overall_att()
    assert e.ci_low < truth < e.ci_high
    assert e.verdict == "improved"
    assert "Callaway–Sant'Anna ATT" in e.method_text and "B=999" in e.method_text
    assert "comparison: never-treated" in e.method_text
    # the naive TWFE is visibly biased toward zero: outside the CS interval
    r = study.results_by_metric["frt"]
    assert not (r.overall["ci_low"] <= r.twfe["estimate"] <= r.overall["ci_high"])
    assert r.twfe["estimate"] > truth
    # Bacon weights sum to 1 and reproduce TWFE
    assert r.bacon["weight"].sum() == pytest.approx(1.0)
    assert (r.bacon["weight"] * r.bacon["estimate"]).sum() == pytest.approx(r.twfe["estimate"])


def test_the_words_say_what_the_numbers_say(study):
    text = "\n".join(study.summary_lines())
    assert "reduced first-response time, monthly mean by 19.2 % on average across the three " \
           "roll-out waves" in text
    # CSAT is equivalent: no verb claiming a change
    assert "left average CSAT within the smallest effect of interest (+0.021 on average" in text
    assert "increased average CSAT" not in text
    caveats = "\n".join(study.caveats())
    assert "Event-time band too narrow" in caveats and "6 units" in caveats
    assert "naive two-way fixed-effects estimate misleads" in caveats


def test_covariates_give_the_doubly_robust_version(tmp_path):
    path = params_with(tmp_path, "regional_rollout", covariates=["agents"])
    s = ControlGroup(params.load(path), str(path))
    e = s.verdict("frt")
    assert "doubly robust with agents" in e.method_text
    assert e.ci_low < true_overall_att() < e.ci_high


def _live(value, regions=None, after=None):
    """A CSV edit: set chatbot_live to ``value`` for ``regions`` (all never-treated regions when
    None), in the months after ``after`` only when given."""
    def rows(df):
        df = df.copy()
        live = df["chatbot_live"].fillna("").astype(str).replace("nan", "")
        hit = df["region"].isin(regions) if regions else live == ""
        if after:
            hit &= df["month"] > after
        df["chatbot_live"] = live.where(~hit, value)
        return df
    return rows


@pytest.mark.parametrize("rows, expected", [
    (_live("2023-06", ["R01"]), ["chatbot_live", "adopt before the data start",
                                 "R01 (2023-06)"]),
    (_live("2024-01", ["R02"]), ["adopt in the first period", "R02 (2024-01)"]),
    (_live("2026-01", ["R03"]), ["adopt after the data end", "R03 (2026-01)",
                                 "leave their adoption empty"]),
    (_live("2024-09", ["R04"], after="2024-06"), ["more than one adoption value",
                                                  "R04 (2024-05, 2024-09)"]),
    (_live("2025-03"), ["no never-treated units", "comparison: notyet"]),
])
def test_bad_adoption_dates_are_refused_with_a_fix(tmp_path, run_cli, rows, expected):
    path = params_with(tmp_path, "regional_rollout", rows=rows)
    assert_user_error(run_cli, path, ["data.csv", *expected])


def test_not_yet_treated_comparison_runs_without_never_treated_units(tmp_path):
    def drop_never(d):
        return d[d["chatbot_live"].notna() & (d["chatbot_live"].astype(str) != "nan")]

    path = params_with(tmp_path, "regional_rollout", rows=drop_never, comparison="notyet",
                       primary=["frt"])
    s = ControlGroup(params.load(path), str(path))
    r = s.results_by_metric["frt"]
    assert (r.att_gt["n_comparison"] > 0).all()
    assert "not-yet-treated" in s.verdict("frt").method_text


def test_a_mapping_in_params_works_like_the_column(tmp_path):
    p = demo_params("regional_rollout")
    df = pd.read_csv(ROOT / p["data"]["path"], dtype=str, keep_default_na=False)
    live = df.groupby("region")["chatbot_live"].first()
    p.pop("adoption_column")
    p["adoption"] = {u: v for u, v in live.items() if v}
    s = ControlGroup(params.load(write_params(tmp_path, p)), "x")
    ref = ControlGroup(params.load(DEMO), str(DEMO))
    assert s.verdict("frt").estimate == pytest.approx(ref.verdict("frt").estimate, rel=1e-12)


@pytest.mark.parametrize("changes, expected", [
    ({"adoption": {"R01": "2024-05"}, "treated_units": ["R02"]},
     ["treated_units and adoption disagree", "R02", "R01"]),
    ({"intervention": "2024-05-01"}, ["intervention / post_periods conflict"]),
    ({"adoption": {"R01": "2024-05"}}, ["adoption given twice"]),
    ({"event_window": [2, 6]}, ["event_window"]),
])
def test_conflicting_params_are_refused(changes, expected):
    p = demo_params("regional_rollout")
    if "adoption" in changes and "treated_units" in changes:
        p.pop("adoption_column")
    p.update(changes)
    with pytest.raises(ParamsError) as err:
        params.validate(p, "study.yaml")
    for piece in expected:
        assert piece in str(err.value), (piece, str(err.value))


def test_an_adoption_unit_missing_from_the_data(tmp_path, run_cli):
    p = demo_params("regional_rollout")
    p.pop("adoption_column")
    p["adoption"] = {"R01": "2024-05", "R1": "2024-09"}
    assert_user_error(run_cli, write_params(tmp_path, p), ["key 'adoption' (R1)",
                                                           "is not a unit in the data"])


@pytest.mark.e2e
def test_the_demo_runs_end_to_end(tmp_path, run_cli):
    code, out, err = run_cli("run", DEMO, "--outputs", tmp_path, "--force")
    assert code == 0, err
    d = json.loads((tmp_path / "regional_rollout" / "results.json").read_text(encoding="utf-8"))
    keys = {r["key"]: r for r in d["results"]}
    overall = keys["staggered.frt.overall"]
    assert overall["ci_low"] < true_overall_att() < overall["ci_high"]
    assert keys["verdict.frt"]["verdict"] == "improved"
    for k in ("staggered.frt.att_gt.g=2024-05.t=2024-06", "staggered.frt.cohort.2024-09",
              "staggered.frt.event.e=0", "staggered.frt.event.e=0.band", "staggered.frt.twfe",
              "staggered.frt.event_average",
              "staggered.frt.bacon.later_vs_earlier.2024-09.2024-05"):
        assert k in keys, k
    html = (tmp_path / "regional_rollout" / "report.html").read_text(encoding="utf-8")
    for piece in ("ATT by cohort", "months since adoption", "Goodman-Bacon decomposition",
                  "naive two-way fixed-effects estimate misleads"):
        assert piece in html, piece
