"""The weekly monitor's demo tickets (``simulate.monitor``): determinism, the window, the steady
state, every planted event of ``MONITOR_TRUTH`` at its stated size (closed forms computed here
from the truth), personal data in the texts found by ``stats.text_mask``, the committed file, and
the existing statistics layer seeing the events (alerts, mix-vs-rate decomposition, funnel)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from sqresearch.simulate.monitor import (
    iso_week,
    theme_schedule,
    week_index,
    weekly_monitor,
)
from sqresearch.simulate.truth import MONITOR_TRUTH, TRUTH
from sqresearch.stats import alerts, alerts_drift
from sqresearch.stats.decompose import decompose
from sqresearch.stats.funnel import funnel_proportion
from sqresearch.stats.text_mask import mask, masked_counts

ROOT = Path(__file__).resolve().parents[1]
T = MONITOR_TRUTH
EV = T["events"]
COLUMNS = ["ticket_id", "opened_ts", "first_reply_ts", "solved_ts", "channel", "team",
           "category", "agent_fcr", "reopens", "csat", "nps", "is_complaint", "customer_id",
           "customer_phone", "complaint_text"]
PII = ["phone", "intl", "email", "card", "id", "order"]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    d = weekly_monitor(truth_columns=True)
    d["wk"] = d["week"].map(week_index)
    d["frt"] = (d["first_reply_ts"] - d["opened_ts"]).dt.total_seconds() / 60
    d["ttr"] = (d["solved_ts"] - d["opened_ts"]).dt.total_seconds() / 3600
    d["cell"] = d["team"] + "|" + d["channel"]
    return d


def weeks(lo: str, hi: str) -> tuple[int, int]:
    return week_index(lo), week_index(hi)


def in_weeks(d: pd.DataFrame, lo: str, hi: str) -> pd.Series:
    return d["wk"].between(*weeks(lo, hi))


def cell(d: pd.DataFrame, team: str, channel: str) -> pd.DataFrame:
    return d[(d["team"] == team) & (d["channel"] == channel)]


def weekly_table(d: pd.DataFrame) -> pd.DataFrame:
    """One row per KPI × team|channel cell × ISO week, as ``alerts.baseline_alerts`` takes it:
    FRT and resolution time as mean log durations (with their SD), FCR as a rate."""
    def durations(col, kpi):
        s = d[d[col].notna()].assign(v=lambda x: np.log(x[col]))
        g = s.groupby(["cell", "week"])["v"].agg(["mean", "size", "std"]).reset_index()
        return g.rename(columns={"mean": "value", "size": "n", "std": "sd"}).assign(
            kpi=kpi, kind="duration", direction="lower")
    fcr = (d.groupby(["cell", "week"])["agent_fcr"].agg(["sum", "size"]).reset_index()
           .rename(columns={"sum": "successes", "size": "n"})
           .assign(kpi="fcr", kind="rate", direction="higher"))
    return pd.concat([durations("frt", "frt"), fcr, durations("ttr", "ttr")],
                     ignore_index=True)


# --- determinism, window, columns ------------------------------------------------------------

def test_same_seed_same_frame_and_truth_columns_change_nothing_else(df):
    plain = weekly_monitor()
    assert list(plain.columns) == COLUMNS
    pd.testing.assert_frame_equal(plain, df[COLUMNS])
    assert TRUTH["weekly_monitor"] is MONITOR_TRUTH and T["seed"] == 20261130


def test_window_is_56_iso_weeks_in_local_time(df):
    assert df["opened_ts"].min() >= pd.Timestamp("2025-11-03")
    assert df["opened_ts"].max() <= pd.Timestamp("2026-11-29 23:59:59")
    assert df["opened_ts"].dt.tz is None  # naive local (Asia/Shanghai) times
    labels = iso_week(df["opened_ts"])
    assert labels.iloc[0] == "2025-W45" and labels.iloc[-1] == "2026-W48"
    assert labels.nunique() == 56 == T["weeks"] and (labels.to_numpy() == df["week"]).all()
    assert week_index("2025-W45") == 0 and week_index("2026-W01") == 8
    assert week_index("2026-W48") == 55
    assert df["ticket_id"].is_unique and df["opened_ts"].is_monotonic_increasing
    cut = pd.Timestamp(T["data_cut"])
    assert (df["first_reply_ts"].dropna() <= cut).all() and (df["solved_ts"].dropna() <= cut).all()
    answered = df["first_reply_ts"].notna()
    assert (df.loc[answered, "first_reply_ts"] >= df.loc[answered, "opened_ts"]).all()
    assert not df.loc[~answered, "agent_fcr"].any()  # no flag before a reply
    done = df["solved_ts"].notna()
    assert (df.loc[done, "solved_ts"] >= df.loc[done, "first_reply_ts"]).all()
    assert df["customer_phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert set(df["team"]) == set(T["teams"]) and set(df["channel"]) == {"phone", "chat", "email"}


# --- the steady state -------------------------------------------------------------------------

def test_volume_calendar_and_hours(df):
    per_week = df.groupby("wk").size()
    ordinary = per_week[per_week.index < week_index("2026-W44")]
    assert ordinary.median() == pytest.approx(T["tickets_per_week"], rel=0.05)
    # the National Day holiday (2026-10-01..07) lowers 2026-W40 and W41
    around = per_week.loc[[week_index(w) for w in ("2026-W37", "2026-W38", "2026-W39",
                                                   "2026-W42", "2026-W43")]].mean()
    assert per_week[week_index("2026-W40")] < 0.9 * around
    assert per_week[week_index("2026-W41")] < 0.8 * around
    days = df["opened_ts"].dt.normalize()
    daily = df.groupby(days).size()
    weekend = daily.index.weekday >= 5
    assert daily[weekend].mean() < 0.5 * daily[~weekend].mean()
    hours = df.loc[df["opened_ts"].dt.weekday < 5, "opened_ts"].dt.hour.value_counts()
    assert hours.loc[range(7, 13)].idxmax() == 10 and hours.loc[range(13, 19)].idxmax() == 15
    assert hours.loc[10] > 1.5 * hours.loc[13]  # the lunch dip between the peaks


def test_channel_clocks_are_the_truths_lognormals(df):
    steady = df[(df["wk"] < week_index("2026-W30")) & df["frt"].notna()]
    for ch, med in T["frt_median_min"].items():
        x = np.log(steady.loc[steady["channel"] == ch, "frt"])
        assert math.exp(x.median()) == pytest.approx(med, rel=0.05), ch
        assert x.std() == pytest.approx(T["frt_log_sd"][ch], abs=0.03), ch
    # resolution = FRT + handling: log-normal handling, × 4 for a share q of tickets, whose
    # median m solves (1 − q) Φ(log(m/h)/σ) + q Φ(log(m/(4h))/σ) = 1/2
    q, k, sd = T["complex_share"], T["complex_factor"], T["handling_log_sd"]
    for ch, h in T["handling_median_h"].items():
        x = steady[(steady["channel"] == ch) & steady["ttr"].notna()]
        m = optimize.brentq(lambda v, h=h: (1 - q) * stats.norm.cdf(math.log(v / h) / sd)
                            + q * stats.norm.cdf(math.log(v / (k * h)) / sd) - 0.5, h / 10,
                            10 * h)
        assert (x["ttr"] - x["frt"] / 60).median() == pytest.approx(m, rel=0.06), ch


def test_fcr_surveys_and_complaints(df):
    others = df[df["team"] != "north"]
    assert others["agent_fcr"].mean() == pytest.approx(T["fcr"], abs=0.01)
    for team, g in others.groupby("team"):
        assert g["agent_fcr"].mean() == pytest.approx(T["fcr"], abs=0.01), team
    done = df["solved_ts"].notna()
    assert df.loc[done, "csat"].notna().mean() == pytest.approx(T["csat_answered"], abs=0.01)
    assert df.loc[done, "nps"].notna().mean() == pytest.approx(T["nps_answered"], abs=0.01)
    assert df["csat"].dropna().between(1, 5).all() and df["nps"].dropna().between(0, 10).all()
    rate = T["complaint_rate"]
    assert df.loc[df["agent_fcr"], "is_complaint"].mean() == pytest.approx(rate["fcr"], abs=0.005)
    assert df["complaint_text"].notna().equals(df["is_complaint"])
    zh = df.loc[df["is_complaint"], "complaint_lang"].eq("zh").mean()
    assert zh == pytest.approx(T["zh_share"], abs=0.03)
    assert df["complaint_text"].dropna().str.contains(r"[A-Za-z]{3}").mean() > 0.4


# --- the planted events -----------------------------------------------------------------------

def test_deterioration_a_east_phone_frt_times_2_5(df):
    a = EV["deterioration_a"]
    c = cell(df, a["team"], a["channel"])
    base = c.loc[in_weeks(c, "2026-W35", "2026-W46"), "frt"].median()
    now = c.loc[in_weeks(c, a["first_week"], a["last_week"]), "frt"].median()
    assert now / base == pytest.approx(a["size"], rel=0.2)
    # every other cell: no change
    for (team, ch), g in df.groupby(["team", "channel"]):
        if (team, ch) != (a["team"], a["channel"]):
            r = g.loc[in_weeks(g, "2026-W47", "2026-W48"), "frt"].median() / g.loc[
                in_weeks(g, "2026-W35", "2026-W46"), "frt"].median()
            assert 0.7 < r < 1.4, (team, ch)


def excess_a_b(df):
    """A's W48 tickets answered later than the baseline median beyond the expected half; B's
    W48 tickets not resolved at first contact beyond the baseline's share."""
    a, b = EV["deterioration_a"], EV["deterioration_b"]
    ca, cb = cell(df, a["team"], a["channel"]), cell(df, b["team"], b["channel"])
    base_a = ca.loc[in_weeks(ca, "2026-W35", "2026-W46"), "frt"]
    now_a = ca.loc[ca["week"] == "2026-W48", "frt"]
    base_b = cb.loc[in_weeks(cb, "2026-W35", "2026-W46"), "agent_fcr"].mean()
    now_b = cb.loc[cb["week"] == "2026-W48", "agent_fcr"]
    return ((now_a > base_a.median()).sum() - 0.5 * now_a.size,
            (~now_b).sum() - (1 - base_b) * now_b.size, now_b.mean(), now_b.size)


