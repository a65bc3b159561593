"""The scorecard's composite index: bootstrap intervals on scores and ranks (reproducible,
calibrated, exact where a closed form exists), entropy and AHP weights from a ready indicator
table, and the errors bad tables give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, demo_params, write_params
from numpy.testing import assert_allclose

from sqresearch.io import params
from sqresearch.io.errors import DataError
from sqresearch.stats import weights as W

RTOL = 1e-6
MEAN = ("mean", 1.0)


def _units(rng, means_a, means_b, n):
    return {"a": [rng.normal(m, 1, n) for m in means_a],
            "b": [rng.normal(m, 1, n) for m in means_b]}


# --- the bootstrap ----------------------------------------------------------------------------

def test_bootstrap_is_reproducible_from_the_seed():
    cols = _units(np.random.default_rng(1), [0, 0.5, 1, 3], [1, 0, 2, 3], 80)
    how = {"a": MEAN, "b": ("quantile", 0.5)}
    args = (cols, how, list("ABCD"), [True, False], [0.5, 0.5], 300)
    one, two = W.index_uncertainty(*args, seed=11), W.index_uncertainty(*args, seed=11)
    assert np.array_equal(one.draws, two.draws)
    pd.testing.assert_frame_equal(one.intervals(), two.intervals())
    assert not np.array_equal(one.draws, W.index_uncertainty(*args, seed=12).draws)


def test_point_scores_are_the_composite_index_of_the_full_data():
    cols = _units(np.random.default_rng(2), [0, 0.5, 1], [1, 0, 2], 50)
    u = W.index_uncertainty(cols, {"a": MEAN, "b": MEAN}, list("ABC"), [True, False],
                            [0.3, 0.7], 200, seed=1)
    values = pd.DataFrame({k: [v.mean() for v in cols[k]] for k in cols}, index=list("ABC"))
    idx = W.composite_index(values, {"a": "higher", "b": "lower"}, "expert",
                            {"a": 0.3, "b": 0.7})
    got = u.intervals().set_index("unit")
    want = idx.scores.set_index("unit")
    assert_allclose(got.loc[list("ABC"), "index"], want.loc[list("ABC"), "index"], rtol=RTOL)
    assert (got["rank"] == want.loc[got.index, "rank"]).all()


def test_constant_units_give_degenerate_intervals_exactly():
    # every ticket of a unit has the same value: each resample reproduces the point estimate
    cols = {"a": [np.full(30, v) for v in (1.0, 2.0, 4.0)],
            "b": [np.full(30, v) for v in (3.0, 1.0, 2.0)]}
    u = W.index_uncertainty(cols, {"a": MEAN, "b": MEAN}, list("ABC"), [True, True],
                            [0.5, 0.5], 200, seed=3)
    iv = u.intervals()
    # closed form: z_a = (0, 1/3, 1), z_b = (1, 0, 1/2) -> 100 × (0.5 z_a + 0.5 z_b)
    expect = {"A": 50.0, "B": 100 / 6, "C": 75.0}
    for r in iv.itertuples():
        assert r.index == pytest.approx(expect[r.unit], rel=RTOL)
        assert r.index_low == pytest.approx(r.index, rel=RTOL)
        assert r.index_high == pytest.approx(r.index, rel=RTOL)
        assert r.rank_low == r.rank_high == r.rank
    assert not u.neighbours()["distinguishable"].eq(False).any()


def test_resampled_mean_has_the_plug_in_variance():
    # the bootstrap variance of a mean is σ²_ML / n (closed form), up to Monte Carlo error
    x = np.random.default_rng(4).gamma(2.0, 3.0, 60)
    draws = W.resample_indicators({"a": [x]}, {"a": MEAN}, 20_000, seed=5)[:, 0, 0]
    assert draws.mean() == pytest.approx(x.mean(), rel=5e-3)
    assert draws.var() == pytest.approx(x.var(ddof=0) / len(x), rel=0.05)  # MC sd ≈ 1 %


def test_quantile_indicator_matches_r_type_7():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    # R: quantile(x, c(0.5, 0.9), type = 7) -> 3.5, 6.9
    assert W._aggregate(x, ("quantile", 0.5)) == pytest.approx(3.5, rel=RTOL)
    assert W._aggregate(x, ("quantile", 0.9)) == pytest.approx(6.9, rel=RTOL)


def test_intervals_cover_the_true_scores_and_ranks():
    """Calibration: five units, two indicators, known population means. The middle units'
    scores (a smooth function of the means) are covered about 95 % of the time; the extreme
    units' scores are exact whenever their order holds; the true ranks are covered."""
    ma, mb, n, w = np.array([0, 0.4, 0.8, 1.2, 2.0]), np.array([1.0, 0.2, 0.6, 0.9, 0.0]), 300, \
        [0.6, 0.4]
    true = W.batch_scores(np.c_[ma, mb], [True, True], w)
    true_rank = pd.Series(true).rank(ascending=False, method="min").to_numpy()
    rng = np.random.default_rng(7)
    score_hits, rank_hits = [], []
    for rep in range(300):
        u = W.index_uncertainty(_units(rng, ma, mb, n), {"a": MEAN, "b": MEAN}, list("ABCDE"),
                                [True, True], w, 400, seed=rep)
        iv = u.intervals().set_index("unit").loc[list("ABCDE")]
        score_hits.append((iv["index_low"] <= true + 1e-9) & (true <= iv["index_high"] + 1e-9))
        rank_hits.append((iv["rank_low"] <= true_rank) & (true_rank <= iv["rank_high"]))
    score_cov, rank_cov = np.mean(score_hits, axis=0), np.mean(rank_hits, axis=0)
    assert 0.91 <= score_cov[1:4].mean() <= 0.98, score_cov  # MC sd ≈ 0.008
    assert (score_cov[1:4] >= 0.89).all(), score_cov
    assert (rank_cov >= 0.94).all(), rank_cov


