"""Cluster-robust OLS (sqresearch.stats.robust) against R sandwich and clubSandwich
(tests/reference_robust.R), against a dense brute-force CR2, at 200,000 rows, and in a short
null simulation.

The three datasets are deterministic formulas rebuilt here exactly as in the R script.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import robust

RTOL = 1e-8


def case_a():
    """G = 6 unequal clusters; a cluster-level before/after dummy; second clustering 'shift'."""
    g = np.repeat(np.arange(1, 7), [3, 5, 8, 4, 10, 6])
    i = np.arange(1, len(g) + 1)
    x, post = np.sin(i), (g >= 4).astype(float)
    y = 2 + 0.5 * x + 0.3 * post + np.cos(1.3 * g) + 0.7 * np.sin(2.1 * i + 0.5)
    X = pd.DataFrame({"const": 1.0, "x": x, "post": post})
    return y, X, g, i % 4 + 1


def case_b():
    """G = 12, a cluster-level treatment and case-mix dummies; second clustering 'agent'."""
    g = np.repeat(np.arange(1, 13), [7, 12, 5, 9, 15, 6, 11, 8, 4, 13, 10, 9])
    i = np.arange(1, len(g) + 1)
    agent = (7 * i) % 9 + 1
    X = pd.DataFrame({"const": 1.0, "treat": (g % 2 == 0).astype(float),
                      "email": (i % 3 == 1).astype(float), "phone": (i % 3 == 2).astype(float),
                      "priority": (i % 5 == 0).astype(float), "x": np.cos(0.7 * i)})
    y = (10 + 1.5 * X["treat"] + 0.8 * X["phone"] - 0.4 * X["email"] + 2 * X["priority"]
         + 0.6 * X["x"] + np.sin(1.9 * g) + 0.9 * np.sin(3.7 * i)
         + 0.3 * np.cos(1.1 * agent)).to_numpy()
    return y, X, g, agent


def case_c():
    """G = 8 with a singleton cluster; dummies s1, s2 that one cluster alone determines."""
    g = np.repeat(np.arange(1, 9), [1, 6, 4, 9, 5, 7, 3, 8])
    i = np.arange(1, len(g) + 1)
    X = pd.DataFrame({"const": 1.0, "post": (g >= 5).astype(float), "x": np.sin(0.9 * i) ** 2,
                      "s1": (g == 1).astype(float), "s2": (g == 2).astype(float)})
    y = (3 + 0.5 * X["post"] + X["x"] + X["s2"] + 0.4 * np.cos(2.3 * g)
         + 0.5 * np.sin(1.7 * i)).to_numpy()
    return y, X, g, None


# Values printed by tests/reference_robust.R (R 4.2, sandwich 3.0.2, clubSandwich 0.5.8), fit
# <- lm(y ~ <the columns of X>); matrices row-major.
REF_A = {
    # R: coef(fit)
    "coef": [1.4343837659680758, 0.56285179155307175, 1.4541876425541209],
    # R: vcovCL(fit, cluster = g, type = "HC1") (row-major)
    "cr1": [0.043863736861229366, 0.010099326543099408, -0.044296031620717977, 0.01009932654309941,
            0.0052535966384582022, -0.00016080637150400447, -0.044296031620717997,
            -0.00016080637150401062, 0.14298300719159712],
    # R: vcovCR(fit, cluster = g, type = "CR2") (row-major)
    "cr2": [0.047526055005365518, 0.01014700199453014, -0.048034038986856903, 0.010147001994530145,
            0.0057262975783279428, 0.00057845007972636016, -0.04803403898685691,
            0.00057845007972636331, 0.18549759883566772],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$df_Satt
    "df": [1.6892439850866297, 4.1955830613829379, 3.3419225581504368],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$p_Satt
    "p": [0.033620503725373056, 0.0014427317921749108, 0.036710595120986442],
    # R: vcovCL(fit, cluster = ~ g + shift, type = "HC1") (row-major)
    "cr1_2way": [0.021915714454379263, 0.024783402067721134, -0.02369986188415402,
                 0.024783402067721141, 0.11792031735083076, -0.015176665519233414,
                 -0.023699861884153996, -0.015176665519233424, 0.10297440021561304],
    "wald": {
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR2", cluster = g, test = "HTZ")
        #    -> Fstat, df_denom, p_val
        ("HTZ", "x,post"):
            [24.510414413370725, 2.9122755599988608, 0.01506826330052379],
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR1S", cluster = g, test = "Naive-F")
        #    -> Fstat, df_denom, p_val
        ("F", "x,post"):
            [37.722293127937618, 5, 0.00096312566285376244],
    },
}

REF_B = {
    # R: coef(fit)
    "coef": [10.339459722600594, 1.0507905240161548, -0.39496484400347254, 0.67801579548813007,
             1.9180882964062562, 0.71655993097622139],
    # R: vcovCL(fit, cluster = g, type = "HC1") (row-major)
    "cr1": [0.042468014081283846, -0.051912348123016414, 0.0054552217917255815,
            0.0067502286855325904, 0.0046044009940825149, -0.0028580434541904528,
            -0.051912348123016462, 0.13330438497297639, -0.00037810029740762579,
            -0.0149052355632599, -0.0032478348983165256, 0.0021957608788283978,
            0.0054552217917256847, -0.00037810029740772218, 0.013624931279332786,
            0.0087365871927831927, -0.0074379162541530382, -0.0043380402294715299,
            0.0067502286855326468, -0.014905235563259959, 0.0087365871927832274,
            0.016379012006125654, -0.0071757439586444998, -0.0044054493024773232,
            0.0046044009940824993, -0.0032478348983165117, -0.007437916254153026,
            -0.007175743958644479, 0.060211782002875885, 0.0094855238825001086,
            -0.0028580434541904537, 0.0021957608788283978, -0.0043380402294715317,
            -0.0044054493024773215, 0.0094855238825001086, 0.0084595514865328878],
    # R: vcovCR(fit, cluster = g, type = "CR2") (row-major)
    "cr2": [0.047839267913351698, -0.058123565123027549, 0.0054490255554246435, 0.0066970155233128,
            0.0067955076405487261, -0.0011938619712036948, -0.058123565123027569,
            0.14314407292500403, 9.6050409361661841e-05, -0.014096494342348517,
            -0.0047032280627786818, 0.0004799493845728225, 0.0054490255554246808,
            9.6050409361679283e-05, 0.013023689501725503, 0.0081510982894057761,
            -0.0073453566150949315, -0.0040625349433345472, 0.0066970155233128268,
            -0.014096494342348522, 0.0081510982894058125, 0.01555910377412449,
            -0.0068614371936889535, -0.0042240000206023804, 0.0067955076405487366,
            -0.0047032280627786697, -0.0073453566150949046, -0.0068614371936889422,
            0.060416923099289192, 0.010265702194171972, -0.0011938619712036924,
            0.0004799493845728205, -0.0040625349433345498, -0.0042240000206023838,
            0.010265702194171972, 0.0091181760182982314],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$df_Satt
    "df": [7.1766089924165071, 8.4273562546078029, 9.5675570679230031, 9.7063554643285368,
           9.0498244427995704, 9.5311764420209393],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$p_Satt
    "p": [3.2192644383383134e-10, 0.022857274445896445, 0.0065256465881782357,
          0.00031801213920799214, 2.6146507676540736e-05, 2.6835578490588507e-05],
    # R: vcovCL(fit, cluster = ~ g + agent, type = "HC1") (row-major)
    "cr1_2way": [0.030916421750772041, -0.050344142708196357, 0.018553774655164695,
                 0.021890268369495827, 0.0085528895799433392,
                 -0.0020832481082473059, -0.050344142708196392,
                 0.12078868285787338, -0.0057644602609294472,
                 -0.015107436384533797, -0.005438212610936616,
                 -0.0033934686183556451, 0.018553774655164692,
                 -0.0057644602609295001, -0.0070536861589115879,
                 -0.0056351378561137182, 0.010989484793683573,
                 0.0097367386207570326, 0.021890268369495758,
                 -0.015107436384533794, -0.0056351378561136558,
                 0.0081014223728729101, -0.014508436805052436,
                 0.0009398540945233959, 0.0085528895799433027,
                 -0.0054382126109366064, 0.010989484793683597,
                 -0.014508436805052408, 0.025506556708763568,
                 0.0089651994145011193, -0.002083248108247305,
                 -0.0033934686183556477, 0.0097367386207570308,
                 0.00093985409452339774, 0.0089651994145011193,
                 -0.00066632695322167029],
    "wald": {
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR2", cluster = g, test = "HTZ")
        #    -> Fstat, df_denom, p_val
        ("HTZ", "email,phone"):
            [42.0680486938153, 8.6758540876145371, 3.4277398274013213e-05],
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR1S", cluster = g, test = "Naive-F")
        #    -> Fstat, df_denom, p_val
        ("F", "email,phone"):
            [45.962210980248315, 11, 4.5583573347223165e-06],
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR2", cluster = g, test = "HTZ")
        #    -> Fstat, df_denom, p_val
        ("HTZ", "treat,email,phone,priority"):
            [35.844788637219942, 6.2758102554352231, 0.00019077779021638454],
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR1S", cluster = g, test = "Naive-F")
        #    -> Fstat, df_denom, p_val
        ("F", "treat,email,phone,priority"):
            [53.698281838238401, 11, 3.7746973427438049e-07],
    },
}

REF_C = {
    # R: coef(fit)
    "coef": [2.7280041199462421, 0.77796650046172666, 1.2830916271178949, 0.32761255787348514,
             0.99069309972614106],
    # R: vcovCL(fit, cluster = g, type = "HC1") (row-major)
    "cr1": [0.09759014317362863, -0.06380010629679829, -0.058706102595547989,
            -0.061568017135366707, -0.069412486829203451, -0.063800106296798331,
            0.06394891750939459, 0.014849517449077119, 0.054688426837453792,
            0.05667265989751423, -0.058706102595547968, 0.014849517449077112,
            0.070162917069258382, 0.015654063196962324, 0.025029423717364451,
            -0.061568017135366714, 0.054688426837453799, 0.015654063196962324,
            0.051962667562481614, 0.054054406221748195, -0.069412486829203437,
            0.056672659897514244, 0.025029423717364441, 0.054054406221748175,
            0.057398906148063422],
    # R: vcovCR(fit, cluster = g, type = "CR2") (row-major)
    "cr2": [0.1557236406472424, -0.11653769536722587, -0.068798748879023555, -0.11350865627894163,
            -0.12270173292164679, -0.11653769536722589, 0.11111979024716263,
            0.026973116255850492, 0.099986962982435867, 0.10359118441193688,
            -0.068798748879023597, 0.026973116255850478, 0.064142960310279717,
            0.029440561252728158, 0.038011518716784362, -0.11350865627894163,
            0.099986962982435895, 0.029440561252728169, 0.095443897059797514,
            0.099377825225795163, -0.12270173292164684, 0.10359118441193686,
            0.038011518716784376, 0.099377825225795149, 0.10445702812646833],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$df_Satt
    "df": [2.1766635340697671, 2.1931570298381891, 5.422392189614011, 1.0241302451166097,
           1.0131540558699985],
    # R: coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")$p_Satt
    "p": [0.016163575436479095, 0.1335978262983116, 0.0030802349513651996, 0.47803582256957988,
          0.19814614743504863],
    "wald": {
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR2", cluster = g, test = "HTZ")
        #    -> Fstat, df_denom, p_val
        ("HTZ", "post,x"):
            [9.5207851076774297, 2.646663257463346, 0.061816273891494286],
        # R: Wald_test(fit, constrain_zero(names), vcov = "CR1S", cluster = g, test = "Naive-F")
        #    -> Fstat, df_denom, p_val
        ("F", "post,x"):
            [13.840902121527227, 7, 0.0036939180045334093],
    },
}

CASES = {"A": (case_a, REF_A), "B": (case_b, REF_B), "C": (case_c, REF_C)}


@pytest.mark.parametrize("case", ["A", "B", "C"])
def test_cr1_matches_sandwich_vcovcl_hc1(case):
    make, ref = CASES[case]
    y, X, g, _ = make()
    fit = robust.cluster_fit(y, X, g, vcov="CR1")
    k = X.shape[1]
    assert_allclose(fit.beta, ref["coef"], rtol=RTOL)
    assert_allclose(fit.vcov, np.reshape(ref["cr1"], (k, k)), rtol=RTOL, atol=1e-15)
    assert fit.clusters == len(np.unique(g)) and fit.vcov_type == "CR1"
    t = fit.term(X.columns[1])
    assert t["df"] == fit.clusters - 1


@pytest.mark.parametrize("case", ["A", "B", "C"])
def test_cr2_and_bell_mccaffrey_df_match_clubsandwich(case):
    make, ref = CASES[case]
    y, X, g, _ = make()
    fit = robust.cluster_fit(y, X, g, vcov="CR2")
    k = X.shape[1]
    assert_allclose(fit.vcov, np.reshape(ref["cr2"], (k, k)), rtol=RTOL, atol=1e-15)
    tab = fit.summary()
    assert list(tab["term"]) == list(X.columns)
    assert_allclose(tab["df"], ref["df"], rtol=RTOL)
    assert_allclose(tab["p_value"], ref["p"], rtol=RTOL)
    assert_allclose(tab["se"], np.sqrt(np.diag(np.reshape(ref["cr2"], (k, k)))), rtol=RTOL)


@pytest.mark.parametrize("case", ["A", "B"])
def test_two_way_cr1_matches_sandwich_multiway_defaults(case):
    make, ref = CASES[case]
    y, X, g, second = make()
    fit = robust.cluster_fit(y, X, pd.DataFrame({"g": g, "second": second}), vcov="CR1")
    k = X.shape[1]
    assert_allclose(fit.vcov, np.reshape(ref["cr1_2way"], (k, k)), rtol=RTOL, atol=1e-15)
    counts = (len(np.unique(g)), len(np.unique(second)))
    assert fit.cluster_counts == counts and fit.clusters == min(counts)
    assert fit.term("const")["df"] == min(counts) - 1


def test_two_way_variance_can_be_negative_as_in_sandwich():
    # case B two-way: R's vcovCL (fix = FALSE) has negative variances for email and x
    y, X, g, agent = case_b()
    fit = robust.cluster_fit(y, X, np.column_stack([g, agent]))
    assert fit.vcov[2, 2] < 0 and np.isnan(fit.se[2]) and np.isnan(fit.term("email")["t"])


@pytest.mark.parametrize("case", ["A", "B", "C"])
def test_wald_tests_match_clubsandwich(case):
    make, ref = CASES[case]
    y, X, g, _ = make()
    fits = {"HTZ": robust.cluster_fit(y, X, g, vcov="CR2"),
            "F": robust.cluster_fit(y, X, g, vcov="CR1")}
    for (kind, names), expected in ref["wald"].items():
        res = robust.wald_test(fits[kind], names.split(","))
        assert res["test"] == kind and res["q"] == len(names.split(","))
        assert_allclose([res["statistic"], res["df_denom"], res["p_value"]], expected,
                        rtol=RTOL)


def test_design_effect_matches_anova_in_r():
    y, _, g, _ = case_b()
    d = robust.design_effect(y, g)
    # R: anova(lm(y ~ factor(g))) mean squares; n0, ICC and 1 + (n0 - 1) ICC (reference_robust.R)
    assert_allclose([d["msb"], d["msw"], d["n0"], d["icc"], d["design_effect"]],
                    [7.2681935132064259, 1.581043735648636, 8.9824854045037537,
                     0.28594660774218417, 3.2825646227693452], rtol=RTOL)
    assert d["clusters"] == 12 and d["n"] == len(y)


def test_design_effect_equal_clusters_uses_plain_mean_size():
    g = np.repeat(np.arange(5), 4)
    y = np.r_[np.zeros(4), np.ones(4), np.zeros(4), np.ones(4), np.zeros(4)] + np.tile(
        [0.1, -0.1, 0.2, -0.2], 5)
    d = robust.design_effect(y, g)
    assert d["n0"] == pytest.approx(4.0)
    assert d["design_effect"] == pytest.approx(1 + 3 * d["icc"])


def test_cluster_summary():
    s = robust.cluster_summary(["a", "b", "b", "c", "c", "c", "c"])
    assert s == {"clusters": 3, "n": 7, "min": 1, "median": 2.0, "max": 4, "mean": 7 / 3}


# --- the low-rank CR2 against the textbook dense computation -------------------------------


def dense_cr2(y, xm, g, c_rows):
    """CR2 vcov, BM df and the HTZ pieces with n_g × n_g matrices (clubSandwich's recipe)."""
    n, k = xm.shape
    m = np.linalg.inv(xm.T @ xm)
    h = xm @ m @ xm.T
    e = y - h @ y
    labels = np.unique(g)
    meat = np.zeros((k, k))
    a_blocks = {}
    for lab in labels:
        ix = np.flatnonzero(g == lab)
        val, vec = np.linalg.eigh(np.eye(len(ix)) - h[np.ix_(ix, ix)])
        a = (vec * np.where(val > 1e-12, 1 / np.sqrt(np.clip(val, 1e-300, None)), 0)) @ vec.T
        a_blocks[lab] = (ix, a)
        s = xm[ix].T @ a @ e[ix]
        meat += np.outer(s, s)
    v = m @ meat @ m
    ih = np.eye(n) - h

    def big_g(c):  # N × J matrix of g_j = (I − H)_{·,j} A_j X_j M c
        cols = []
        for lab in labels:
            ix, a = a_blocks[lab]
            cols.append(ih[:, ix] @ (a @ xm[ix] @ m @ c))
        return np.column_stack(cols)

    dfs = []
    for c in c_rows:
        p = big_g(c).T @ big_g(c)
        dfs.append(np.trace(p) ** 2 / np.sum(p * p))
    return v, np.array(dfs)


def test_low_rank_cr2_equals_dense_brute_force():
    rng = np.random.default_rng(11)
    sizes = [1, 2, 3, 7, 12, 5, 9, 2, 20, 4]  # some clusters smaller than k
    g = np.repeat(np.arange(len(sizes)), sizes)
    n = len(g)
    xm = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n),
                          (g % 3 == 0).astype(float), (g == 3).astype(float)])
    y = xm @ [1, 0.5, -0.2, 0.3, 0.0] + rng.normal(size=n) + rng.normal(size=len(sizes))[g]
    X = pd.DataFrame(xm, columns=["const", "x", "d", "cl", "one_cluster"])
    perm = rng.permutation(n)  # rows in any order
    fit = robust.cluster_fit(y[perm], X.iloc[perm].reset_index(drop=True), g[perm], vcov="CR2")
    contrasts = [np.eye(5)[j] for j in range(5)] + [np.array([0, 1, -1, 0.5, 0])]
    v, dfs = dense_cr2(y, xm, g, contrasts)
    assert_allclose(fit.vcov, v, rtol=1e-9, atol=1e-14)
    assert_allclose([fit.df_bm(c) for c in contrasts], dfs, rtol=1e-9)
    assert fit.df_bm({"x": 1, "d": -1, "cl": 0.5}) == pytest.approx(dfs[-1], rel=1e-9)
    assert_allclose(fit.residuals, (y - xm @ np.linalg.lstsq(xm, y, rcond=None)[0])[perm],
                    rtol=1e-9, atol=1e-12)