def test_deterioration_b_west_chat_fcr_and_a_larger_impact(df):
    b = EV["deterioration_b"]
    ex_a, ex_b, fcr_now, n = excess_a_b(df)
    assert fcr_now == pytest.approx(T["fcr"] + b["size"], abs=0.5 / n + 1e-9)  # planted exactly
    cb = cell(df, b["team"], b["channel"])
    assert cb.loc[in_weeks(cb, "2026-W35", "2026-W47"), "agent_fcr"].mean() == pytest.approx(
        T["fcr"], abs=0.03)
    assert ex_b >= 15 and ex_a >= 15 and ex_a > 1.5 * ex_b  # A: 34.0, B: 18.8 tickets


def test_drift_south_email_resolution_grows_3_percent_a_week(df):
    d = EV["drift"]
    c = cell(df, d["team"], d["channel"])
    c = c[c["ttr"].notna() & (c["wk"] <= week_index("2026-W46"))]  # before censoring bites
    k = np.maximum(0, c["wk"] - week_index(d["first_week"]) + 1)
    slope = np.polyfit(k, np.log(c["ttr"]), 1)[0]
    assert slope == pytest.approx(math.log(d["size"]), abs=0.012)
    for team in ("north", "east", "west"):  # no drift elsewhere
        o = cell(df, team, "email")
        o = o[o["ttr"].notna() & (o["wk"] <= week_index("2026-W46"))]
        ko = np.maximum(0, o["wk"] - week_index(d["first_week"]) + 1)
        assert abs(np.polyfit(ko, np.log(o["ttr"]), 1)[0]) < 0.015, team


