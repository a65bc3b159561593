"""The synthetic_control study type: the study's numbers are stats.synth's on the same panel,
the flagship-pilot demo recovers its known effect end to end, bad input gets one message, the
template declares exactly the schema."""

from __future__ import annotations

import ast
import json
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, params_with

from sqresearch.cli import runner
from sqresearch.designs.synthetic_control import SyntheticControl
from sqresearch.io import params
from sqresearch.io.errors import ParamsError
from sqresearch.io.schemas import STUDY_TYPES
from sqresearch.io.yaml_files import read_yaml
from sqresearch.simulate import TRUTH
from sqresearch.simulate.synth import factor_panel
from sqresearch.stats import sdid, synth, synth_placebo

DEMO = ROOT / "params" / "flagship_pilot.yaml"


@pytest.fixture(scope="module")
def study():
    return SyntheticControl(params.load(DEMO), str(DEMO))


def test_weights_effect_and_placebo_p_are_stats_synth_on_the_same_panel(study):
    tidy = pd.read_csv(ROOT / "data" / "flagship_pilot.csv")
    ref = synth.synth_control(tidy, "FLAG", 21, unit="branch", period="week", outcome="wait_min")
    pl = synth_placebo.placebo_in_space(tidy, "FLAG", 21, unit="branch", period="week",
                                        outcome="wait_min", exclude_mspe=5.0)
    f = study.fits[("wait", "FLAG")]
    got = f.fit.weights.set_index("donor")["weight"]
    want = ref.weights.set_index("donor")["weight"].reindex(got.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-10)
    row = study.verdict("wait", "FLAG")
    assert row.estimate == pytest.approx(ref.effect, rel=1e-10)
    assert row.pre_rmspe == pytest.approx(ref.pre_rmspe, rel=1e-10)
    assert (row["rank"], row.n_units) == (pl.rank, pl.n_units)
    assert row.p_value == pytest.approx(pl.p_value)
    # the % effect is the mean gap over the mean synthetic level after the intervention
    post = ref.gaps[ref.gaps["post"]]
    assert row.effect_pct == pytest.approx(100 * post["gap"].mean() / post["synthetic"].mean())
    it = synth.in_time_placebo(tidy, "FLAG", 21, shift=10, unit="branch", period="week",
                               outcome="wait_min")
    assert f.in_time.effect == pytest.approx(it.effect, rel=1e-10)


def test_demo_end_to_end_recovers_the_known_effect(tmp_path):
    outcome = runner.run_study(DEMO, out=tmp_path, force=True)
    assert outcome.exit_code == 0, outcome.message
    res = json.loads((tmp_path / "flagship_pilot" / "results.json").read_text())
    by_key = {r["key"]: r for r in res["results"]}
    truth = TRUTH["flagship_pilot"]
    wait = by_key["synth.verdict.wait.FLAG"]
    # direction right, within 1 minute of the truth, judged improved at the demo's α = 0.10
    assert np.sign(wait["estimate"]) == np.sign(truth["wait_effect_min"])
    assert abs(wait["estimate"] - truth["wait_effect_min"]) < 1.0
    assert wait["verdict"] == "improved" and wait["decided_by"] == "placebo_in_space"
    assert wait["p_value"] == pytest.approx(1 / by_key["synth.placebo.wait.FLAG"]["n"])
    assert by_key["synth.verdict.csat.FLAG"]["verdict"] == "inconclusive"  # truth: no effect
    weights = [r["estimate"] for k, r in by_key.items() if k.startswith("synth.weight.wait.")]
    assert len(weights) == 15 and sum(weights) == pytest.approx(1)
    for key in ("synth.effect_pct.wait.FLAG", "synth.fit.wait.FLAG.pre_rmspe",
                "synth.in_time.wait.FLAG", "synth.gap.wait.FLAG.28",
                "synth.placebo_unit.wait.FLAG.B01"):
        assert key in by_key
    assert "1 of 15 branches shows a gap this large" in " ".join(res["summary"])
    assert not any(r.get("verdict") == "equivalent" for r in res["results"])


