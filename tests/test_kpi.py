"""The KPI engine on hand-built tickets, and on simulated data with known truths."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sqresearch import kpi, simulate
from sqresearch.io.schemas import Sla
from sqresearch.kpi.bizhours import Schedule

CUT = pd.Timestamp("2026-03-10 12:00")
T = pd.Timestamp


def tickets():
    return pd.DataFrame({
        "ticket_id": ["a", "b", "c", "d", "e", "f"],
        "created": [T("2026-03-09 09:00"), T("2026-03-09 10:00"), T("2026-03-10 11:30"),
                    T("2026-03-10 09:00"), T("2026-03-02 09:00"), T("2026-03-03 09:00")],
        "first_response": [T("2026-03-09 09:30"), T("2026-03-09 11:30"), pd.NaT, pd.NaT,
                           T("2026-03-02 09:10"), T("2026-03-03 09:20")],
        "resolved": [T("2026-03-09 12:00"), pd.NaT, pd.NaT, pd.NaT, T("2026-03-02 10:00"),
                     T("2026-03-12 09:00")],  # f resolves after the cut: still open
        "customer_id": ["k1", "k2", "k3", "k4", "k1", "k5"],
        "reopened": [1, np.nan, np.nan, np.nan, 0, 0],
        "csat": [5, np.nan, np.nan, np.nan, 3, 4],
        "nps": [10, 9, np.nan, np.nan, 2, 8],
        "complaint": [0, 1, 0, 0, 0, 0],
    })


def ctx(**kw):
    slas = (Sla(name="r60", clock="first_response", within=60, unit="minutes"),
            Sla(name="fix4h", clock="resolution", within=4, unit="hours"))
    base = dict(data_cut=CUT, schedule=Schedule(), slas=slas, fcr_method="repeat_contact",
                repeat_window_days=7)
    return kpi.Context(**(base | kw))


def test_sla_outcomes_judge_open_tickets_only_once_past_the_limit():
    df = kpi.prepare(tickets(), ctx())
    # a: 30 min -> met; b: 90 min -> missed; c: open 30 min -> not yet judged;
    # d: open 3 h without a reply -> missed; e: 10 min -> met; f: 20 min -> met
    assert df["sla_r60"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(df["sla_r60"].iloc[2])
    assert df["sla_r60"].tolist()[3:] == [0.0, 1.0, 1.0]
    # resolution within 4 h: a 3 h met; b open 26 h missed; c open 0.5 h not judged;
    # d open 3 h not judged; e 1 h met; f open 171 h (censored at the cut) missed
    fix = df["sla_fix4h"].tolist()
    assert fix[0] == 1.0 and fix[1] == 0.0 and np.isnan(fix[2]) and np.isnan(fix[3])
    assert fix[4] == 1.0 and fix[5] == 0.0


def test_resolution_clock_is_censored_at_the_cut():
    df = kpi.prepare(tickets(), ctx())
    assert df["solved"].tolist() == [1, 0, 0, 0, 1, 0]
    assert df.loc[5, "ttr_h"] == pytest.approx((CUT - T("2026-03-03 09:00")).total_seconds() / 3600)


def test_repeat_contact_fcr():
    df = kpi.prepare(tickets(), ctx())
    # e (k1) resolved 2 Mar 10:00 and k1 came back 9 Mar 09:00: 6 days 23 h later -> not FCR.
    # a (k1) resolved 9 Mar 12:00: its 7-day window runs past the cut -> not judged.
    assert df.loc[4, "fcr"] == 0.0
    assert np.isnan(df.loc[0, "fcr"])
    assert np.isnan(df.loc[1, "fcr"])  # never resolved


def test_group_kpis_values():
    t = kpi.kpi_table(kpi.prepare(tickets(), ctx()), ctx()).set_index("kpi")
    assert t.loc["contacts", "estimate"] == 6
    assert t.loc["frt_median", "estimate"] == pytest.approx(25.0)  # 30, 90, 10, 20 minutes
    assert t.loc["frt_median", "n"] == 4
    assert t.loc["resolution_rate", "estimate"] == pytest.approx(2 / 6)
    assert t.loc["reopen_rate", "estimate"] == pytest.approx(0.5)  # a reopened, e not
    assert t.loc["csat_top2", "estimate"] == pytest.approx(2 / 3)  # 5, 4 of 5, 3, 4
    assert t.loc["nps", "estimate"] == pytest.approx(100 * (2 / 4 - 1 / 4))
    assert t.loc["complaints_per_1000", "estimate"] == pytest.approx(1000 / 6)
    assert t.loc["sla_r60", "n"] == 5  # c not judged yet
    assert set(t.columns) >= {"group_by", "group", "estimate", "ci_low", "ci_high", "n", "unit",
                              "method", "label", "direction"}


def test_kpis_missing_their_columns_are_not_offered():
    frame = tickets().drop(columns=["csat", "nps", "complaint"])
    names = {k.name for k in ctx().available(frame)}
    assert "csat_mean" not in names and "nps" not in names and "frt_median" in names


def test_period_labels():
    s = pd.Series(pd.to_datetime(["2026-01-01", "2026-03-31", "2026-12-31"]))
    assert kpi.period_labels(s, "month").tolist() == ["2026-01", "2026-03", "2026-12"]
    assert kpi.period_labels(s, "quarter").tolist() == ["2026-Q1", "2026-Q1", "2026-Q4"]
    assert kpi.period_labels(s, "week").tolist() == ["2026-W01", "2026-W14", "2026-W53"]


def test_recovers_simulated_first_response_medians():
    """The simulator draws first-response times with known medians (chat × 0.6 after the
    chatbot launch). The engine's median CIs cover them (up to rounding to whole seconds)."""
    df = simulate.support_tickets(seed=101, per_weekday=120, per_weekend_day=30).rename(
        columns={"opened_ts": "created", "first_reply_ts": "first_response",
                 "solved_ts": "resolved"})
    c = ctx(data_cut=T("2026-06-30 23:59:59"), slas=(), fcr_method="flag")
    prepared = kpi.prepare(df[["ticket_id", "created", "first_response", "resolved",
                               "channel"]], c)
    after = prepared["created"] >= T("2026-04-01")
    truth = simulate.TRUTH["support_tickets"]
    for channel, median in truth["frt_median_min"].items():
        sub = prepared[(prepared["channel"] == channel) & ~after]
        t = kpi.kpi_table(sub, c, only={"frt_median"}).iloc[0]
        assert t.ci_low <= median <= t.ci_high, (channel, t.ci_low, t.ci_high)
    chat_after = prepared[(prepared["channel"] == "chat") & after]
    t = kpi.kpi_table(chat_after, c, only={"frt_median"}).iloc[0]
    expected = truth["frt_median_min"]["chat"] * truth["chat_frt_ratio"]
    assert t.ci_low <= expected <= t.ci_high


def test_series_is_daily_and_complete():
    c = ctx()
    s = kpi.series(kpi.prepare(tickets(), c), c, "day", {"contacts"})
    assert s["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-02", "2026-03-03",
                                                          "2026-03-09", "2026-03-10"]
    assert s["estimate"].tolist() == [1, 1, 2, 2]
    assert dt.date(2026, 3, 2) == s["date"].iloc[0].date()
