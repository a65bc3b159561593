"""The verdict words, Holm-consistent intervals and their calibration (closed forms and
simulation)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqresearch.stats import compare, verdicts
from sqresearch.stats.verdicts import (
    decide,
    holm_levels,
    judge_family,
    wald,
)


def _z(est, se=1.0):
    return wald(est, se, math.inf, "z", "normal")


@pytest.mark.parametrize(("est", "direction", "guardrail", "word"), [
    (3.0, "higher", False, "improved"),     # 95 % CI 1.04 to 4.96
    (-3.0, "higher", False, "worsened"),
    (3.0, "lower", False, "worsened"),
    (0.1, "higher", False, "equivalent"),   # 90 % CI −1.54 to 1.74, inside ± 2
    (0.8, "higher", False, "inconclusive"),  # 90 % CI −0.84 to 2.44: crosses +2
    (0.8, "higher", True, "not worse"),     # bad-side bound −0.84 > −2
    (-0.8, "higher", True, "inconclusive"),  # bad-side bound −2.44 < −2
    (-0.8, "lower", True, "not worse"),      # lower is better: bad side is the upper bound
])
def test_decide_words(est, direction, guardrail, word):
    assert decide(_z(est), 0.05, direction, 2.0, guardrail)["verdict"] == word


def test_decide_intervals_are_the_closed_form():
    out = decide(_z(0.8, 0.5), 0.05, "higher", 2.0)
    z95, z90 = stats.norm.ppf(0.975), stats.norm.ppf(0.95)
    np.testing.assert_allclose([out["ci_low"], out["ci_high"]], [0.8 - z95 * 0.5,
                                                                 0.8 + z95 * 0.5], rtol=1e-12)
    np.testing.assert_allclose([out["eq_low"], out["eq_high"]], [0.8 - z90 * 0.5,
                                                                 0.8 + z90 * 0.5], rtol=1e-12)


def test_significant_but_trivial_change_is_said():
    out = decide(_z(0.5, 0.1), 0.05, "higher", 2.0)
    assert out["verdict"] == "improved"
    assert "smaller than the smallest effect" in out["note"]


def test_margin_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        decide(_z(0.0), 0.05, "higher", 0.0)


def test_wald_t_matches_scipy():
    inf = wald(1.2, 0.5, 7, "t", "t")
    assert inf.p_value == pytest.approx(2 * stats.t.sf(2.4, 7), rel=1e-12)
    lo, hi = inf.interval(0.9)
    assert hi == pytest.approx(1.2 + stats.t.ppf(0.95, 7) * 0.5, rel=1e-12)
    assert lo == pytest.approx(1.2 - stats.t.ppf(0.95, 7) * 0.5, rel=1e-12)


def test_margin_on_scale():
    assert verdicts.margin_on_scale(5, "duration") == pytest.approx(math.log(1.05), rel=1e-12)
    assert verdicts.margin_on_scale(2, "share") == pytest.approx(0.02, rel=1e-12)
    assert verdicts.margin_on_scale(3, "nps") == 3


def test_holm_adjusted_p_matches_r():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") -> 0.03 0.06 0.06 0.02
    p_adj, _ = holm_levels([0.01, 0.04, 0.03, 0.005], 0.05)
    np.testing.assert_allclose(p_adj, [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(p_adj, compare.holm([0.01, 0.04, 0.03, 0.005]), rtol=1e-12)


def test_holm_levels_make_ci_and_adjusted_p_agree():
    """A CI at the Holm step's level excludes 0 exactly when the Holm-adjusted p < α."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        m = int(rng.integers(1, 7))
        est = rng.normal(0, 3, m)
        rows = pd.DataFrame({"inference": [_z(e) for e in est], "direction": "higher",
                             "margin": 1.0, "guardrail": False, "family": "confirmatory"})
        out = judge_family(rows, 0.05)
        excludes = (out["ci_low"] > 0) | (out["ci_high"] < 0)
        assert (excludes == (out["p_adjusted"] < 0.05)).all()


