"""SERVQUAL measurement core against psych::alpha (tests/reference_gap_model.R), the
literature's worked example, and hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import compare, servqual

RTOL = 1e-6
X = pd.DataFrame([[5, 6, 5, 7], [4, 4, 5, 5], [6, 7, 6, 6], [3, 4, 3, 4], [5, 5, 6, 6],
                  [6, 6, 7, 7], [2, 3, 3, 2], [4, 5, 4, 4], [5, 4, 5, 6], [7, 7, 6, 7]],
                 columns=list("abcd"), dtype=float)


def test_cronbach_alpha_matches_psych():
    r = servqual.cronbach_alpha(X)
    # R: psych::alpha(X)$total$raw_alpha ; $feldt lower.ci, upper.ci
    assert r["alpha"] == pytest.approx(0.953362788414335, rel=RTOL)
    assert_allclose([r["ci_low"], r["ci_high"]], [0.877304231294714, 0.986989027065015],
                    rtol=RTOL)


def test_item_analysis_matches_psych():
    t = servqual.item_analysis(X)
    # R: psych::alpha(X)$item.stats$r.drop ; $alpha.drop$raw_alpha
    assert_allclose(t["r_drop"], [0.967481039038274, 0.826595429482694, 0.874223257725294,
                                  0.898271007547741], rtol=RTOL)
    assert_allclose(t["alpha_if_deleted"], [0.913310580204778, 0.956261234272019,
                                            0.943840579710145, 0.938559322033898], rtol=RTOL)


def test_literature_example_unweighted_servqual():
    """Dimension gaps −0.65, −1.10, −0.83, −0.70, −1.01 give an unweighted score of −0.86."""
    gaps = pd.DataFrame([[-0.65, -1.10, -0.83, -0.70, -1.01]], columns=servqual.DIMENSIONS)
    assert servqual.servqual(gaps)["unweighted"].iloc[0] == pytest.approx(-0.858)
    assert round(servqual.servqual(gaps)["unweighted"].iloc[0], 2) == -0.86


def test_weighted_servqual_uses_points_over_100():
    gaps = pd.DataFrame([[-1.0, -2.0, 0.0, 1.0, 0.5]], columns=servqual.DIMENSIONS)
    points = pd.DataFrame([[10, 40, 20, 20, 10]], columns=servqual.DIMENSIONS)
    # 0.1·(−1) + 0.4·(−2) + 0 + 0.2·1 + 0.1·0.5 = −0.65
    assert servqual.servqual(gaps, points)["weighted"].iloc[0] == pytest.approx(-0.65)


def test_dimension_scores_need_half_the_items():
    instr = pd.DataFrame({"item": ["a", "b", "c", "d"], "dimension": ["x", "x", "x", "y"],
                          "reverse": False})
    items = pd.DataFrame({"a": [5, np.nan, np.nan], "b": [6, 4, np.nan], "c": [7, 5, 3],
                          "d": [1, 2, np.nan]}, dtype=float)
    scores, counts = servqual.dimension_scores(items, instr)
    assert scores["x"].tolist()[:2] == [6.0, 4.5] and np.isnan(scores["x"].iloc[2])
    assert counts.set_index("dimension").loc["x", "too_few_answers"] == 1


def test_reverse_coding_and_instrument_checks():
    instr = pd.DataFrame({"item": ["a", "b"], "dimension": ["x", "x"], "reverse": [False, True]})
    out = servqual.reverse_code(pd.DataFrame({"a": [2.0], "b": [2.0]}), instr, (1, 7))
    assert out.loc[0, "b"] == 6.0 and out.loc[0, "a"] == 2.0
    default = servqual.read_instrument()
    assert len(default) == 22 and servqual.instrument_problems(default) == []
    assert default.groupby("dimension").size().to_dict() == {
        "assurance": 4, "empathy": 5, "reliability": 5, "responsiveness": 4, "tangibles": 4}
    bad = pd.DataFrame({"item": ["a", "b", "c", "c"], "dimension": ["x", None, "y", "y"],
                        "reverse": False})
    problems = servqual.instrument_problems(bad)
    assert "item 'b' is mapped to no dimension" in problems
    assert "item 'c' is listed twice" in problems
    assert "dimension 'x' has 1 item(s); at least 2 are needed" in problems


def test_item_gap_paired_test_matches_r():
    e = [6.1, 5.8, 6.5, 6.0, 5.5, 6.8, 6.2, 5.9, 6.4, 6.0]
    p = [5.2, 5.9, 5.1, 5.5, 5.0, 6.0, 5.4, 5.8, 5.3, 5.6]
    r = compare.paired_t(e, p).iloc[0]
    # R: t.test(P, E, paired = TRUE) -> t, p, conf.int
    assert_allclose([r.statistic, r.p_value, r.ci_low, r.ci_high],
                    [-4.47116575519317383, 0.00155205516102902, -0.96380382733726244,
                     -0.31619617266273758], rtol=RTOL)


def test_zone_of_tolerance_positions():
    z = servqual.zone_of_tolerance(pd.Series({"a": 4.0, "b": 5.5, "c": 6.8}),
                                   pd.Series({"a": 4.5, "b": 5.0, "c": 5.0}),
                                   pd.Series({"a": 6.0, "b": 6.5, "c": 6.5}))
    assert z["position"].tolist() == ["below the zone", "inside the zone", "above the zone"]
    assert_allclose(z["msa"], [-0.5, 0.5, 1.8])
    assert z["mss"].iloc[2] == pytest.approx(0.3)


def test_straight_liners():
    a = pd.DataFrame([[4] * 6, [4, 5, 4, 4, 4, 4], [7, 7, 7, np.nan, np.nan, np.nan]],
                     dtype=float)
    assert servqual.straight_liners(a).tolist() == [True, False, False]