def test_mix_shift_email_share_and_no_clock_change(df):
    m = EV["mix_shift"]
    before, after = df[in_weeks(df, "2026-W31", "2026-W43")], df[in_weeks(df, m["first_week"],
                                                                           m["last_week"])]
    assert (before["channel"] == "email").mean() == pytest.approx(m["email_share_before"],
                                                                  abs=0.015)
    assert (after["channel"] == "email").mean() == pytest.approx(m["size"], abs=0.015)
    for ch in ("chat", "email"):  # phone carries A from W47
        r = (after.loc[after["channel"] == ch, "frt"].median()
             / before.loc[before["channel"] == ch, "frt"].median())
        assert r == pytest.approx(1.0, abs=0.12), ch
    # phone and chat volumes per week unchanged
    for ch in ("phone", "chat"):
        vb = (before["channel"] == ch).sum() / 13
        va = (after["channel"] == ch).sum() / 5
        assert va == pytest.approx(vb, rel=0.1), ch


def test_emerging_and_fading_themes(df):
    e, f = EV["emerging_theme"], EV["fading_theme"]
    c = df[df["is_complaint"]]
    marker = c["complaint_text"].str.contains("|".join(e["marker"]))
    assert marker.equals(c["complaint_theme"] == "payment_crash")  # the marker is the theme
    assert not marker[c["wk"] < week_index(e["first_week"])].any()
    late = in_weeks(c, "2026-W47", "2026-W48")
    expected = theme_schedule().set_index("label")["payment_share"]
    assert marker[late].mean() == pytest.approx(expected[["2026-W47", "2026-W48"]].mean(),
                                                abs=0.08)
    assert marker[c["week"] == "2026-W48"].mean() == pytest.approx(e["size"], abs=0.1)
    pay = c.loc[marker, "complaint_text"]
    for term in e["terms"]:
        assert pay.str.contains(term).mean() > 0.3, term
    en = c[c["complaint_lang"] == "en"]
    reset = en["complaint_text"].str.contains(f["marker"][0])
    assert reset.equals(en["complaint_theme"] == "password_reset")
    assert reset[en["wk"] < week_index(f["first_week"])].mean() == pytest.approx(
        f["share_before"], abs=0.04)
    assert reset[in_weeks(en, "2026-W46", "2026-W48")].mean() < 0.10
    assert not c.loc[c["complaint_lang"] == "zh", "complaint_text"].str.contains(
        "password reset").any()


