"""The control-group sensitivity analyses (designs/control_group/sensitivity.py) against direct
computations from the study's own fits: the joint pre-trend Wald statistic β'V⁻¹β, the
relative-magnitudes table at M̄ = 0 and at the breakdown value, the specification rows (OLS
with the CR1 / HC2 sandwich written out here), leave-one-unit-out, and every control-group demo
report with its section and results keys."""

from __future__ import annotations

import html as html_mod
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from scipy import stats

from sqresearch.cli import main as cli
from sqresearch.designs.control_group import sensitivity as cg_sens
from sqresearch.designs.control_group.study import ControlGroup
from sqresearch.io import params
from sqresearch.stats import sensitivity


@pytest.fixture(scope="module")
def pilot():
    return ControlGroup(params.load(ROOT / "params" / "branch_pilot.yaml"))


@pytest.fixture(scope="module")
def trial():
    return ControlGroup(params.load(ROOT / "params" / "coaching_trial.yaml"))


def _event_parts(study, name):
    fit = study.results_by_metric[name].event_fit
    ks = sorted(int(n.split(":")[1]) for n in fit.names if n.startswith("event:"))
    idx = {n: i for i, n in enumerate(fit.names)}
    pre = [idx[f"event:{k}"] for k in ks if k < -1]
    post = [idx[f"event:{k}"] for k in ks if k >= 0]
    return fit, pre, post


@pytest.mark.parametrize("name", ["wait", "csat"])
def test_wald_is_the_quadratic_form_of_the_event_study_fit(pilot, name):
    s = pilot.sensitivity[name]
    fit, pre, _ = _event_parts(pilot, name)
    b, v = fit.beta[pre], fit.vcov[np.ix_(pre, pre)]
    w = float(b @ np.linalg.inv(v) @ b)
    assert len(pre) == 7 and s.wald.q == 7  # 8 pre weeks, k = −1 the reference
    assert s.wald.wald == pytest.approx(w, rel=1e-9)
    assert s.wald.df_denom == fit.clusters - 1 == 11
    assert s.wald.f_p == pytest.approx(stats.f.sf(w / 7, 7, 11), rel=1e-9)


@pytest.mark.parametrize("name", ["wait", "csat"])
def test_rm_bounds_at_zero_are_the_event_study_average_and_its_normal_ci(pilot, name):
    s = pilot.sensitivity[name]
    fit, pre, post = _event_parts(pilot, name)
    lw = np.full(len(post), 1 / len(post))
    est = float(lw @ fit.beta[post])
    se = float(np.sqrt(lw @ fit.vcov[np.ix_(post, post)] @ lw))
    z = stats.norm.ppf(1 - (1 - s.level) / 2)
    row = s.rm.table.set_index("mbar").loc[0.0]
    assert s.rm.estimate == pytest.approx(est, rel=1e-12)
    assert [row.ci_low, row.ci_high] == pytest.approx([est - z * se, est + z * se], rel=1e-9)
    assert list(s.rm.table.mbar) == [0, 0.5, 1, 2]
    bd = s.rm.breakdown
    if np.isfinite(bd):  # at the breakdown value the Bonferroni CI just touches 0
        at = sensitivity.rm_bounds(pd.Series(fit.beta, index=fit.names),
                                   pd.DataFrame(fit.vcov, index=fit.names, columns=fit.names),
                                   *cg_sens.event_terms(pilot.results_by_metric[name]),
                                   mbar=[bd], alpha=1 - s.level).table.iloc[0]
        assert min(abs(at.ci_low), abs(at.ci_high)) == pytest.approx(0, abs=1e-9)
    else:
        assert not row.excludes_zero


def test_two_periods_explain_why_the_event_checks_are_missing(trial):
    for s in trial.sensitivity.values():
        assert s.wald is None and s.rm is None
        assert "Only 1 pre-period" in s.event_note


