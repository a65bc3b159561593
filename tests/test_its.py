"""Interrupted time series on calendar time (sqresearch.stats.its).

Reference values come from tests/reference_its.R (R 4.2, nlme 3.1-162, sandwich, lmtest); the R
call sits beside each number.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch import simulate
from sqresearch.stats import its
from sqresearch.stats.its import default_lags, interrupted_time_series

RTOL = 1e-6
MONDAY = pd.Timestamp("2025-01-06")

# the series of tests/reference_its.R: weeks 9 and 30 missing, washout weeks 21-23, T0 = 24
T = np.r_[0:9, 10:30, 31:48]
Y = [19.21, 20.22, 18.66, 21.50, 22.04, 21.49, 21.41, 22.14, 21.99, 23.22, 23.57, 23.23,
     23.16, 23.46, 22.87, 22.90, 23.92, 23.68, 22.38, 22.77, 24.09, 23.73, 23.68, 21.96,
     23.51, 21.62, 22.96, 20.95, 21.59, 22.70, 23.10, 23.62, 21.88, 22.83, 22.10, 21.97,
     22.99, 23.89, 23.71, 22.94, 22.59, 24.88, 25.11, 25.51, 27.32, 25.24]
W = [152, 179, 85, 139, 137, 147, 199, 159, 216, 85, 188, 207, 172, 230, 146, 207, 80, 86,
     207, 219, 163, 200, 132, 196, 159, 128, 94, 107, 224, 238, 136, 89, 120, 137, 192, 196,
     197, 130, 140, 170, 177, 146, 110, 203, 163, 233]
DATES = MONDAY + pd.to_timedelta(7 * T, unit="D")
WHEN = "2025-06-04"  # a Wednesday in week 21
WASHOUT = ("2025-06-02", "2025-06-22")  # weeks 21, 22, 23
R_PHI = 0.466866856629205  # coef(gls(...)$modelStruct$corStruct, unconstrained = FALSE)


def fit(**kw):
    return interrupted_time_series(DATES, Y, WHEN, washout=WASHOUT, **kw)


def test_calendar_axis_gap_and_washout():
    res = fit()
    s = res.series
    assert len(s) == 46 and list(s["t"]) == list(T)  # gaps have no row and keep their place
    assert list(s.loc[s["washout"], "t"]) == [21, 22, 23]
    assert s.loc[s["washout"], "observed"].tolist() == Y[20:23]  # kept with observed values
    assert res.t0 == 24 and res.t0_date == pd.Timestamp("2025-06-23")
    assert res.n == 43 and res.df == 39 and res.freq == "week" and res.seasonal == "none"
    assert (s["post"] == (s["t"] >= 24)).all()
    assert s.loc[~s["post"], "pi_low"].isna().all() and s.loc[s["post"], "pi_low"].notna().all()
    assert "T0 = 2025-06-23" in res.notes[0] and "outside the washout" in res.notes[0]


def test_ar1_matches_r_nlme_gls(monkeypatch):
    # R: gls(y ~ t + post + since, data = f, correlation = corAR1(form = ~ t), method = "REML").
    # nlme stops its optimiser a little early: our phi has the higher restricted likelihood
    # (R's own logLik: -61.4199813525071 at ours vs -61.4199813525137 at its), hence 1e-5 here
    assert_allclose(fit().phi, R_PHI, rtol=1e-5)
    # the rest at R's phi held fixed: corAR1(R_PHI, form = ~ t, fixed = TRUE)
    monkeypatch.setattr(its, "_reml_phi", lambda *a: R_PHI)
    res = fit()
    c = res.coefficients
    assert list(c["term"]) == ["const", "t", "post", "since"] and res.errors == "ar1"
    # R: summary(g)$tTable
    assert_allclose(c["estimate"], [20.3132004756033986, 0.1793662210221248, -3.1133606603638677,
                                    -0.0277915981066896], rtol=RTOL)
    assert_allclose(c["se"], [0.6813370174891914, 0.0568426316159696, 1.0835200750521565,
                              0.0744127584534866], rtol=RTOL)
    assert_allclose(c["t"], [29.813733811880613, 3.155487631781861, -2.873376074932439,
                             -0.373478939422215], rtol=RTOL)
    assert_allclose(c["p_value"], [1.87218492402235e-28, 3.08394334885651e-03,
                                   6.54022638923598e-03, 7.10814577481983e-01], rtol=RTOL)
    assert (c["df"] == 39).all() and (c["z"] == c["t"]).all()
    # R: Box.test(resid(g, type = "normalized"), lag = min(10, floor(n / 5)), "Ljung-Box")
    lb = res.ljung_box
    assert lb["lag"] == 8
    assert_allclose([lb["statistic"], lb["p_value"]], [4.558265932276652, 0.803575873209614],
                    rtol=RTOL)
    # R: X0 %*% coef(g); qt(0.975, n - k) * sqrt(rowSums((X0 %*% vcov(g)) * X0) + g$sigma^2)
    post = res.series[res.series["post"]]
    assert_allclose(post["counterfactual"].iloc[[0, 1, 2, -1]],
                    [24.6179897801344, 24.7973560011565, 24.9767222221786, 28.7434128636433],
                    rtol=RTOL)
    assert_allclose((post["pi_high"] - post["counterfactual"]).iloc[[0, 1, 2, -1]],
                    [2.80360147881082, 2.87110081901341, 2.94154672061451, 4.83311700439102],
                    rtol=RTOL)
    assert_allclose(post["counterfactual"] - post["pi_low"],
                    post["pi_high"] - post["counterfactual"], rtol=1e-12)
    # R: cc <- c(0, 0, nrow(post), sum(post$since)); sum(cc * coef(g)); sqrt(t(cc) %*% V %*% cc)
    cum = res.cumulative
    assert cum["periods"] == 23
    assert_allclose([cum["estimate"], cum["se"], cum["ci_low"], cum["ci_high"]],
                    [-79.11102667717515, 35.58144463994266, -151.08129167217783,
                     -7.14076168217247], rtol=RTOL)
    # R: ce <- c(0, 0, 1, max(post$since)) (the last period, 23 weeks after T0)
    end = res.end
    assert_allclose([end["estimate"], end["se"], end["ci_low"], end["ci_high"]],
                    [-3.752567416817729, 2.235396739971426, -8.274084105437707,
                     0.768949271802249], rtol=RTOL)
    eff = res.effects().set_index("effect")
    assert list(eff.index) == ["level change", "slope change", "average effect",
                               "cumulative effect", "effect at the end"]
    assert_allclose(eff.loc["average effect", "estimate"], -79.11102667717515 / 23, rtol=RTOL)
    assert res.fading is False and res.fading_text == ""  # level and slope change agree in sign


def test_ar1_weighted_with_fourier_matches_r(monkeypatch):
    # R: gls(y ~ t + post + since + s1 + c1, correlation = corAR1(form = ~ t),
    #        weights = varFixed(~ 1 / w), method = "REML"), s1/c1 = sin/cos(2 pi t / 52.18)
    assert_allclose(fit(seasonal="fourier:1", weights=W).phi, 0.0337933019985056, rtol=1e-4)
    monkeypatch.setattr(its, "_reml_phi", lambda *a: 0.0337933019985056)
    c = fit(seasonal="fourier:1", weights=W).coefficients
    assert list(c["term"]) == ["const", "t", "post", "since", "sin1", "cos1"]
    assert_allclose(c["estimate"], [20.23101103674544277, 0.00626550645580586,
                                    0.75651344103465590, 0.31114759544332216,
                                    2.90476123691812660, -0.55691183691448265], rtol=RTOL)
    assert_allclose(c["se"], [1.922312797521782, 0.191556877263541, 0.987951627764223,
                              0.369720188528654, 0.829176397793315, 1.731740779259520], rtol=RTOL)
    assert_allclose(c["p_value"], [1.11870734911079e-12, 9.74082989432701e-01,
                                   4.48688946347020e-01, 4.05432005637319e-01,
                                   1.22011868020059e-03, 7.49572526506877e-01], rtol=RTOL)


def test_newey_west_option_matches_r_sandwich():
    res = fit(errors="newey-west")
    c = res.coefficients
    # R: floor(4 * (n / 100)^(2 / 9)) with n = 43
    assert res.lags == 3 == default_lags(43) and "Newey & West" in res.lag_rule
    # R: coeftest(fit, vcov. = NeweyWest(fit, lag = 3, prewhite = FALSE, adjust = TRUE),
    #             df = n - k)
    assert_allclose(c["estimate"], [20.3701326484166820, 0.1811808310033157, -3.2713352888109797,
                                    -0.0267888235394688], rtol=RTOL)
    assert_allclose(c["se"], [0.5346718501272563, 0.0454540946551688, 0.9588996348701200,
                              0.0580591122858015], rtol=RTOL)
    assert_allclose(c["t"], [38.098382481831472, 3.986017813748550, -3.411551292595989,
                             -0.461406013367863], rtol=RTOL)
    assert_allclose(c["p_value"], [1.79870106018748e-32, 2.85542360301576e-04,
                                   1.51678014944450e-03, 6.47070563743725e-01], rtol=RTOL)
    # R: Box.test(resid(fit), lag = 8, type = "Ljung-Box")
    assert_allclose([res.ljung_box["statistic"], res.ljung_box["p_value"]],
                    [8.680993323610410, 0.369917368869459], rtol=RTOL)
    post = res.series[res.series["post"]]
    # R: qt(0.975, n - k) * sqrt(rowSums((X0 %*% VN) * X0) + summary(fit)$sigma^2)
    assert_allclose((post["pi_high"] - post["counterfactual"]).iloc[[0, 1, 2, -1]],
                    [2.44070840101246, 2.48939001149438, 2.54046718819452, 3.96917326747459],
                    rtol=RTOL)
    # without season terms the counterfactual is R's predict(lm(y ~ t, pre), newdata)[, "fit"]
    pre = res.series[~res.series["post"] & ~res.series["washout"]]
    line = np.polyfit(pre["t"], pre["observed"], 1)
    assert_allclose(post["counterfactual"], np.polyval(line, post["t"]), rtol=1e-10)
    # R: sum(cc * coef(fit)), sqrt(t(cc) %*% VN %*% cc); = sum(observed - cf) over post
    assert_allclose([res.cumulative["estimate"], res.cumulative["se"]],
                    [-82.4736939983091, 28.8789975647574], rtol=RTOL)
    assert_allclose((post["observed"] - post["counterfactual"]).sum(), -82.4736939983092,
                    rtol=RTOL)


def test_old_positional_call_still_works():
    res = interrupted_time_series(DATES, Y, WHEN, "none", 3, 0.05)  # lags given: Newey–West
    assert res.errors == "newey-west" and res.lags == 3
    row = res.term("post")
    assert {"estimate", "ci_low", "ci_high", "z", "p_value", "label"} <= set(row.index)
    assert {"date", "observed", "fitted", "counterfactual", "post"} <= set(res.series.columns)
    assert res.summary() is res.coefficients


def test_planted_gap_gives_no_spurious_level_change():
    """No true change, y = 10 + t (weeks) + a small wiggle. The old code counted rows: four weeks
    without data just before the intervention made a level change of +4.1 with p = 0, and a
    4-week gap in the middle of the pre period −1.33 (p = 0.02)."""
    for missing, start in ((range(20, 24), 20), (range(8, 12), 24)):
        t = np.array([i for i in range(40) if i not in missing])
        y = 10 + 1.0 * t + 0.3 * np.sin(1.3 * t)
        dates = MONDAY + pd.to_timedelta(7 * t, unit="D")
        when = MONDAY + pd.Timedelta(weeks=start)
        rows = np.arange(len(t))  # the old time axis, for the record
        x = np.column_stack([np.ones(len(t)), rows, t >= start,
                             np.where(t >= start, rows - rows[t >= start][0], 0)])
        old = np.linalg.lstsq(x, y, rcond=None)[0][2]
        assert abs(old) > 1.3
        for errors in ("ar1", "newey-west"):
            level = interrupted_time_series(dates, y, when, errors=errors).term("post")
            assert abs(level.estimate) < 0.2 and level.p_value > 0.2
    # the same as a declared washout: the four weeks are in the data but left out of the fit
    t = np.arange(40)
    y = 10 + 1.0 * t + 0.3 * np.sin(1.3 * t) + 6.0 * ((t >= 20) & (t <= 23))
    dates = MONDAY + pd.to_timedelta(7 * t, unit="D")
    when = MONDAY + pd.Timedelta(weeks=20)
    res = interrupted_time_series(dates, y, when, washout=(when, when + pd.Timedelta(days=27)))
    assert res.t0 == 24 and res.series["washout"].sum() == 4
    assert abs(res.term("post").estimate) < 0.2 and res.term("post").p_value > 0.2


def test_frequencies_and_period_index():
    # weekly dates on any weekday: t counts weeks from the Monday of the first week
    d = pd.to_datetime(["2025-01-08", "2025-01-16", "2025-01-20", "2025-02-06", "2025-02-12",
                        "2025-02-19", "2025-02-27"])
    res = interrupted_time_series(d, [1, 2, 3, 5, 6, 7, 8.5], "2025-02-05", "none")
    assert res.freq == "week" and list(res.series["t"]) == [0, 1, 2, 4, 5, 6, 7]
    # the intervention on a Wednesday: that week counts as before, T0 is the next Monday
    assert res.t0 == 5 and res.t0_date == pd.Timestamp("2025-02-10")
    m = pd.to_datetime(["2024-01-15", "2024-02-03", "2024-04-20", "2024-05-01", "2024-06-30",
                        "2024-07-02", "2024-08-09"])
    res = interrupted_time_series(m, [3, 4, 6, 7, 8, 10, 11], "2024-06-01", "none")
    assert res.freq == "month" and list(res.series["t"]) == [0, 1, 3, 4, 5, 6, 7]
    days = pd.date_range("2025-03-03", periods=30).delete([5, 6])
    res = interrupted_time_series(days, np.arange(28.0) % 5, "2025-03-20", "none")
    assert res.freq == "day" and res.series["t"].iloc[5] == 7
    with pytest.raises(ValueError, match="same week"):
        interrupted_time_series(days, np.arange(28.0), "2025-03-20", freq="week")


def test_seasonal_auto_rule_and_terms():
    def chosen(freq, periods, at):
        unit = {"day": "D", "week": "W-MON", "month": "MS"}[freq]
        d = pd.date_range("2022-01-03", periods=periods, freq=unit)
        y = np.sin(np.arange(periods) * 0.7) + np.arange(periods) * 0.01
        return interrupted_time_series(d, y, d[at], freq=freq)

    assert chosen("day", 60, 30).seasonal == "weekday"  # pre period of 30 days >= 3 weeks
    assert chosen("day", 40, 14).seasonal == "none"
    assert chosen("week", 104, 52).seasonal == "fourier:2"
    assert chosen("week", 90, 45).seasonal == "none"  # < 2 years
    assert chosen("week", 110, 20).seasonal == "none"  # pre period < half a year
    res = chosen("month", 30, 12)
    assert res.seasonal == "fourier:2" and {"sin2", "cos2"} <= set(res.coefficients["term"])
    assert "auto" in res.notes[2]
    res = chosen("day", 60, 30)
    terms = set(res.coefficients["term"])
    assert {f"weekday_{i}" for i in range(1, 7)} <= terms and "weekday_0" not in terms
    lab = res.term("weekday_5").label
    assert lab == "day of week: Sat"
    res = interrupted_time_series(pd.date_range("2022-01-03", periods=60, freq="W-MON"),
                                  np.arange(60.0) % 7, "2022-09-05", "month", freq="week")
    assert sum(t.startswith("month_") for t in res.coefficients["term"]) == 11


def test_fading_effect():
    t = np.arange(40)
    since = np.clip(t - 20, 0, None)
    wiggle = 0.2 * np.sin(1.7 * t)
    d = MONDAY + pd.to_timedelta(7 * t, unit="D")
    # +5 at T0, −0.4 per week after: zero after 12.5 weeks (12.6 fitted), 19 weeks observed
    res = interrupted_time_series(d, 10 + 5 * (t >= 20) - 0.4 * since + wiggle, d[20], "none")
    assert res.fading and "crosses zero about 13 weeks" in res.fading_text
    assert "effect at the end" in res.fading_text and res.fading_text in res.notes
    # shrinks by more than half without crossing
    res = interrupted_time_series(d, 10 + 5 * (t >= 20) - 0.15 * since + wiggle, d[20], "none")
    assert res.fading and "shrunk" in res.fading_text
    res = interrupted_time_series(d, 10 + 5 * (t >= 20) + 0.1 * since + wiggle, d[20], "none")
    assert not res.fading and res.fading_text == ""


def test_clear_errors():
    d = MONDAY + pd.to_timedelta(7 * np.arange(12), unit="D")
    y = np.arange(12.0) + np.sin(np.arange(12))
    with pytest.raises(ValueError, match="at least 3 observed periods before and 2 after"):
        interrupted_time_series(d, y, d[2], "none")
    with pytest.raises(ValueError, match="at least 3 observed periods before and 2 after"):
        interrupted_time_series(d, y, d[11], "none")
    with pytest.raises(ValueError, match="intervention .* is outside the data"):
        interrupted_time_series(d, y, "2026-01-01", "none")
    with pytest.raises(ValueError, match="washout window .* is outside the data"):
        interrupted_time_series(d, y, d[6], washout=("2024-01-01", "2024-02-01"))
    with pytest.raises(ValueError, match="ends .* before it starts"):
        interrupted_time_series(d, y, d[6], washout=(d[7], d[5]))
    with pytest.raises(ValueError, match="too many terms"):
        interrupted_time_series(d, y, d[6], "fourier:3")
    with pytest.raises(ValueError, match="not one of none"):
        interrupted_time_series(d, y, d[6], "quarterly")
    with pytest.raises(ValueError, match="needs a daily series"):
        interrupted_time_series(d, y, d[6], "weekday")
    with pytest.raises(ValueError, match="errors="):
        interrupted_time_series(d, y, d[6], errors="hac")
    with pytest.raises(ValueError, match="Newey–West lag"):
        interrupted_time_series(d, y, d[6], lags=2, errors="ar1")


def test_structural_model_recovers_a_planted_level_shift():
    rng = np.random.default_rng(11)
    n, start = 80, 50
    t = np.arange(n)
    e = np.zeros(n)
    for i in range(n):
        e[i] = (0.3 * e[i - 1] if i else 0) + rng.normal()
    y = 30 + 0.05 * t + 3.0 * (t >= start) + e
    d = MONDAY + pd.to_timedelta(7 * t, unit="D")
    res = interrupted_time_series(d, y, d[start], "none", model="structural")
    again = interrupted_time_series(d, y, d[start], "none", model="structural")
    avg = res.cumulative["average"]
    assert res.model == "structural" and avg == again.cumulative["average"]  # deterministic
    assert avg["ci_low"] <= 3.0 <= avg["ci_high"] and avg["ci_low"] > 0
    assert res.cumulative["ci_low"] <= 3.0 * 30 <= res.cumulative["ci_high"]
    post = res.series[res.series["post"]]
    assert (post["pi_low"] < post["counterfactual"]).all()
    assert list(res.effects()["effect"]) == ["average effect", "cumulative effect",
                                             "effect at the end"]
    assert "sigma2.irregular" in set(res.coefficients["term"])


def test_calibration_weekly_ar1_with_washout_and_seasonality():
    """Two years of weeks, AR(1) errors (phi 0.3 for half the runs, 0.5 for the rest), a yearly
    cycle and a 3-week washout; seasonal="auto" picks fourier:2. Observed with this seed: 6.7 %
    false positives (300 series without a change) and 93.3 % coverage of a planted level change
    of +2. The full grid is in benchmarks/calibration_its.py."""
    rng = np.random.default_rng(1)
    reject = cover = 0
    for r in range(300):
        phi = 0.3 if r < 150 else 0.5
        d, y, when, window = simulate.its_series(rng, 104, phi, True, 0.0)
        res = interrupted_time_series(d, y, when, washout=window)
        reject += res.term("post").p_value < 0.05
        d, y, when, window = simulate.its_series(rng, 104, phi, True, 2.0)
        level = interrupted_time_series(d, y, when, washout=window).term("post")
        cover += level.ci_low <= 2.0 <= level.ci_high
    assert res.seasonal == "fourier:2" and res.errors == "ar1"
    assert reject / 300 <= 0.09
    assert 0.91 <= cover / 300 <= 0.98