def test_north_is_the_one_better_team(df):
    n = EV["better_team"]
    rates = df.groupby("team")["agent_fcr"].mean()
    assert rates[n["team"]] == pytest.approx(n["size"], abs=0.01)
    assert (rates.drop(n["team"]) - T["fcr"]).abs().max() < 0.01


# --- personal data in the texts ---------------------------------------------------------------

def test_personal_data_in_texts_is_all_found_by_the_mask(df):
    c = df[df["is_complaint"]]
    masked = [mask(t, T["order_pattern"]) for t in c["complaint_text"]]  # patterns alone
    found = masked_counts(masked).set_index("kind")["texts"]
    planted = {k: int((c[f"pii_{k}"] != "").sum()) for k in PII}
    assert found["email"] == planted["email"] and found["card"] == planted["card"]
    assert found["id"] == planted["id"] and found["order"] == planted["order"]
    assert found["phone"] == int(((c["pii_phone"] != "") | (c["pii_intl"] != "")).sum())
    assert min(planted.values()) >= 100  # every kind is well represented
    assert (c[[f"pii_{k}" for k in PII]] != "").any(axis=1).mean() == pytest.approx(
        T["pii_share"], abs=0.03)
    values = c[[f"pii_{k}" for k in PII]].to_numpy()
    for text, row in zip(masked, values, strict=True):
        digits = re.sub(r"\D", "", text)
        for v in row[row != ""]:  # no value survives, nor its last eight digits
            assert v not in text and re.sub(r"\D", "", v)[-8:] not in digits, v
    # the values are valid: resident IDs by their check character, cards by Luhn
    from sqresearch.stats.text_mask import cn_id_ok, luhn_ok
    assert all(cn_id_ok(v) for v in c["pii_id"] if v)
    assert all(luhn_ok(v) for v in c["pii_card"] if v)
    assert all(re.fullmatch(r"ORD-\d{10}", v) for v in c["pii_order"] if v)
    # a Chinese mobile in a text is the customer's own (a declared personal column)
    own = [re.sub(r"\D", "", v)[-11:] == p for v, p in zip(c["pii_phone"], c["customer_phone"],
                                                           strict=True) if v]
    assert all(own)


