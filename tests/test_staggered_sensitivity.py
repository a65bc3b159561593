"""How robust a staggered-adoption verdict is (designs/control_group/staggered_sensitivity): the
joint pre-trend test and the relative-magnitudes bounds recomputed in the test from the
event-time estimates by hand (2 × 2 means, universal base), leave-one-unit-out against a direct
refit, and the specification table's rows."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from scipy import stats

from sqresearch.designs.control_group import ControlGroup
from sqresearch.designs.control_group import staggered_sensitivity as ss
from sqresearch.io import params
from sqresearch.stats.staggered import att_gt
from sqresearch.stats.staggered_agg import aggregate

DEMO = ROOT / "params" / "regional_rollout.yaml"


@pytest.fixture(scope="module")
def study():
    import matplotlib

    matplotlib.use("Agg")
    return ControlGroup(params.load(DEMO), str(DEMO))


def test_event_time_estimates_are_cohort_weighted_two_by_twos_with_the_universal_base(study):
    """θ(e) = Σ_g N_g ATT(g, g + e) / Σ_g N_g with ATT(g, t) = mean(Y_t − Y_{g−1} | g) −
    mean(Y_t − Y_{g−1} | never treated), computed here from the panel."""
    r = study.results_by_metric["frt"]
    coef, vcov, pre, post = ss.event_estimates(study, r)
    wide = r.panel.pivot(index="_unit", columns="t", values="value")
    cohort = r.panel.groupby("_unit")["cohort"].first().loc[wide.index]
    never = wide[cohort == 0]
    T = wide.shape[1]
    for name in pre + post:
        e = int(name.split(":")[1])
        num = den = 0.0
        for g in sorted(cohort[cohort > 0].unique()):
            t = g + e
            if not (1 <= t <= T) or g - 1 < 1:
                continue
            mine = wide[cohort == g]
            att = (mine[t] - mine[g - 1]).mean() - (never[t] - never[g - 1]).mean()
            num += len(mine) * att
            den += len(mine)
        assert coef[name] == pytest.approx(num / den, rel=1e-9, abs=1e-12)
    assert "event:-1" not in pre + post  # the reference period
    assert np.allclose(vcov.to_numpy(), vcov.to_numpy().T)


def test_the_joint_pretrend_test_is_the_wald_form_of_the_event_time_estimates(study):
    r = study.results_by_metric["frt"]
    coef, vcov, pre, _ = ss.event_estimates(study, r)
    s = study.sensitivity["frt"]
    b = coef[pre].to_numpy()
    w = float(b @ np.linalg.solve(vcov.loc[pre, pre].to_numpy(), b))
    n = r.panel["_unit"].nunique()
    assert s.wald.wald == pytest.approx(w, rel=1e-9)
    assert s.wald.f_p == pytest.approx(stats.f.sf(w / len(pre), len(pre), n - 1), rel=1e-9)


def test_the_bounds_at_mbar_zero_are_the_average_post_effect_plus_minus_z_se(study):
    r = study.results_by_metric["frt"]
    coef, vcov, _, post = ss.event_estimates(study, r)
    s = study.sensitivity["frt"]
    avg = coef[post].mean()
    se = float(np.sqrt(np.ones(len(post)) @ vcov.loc[post, post].to_numpy() @
                       np.ones(len(post))) / len(post))
    z = stats.norm.ppf(1 - (1 - s.level) / 2)
    row = s.rm.table.iloc[0]
    assert row.mbar == 0
    assert s.rm.estimate == pytest.approx(avg, rel=1e-9)
    assert (row.ci_low, row.ci_high) == pytest.approx((avg - z * se, avg + z * se), rel=1e-9)


def test_leave_one_unit_out_refits_without_the_unit(study):
    r = study.results_by_metric["frt"]
    s = study.sensitivity["frt"]
    assert len(s.loo) == r.panel["_unit"].nunique()
    row = s.loo.iloc[3]
    part = r.panel[r.panel["_unit"] != row.left_out]
    gt = att_gt(part, "_unit", "t", "value", "cohort", comparison="never", base="varying")
    assert row.estimate == pytest.approx(aggregate(gt, "simple").overall, rel=1e-12)
    assert s.loo["same_verdict"].all()  # the demo's effect is large: no unit flips it


def test_the_specification_table_names_each_choice_and_the_naive_twfe(study):
    s = study.sensitivity["frt"]
    spec = s.spec.set_index("key")
    assert list(spec.index) == ["main", "comparison", "base", "twfe"]
    r = study.results_by_metric["frt"]
    assert spec.loc["main", "estimate"] == pytest.approx(r.overall["estimate"], rel=1e-12)
    gt = att_gt(r.panel, "_unit", "t", "value", "cohort", comparison="notyet")
    assert spec.loc["comparison", "estimate"] == pytest.approx(aggregate(gt, "simple").overall,
                                                               rel=1e-12)
    # the post-period cells use period g − 1 as base under either choice: the same estimate
    assert spec.loc["base", "estimate"] == pytest.approx(spec.loc["main", "estimate"],
                                                         rel=1e-12)
    assert spec.loc["twfe", "estimate"] == pytest.approx(r.twfe["estimate"], rel=1e-12)
    assert spec.loc["twfe", "estimate"] > spec.loc["main", "estimate"]  # TWFE biased to 0