def test_several_treated_units_use_synthetic_did_as_stats_sdid(tmp_path):
    rng = np.random.default_rng(7)
    panel = factor_panel(rng, donors=12, treated=3, pre=12, post=4, effect=-3.0, level=20.0)
    path = tmp_path / "three.csv"
    panel.to_csv(path, index=False)
    p = params.validate({
        "study_type": "synthetic_control", "study_id": "three", "title": "Three branches",
        "data": {"path": str(path)}, "unit": "unit", "period_column": "period",
        "treated_units": ["treated_1", "treated_2", "treated_3"], "intervention_period": 13,
        "outcomes": [{"name": "wait", "column": "value", "type": "continuous",
                      "direction": "lower", "unit": "min"}], "placebo_reps": 60,
        "seed": 3}, "test")
    s = SyntheticControl(p, "test")
    assert s.design == "sdid"
    ref = sdid.synth_did(panel, ["treated_1", "treated_2", "treated_3"], 13, unit="unit",
                         period="period", outcome="value", placebo_reps=60, seed=3)
    row = s.verdict("wait")
    assert row.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert row.ci_low == pytest.approx(ref.ci_low) and row.ci_high == pytest.approx(ref.ci_high)
    assert row.effect == pytest.approx(ref.estimate)  # the mean post-period gap of the path is τ̂
    assert row.ci_low < -3.0 < row.ci_high and row.verdict == "improved"
    assert "synth.time_weight.wait.1" in {r.key for r in s.results().items.values()}


def _drop_cell(d):
    return d[~((d.branch == "B03") & (d.week == 7))]


BAD = [
    ("treated unit not in the data", lambda t: params_with(t, "flagship_pilot",
                                                           treated_units=["FLAGG"]),
     ["key 'treated_units' (FLAGG)", "is not a unit in column 'branch'", "did you mean 'FLAG'"]),
    ("too few pre-periods", lambda t: params_with(t, "flagship_pilot", intervention_period=3),
     ["key 'intervention_period' (3)", "leaves 2 pre-period(s)", "needs at least 4"]),
    ("intervention period not in the data",
     lambda t: params_with(t, "flagship_pilot", intervention_period=40),
     ["key 'intervention_period' (40)", "is not a value of column 'week'"]),
    ("missing cells", lambda t: params_with(t, "flagship_pilot", rows=_drop_cell),
     ["column 'wait_min'", "1 missing branch × week cell(s)", "'B03' × '7'"]),
    ("missing value", lambda t: params_with(t, "flagship_pilot", rows=lambda d: d.assign(
        wait_min=d.wait_min.where(~((d.branch == "FLAG") & (d.week == 2))))),
     ["'FLAG' × '2'", "missing"]),
    ("donor pool of one", lambda t: params_with(t, "flagship_pilot", donors=["B01"]),
     ["key 'donors'", "the donor pool holds 1 unit(s) (B01)", "needs at least 2"]),
    ("a donor not in the data", lambda t: params_with(t, "flagship_pilot", donors=["B01", "X9"]),
     ["key 'donors' (X9)", "is not a unit"]),
    ("treated unit named twice",
     lambda t: params_with(t, "flagship_pilot", treated_units=["FLAG", "FLAG"]),
     ["treated_units names ['FLAG'] more than once", "list each treated unit once"]),
    ("treated unit also a donor",
     lambda t: params_with(t, "flagship_pilot", donors=["FLAG", "B01"]),
     ["['FLAG'] are both treated and donors"]),
    ("duplicate rows", lambda t: params_with(t, "flagship_pilot", rows=lambda d: pd.concat(
        [d, d.iloc[[3]]])), ["more than one row for a unit and period", "'FLAG × 4'"]),
    ("in-time shift too long", lambda t: params_with(
        t, "flagship_pilot", placebo={"in_time_shift": 19}),
     ["key 'placebo.in_time_shift' (19)", "use a shift of at most 18"]),
    ("sdid without enough controls", lambda t: params_with(
        t, "flagship_pilot", treated_units=["FLAG", "B01", "B02"], donors=["B03", "B04"]),
     ["synthetic DiD with 3 treated and 2 control units"]),
]


@pytest.mark.parametrize("make, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_synthetic_control_input(tmp_path, run_cli, make, expected):
    assert_user_error(run_cli, make(tmp_path), expected, tmp_path)


def test_bad_params_are_params_errors():
    mapping = read_yaml(DEMO.read_text(encoding="utf-8"))
    with pytest.raises(ParamsError, match="more than once"):
        params.validate({**mapping, "treated_units": ["FLAG", "FLAG"]}, "x.yaml")


def test_template_parameters_are_the_schema_and_the_demo():
    nb = nbformat.read(ROOT / "notebooks" / "synthetic_control.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = [t.id for n in ast.parse(cell.source).body for t in n.targets]
    assert names == list(STUDY_TYPES["synthetic_control"].model_fields)
    sys.path.insert(0, str(ROOT / "tools"))
    from sync_parameters import parameters_source

    assert cell.source == parameters_source(DEMO)
