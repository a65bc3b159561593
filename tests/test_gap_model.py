"""The gap-model study on the demo survey, and the bad inputs the issue names."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, params_with

from sqresearch import simulate
from sqresearch.designs.gap_model import customer
from sqresearch.designs.gap_model.study import GapModel
from sqresearch.io import params


@pytest.fixture(scope="module")
def bank():
    return GapModel(params.load(ROOT / "params" / "bank_servqual.yaml"))


def test_gaps_scores_and_priorities(bank):
    d = bank.dimension_gaps.set_index("dimension")
    assert (d["ci_high"] < 0).all()  # every dimension falls short, as simulated
    assert bank.priorities["dimension"].iloc[0] == "reliability"  # largest gap × importance
    s = bank.scores.set_index("key")
    per = bank.G_dim.mean(axis=1, skipna=False)
    assert s.loc["unweighted", "mean"] == pytest.approx(per.mean())
    assert set(s.index) == {"unweighted", "weighted", "servperf"}
    assert (bank.item_gaps["p_holm"] >= bank.item_gaps["p_value"] - 1e-15).all()


def test_gap1_finds_the_managers_blind_spots(bank):
    g1 = bank.provider_gaps["gap 1"].set_index("dimension")
    bias = simulate.TRUTH["servqual_survey"]["management_bias"]
    for dim in bias:
        assert g1.loc[dim, "ci_high"] < 0 and g1.loc[dim, "p_holm"] < 0.05
    assert g1.loc["tangibles", "p_holm"] > 0.05


def test_gaps_2_to_4_and_missing_gaps(bank):
    g2 = bank.provider_gaps["gap 2"].set_index("dimension")
    assert g2.loc["assurance", "standards"] == 0 and pd.isna(g2.loc["assurance", "gap"])
    g3 = bank.provider_gaps["gap 3"]
    assert len(g3) == 4 and set(g3["status"]) <= {"met", "not met"}
    assert len(bank.provider_gaps["gap 4"]) == 2 and bank.missing_gaps == []


def test_reliability_structure_and_quality_flags(bank):
    r = bank.reliability
    assert (r[r.measure == "P"]["alpha"] > 0.7).all()
    assert bank.cfa["cfi"] > 0.9 and bank.cfa["srmr"] < 0.08 and len(bank.cfa["loadings"]) == 22
    q = bank.table.quality.set_index("check")
    assert q.loc["straight-liner (same answer to every item)", "rows"] >= 6
    assert q.loc["duplicate respondent", "rows"] == 2
    assert q.loc["duplicate respondent", "action"] == "flagged, kept"
    imp = bank.importance.set_index("dimension")
    assert imp.loc["reliability", "quadrant_stated"] == "concentrate here"
    assert imp["derived"].sum() == pytest.approx(1.0)


def _survey(tmp_path, rows=None, **changes):
    return params_with(tmp_path, "bank_servqual", rows, **changes)


def _instrument(tmp_path, edit) -> str:
    from sqresearch.stats.servqual import read_instrument

    path = tmp_path / "instrument.csv"
    edit(read_instrument()).to_csv(path, index=False)
    return str(path)


BAD = [
    ("a score of 8 on a 1-7 scale",
     lambda t: _survey(t, rows=lambda d: d.assign(P_q07=d.P_q07.where(d.index != 3, 8))),
     ["column 'P_q07'", "not a whole number in 1–7", "line 5"]),
    ("an item mapped to no dimension",
     lambda t: _survey(t, instrument=_instrument(t, lambda i: i.assign(
         dimension=i.dimension.where(i.item != "q03", "")))),
     ["item 'q03' is mapped to no dimension"]),
    ("an E column without its P column",
     lambda t: _survey(t, rows=lambda d: d.drop(columns=["P_q12"])),
     ["column 'E_q12'", "has no matching 'P_q12'"]),
    ("a dimension with fewer than 2 items",
     lambda t: _survey(t, instrument=_instrument(t, lambda i: i.assign(
         dimension=i.dimension.where(i.item != "q01", "ambience")))),
     ["dimension 'ambience' has 1 item(s); at least 2 are needed"]),
    ("importance points summing to 90",
     lambda t: _survey(t, rows=lambda d: d.assign(W_tangibles=d.W_tangibles.where(
         d.index != 0, d.W_tangibles - 10))),
     ["importance points do not sum to 100", "line 2"]),
    ("standards naming an unknown dimension",
     lambda t: _standards(t), ["standards table, column 'dimension'", "line 2: 'reliabilty'",
                               "did you mean 'reliability'"]),
]


def _standards(tmp_path):
    path = tmp_path / "standards.csv"
    pd.read_csv(ROOT / "data" / "service_standards.csv").assign(
        dimension=lambda d: d.dimension.replace({"responsiveness": "reliabilty"})).to_csv(
        path, index=False)
    return _survey(tmp_path, standards={"path": str(path)})


@pytest.mark.parametrize("make, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_gap_model_input(tmp_path, run_cli, make, expected):
    assert_user_error(run_cli, make(tmp_path), expected, tmp_path)


def test_posthoc_pairs_for_segments_with_many_levels(bank):
    ph = bank.posthoc
    assert set(ph["segment"]) == {"branch"}  # segment has two levels: Welch, no post-hoc
    assert len(ph) == 5 * 15  # five dimensions × C(6, 2) branch pairs
    assert (ph["p_corr"] >= ph["p_unc"] - 1e-15).all()


def test_cfa_matches_lavaan(bank):
    """R: lavaan::cfa(model, P items, estimator = "ML", likelihood = "wishart") and
    fitMeasures(fit, c("chisq", "df", "cfi", "rmsea", "srmr")) (tests/reference_gap_model.R).
    Both fits are iterative, so the match is to the optimizers' tolerance, not to 1e-6."""
    c = bank.cfa
    assert c["df"] == 199
    assert c["chi2"] == pytest.approx(205.5421992322334859, rel=1e-4)
    assert c["cfi"] == pytest.approx(0.9985590822582693, rel=1e-4)
    assert c["rmsea"] == pytest.approx(0.0088367851639589, rel=1e-4)
    assert c["srmr"] == pytest.approx(0.0279067469837473, rel=1e-4)