def test_htz_with_one_coefficient_is_the_squared_t_with_bm_df():
    y, X, g, _ = case_b()
    fit = robust.cluster_fit(y, X, g, vcov="CR2")
    t = fit.term("treat")
    w = robust.wald_test(fit, ["treat"])
    assert_allclose([w["statistic"], w["df_denom"], w["p_value"]],
                    [t["t"] ** 2, t["df"], t["p_value"]], rtol=1e-10)
    assert robust.wald_test(fit, ["treat"], test="F")["df_denom"] == 11


def test_row_order_and_label_types_do_not_matter():
    y, X, g, _ = case_a()
    base = robust.cluster_fit(y, X, g, vcov="CR2")
    perm = np.random.default_rng(3).permutation(len(y))
    labels = pd.Series([f"week {k:02d}" for k in g[perm]])
    fit = robust.cluster_fit(pd.Series(y[perm]), X.iloc[perm], labels, vcov="CR2")
    assert_allclose(fit.vcov, base.vcov, rtol=1e-12)
    assert_allclose(fit.summary()["df"], base.summary()["df"], rtol=1e-10)


def test_term_alpha_and_df_override():
    y, X, g, _ = case_a()
    fit = robust.cluster_fit(y, X, g, vcov="CR2")
    t = fit.term("post", alpha=0.1, df=5)
    from scipy import stats

    crit = stats.t.ppf(0.95, 5)
    assert t["df"] == 5
    assert_allclose([t["ci_low"], t["ci_high"]],
                    [t["estimate"] - crit * t["se"], t["estimate"] + crit * t["se"]])
    assert t["p_value"] == pytest.approx(2 * stats.t.sf(abs(t["t"]), 5))


