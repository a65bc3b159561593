"""Baseline-deviation alerts and drift charts against closed forms, R spc, and by simulation."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqresearch.stats import alerts, alerts_drift
from sqresearch.stats.alerts import AlertInputError

# --- one-week methods against closed forms computed here ----------------------------------

XB = np.array([[80, 75, 90, 70, 85, 78, 95, 60]], float)
NB = np.array([[100, 100, 110, 95, 105, 100, 115, 90]], float)


def _bb_pmf(x, n, a, b):
    """The beta-binomial pmf by its closed form, exact in rationals for integer a, b:
    C(n, x)·B(x + a, n − x + b)/B(a, b), B(p, q) = (p − 1)!(q − 1)!/(p + q − 1)!."""
    f = math.factorial
    beta = lambda p, q: Fraction(f(p - 1) * f(q - 1), f(p + q - 1))  # noqa: E731
    return math.comb(n, x) * beta(x + a, n - x + b) / beta(a, b)


@pytest.mark.parametrize("n, a, b", [(12, 3, 5), (30, 40, 2), (7, 1, 1), (1, 2, 9)])
def test_betabinom_tails_exact_rationals(n, a, b):
    pmf = [_bb_pmf(x, n, a, b) for x in range(n + 1)]
    assert sum(pmf) == 1
    xs = np.arange(n + 1.0)
    le, ge = alerts.betabinom_tails(xs, n, a, b)
    mle, mge = alerts.betabinom_tails(xs, n, a, b, mid=True)
    for x in range(n + 1):
        lo, hi = sum(pmf[:x + 1]), sum(pmf[x:])
        assert le[x] == pytest.approx(float(lo), rel=1e-10)
        assert ge[x] == pytest.approx(float(hi), rel=1e-10)
        assert mle[x] == pytest.approx(float(lo - pmf[x] / 2), rel=1e-10)
        assert mge[x] == pytest.approx(float(hi - pmf[x] / 2), rel=1e-10)


@pytest.mark.parametrize("side, x, n, a, b, ref", [   # tests/reference_alerts.R
    ("le", 40, 50, 560.5, 40.5, 0.00260308295611158),    # le(40, 50, 560.5, 40.5)
    ("ge", 48, 50, 560.5, 40.5, 0.346804202422162),      # ge(48, 50, 560.5, 40.5)
    ("le", 290, 400, 3840.5, 960.5, 0.000333696442167092),  # le(290, 400, 3840.5, 960.5)
    ("ge", 355, 400, 3840.5, 960.5, 4.57764747923124e-06),  # ge(355, 400, 3840.5, 960.5)
    ("le", 45, 60, 0.5, 0.5, 0.671222510903337),         # le(45, 60, 0.5, 0.5)
])
def test_betabinom_tails_match_r_closed_form(side, x, n, a, b, ref):
    le, ge = alerts.betabinom_tails(x, n, a, b)
    assert {"le": le, "ge": ge}[side] == pytest.approx(ref, rel=1e-9)
    # and scipy's own implementation (its sf is 1 − cdf: compared on the lower tail)
    assert le == pytest.approx(stats.betabinom.cdf(x, n, a, b), rel=1e-8)


def test_betabinom_limits_are_the_last_alerting_counts():
    n, a, b = np.array([50.0, 400.0, 23.0]), np.array([560.5, 3840.5, 200.5]), \
        np.array([40.5, 960.5, 0.5])
    lo_l, hi_l = np.array([0.003, 1e-4, 0.01]), np.array([0.2, 1e-3, 0.5])
    for mid in (False, True):
        _, _, x_lo, x_hi = alerts.betabinom_tails(0.0, n, a, b, lo_l, hi_l, mid)
        for i in range(3):
            xs = np.arange(n[i] + 1)
            le, ge = alerts.betabinom_tails(xs, n[i], a[i], b[i], mid=mid)
            assert x_lo[i] == (np.flatnonzero(le <= lo_l[i]).max() if (le <= lo_l[i]).any()
                               else -1)
            assert x_hi[i] == (np.flatnonzero(ge <= hi_l[i]).min() if (ge <= hi_l[i]).any()
                               else n[i] + 1)


def test_p_chart_exact_tail_closed_form():
    core = alerts.rate_check(XB, NB, [50], [80], overdispersion="p")
    big_x, big_n = int(XB.sum()), int(NB.sum())
    pbar = big_x / big_n
    se = math.sqrt(pbar * (1 - pbar) / 80) * math.sqrt(1 + 80 / NB.sum())
    assert core["method"][0] == "p-chart"
    assert core["baseline"][0] == pytest.approx(pbar, rel=1e-12)
    assert core["expected_se"][0] == pytest.approx(se, rel=1e-12)
    # mid-p lower tail of BB(80, X + ½, N − X + ½) at 50: P(X < 50) + ½P(X = 50)
    le, _ = alerts.betabinom_tails(50, 80, big_x + 0.5, big_n - big_x + 0.5)
    pmf = stats.betabinom.pmf(50, 80, big_x + 0.5, big_n - big_x + 0.5)
    t, _ = alerts.judge(core, ["higher"], [80], expected_false=0.01)  # one cell: level 1 %
    assert t["p_value"][0] == pytest.approx(le - pmf / 2, rel=1e-9)
    assert t["statistic"][0] == pytest.approx(stats.norm.ppf(le - pmf / 2), rel=1e-9)
    assert t["alert"][0]
    # the limits: half a ticket beyond the last count whose mid-p tail is within 1 %
    xs = np.arange(81.0)
    lo, hi = alerts.betabinom_tails(xs, 80, big_x + 0.5, big_n - big_x + 0.5, mid=True)
    assert t["lower"][0] == pytest.approx((np.flatnonzero(lo <= 0.01).max() + 0.5) / 80)
    assert t["upper"][0] == pytest.approx((np.flatnonzero(hi <= 0.01).min() - 0.5) / 80)


def test_one_failure_near_a_full_rate_is_not_an_alarm():
    # baseline 1 failure in 600 tickets, this week 1 in 50: the normal p-chart's z ≈ −2.9
    # (p ≈ 0.002); the predictive chance of at least one failure is ≈ 8 % — no alert at 0.5 %
    xb = np.full((1, 12), 50.0)
    xb[0, 3] = 49
    core = alerts.rate_check(xb, np.full((1, 12), 50.0), [49], [50], overdispersion="p")
    t, _ = alerts.judge(core, ["higher"], [50], expected_false=0.005)
    z_normal = (49 / 50 - 599 / 600) / core["expected_se"][0]
    assert stats.norm.cdf(z_normal) < 0.005
    assert t["p_value"][0] > 0.03 and not t["alert"][0]
    assert t["this_week"][0] > t["lower"][0]


def test_laney_exact_score_divided_by_sigma_z():
    core = alerts.rate_check(XB, NB, [50], [80], overdispersion="laney")
    pbar = XB.sum() / NB.sum()
    p = XB[0] / NB[0]
    z = [(p[i] - pbar) / math.sqrt(pbar * (1 - pbar) / NB[0, i]) for i in range(8)]
    mr = sum(abs(z[i + 1] - z[i]) for i in range(7)) / 7
    sigma_z = mr / 1.128
    assert sigma_z > 1  # these weeks are overdispersed, so the automatic rule picks Laney too
    se = sigma_z * math.sqrt(pbar * (1 - pbar) / 80 * (1 + 80 / NB.sum()))
    assert core["method"][0] == "Laney p'"
    assert core["expected_se"][0] == pytest.approx(se, rel=1e-12)
    assert alerts.rate_check(XB, NB, [50], [80], "excess")["method"][0] == "Laney p'"
    # the default ("pooled") asks the Pearson dispersion of the cell's group too: one cell,
    # Σz² on 7 df, not beyond its 95 % point — the p-chart stays
    chi2 = sum(v ** 2 for v in z)
    assert chi2 < stats.chi2.ppf(0.95, 7)
    assert alerts.rate_check(XB, NB, [50], [80])["method"][0] == "p-chart"
    # Patnaik df of MR-bar: the closed form in mr_df, and ≈ 0.62(k − 1) for long baselines
    assert core["df"][0] == pytest.approx(alerts.mr_df(7))
    assert alerts.mr_df(1) == pytest.approx((4 / math.pi) / (4 * (1 - 2 / math.pi)))
    assert alerts.mr_df(10_000) / 10_000 == pytest.approx(0.61, abs=0.005)
    # the statistic: the p-chart's exact normal score over σ_z, referred to t(ν)
    plain = alerts.rate_check(XB, NB, [50], [80], overdispersion="p")
    t, _ = alerts.judge(core, ["higher"], [80], expected_false=0.01)
    assert t["statistic"][0] == pytest.approx(plain["z_le"][0] / sigma_z, rel=1e-12)
    assert t["p_value"][0] == pytest.approx(stats.t.cdf(t["statistic"][0], alerts.mr_df(7)))
    # limits: the counts whose Laney score is beyond the t(ν) 1 % point
    q = stats.t.isf(0.01, alerts.mr_df(7))
    xs = np.arange(81.0)
    lo, _ = alerts.betabinom_tails(xs, 80, XB.sum() + 0.5, NB.sum() - XB.sum() + 0.5, mid=True)
    last = np.flatnonzero(stats.norm.ppf(lo) / sigma_z <= -q).max()
    assert t["lower"][0] == pytest.approx((last + 0.5) / 80)


def test_binomial_baseline_keeps_the_p_chart_and_test_rule_is_stricter():
    x = np.array([[20, 21, 19, 20, 22, 18, 20, 20, 21, 19, 20, 20]], float)
    n = np.full((1, 12), 100.0)
    assert alerts.rate_check(x, n, [20], [100])["method"][0] == "p-chart"  # sigma_z < 1
    # sigma_z slightly above 1 but a dispersion test that does not reject: "test" keeps p
    x2 = np.array([[20, 26, 15, 24, 17, 23, 16, 25, 18, 22, 17, 21]], float)
    core = alerts.rate_check(x2, n, [20], [100], overdispersion="excess")
    assert core["method"][0] == "Laney p'"
    assert alerts.rate_check(x2, n, [20], [100], overdispersion="test")["method"][0] == "p-chart"


@pytest.mark.parametrize("v", [[2.1, 2.3, 2.0, 2.2, 2.4, 2.15],      # Q > k − 1: DL τ² > 0
                               [2.21, 2.23, 2.20, 2.22, 2.24, 2.215]])  # Q < k − 1: τ² = 0
def test_log_duration_equal_volumes_is_the_textbook_prediction_interval(v):
    v = np.array([v])
    n, sd = np.full((1, 6), 200.0), np.full((1, 6), 0.8)
    core = alerts.log_duration_check(v, sd, n, [3.0], [0.8], [200])
    c, s, k = v.mean(), v.std(ddof=1), 6
    se = s * math.sqrt(1 + 1 / k)
    t, _ = alerts.judge(core, ["lower"], [200], expected_false=0.005)
    q = stats.t.isf(0.005, k - 1)
    assert core["method"][0] == "log-mean t"
    assert t["baseline"][0] == pytest.approx(c)
    assert t["upper"][0] == pytest.approx(c + q * se, rel=1e-12)
    assert t["lower"][0] == pytest.approx(c - q * se, rel=1e-12)
    assert t["p_value"][0] == pytest.approx(stats.t.sf((3.0 - c) / se, k - 1), rel=1e-10)
    assert t["direction"][0] == "worse" and t["alert"][0]


def test_log_duration_unequal_volumes_closed_form():
    m = [2.10, 2.30, 2.00, 2.20, 2.45, 2.15, 2.25]
    sd = [0.80, 0.70, 0.90, 0.85, 0.75, 0.80, 0.82]
    n = [200, 220, 80, 210, 60, 190, 205]       # two holiday weeks
    m_now, sd_now, n_now = 2.6, 0.78, 70
    core = alerts.log_duration_check([m], [sd], [n], [m_now], [sd_now], [n_now])
    # by hand: pooled within-week variance, DerSimonian–Laird, Hartung–Knapp rescaling
    k = len(m)
    within = sum((ni - 1) * si ** 2 for ni, si in zip(n, sd, strict=True))
    s2 = (within + (n_now - 1) * sd_now ** 2) / (sum(ni - 1 for ni in n) + n_now - 1)
    w = [ni / s2 for ni in n]
    fixed = sum(wi * mi for wi, mi in zip(w, m, strict=True)) / sum(w)
    q = sum(wi * (mi - fixed) ** 2 for wi, mi in zip(w, m, strict=True))
    tau2 = max(0.0, (q - (k - 1)) / (sum(w) - sum(wi ** 2 for wi in w) / sum(w)))
    assert q > k - 1 and tau2 > 0
    wr = [1 / (s2 / ni + tau2) for ni in n]
    centre = sum(wi * mi for wi, mi in zip(wr, m, strict=True)) / sum(wr)
    hk = sum(wi * (mi - centre) ** 2 for wi, mi in zip(wr, m, strict=True)) / (k - 1)
    se = math.sqrt(hk * (s2 / n_now + tau2 + 1 / sum(wr)))
    assert core["baseline"][0] == pytest.approx(centre, rel=1e-12)
    assert core["expected_se"][0] == pytest.approx(se, rel=1e-12)
    assert core["df"][0] == k - 1
    z = alerts.log_duration_check([m], [sd], [n], [m_now], [sd_now], [n_now], "z")
    assert z["expected_se"][0] == pytest.approx(math.sqrt(s2 / n_now + 1 / sum(w)), rel=1e-12)
    assert z["df"][0] == math.inf and z["method"][0] == "log-mean z"


def test_score_mean_se_and_dersimonian_laird_closed_form():
    m = np.array([[4.10, 4.12, 4.08, 4.11, 4.09, 4.10]])
    sd, n = np.full((1, 6), 0.9), np.full((1, 6), 400.0)
    core = alerts.score_check(m, sd, n, [4.0], [0.95], [300])
    w = 400 / 0.81
    assert core["method"][0] == "mean-SE z"  # Q < k − 1: no between-week variance
    assert core["expected_se"][0] == pytest.approx(math.sqrt(0.95 ** 2 / 300 + 1 / (6 * w)))
    m2 = np.array([[4.0, 4.2, 3.9, 4.3, 4.05, 4.15]])
    core = alerts.score_check(m2, sd, n, [4.0], [0.95], [300])
    q = (w * (m2 - m2.mean()) ** 2).sum()
    tau2 = (q - 5) / (6 * w - 6 * w ** 2 / (6 * w))
    se = math.sqrt(0.95 ** 2 / 300 + tau2 + 1 / (6 / (1 / w + tau2)))
    assert core["method"][0] == "mean-SE + between-week" and core["df"][0] == 5
    assert core["expected_se"][0] == pytest.approx(se, rel=1e-12)


def test_seasonal_centre_and_variance_closed_form():
    now = np.array([[10.0, 11, 12, 11.5]])
    ly = np.array([[9.0, 9.5, 10.5, 10.0]])
    core = alerts.seasonal_check(now, ly, [14.0], [11.0])
    d = (now - ly)[0]
    assert core["baseline"][0] == pytest.approx(11.0 + d.mean())
    assert core["expected_se"][0] == pytest.approx(d.std(ddof=1) * math.sqrt(1.25))
    assert alerts.iso_last_year("2026-W53") == "2025-W52"


# --- EWMA / CUSUM run lengths against R spc (tests/reference_alerts.R, spc 0.6.7) ----------

@pytest.mark.parametrize("args, ref", [
    ((0.2, 2.8, 0.0), 409.871947608428),    # xewma.arl(0.2, 2.8, 0, zr=0, sided="one")
    ((0.1, 2.5, 0.5), 22.4878923841078),    # xewma.arl(0.1, 2.5, 0.5, zr=0, sided="one")
    ((0.2, 2.8, 1.0), 9.28151501907329),    # xewma.arl(0.2, 2.8, 1, zr=0, sided="one")
    ((0.3, 3.2, 0.0), 1213.64503174836),    # xewma.arl(0.3, 3.2, 0, zr=0, sided="one")
])
def test_ewma_arl_matches_spc(args, ref):
    assert alerts_drift.ewma_arl(*args) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("args, ref", [
    ((0.5, 4.0, 0.0), 335.367577627242),    # xcusum.arl(0.5, 4, 0, sided="one")
    ((0.5, 5.0, 1.0), 10.3759753002077),    # xcusum.arl(0.5, 5, 1, sided="one")
    ((0.25, 8.0, 0.0), 736.787746530074),   # xcusum.arl(0.25, 8, 0, sided="one")
    ((1.0, 3.0, 0.5), 117.59570422794),     # xcusum.arl(1, 3, 0.5, sided="one")
])
def test_cusum_arl_matches_spc(args, ref):
    assert alerts_drift.cusum_arl(*args) == pytest.approx(ref, rel=1e-6)


def test_limits_for_a_target_arl_match_spc_crit():
    e = alerts_drift.design("ewma", n_cells=200, expected_false=0.5, lam=0.2)
    c = alerts_drift.design("cusum", n_cells=200, expected_false=0.5, k=0.5)
    assert e.c == pytest.approx(2.79124006876577, rel=1e-5)  # xewma.crit(0.2, 400, zr=0, "one")
    assert c.h == pytest.approx(4.1713161027189, rel=1e-5)   # xcusum.crit(0.5, 400, "one")
    assert e.arl0 == pytest.approx(400, rel=1e-8) and c.arl0 == pytest.approx(400, rel=1e-8)


def test_run_chart_recursions_by_hand():
    z = np.array([[1.0, 2.0, -3.0, 0.5, np.nan, 4.0]])
    e = alerts_drift.DriftChart("ewma", 0.5, 1, math.nan, math.nan, 1.5, 0)
    stat, first = alerts_drift.run_chart(z, e)
    assert stat[0].tolist() == [0.5, 1.25, 0.0, 0.25, 0.25, 2.125] and first[0] == 5
    c = alerts_drift.DriftChart("cusum", math.nan, math.nan, 0.5, 2.0, 2.0, 0)
    stat, first = alerts_drift.run_chart(z, c)
    assert stat[0].tolist() == [0.5, 2.0, 0.0, 0.0, 0.0, 3.5] and first[0] == 5


# --- the table interface: direction, volume, errors, BH ------------------------------------

def _weeks(rng, cells=4, weeks=14, shift=None):
    rows = []
    for c in range(cells):
        for w in range(1, weeks + 1):
            lab = f"2026-W{w:02d}"
            n = int(rng.poisson(400))
            p = 0.8 if (shift is None or (c, w) != shift[:2]) else shift[2]
            rows.append(dict(kpi="fcr", cell=f"team{c}", week=lab, kind="rate",
                             direction="higher", n=n, successes=rng.binomial(n, p)))
    return pd.DataFrame(rows)


def test_better_is_good_news_worse_is_the_alarm():
    rng = np.random.default_rng(5)
    d = pd.concat([_weeks(rng, shift=(0, 14, 0.6)), _weeks(rng, shift=(1, 14, 0.95))
                   .assign(kpi="fcr2")])
    t = alerts.baseline_alerts(d, "2026-W14").table.set_index(["kpi", "cell"])
    assert t.loc[("fcr", "team0"), "direction"] == "worse" and t.loc[("fcr", "team0"), "alert"]
    assert t.loc[("fcr2", "team1"), "direction"] == "better"
    assert not t.loc[("fcr2", "team1"), "alert"]
    assert t.loc[("fcr2", "team1"), "p_value"] > 0.99  # one-sided in the bad direction
    # the same fall on a lower-is-better KPI is good news
    t2 = alerts.baseline_alerts(d.assign(direction="lower"), "2026-W14").table
    t2 = t2.set_index(["kpi", "cell"])
    assert t2.loc[("fcr", "team0"), "direction"] == "better"
    assert not t2.loc[("fcr", "team0"), "alert"] and t2.loc[("fcr2", "team1"), "alert"]
    # (8 cells at 0.5/8 one-sided each: fcr2 team0, p-chart since the pooled switch, is the
    # chance alert of this seed)


def test_low_volume_cells_are_not_judged_and_say_why():
    rng = np.random.default_rng(6)
    d = _weeks(rng)
    d.loc[(d["cell"] == "team2") & (d["week"] == "2026-W14"), ["n", "successes"]] = [12, 2]
    a = alerts.baseline_alerts(d, "2026-W14", min_volume=30)
    row = a.table.set_index("cell").loc["team2"]
    assert not row["judged"] and row["reason"] == "volume below 30"
    assert not row["alert"] and math.isnan(row["p_value"])
    assert a.n_judged == 3 and a.level == pytest.approx(0.5 / 3)
    assert a.summary()["not_judged"][0] == 1


def test_bh_limits_are_the_level_it_used():
    rng = np.random.default_rng(7)
    d = _weeks(rng, cells=40, shift=(3, 14, 0.6))
    a = alerts.baseline_alerts(d, "2026-W14", control="bh", q=0.05)
    t = a.table
    p = t["p_value"].to_numpy()
    adj = stats.false_discovery_control(p, method="bh")
    assert (t["alert"].to_numpy() == (adj <= 0.05)).all() and t["alert"].sum() >= 1
    # higher is better: at or below the lower limit is worse (the last rejected cell sits on it)
    beyond = t["this_week"] <= t["lower"] + 1e-12
    assert (beyond == t["alert"]).all()
    assert a.expected_false == 0.05


@pytest.mark.parametrize("change, text", [
    (lambda d: d.drop(columns="n"), "columns ['n'] are missing"),
    (lambda d: d.assign(kind="ratio"), "kinds ['ratio'] are not known"),
    (lambda d: d.assign(direction="up"), "directions ['up']"),
    (lambda d: d.assign(week="2026-01-05"), "are not ISO weeks"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "rows are repeated"),
    (lambda d: d[d["week"] != "2026-W14"], "week 2026-W14 is not in the data"),
])
def test_bad_tables_get_one_clear_message(change, text):
    d = _weeks(np.random.default_rng(8))
    with pytest.raises(AlertInputError, match="Fix:") as e:
        alerts.baseline_alerts(change(d), "2026-W14")
    assert text in str(e.value)


# --- reduced calibration: 300 reports × 200 null cells, and power --------------------------

REPORTS, CELLS, K = 300, 200, 12


def _sim(rng, kind, shift=1.0, over=0.0, rule="pooled", reports=REPORTS):
    """Cells × (K + 1) weeks for ``reports`` × CELLS cells; the last week gets ``shift``."""
    m = reports * CELLS
    n = rng.poisson(400, (m, K + 1)).astype(float)
    f = np.ones(K + 1)
    f[-1] = shift
    if kind == "rate":
        logit = np.log(4) + over * rng.standard_normal((m, K + 1))
        p = 1 / (1 + np.exp(-logit)) * f
        x = rng.binomial(n.astype(int), p).astype(float)
        group = np.repeat(np.arange(reports), CELLS)   # a report's cells are one group
        return (alerts.rate_check(x[:, :K], n[:, :K], x[:, K], n[:, K], rule, groups=group),
                n[:, K], "higher")
    if kind == "duration":   # weekly mean of log durations, log-SD 0.8 per ticket
        v = 2.0 + np.log(f) + rng.standard_normal((m, K + 1)) * np.sqrt(0.64 / n + over ** 2)
        sd = 0.8 * np.sqrt(rng.chisquare(n - 1) / (n - 1))
        return (alerts.log_duration_check(v[:, :K], sd[:, :K], n[:, :K], v[:, K], sd[:, K],
                                          n[:, K]), n[:, K], "lower")
    sd = 0.9 * np.sqrt(rng.chisquare(n - 1) / (n - 1))
    mu = 4.2 - 0.9 * 0.2 * (f != 1)   # deterioration: −0.2 SD
    v = mu + rng.standard_normal((m, K + 1)) * np.sqrt(0.81 / n + over ** 2)
    return alerts.score_check(v[:, :K], sd[:, :K], n[:, :K], v[:, K], sd[:, K], n[:, K]), \
        n[:, K], "higher"


def _false_per_report(core, n, good, min_volume=30):
    # expected_false scaled so the per-cell level is 0.5 / CELLS, as in one report
    reports = len(n) // CELLS
    t, info = alerts.judge(core, good, n, expected_false=0.5 * reports, min_volume=min_volume)
    assert info["level"] == pytest.approx(0.5 / CELLS)
    return t["alert"].to_numpy().reshape(reports, CELLS).sum(axis=1)


@pytest.mark.parametrize("kind, over", [("rate", 0.0), ("duration", 0.05),
                                        ("score", 0.0), ("score", 0.05)])
def test_null_reports_hold_half_a_false_alert(kind, over):
    rng = np.random.default_rng([11, len(kind), int(over * 100)])
    core, n, good = _sim(rng, kind, over=over)
    per = _false_per_report(core, n, good)
    band = 3 * math.sqrt(0.5 / REPORTS)   # Monte Carlo: Poisson(0.5) count, 300 reports
    assert per.mean() <= 0.5 + band
    assert per.mean() >= 0.05               # calibrated, not switched off


def test_holiday_weeks_hold_the_level_small_cells_too():
    """The monitor's null weeks: volumes that drop to 40 % in holiday weeks (two baseline
    weeks and one report week in six), small cells (n ≈ 40) with rates near 0.95. The
    textbook limits (normal p-chart; unweighted between-week SD for log durations) alarm too
    often there; the exact-tail p-chart and the weighted interval hold 0.5 a report."""
    rng = np.random.default_rng(14)
    m = REPORTS * CELLS
    vol = np.ones((m, K + 1))
    vol[:, [3, 9]] = 0.4
    vol[::6, K] = 0.4
    n = rng.poisson(40 * vol).astype(float) + 5
    x = rng.binomial(n.astype(int), 0.95).astype(float)
    core = alerts.rate_check(x[:, :K], n[:, :K], x[:, K], n[:, K], "p")
    per = _false_per_report(core, n[:, K], "higher", 5)
    assert per.mean() == pytest.approx(0.5, abs=0.15)  # measured 0.47
    normal = {**core, "z_le": (core["this_week"] - core["baseline"]) / core["expected_se"]}
    normal["limits"] = lambda lo, hi: (core["baseline"] - lo * core["expected_se"],
                                       core["baseline"] + hi * core["expected_se"])
    normal["z_ge"] = normal["z_le"]
    assert _false_per_report(normal, n[:, K], "higher", 5).mean() > 1.5  # measured 2.45
    n = rng.poisson(300 * vol).astype(float) + 5
    v = 2.0 + rng.standard_normal((m, K + 1)) * np.sqrt(0.64 / n)
    sd = 0.8 * np.sqrt(rng.chisquare(n - 1) / (n - 1))
    core = alerts.log_duration_check(v[:, :K], sd[:, :K], n[:, :K], v[:, K], sd[:, K], n[:, K])
    assert _false_per_report(core, n[:, K], "lower", 5).mean() == pytest.approx(0.5, abs=0.15)
    # the old limits: centre ± t(k − 1)·s·√(1 + 1/k) from the weeks' means alone
    c, s = v[:, :K].mean(axis=1), v[:, :K].std(axis=1, ddof=1)
    old = {"baseline": c, "this_week": v[:, K], "expected_se": s * math.sqrt(1 + 1 / K),
           "df": np.full(m, K - 1.0), "method": np.full(m, "t"), "weeks": np.full(m, K),
           "degenerate": np.zeros(m, bool)}
    assert _false_per_report(old, n[:, K], "lower", 5).mean() > 0.6  # measured 0.67


def test_null_p_values_are_uniform_in_the_tail():
    """Mid-p tails of the p-chart on binomial weeks, n ≈ 60, p = 0.9: the share of p-values
    below a level is the level, from 10 % down to 0.5 % (60 000 cells)."""
    rng = np.random.default_rng(15)
    n = rng.poisson(60, (60_000, K + 1)).astype(float) + 5
    x = rng.binomial(n.astype(int), 0.9).astype(float)
    core = alerts.rate_check(x[:, :K], n[:, :K], x[:, K], n[:, K], "p")
    t, _ = alerts.judge(core, "higher", n[:, K], expected_false=0.5)
    p = t["p_value"].to_numpy()
    for level in (0.1, 0.05, 0.01, 0.005):
        sd = math.sqrt(level * (1 - level) / p.size)
        assert abs((p <= level).mean() - level) < 4 * sd + 0.1 * level, level


def test_pooled_switch_closed_form():
    """Laney for a cell when its σ_z > 1 and the Pearson dispersion Σ_cells Σ_weeks z² of its
    group (a metric's cells in one report) is beyond the 95 % point of χ²(Σ(k − 1))."""
    x2 = np.array([20, 26, 15, 24, 17, 23, 16, 25, 18, 22, 17, 21], float)  # σ_z > 1
    x1 = np.array([20, 21, 19, 20, 22, 18, 20, 20, 21, 19, 20, 20], float)  # σ_z < 1
    wide = np.array([30, 12, 28, 10, 27, 14, 31, 9, 29, 11, 26, 13], float)  # very overdispersed
    xb = np.vstack([x2, x1, x2, wide])
    n = np.full((4, 12), 100.0)
    groups = ["a", "a", "b", "b"]
    core = alerts.rate_check(xb, n, [20] * 4, [100] * 4, "pooled", groups=groups)

    def chi2(x):
        p = x.sum() / 1200
        return (((x / 100 - p) / math.sqrt(p * (1 - p) / 100)) ** 2).sum()

    assert stats.chi2.sf(chi2(x2) + chi2(x1), 22) > 0.05       # group a: binomial enough
    assert stats.chi2.sf(chi2(x2) + chi2(wide), 22) < 0.05     # group b: overdispersed
    assert list(core["method"]) == ["p-chart", "p-chart", "Laney p'", "Laney p'"]


def test_pooled_switch_holds_the_level_with_some_cells_overdispersed():
    """A share of a report's cells overdispersed (logit-SD 0.1, the rest binomial): the
    "pooled" switch stays near 0.5 false alerts a report where "excess" pays on binomial
    reports and "test" alarms once overdispersion is common (measured on 300 reports:
    pooled 0.52 / 0.39 / 0.62, excess 0.32 / 0.26 / 0.62, test 0.50 / 0.59 / 1.78 for 0 %,
    10 %, 100 % of cells); 100 reports here, the binomial case in
    test_null_reports_hold_half_a_false_alert."""
    reports = 100
    for frac, most in ((0.1, 0.8), (1.0, 1.0)):
        rng = np.random.default_rng([16, int(frac * 100)])
        m = reports * CELLS
        n = rng.poisson(400, (m, K + 1)).astype(float)
        over = np.where(rng.random(m) < frac, 0.1, 0.0)[:, None]
        p = 1 / (1 + np.exp(-(np.log(4) + over * rng.standard_normal((m, K + 1)))))
        x = rng.binomial(n.astype(int), p).astype(float)
        core = alerts.rate_check(x[:, :K], n[:, :K], x[:, K], n[:, K], "pooled",
                                 groups=np.repeat(np.arange(reports), CELLS))
        t, info = alerts.judge(core, "higher", n[:, K], expected_false=0.5 * reports)
        assert info["level"] == pytest.approx(0.5 / CELLS)
        per = t["alert"].to_numpy().reshape(reports, CELLS).sum(axis=1).mean()
        assert 0.15 < per < most, (frac, per)  # 100 reports: Monte Carlo SE ≈ 0.07


def test_overdispersed_rates_need_laney():
    # logit-SD 0.1 between weeks (φ ≈ 1.6 at n = 400): the p-chart gives ~3 false alerts a
    # report (2.97 measured; 3.5 with the old normal tail); Laney with a 12-week MR-bar ~0.6
    # (the noisy per-cell σ_z; see benchmarks/calibration_alerts.py)
    rng = np.random.default_rng(12)
    core, n, good = _sim(rng, "rate", over=0.1, rule="p", reports=100)
    assert _false_per_report(core, n, good).mean() > 2.5
    core, n, good = _sim(np.random.default_rng(12), "rate", over=0.1, reports=100)
    assert _false_per_report(core, n, good).mean() < 1.1


# rate: FCR 80 % → 64 %; duration: geometric mean × 1.2; score: mean − 0.2 SD (n ≈ 400)
@pytest.mark.parametrize("kind, shift", [("rate", 0.8), ("duration", 1.2), ("score", 0.8)])
def test_a_twenty_percent_deterioration_is_flagged_in_most_reports(kind, shift):
    rng = np.random.default_rng([13, len(kind)])
    core, n, good = _sim(rng, kind, shift=shift, reports=100)
    t, _ = alerts.judge(core, good, n, expected_false=0.5 * 100)
    assert t["alert"].mean() > 0.6   # measured: rate 1.00, duration 0.78, score 0.66