def test_dimension_gap_se_is_the_paired_se_even_for_a_zero_gap():
    from scipy import stats as st

    e = pd.DataFrame({"x": [3.0, 4.0, 5.0, 4.0]})
    p = pd.DataFrame({"x": [4.0, 3.0, 5.0, 4.0]})  # differences 1, −1, 0, 0: gap 0
    row = customer.paired(e, p, ["x"], 0.05).iloc[0]
    assert row.gap == 0 and math.isclose(row.se, np.std([1, -1, 0, 0], ddof=1) / 2)
    q = st.t.ppf(0.975, 3)
    assert math.isclose(row.ci_high, q * row.se, rel_tol=1e-9)


def test_derived_importance_is_johnsons_relative_weights(bank):
    """The design's derived importance = relative weights / R² (R closed form in
    tests/reference_gap_model.R: (L^2) %*% solve(L, rxy)^2, R² of lm(y ~ Pd))."""
    imp = bank.importance.set_index("dimension")
    raw = [0.0535020528559713, 0.1107094851541475, 0.0990822164012556, 0.0512182017521520,
           0.0720927006936134]
    np.testing.assert_allclose(imp["derived_r2"], raw, rtol=1e-6)
    np.testing.assert_allclose(imp["derived"], np.array(raw) / 0.38660465685714, rtol=1e-6)
    assert (imp["derived"] > 0).all()  # no clipping: every dimension keeps a share


def test_measurement_grade_sections(bank):
    d = bank.difference_reliability
    assert (d["gap_alpha"] < d[["E_alpha", "P_alpha"]].max(axis=1)).all()
    assert "less reliable than the scales" in repr(bank.difference_caveat())
    c = bank.predictive
    assert c.better == "SERVPERF" and c.ci[0] > 0  # overall is simulated from perceptions
    assert "SERVPERF" in repr(bank.predictive_table())
    f = bank.cfa["factors"]
    assert (f["omega"] > 0.8).all() and (f["ave"] > 0.5).all()
    h = bank.cfa["htmt"].to_numpy()
    assert h[np.triu_indices(5, k=1)].max() < 0.85  # distinct dimensions, as simulated
    assert 1.0 < bank.cfa["scaling"] < 1.1


def test_no_overall_item_no_servqual_servperf_comparison():
    p = params.load(ROOT / "params" / "bank_servqual.yaml").model_copy(
        update={"overall": None, "cfa": False})
    s = GapModel(p)
    assert s.predictive is None and "derived" not in s.importance
    assert "no overall" in repr(s.predictive_table())
    assert repr(s.predictive_md()) == ""
