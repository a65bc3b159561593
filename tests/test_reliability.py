"""Measurement-grade gap model: ω, difference-score reliability, HTMT, AVE, relative weights,
SERVQUAL vs SERVPERF, and the Satorra–Bentler scaled χ², against R (tests/reference_gap_model.R:
lavaan 0.6-14, semTools 0.5-6, psych 2.2.9, base R) and closed forms computed here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from numpy.testing import assert_allclose

from sqresearch.designs.gap_model import measurement
from sqresearch.stats import nonnested, satorra_bentler, servqual
from sqresearch.stats import reliability as rel
from sqresearch.stats.relative_weights import relative_weights

RTOL = 1e-6
DIMS = {"tangibles": range(1, 5), "reliability": range(5, 10), "responsiveness": range(10, 14),
        "assurance": range(14, 18), "empathy": range(18, 23)}


@pytest.fixture(scope="module")
def survey():
    d = pd.read_csv(ROOT / "data" / "servqual_survey.csv")
    items = [f"q{i:02d}" for i in range(1, 23)]
    e = d[[f"E_{i}" for i in items]].set_axis(items, axis=1).astype(float)
    p = d[[f"P_{i}" for i in items]].set_axis(items, axis=1).astype(float)
    return d, e, p


def block(frame, dim):
    return frame[[f"q{i:02d}" for i in DIMS[dim]]]


# R: omega_ml(X) in tests/reference_gap_model.R — lavaan::cfa("f =~ …", std.lv = TRUE, ML),
# (Σλ)²/((Σλ)² + Σθ), identical to semTools::compRelSEM(fit, obs.var = FALSE)
OMEGA_R = {
    ("tangibles", "E"): 0.836794119447068, ("tangibles", "P"): 0.859220288800516,
    ("tangibles", "G"): 0.804429053541205, ("reliability", "E"): 0.842129859512710,
    ("reliability", "P"): 0.889611822977009, ("reliability", "G"): 0.838695505601115,
    ("responsiveness", "E"): 0.833701325849454, ("responsiveness", "P"): 0.857781494855239,
    ("responsiveness", "G"): 0.809911057174402, ("assurance", "E"): 0.809455768325224,
    ("assurance", "P"): 0.835320680632332, ("assurance", "G"): 0.774605794843794,
    ("empathy", "E"): 0.871726543750624, ("empathy", "P"): 0.879083904354615,
    ("empathy", "G"): 0.841132949458386}


@pytest.mark.parametrize("dim, measure", list(OMEGA_R), ids=lambda v: str(v))
def test_omega_matches_lavaan_one_factor_ml(survey, dim, measure):
    _, e, p = survey
    x = {"E": block(e, dim), "P": block(p, dim), "G": block(p, dim) - block(e, dim)}[measure]
    fit = rel.one_factor_ml(x)
    assert fit.converged
    assert fit.omega == pytest.approx(OMEGA_R[(dim, measure)], rel=RTOL)
    # the fit reproduces the closed form from its own estimates
    s = fit.summary()
    assert fit.omega == pytest.approx(rel.composite_reliability(s["loading"], s["residual"]))


def test_omega_equals_alpha_for_tau_equivalent_items():
    """Equal loadings and residual variances (an exactly tau-equivalent covariance): ω = α."""
    rng = np.random.default_rng(3)
    k, lam, theta = 4, 0.8, 0.5
    sigma = lam ** 2 * np.ones((k, k)) + theta * np.eye(k)
    z = rng.standard_normal((2000, k))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    x = pd.DataFrame(z @ np.linalg.cholesky(sigma).T)  # sample covariance (N) = Σ exactly
    fit = rel.one_factor_ml(x)
    closed = (k * lam) ** 2 / ((k * lam) ** 2 + k * theta)
    assert fit.omega == pytest.approx(closed, rel=1e-8)
    assert servqual.cronbach_alpha(x)["alpha"] == pytest.approx(closed, rel=1e-8)
    assert_allclose(np.abs(fit.loadings), lam, rtol=1e-6)


def test_omega_needs_three_items():
    x = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 2, 3, 5]})
    assert math.isnan(rel.omega_total(x))


def test_difference_reliability_closed_form():
    # σ²_P = 1.44, σ²_E = 0.64, r_PP = .9, r_EE = .8, r_PE = .5: numerator 1.296 + .512 − .96
    assert rel.difference_reliability(1.44, 0.64, 0.9, 0.8, 0.5) == pytest.approx(
        (1.296 + 0.512 - 2 * 0.5 * 1.2 * 0.8) / (1.44 + 0.64 - 2 * 0.5 * 1.2 * 0.8))
    # equal variances and reliabilities r: r_DD = (r − r_PE)/(1 − r_PE), below r
    assert rel.difference_reliability(1, 1, 0.8, 0.8, 0.5) == pytest.approx(0.6)
    assert rel.difference_reliability(1, 1, 0.8, 0.8, 0.0) == pytest.approx(0.8)


# R: psych::alpha(E/P dimension items)$total$raw_alpha, cor() and sd() of the dimension means,
# r_DD by the formula (tests/reference_gap_model.R)
DIFF_R = {"tangibles": (0.836763379683565, 0.858229275140117, 0.223236630217043,
                        0.804570184265175),
          "reliability": (0.841476957432938, 0.889515951333995, 0.205463362934621,
                          0.843248926152836),
          "responsiveness": (0.831679408688942, 0.857208487415552, 0.215015625505061,
                             0.805185553373411),
          "assurance": (0.808611202397841, 0.835264671521981, 0.224131675425785,
                        0.773364380330588),
          "empathy": (0.871198318119601, 0.878798721012172, 0.221020487666632,
                      0.840437259717860)}


def test_difference_score_reliability_of_the_demo_gaps(survey):
    _, e, p = survey
    instrument = servqual.read_instrument()
    table = measurement.reliability(instrument, {"E": e, "P": p, "gap": p - e}, 0.05)
    d = measurement.difference_reliability(instrument, e, p, table).set_index("dimension")
    for dim, (ree, rpp, rpe, rdd) in DIFF_R.items():
        assert_allclose(d.loc[dim, ["E_alpha", "P_alpha", "r_PE", "gap_alpha"]].astype(float),
                        [ree, rpp, rpe, rdd], rtol=RTOL)
        assert d.loc[dim, "gap_omega"] < max(d.loc[dim, "E_omega"], d.loc[dim, "P_omega"])


# R: semTools::htmt(model, data = P, htmt2 = FALSE), lower triangle by column; the base-R
# closed form gives the same digits
HTMT_R = [0.384529227641508, 0.496866530438558, 0.364694643707786, 0.469229514574680,
          0.477889796198085, 0.418269063038843, 0.387900943122185, 0.420385313707867,
          0.351865749206440, 0.330503697863780]


def test_htmt_matches_semtools_and_the_closed_form(survey):
    _, _, p = survey
    blocks = {d: [f"q{i:02d}" for i in r] for d, r in DIMS.items()}
    h = rel.htmt(p, blocks).to_numpy()
    assert_allclose(h.T[np.triu_indices(5, k=1)], HTMT_R, rtol=RTOL)  # lower, by column
    # closed form by hand for one pair from the correlation matrix
    r = p.corr().abs().to_numpy()
    a, b = np.arange(0, 4), np.arange(4, 9)
    mono = [r[np.ix_(i, i)][np.triu_indices(len(i), k=1)].mean() for i in (a, b)]
    assert h[0, 1] == pytest.approx(r[np.ix_(a, b)].mean() / math.sqrt(mono[0] * mono[1]))
    assert_allclose(np.diag(h), 1.0)


# R: Rxx <- cor(X); e <- eigen(Rxx); L <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors);
# b <- solve(L, rxy); (L^2) %*% b^2  — X the P dimension means, y overall_satisfaction
RW_R = [0.0535020528559713, 0.1107094851541475, 0.0990822164012556, 0.0512182017521520,
        0.0720927006936134]
R2_P = 0.38660465685714  # summary(lm(y ~ Pd))$r.squared


def _dimension_means(survey):
    d, e, p = survey
    pd_ = pd.DataFrame({k: block(p, k).mean(axis=1) for k in DIMS})
    ed = pd.DataFrame({k: block(e, k).mean(axis=1) for k in DIMS})
    return d["overall_satisfaction"].astype(float), pd_, ed


def test_relative_weights_match_the_r_closed_form(survey):
    y, pdim, _ = _dimension_means(survey)
    rw = relative_weights(pdim.assign(y=y), "y", list(DIMS))
    assert_allclose(rw.weights, RW_R, rtol=RTOL)
    assert rw.r2 == pytest.approx(R2_P, rel=RTOL)
    assert sum(rw.weights) == pytest.approx(rw.r2, rel=1e-12)
    s = rw.summary()
    assert s["share"].sum() == pytest.approx(1.0) and s.loc[1, "rank"] == 1


def test_relative_weights_of_uncorrelated_predictors_are_squared_correlations():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 3))
    x = np.linalg.qr(x - x.mean(0))[0]  # exactly uncorrelated, centred columns
    y = x @ [3.0, 1.0, 0.0] + 0.01 * rng.standard_normal(500)
    df = pd.DataFrame(x, columns=list("abc")).assign(y=y)
    rw = relative_weights(df, "y", list("abc"))
    assert_allclose(rw.weights, df.corr()["y"][list("abc")] ** 2, rtol=1e-9, atol=1e-12)


def test_servqual_vs_servperf_matches_lm(survey):
    y, pdim, edim = _dimension_means(survey)
    gd = (pdim - edim).add_prefix("G_")
    data = pd.concat([y.rename("y"), gd, pdim.add_prefix("P_")], axis=1)
    c = nonnested.compare_models(data, "y", list(gd), list(pdim.add_prefix("P_")),
                                 ("SERVQUAL", "SERVPERF"), n_boot=400, seed=7)
    # R: summary(lm(y ~ Gd))$r.squared, $adj.r.squared; the same for lm(y ~ Pd)
    assert_allclose(c.r2, [0.242634292817987, 0.386604656857140], rtol=RTOL)
    assert_allclose(c.adj_r2, [0.233531339606665, 0.379232116675134], rtol=RTOL)
    # R: Vuong z from dnorm(resid, 0, sqrt(mean(resid^2)), log = TRUE) differences; p
    assert_allclose([c.vuong_z, c.vuong_p], [-4.11246905855484, 3.91449948085153e-05],
                    rtol=RTOL)
    # R: summary(lm(y ~ Gd + fitted(b)))$coefficients["fitted(b)", 3:4], and the reverse
    assert_allclose([*c.j_a, *c.j_b], [10.1132216963939, 1.22426896239133e-21,
                                       1.85439784711736, 6.43914479963455e-02], rtol=1e-5)
    assert c.delta_r2 == pytest.approx(0.386604656857140 - 0.242634292817987, rel=RTOL)
    assert c.ci[0] < c.delta_r2 < c.ci[1] and c.better == "SERVPERF"
    again = nonnested.compare_models(data, "y", list(gd), list(pdim.add_prefix("P_")),
                                     n_boot=400, seed=7)
    assert again.ci == c.ci  # seeded


def test_satorra_bentler_scaling_is_one_under_normal_theory():
    """With Γ = V⁻¹ (the normal-theory Γ), tr(UΓ) = p* − q exactly, so c = 1."""
    rng = np.random.default_rng(5)
    lam = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.9], [0, 0.5], [0, 0.7]])
    sigma = lam @ np.array([[1, 0.3], [0.3, 1]]) @ lam.T + 0.4 * np.eye(6)
    delta = rng.standard_normal((21, 13))  # any full-rank Jacobian with q = 13
    c = satorra_bentler.scaling_factor(np.linalg.inv(satorra_bentler.normal_weight(sigma)),
                                       sigma, delta, 21 - 13)
    assert c == pytest.approx(1.0, rel=1e-10)
    a = rng.standard_normal((3, 3))
    a = a + a.T
    rows, cols = satorra_bentler.vech_indices(3)
    assert_allclose(satorra_bentler.duplication(3) @ a[rows, cols], a.flatten(order="F"))


def test_adf_gamma_is_the_fourth_moment_covariance():
    x = np.random.default_rng(2).standard_normal((50, 3))
    z = x - x.mean(0)
    rows, cols = satorra_bentler.vech_indices(3)
    s = z.T @ z / 50
    by_hand = np.mean([np.outer(zz[rows] * zz[cols] - s[rows, cols],
                                zz[rows] * zz[cols] - s[rows, cols]) for zz in z], axis=0)
    assert_allclose(satorra_bentler.adf_gamma(x), by_hand, rtol=1e-12)


def test_cfa_robust_ml_factor_reliability_and_ave_match_lavaan(survey):
    """R: lavaan::cfa(model, P, estimator = "MLM") fitMeasures chisq, chisq.scaled,
    chisq.scaling.factor, pvalue.scaled; semTools::compRelSEM / AVE (obs.var = FALSE) of the
    Wishart ML fit. semopy and lavaan optimize to their own tolerances: rtol 1e-4."""
    _, _, p = survey
    c = measurement.cfa(p, servqual.read_instrument())
    assert_allclose([c["chi2_ml"], c["chi2_scaled"], c["scaling"], c["p_scaled"]],
                    [206.030422981356452, 204.649906916098587, 1.006745744897035,
                     0.376793058059623], rtol=1e-4)
    f = c["factors"].set_index("dimension").loc[list(DIMS)]
    assert_allclose(f["omega"], [0.859248854063222, 0.889668443215370, 0.857845911408597,
                                 0.835617703976263, 0.879062381679885], rtol=1e-4)
    assert_allclose(f["ave"], [0.604857618299803, 0.617347521328230, 0.601867143832227,
                               0.559664259888256, 0.592750783661183], rtol=1e-4)
    assert_allclose(c["htmt"].to_numpy().T[np.triu_indices(5, k=1)], HTMT_R, rtol=RTOL)


def test_vuong_verdict_holds_its_size_when_both_models_fit_equally():
    """Reduced calibration (full table: benchmarks/calibration_servqual_servperf.py): with
    y = 0.5(x_A1 + x_B1) + e the models fit equally; Vuong's p < 0.05 in at most ~5 %."""
    rng = np.random.default_rng(11)
    a, b = [f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)]
    hits = []
    for _ in range(200):
        x = rng.standard_normal((420, 10))
        data = pd.DataFrame(x, columns=a + b).assign(
            y=0.5 * (x[:, 0] + x[:, 5]) + rng.standard_normal(420))
        hits.append(nonnested.compare_models(data, "y", a, b, n_boot=1).vuong_p < 0.05)
    assert np.mean(hits) <= 0.09  # 5 % + 2.7 Monte Carlo SEs