# --- scale: 200,000 rows in 20 clusters, no n_g × n_g matrix -------------------------------


def test_200k_rows_in_20_clusters_stay_linear_in_memory():
    rng = np.random.default_rng(5)
    n, n_g = 200_000, 20
    g = rng.integers(0, n_g, n)
    X = pd.DataFrame({"const": 1.0, "post": (g >= 10).astype(float),
                      "x": rng.normal(size=n), "priority": rng.integers(0, 2, n).astype(float)})
    y = 1 + 0.1 * X["x"].to_numpy() + rng.normal(size=n_g)[g] * 0.3 + rng.normal(size=n)
    tracemalloc.start()
    try:
        fit = robust.cluster_fit(y, X, g, vcov="CR2")
        tab = fit.summary()
        w = robust.wald_test(fit, ["post", "x"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one cluster of ~10,000 rows as a dense n_g × n_g matrix alone would be ~800 MB
    assert peak < 150e6, peak
    assert fit.n == n and fit.clusters == n_g
    assert np.isfinite(tab[["se", "df", "p_value"]].to_numpy()).all()
    assert 0 < w["p_value"] <= 1


# --- calibration: a short null simulation ----------------------------------------------------


def test_cr2_bm_holds_size_where_naive_ols_does_not():
    """ICC 0.1, 20 clusters (10 treated), no effect: CR2 + BM df rejects ≤ 7 %, naive > 10 %.

    The fuller version is benchmarks/calibration_robust.py.
    """
    rng = np.random.default_rng(20240611)
    reps, n_g, icc = 400, 20, 0.1
    sizes = rng.integers(5, 16, n_g)
    g = np.repeat(np.arange(n_g), sizes)
    n = len(g)
    X = pd.DataFrame({"const": 1.0, "treat": (g < n_g // 2).astype(float),
                      "x": rng.normal(size=n)})
    xm = X.to_numpy()
    naive_se_factor = np.sqrt(np.linalg.inv(xm.T @ xm)[1, 1])
    from scipy import stats

    crit_naive = stats.t.ppf(0.975, n - 3)
    rej_cr2 = rej_naive = 0
    for _ in range(reps):
        y = (np.sqrt(icc) * rng.normal(size=n_g)[g] + np.sqrt(1 - icc) * rng.normal(size=n)
             + 0.3 * X["x"].to_numpy())
        fit = robust.cluster_fit(y, X, g, vcov="CR2")
        rej_cr2 += fit.term("treat")["p_value"] < 0.05
        s = np.sqrt(fit.residuals @ fit.residuals / (n - 3)) * naive_se_factor
        rej_naive += abs(fit.beta[1] / s) > crit_naive
    assert rej_cr2 / reps <= 0.07
    assert rej_naive / reps > 0.10


# --- errors --------------------------------------------------------------------------------


def test_errors_are_user_facing_and_name_the_problem():
    y, X, g, _ = case_a()
    with pytest.raises(robust.ClusterDesignError, match="at least 2"):
        robust.cluster_fit(y, X, np.ones(len(y)))
    bad = X.assign(post2=2 * X["post"])
    with pytest.raises(robust.ClusterDesignError, match="column 'post2'.*linear combination"):
        robust.cluster_fit(y, bad, g)
    with pytest.raises(robust.ClusterDesignError, match="column 'zero'.*all zeros"):
        robust.cluster_fit(y, X.assign(zero=0.0), g)
    with pytest.raises(robust.ClusterDesignError, match="y has 35 values"):
        robust.cluster_fit(y[:-1], X, g)
    with pytest.raises(robust.ClusterDesignError, match="missing for 1 rows"):
        robust.cluster_fit(y, X, np.where(np.arange(len(g)) == 4, None, g))
    with pytest.raises(robust.ClusterDesignError, match="column 'x'.*missing or infinite"):
        robust.cluster_fit(y, X.assign(x=np.where(np.arange(len(y)) == 2, np.nan, X["x"])), g)
    with pytest.raises(robust.ClusterDesignError, match="not numeric"):
        robust.cluster_fit(y, X.assign(x="a"), g)
    assert issubclass(robust.ClusterDesignError, ValueError)
    with pytest.raises(ValueError, match="CR1 only"):
        robust.cluster_fit(y, X, np.column_stack([g, g % 2]), vcov="CR2")
    with pytest.raises(ValueError, match="vcov must be"):
        robust.cluster_fit(y, X, g, vcov="HC3")
    fit1 = robust.cluster_fit(y, X, g)
    with pytest.raises(ValueError, match="CR2 fit"):
        fit1.df_bm([0, 1, 0])
    with pytest.raises(ValueError, match="CR2 fit"):
        robust.wald_test(fit1, ["x"], test="HTZ")
    with pytest.raises(KeyError, match="no coefficient 'nope'"):
        fit1.term("nope")