def _cr1(y, x, g):
    """OLS with the CR1 sandwich written out: (X'X)⁻¹ Σ_g X_g'u_g u_g'X_g (X'X)⁻¹ · c."""
    x, y, g = np.asarray(x, float), np.asarray(y, float), np.asarray(g)
    xtx = np.linalg.inv(x.T @ x)
    b = xtx @ x.T @ y
    u = y - x @ b
    meat = sum(np.outer(x[g == c].T @ u[g == c], x[g == c].T @ u[g == c]) for c in np.unique(g))
    n, k, gg = len(y), x.shape[1], len(np.unique(g))
    v = xtx @ meat @ xtx * gg / (gg - 1) * (n - 1) / (n - k)
    return b, np.sqrt(np.diag(v)), gg - 1


def _hc2(y, x):
    x, y = np.asarray(x, float), np.asarray(y, float)
    xtx = np.linalg.inv(x.T @ x)
    b = xtx @ x.T @ y
    u = y - x @ b
    h = np.einsum("ij,jk,ik->i", x, xtx, x)
    v = xtx @ (x.T * (u ** 2 / (1 - h))) @ x @ xtx
    return b, np.sqrt(np.diag(v)), len(y) - x.shape[1]


def _ci(b, se, df, level):
    q = stats.t.ppf(0.5 + level / 2, df)
    return [b - q * se, b + q * se]


def test_specification_rows_equal_direct_computations(trial):
    p = trial.params
    for name, s in trial.sensitivity.items():
        spec = s.spec.set_index("key")
        panel = trial.results_by_metric[name].panel
        assert spec.loc["main", "verdict"] == trial.verdict(name).verdict == s.verdict
        # (a) covariates: the 2 x 2 DiD with tenure_years, CR1 by agent (60 clusters, 30 / 30)
        x = np.column_stack([np.ones(len(panel)), panel.treated, panel.post,
                             panel.treated * panel.post, panel.tenure_years])
        b, se, df = _cr1(panel.value, x, panel._unit)
        row = spec.loc["did_2x2_covariates"]
        assert row.inference == "cluster_robust_t" and df == 59
        assert row.estimate == pytest.approx(b[3], rel=1e-9)
        assert [row.ci_low, row.ci_high] == pytest.approx(_ci(b[3], se[3], df, s.level),
                                                          rel=1e-9)
        # (a) the ANCOVA without covariates: post on arm and pre, HC2, t with n − 3 df
        wide = panel.pivot_table(index="_unit", columns="post", values="value")
        arm = trial.units.loc[wide.index, "treated"].to_numpy(float)
        b, se, df = _hc2(wide[1.0], np.column_stack([np.ones(len(wide)), arm, wide[0.0]]))
        row = spec.loc["ancova_no_covariates"]
        assert row.estimate == pytest.approx(b[1], rel=1e-9)
        assert [row.ci_low, row.ci_high] == pytest.approx(_ci(b[1], se[1], df, s.level),
                                                          rel=1e-9)
        # (b) 3 teams: too few clusters, not judged, said so
        assert spec.loc["cluster_team", "verdict"] == "not assessed"
        assert spec.loc["cluster_team", "clusters"] == 3
        assert set(spec.same_verdict) <= {"yes", "no", "–"}
        assert s.spec_changes == [] and p.covariates == ["tenure_years"]


def test_cluster_row_with_a_coarser_column_equals_the_cr1_sandwich(trial):
    """30 squads of one coached and one control agent: clustering by squad (30 clusters, both
    arms in each) uses the CR1 t with 29 df on the ANCOVA design."""
    units = trial.units.copy()
    coached = sorted(units.index[units.treated == 1])
    control = sorted(units.index[units.treated == 0])
    squad = {u: f"S{i:02d}" for i, pair in enumerate(zip(coached, control, strict=True))
             for u in pair}
    trial.__dict__["units"] = units.assign(squad=pd.Series(squad))
    try:
        m = trial.metric("csat_mean")
        row = cg_sens._cluster_row(trial, m, "squad", True, False)
    finally:
        trial.__dict__["units"] = units
    panel = trial.results_by_metric["csat_mean"].panel
    wide = panel.pivot_table(index="_unit", columns="post", values="value")
    x = np.column_stack([np.ones(len(wide)), units.loc[wide.index, "treated"], wide[0.0],
                         units.loc[wide.index, "tenure_years"]])
    b, se, df = _cr1(wide[1.0], x, wide.index.map(squad))
    level = trial.sensitivity["csat_mean"].level
    assert row["clusters"] == 30 and row["inference"] == "cluster_robust_t" and df == 29
    assert row["estimate"] == pytest.approx(b[1], rel=1e-9)
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(_ci(b[1], se[1], df, level),
                                                            rel=1e-9)