# --- the committed file -----------------------------------------------------------------------

def test_committed_file_is_the_simulator_output_and_small(df):
    path = ROOT / "data" / "weekly_monitor.parquet"
    assert path.stat().st_size <= 2_000_000
    pd.testing.assert_frame_equal(pd.read_parquet(path), df[COLUMNS])
    assert "weekly_monitor.parquet" in (ROOT / "data" / "README.md").read_text()


# --- the statistics layer sees the events ------------------------------------------------------

@pytest.fixture(scope="module")
def table(df) -> pd.DataFrame:
    return weekly_table(df)


def test_baseline_alerts_flag_a_in_w47_and_b_in_w48(table):
    w47 = alerts.baseline_alerts(table, "2026-W47").table
    hit = w47[w47["alert"]]
    assert ("frt", "east|phone") in set(zip(hit["kpi"], hit["cell"], strict=True))
    assert len(hit) == 1  # and nothing else (0.5 expected by chance)
    w48 = alerts.baseline_alerts(table, "2026-W48").table
    hit = set(zip(w48.loc[w48["alert"], "kpi"], w48.loc[w48["alert"], "cell"], strict=True))
    assert {("frt", "east|phone"), ("fcr", "west|chat")} <= hit


def test_drift_alerts_no_single_week_but_ewma_and_cusum_do(df, table):
    for wi in range(*weeks("2026-W30", "2026-W47")):
        label = df.loc[df["wk"] == wi, "week"].iloc[0]
        t = alerts.baseline_alerts(table, label).table.set_index(["kpi", "cell"])
        assert not t.loc[("ttr", "south|email"), "alert"], label
    # EWMA and CUSUM of the weekly scores against a fixed baseline (what drift_alerts runs)
    scores, labels = alerts_drift.weekly_scores(table[table["kpi"] == "ttr"],
                                                ("2026-W10", "2026-W29"), "2026-W46")
    z = scores.set_index("cell").loc[["south|email"], labels].to_numpy(float)
    for method in ("ewma", "cusum"):
        chart = alerts_drift.design(method, n_cells=len(scores))
        _, first = alerts_drift.run_chart(z, chart)
        assert 0 <= first[0] <= labels.index("2026-W40"), method  # signals by W36 / W36


def test_decompose_attributes_the_frt_rise_to_mix(df):
    m = EV["mix_shift"]
    d = df.assign(period=np.where(
        in_weeks(df, "2026-W31", "2026-W43"), "base",
        np.where(in_weeks(df, m["first_week"], "2026-W46"), "current", "other")))
    d = d[d["frt"].notna()]
    dec = decompose(d, "channel", "frt", "period", "base", "current", scale="log")
    assert dec.driver == "mix" and dec.top_segment == "email"
    # closed form from the truth: Σ (c1 − c0) log median_c with the truth's shares
    c0 = dict(T["channel_shares"])
    f = (m["size"] / (1 - m["size"])) / (c0["email"] / (1 - c0["email"]))
    total = c0["phone"] + c0["chat"] + c0["email"] * f
    c1 = {"phone": c0["phone"] / total, "chat": c0["chat"] / total,
          "email": c0["email"] * f / total}
    assert c1["email"] == pytest.approx(m["size"])
    expected = sum((c1[k] - c0[k]) * math.log(T["frt_median_min"][k]) for k in c0)
    assert dec.mix_effect == pytest.approx(expected, abs=0.06)  # 0.895 against 0.872
    assert abs(dec.rate_effect) < 0.03


def test_funnel_flags_north_only(df):
    for first in ("2025-W45", "2026-W36"):  # the whole year and the last 13 weeks
        s = (df[df["week"] >= first].groupby("team")["agent_fcr"].agg(["sum", "size"])
             .reset_index())
        f = funnel_proportion(s, "team", "sum", "size").table.set_index("unit")["flag"]
        assert f["north"] == "above" and (f.drop("north") == "within").all(), first