def test_neighbours_flag_indistinguishable_pairs():
    rng = np.random.default_rng(8)
    cols = _units(rng, [0, 0.02, 3], [0, 0.01, 3], 200)  # A and B are the same
    u = W.index_uncertainty(cols, {"a": MEAN, "b": MEAN}, list("ABC"), [True, True],
                            [0.5, 0.5], 500, seed=9)
    nb = u.neighbours().set_index(["higher", "lower"])
    assert nb.loc[("C", nb.index[0][1]), "distinguishable"]
    assert not nb.iloc[1]["distinguishable"] and nb.iloc[1]["diff_low"] < 0 < nb.iloc[1][
        "diff_high"]


# --- weights: closed forms ----------------------------------------------------------------------

def _entropy_closed_form(x, higher):
    x = np.asarray(x, dtype=float)
    m = x.shape[0]
    w = []
    for j in range(x.shape[1]):
        c = x[:, j]
        z = (c - c.min()) / (c.max() - c.min())
        z = z if higher[j] else 1 - z
        p = z / z.sum()
        e = -sum(v * np.log(v) for v in p if v > 0) / np.log(m)
        w.append(1 - e)
    return np.array(w) / sum(w)


def test_ahp_lambda_max_of_a_3x3_matrix_has_a_closed_form():
    # for [[1, a, b], [1/a, 1, c], [1/b, 1/c, 1]]: λmax = 1 + r^(1/3) + r^(-1/3), r = ac/b
    a, b, c = 3.0, 5.0, 4.0
    res = W.ahp([[1, a, b], [1 / a, 1, c], [1 / b, 1 / c, 1]])
    r = a * c / b
    lam = 1 + r ** (1 / 3) + r ** (-1 / 3)
    assert res.lambda_max == pytest.approx(lam, rel=RTOL)
    assert res.ci == pytest.approx((lam - 3) / 2, rel=RTOL)
    assert res.cr == pytest.approx((lam - 3) / 2 / 0.58, rel=RTOL)


def test_ahp_of_a_consistent_matrix_recovers_the_weights_with_cr_zero():
    w = np.array([0.5, 0.25, 0.15, 0.1])
    res = W.ahp(np.outer(w, 1 / w).tolist())
    assert_allclose(res.weights, w, rtol=RTOL)
    assert res.lambda_max == pytest.approx(4.0, rel=RTOL)
    assert abs(res.cr) < 1e-9


# --- the indicator table in a study -------------------------------------------------------------

INDICATORS = pd.DataFrame({"branch": ["B01", "B02", "B03", "B04", "B05"],
                           "wait_min": [6.2, 8.9, 11.5, 7.4, 9.8],
                           "satisfied": [0.81, 0.74, 0.66, 0.79, 0.70],
                           "complaints": [12.0, 18.5, 25.1, 14.2, 21.0]})