def test_exploratory_rows_are_not_adjusted():
    rows = pd.DataFrame({"inference": [_z(2.5), _z(2.1)], "direction": "higher",
                         "margin": 1.0, "guardrail": False,
                         "family": ["confirmatory", "exploratory"]})
    out = judge_family(rows, 0.05)
    assert out.loc[1, "alpha_used"] == 0.05 and out.loc[1, "p_adjusted"] == out.loc[1, "p_value"]


def test_tost_at_the_margin_is_calibrated():
    """True effect exactly at the margin: 'equivalent' at most α of the time (TOST is
    conservative there); no true effect and a wide margin: 'equivalent' in about 1 − α of them."""
    rng = np.random.default_rng(20261130)
    n, margin, reps = 40, 0.5, 2000
    hits = 0
    for _ in range(reps):
        a, b = rng.normal(margin, 1, n), rng.normal(0, 1, n)
        se = math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
        inf = wald(a.mean() - b.mean(), se, 2 * n - 2, "t", "t")
        hits += decide(inf, 0.05, "higher", margin)["verdict"] == "equivalent"
    assert hits / reps <= 0.06
    out = [decide(wald(rng.normal(0, 0.1), 0.1, math.inf, "z", "z"), 0.05, "higher", 1.0)
           for _ in range(500)]
    assert np.mean([o["verdict"] == "equivalent" for o in out]) > 0.92
    # the rest exclude 0 by chance, and say the change is below the smallest effect of interest
    assert all(o["note"] for o in out if o["verdict"] != "equivalent")


def test_improved_rate_under_the_null_is_alpha_over_two():
    """Under no effect a verdict of 'improved' (or 'worsened') comes in α/2 of the studies."""
    rng = np.random.default_rng(7)
    words = [decide(_z(rng.normal()), 0.05, "higher", 0.5)["verdict"] for _ in range(4000)]
    rate = np.mean([w in ("improved", "worsened") for w in words])
    assert 0.04 <= rate <= 0.06


def test_no_sesoi_means_no_equivalence_claim_but_a_clear_change_still_counts():
    tight = verdicts.wald(0.001, 0.01, math.inf, "x", "x")
    d = verdicts.decide(tight, 0.05, "higher", math.nan)
    assert d["verdict"] == "inconclusive" and "equivalence" in d["note"]
    assert verdicts.decide(verdicts.wald(1.0, 0.1, math.inf, "x", "x"), 0.05, "lower",
                           math.nan)["verdict"] == "worsened"
    assert verdicts.sd_sesoi(pd.Series([3.0, 3.0, 3.0]))[0] != verdicts.sd_sesoi(
        pd.Series([3.0, 3.0, 3.0]))[0]  # NaN: no spread, no default
    assert math.isclose(verdicts.sd_sesoi(pd.Series([1.0, 3.0]))[0], 0.1 * math.sqrt(2))
    assert verdicts.fmt_sesoi(math.nan, "points") == "none"


def test_a_custom_score_in_points_is_a_score_not_nps():
    assert verdicts.kind_of("quality", "points", False) == "score"
    assert verdicts.kind_of("nps", "points", False) == "nps"
    assert verdicts.kind_of("ttr", "h", True) == "duration"
    assert verdicts.sesoi_unit("score", "hours") == "hours"
    assert verdicts.sesoi_unit("score", "") == "score points"


def test_holm_levels_drop_a_missing_p_value_from_the_family_like_r():
    # R: p.adjust(c(0.01, NA, 0.04), "holm") -> 0.02 NA 0.04
    p_adj, levels = holm_levels([0.01, math.nan, 0.04], 0.05)
    np.testing.assert_allclose(p_adj, [0.02, math.nan, 0.04], rtol=1e-12)
    np.testing.assert_allclose(levels[[0, 2]], [0.025, 0.05], rtol=1e-12)
    np.testing.assert_allclose(p_adj, compare.holm([0.01, math.nan, 0.04]), rtol=1e-12)