def test_leave_one_out_uses_the_verdicts_inference(pilot, trial):
    s = pilot.sensitivity["csat"]
    assert len(s.loo) == 12 and set(s.loo.method) == {"randomization_inference"}
    # without one of the two pilot branches one treated unit is left: its 11 re-assignments
    # cannot exclude anything, so the "not worse" verdict rests on each pilot branch
    assert s.verdict == "not worse" and sorted(s.flips) == ["P01", "P02"]
    t = trial.sensitivity["csat_mean"].loo.set_index("left_out")
    panel = trial.results_by_metric["csat_mean"].panel
    wide = panel.pivot_table(index="_unit", columns="post", values="value").drop(index="T001")
    u = trial.units.loc[wide.index]
    b, _, _ = _hc2(wide[1.0], np.column_stack([np.ones(len(wide)), u.treated, wide[0.0],
                                               u.tenure_years]))
    assert t.loc["T001", "estimate"] == pytest.approx(b[1], rel=1e-9)
    assert len(t) == 60 and t.same_verdict.all()


def test_comparison_group_hook_is_empty_without_staggered_adoption(pilot):
    assert cg_sens.comparison_group_rows(pilot, pilot.metrics[0]) == []
    assert not (pilot.sensitivity["wait"].spec.choice == "comparison group").any()


def _control_group_demos() -> list[str]:
    return sorted(f.stem for f in (ROOT / "params").glob("*.yaml")
                  if "study_type: control_group" in f.read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_every_control_group_report_has_the_section_and_the_keys(tmp_path):
    demos = _control_group_demos()
    assert {"branch_pilot", "branch_queueing", "coaching_trial"} <= set(demos)
    out = tmp_path / "outputs"
    code = cli.main(["run", *[str(ROOT / "params" / f"{d}.yaml") for d in demos],
                     "--outputs", str(out), "--jobs", "1"])
    assert code == 0
    for d in demos:
        html = html_mod.unescape((out / d / "report.html").read_text(encoding="utf-8"))
        assert ">How robust is the verdict?<" in html and "specification table" in html
        res = json.loads((out / d / "results.json").read_text(encoding="utf-8"))
        keys = {r["key"] for r in res["results"]}
        assert any("**How robust.**" in line for line in res["summary"])
        metrics = {k.split(".")[1] for k in keys if k.startswith("verdict.")}
        for m in metrics:
            assert {f"sensitivity.{m}.spec.main", f"sensitivity.{m}.loo.flips",
                    f"sensitivity.{m}.loo.min", f"sensitivity.{m}.loo.max"} <= keys, (d, m)
            if any(k.startswith(f"event.{m}.") for k in keys):  # ≥ 2 pre-periods
                assert {f"sensitivity.{m}.rm.mbar={v}" for v in ("0", "0.5", "1", "2")} | \
                    {f"sensitivity.{m}.rm.breakdown"} <= keys, (d, m)
                assert cg_sens.RM_TITLE in html
    pilot = json.loads((out / "branch_pilot" / "results.json").read_text(encoding="utf-8"))
    wald = next(r for r in pilot["results"] if r["key"] == "sensitivity.csat.pretrend_wald")
    assert wald["statistic_name"] == "F" and "F(7, 11)" in wald["method"]