def _table_study(tmp_path, frame=INDICATORS, **index):
    csv = tmp_path / "indicators.csv"
    frame.to_csv(csv, index=False)
    p = demo_params("support_desk")
    p["data"]["path"] = str(ROOT / p["data"]["path"])
    p["index"] = {"table": str(csv), "unit": "branch",
                  "indicators": [{"kpi": "wait_min", "direction": "lower"},
                                 {"kpi": "satisfied", "direction": "higher"},
                                 {"kpi": "complaints", "direction": "lower"}],
                  "weights": {"method": "entropy"}, **index}
    return write_params(tmp_path, p)


def test_entropy_weights_from_an_indicator_table_match_the_closed_form(tmp_path):
    from sqresearch.designs.scorecard import Scorecard

    study = Scorecard(params.load(_table_study(tmp_path)))
    rep = study.index
    x = INDICATORS[["wait_min", "satisfied", "complaints"]].to_numpy()
    want = _entropy_closed_form(x, [False, True, False])
    assert_allclose(rep.index.weights["weight"], want, rtol=RTOL)
    assert rep.uncertainty is None and rep.table_file.rows == 5
    res = study.results()
    assert_allclose([res.items[f"weight.{k}"].estimate for k in
                     ("wait_min", "satisfied", "complaints")], want, rtol=RTOL)
    assert res.items["index.value.wait_min.branch=B03"].estimate == 11.5
    assert res.inputs[1]["rows"] == 5
    assert "ready indicator table" in study.rank_statement().text


def test_ahp_from_an_indicator_table(tmp_path):
    from sqresearch.designs.scorecard import Scorecard

    m = [[1, 3, 5], ["1/3", 1, 2], ["1/5", "1/2", 1]]
    study = Scorecard(params.load(_table_study(tmp_path, weights={"method": "ahp",
                                                                  "matrix": m})))
    a = W.ahp(m)
    res = study.results()
    assert res.items["ahp.lambda_max"].estimate == pytest.approx(a.lambda_max, rel=RTOL)
    assert res.items["ahp.consistency_index"].estimate == pytest.approx(a.ci, rel=RTOL)
    assert "λmax = " in study.ahp_consistency().text


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.drop(columns="satisfied"), ["index.table", "no column(s) ['satisfied']"]),
    (lambda d: d.assign(wait_min=["6.2", "n/a", "11.5", "", "9.8"]),
     ["column 'wait_min'", "'n/a'", "line 3: 'n/a', line 5: ''"]),
    (lambda d: d.assign(branch=["B01", "B01", "B03", "B04", "B05"]),
     ["column 'branch'", "line 3: 'B01'", "more than once"]),
    (lambda d: d.head(1), ["has 1 unit", "at least two"]),
])
def test_bad_indicator_tables_are_clear_data_errors(tmp_path, run_cli, change, expected):
    path = _table_study(tmp_path, change(INDICATORS.astype(str)))
    code, _, err = run_cli("validate", path)
    assert code == 2 and "Traceback" not in err and "Fix:" in err, err
    for piece in [*expected, "indicators.csv"]:
        assert piece in err, (piece, err)


def test_table_index_needs_a_unit_column(tmp_path, run_cli):
    p = demo_params("support_desk")
    p["index"] = {"table": "x.csv", "indicators": p["index"]["indicators"],
                  "weights": {"method": "entropy"}}
    code, _, err = run_cli("validate", write_params(tmp_path, p))
    assert code == 2 and "a table index needs unit" in err, err


def test_km_indicators_cannot_be_bootstrapped(tmp_path, run_cli):
    p = demo_params("support_desk")
    p["index"]["indicators"][0] = {"kpi": "ttr_median", "direction": "lower"}
    code, _, err = run_cli("validate", write_params(tmp_path, p))
    assert code == 2 and "index.bootstrap" in err and "resamples: 0" in err, err


def test_missing_indicator_table_file(tmp_path):
    from sqresearch.designs.scorecard import Scorecard

    path = _table_study(tmp_path)
    (tmp_path / "indicators.csv").unlink()
    with pytest.raises(DataError, match="index.table.*does not exist"):
        Scorecard(params.load(path))
