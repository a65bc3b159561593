"""The weekly monitor's demo tickets (``data/weekly_monitor.parquet``): a six-team support desk
over 56 ISO weeks (2025-W45 .. 2026-W48) with planted events of known size.

Everything is read from ``truth.MONITOR_TRUTH`` (the steady state and the events), so the truth
and the data cannot drift apart. The steady state: tickets arrive by day (weekday weights, quiet
weekends and public holidays) and hour (peaks at 10:00 and 15:00, flatter at weekends), in the
same channel mix in every team; first-response and handling times are log-normal per channel;
agent_fcr is 0.78 everywhere; CSAT and NPS are answered by about 30 % of solved tickets and,
like reopens and complaints, depend on the ticket's own FCR. The planted events
(``MONITOR_TRUTH["events"]``):

1. deterioration A — east × phone first-response times × 2.5 from 2026-W47;
2. deterioration B — west × chat agent_fcr 0.45 in 2026-W48 only;
3. drift — south × email resolution times × 1.03 a week, compounded, from 2026-W30;
4. mix shift — from 2026-W44 email tickets × 2.4545 (share 25 % → 45 %), no clock changes;
5. an emerging Chinese complaint theme from 2026-W46 and a fading English one over W40 .. W48
   (``monitor_text``);
6. north's agent_fcr 0.88 all year.

Timestamps are naive local times (Asia/Shanghai); replies and solves after the data cut
(2026-11-29 23:59:59) are missing. Seeded: each part draws from its own stream of
``SeedSequence(seed)`` (NumPy PCG64), so the same seed gives the same rows on every machine.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sqresearch.simulate.monitor_text import THEME_CATEGORY, complaints_for
from sqresearch.simulate.truth import MONITOR_TRUTH

T = MONITOR_TRUTH
CHANNELS = ("phone", "chat", "email")
CATEGORIES = {"billing": 0.30, "login": 0.20, "delivery": 0.18, "refund": 0.14,
              "product defect": 0.10, "other": 0.08}
CUSTOMERS = 12_000
_FIRST = date.fromisoformat(T["first_day"])


def week_index(label: str) -> int:
    """Week number of an ISO week label in the window: '2025-W45' → 0, '2026-W48' → 55."""
    year, week = label.split("-W")
    return (date.fromisocalendar(int(year), int(week), 1) - _FIRST).days // 7


def iso_week(ts) -> pd.Series:
    """ISO week labels ('2026-W07') of timestamps (a Series or anything ``pd.Series`` takes)."""
    iso = pd.Series(pd.to_datetime(ts)).dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)


def _event(name: str) -> tuple[dict, int, int]:
    e = T["events"][name]
    return e, week_index(e["first_week"]), week_index(e["last_week"])


def theme_schedule() -> pd.DataFrame:
    """The planted complaint themes by week: week (0 ..), label (ISO week), payment_share (of
    all complaint texts: the emerging Chinese theme's ``share_by_week``, else 0) and
    reset_share (of English texts: ``share_before`` through the week before ``first_week``,
    then falling linearly to ``size`` in ``last_week``)."""
    emerging, fading = T["events"]["emerging_theme"], T["events"]["fading_theme"]
    first, last = week_index(fading["first_week"]), week_index(fading["last_week"])
    weeks = np.arange(T["weeks"])
    step = np.clip(weeks - first + 1, 0, last - first + 1) / (last - first + 1)
    labels = [(_FIRST + pd.Timedelta(days=7 * int(w))).strftime("%G-W%V") for w in weeks]
    return pd.DataFrame({
        "week": weeks, "label": labels,
        "payment_share": [emerging["share_by_week"].get(x, 0.0) for x in labels],
        "reset_share": fading["share_before"] + (fading["size"] - fading["share_before"]) * step})


def _hours(rng, n: int, weekend: bool) -> np.ndarray:
    """Hours of the day (float): two peaks (10:00, 15:00) over a background from 07:00 to 23:00;
    at weekends the background carries more weight."""
    p_back = 0.40 if weekend else 0.16
    kind = rng.choice(3, size=n, p=[(1 - p_back) * 0.52, (1 - p_back) * 0.48, p_back])
    peak = np.array(T["hour_peaks"])[np.minimum(kind, 1)]
    h = np.where(kind < 2, rng.normal(peak, np.where(kind == 0, 1.4, 1.6)),
                 rng.uniform(7, 23, n))
    return np.where((h >= 0) & (h < 24), h, rng.uniform(7, 23, n))


def _arrivals(rng) -> pd.DataFrame:
    """Opening times and channels: per day and channel a Poisson count with mean
    tickets_per_week / 6 × day weight × channel share (email × the mix-shift factor)."""
    days = pd.date_range(T["first_day"], T["last_day"], freq="D")
    holidays = set()
    for a, b in T["holidays"]:
        holidays.update(pd.date_range(a, b, freq="D"))
    mix, m0, _ = _event("mix_shift")
    e0, e1 = mix["email_share_before"], mix["size"]
    email_factor = (e1 / (1 - e1)) / (e0 / (1 - e0))
    base = np.array([T["channel_shares"][c] for c in CHANNELS])
    opened, channel = [], []
    for d in days:
        w = T["holiday_weight"] if d in holidays else T["weekday_weights"][d.weekday()]
        shares = base * np.where((np.array(CHANNELS) == "email") & ((d.date() - _FIRST).days
                                                                   // 7 >= m0), email_factor, 1)
        k = rng.poisson(T["tickets_per_week"] / 6 * w * shares)
        n = int(k.sum())
        secs = np.round(_hours(rng, n, d.weekday() >= 5 or d in holidays) * 3600)
        opened.append(d + pd.to_timedelta(np.minimum(secs, 86399), unit="s"))
        channel.append(np.repeat(CHANNELS, k))
    out = pd.DataFrame({"opened_ts": np.concatenate(opened), "channel": np.concatenate(channel)})
    return out.sort_values(["opened_ts", "channel"], kind="mergesort", ignore_index=True)


def _lognormal(rng, median, sd):
    return np.asarray(median, float) * np.exp(rng.normal(0, 1, np.size(median)) * sd)


def weekly_monitor(seed: int = T["seed"], truth_columns: bool = False) -> pd.DataFrame:
    """The weekly monitor's demo ticket table (one row per ticket), ``MONITOR_TRUTH`` planted.

    Columns as ``data/support_tickets.csv``: ticket_id, opened_ts, first_reply_ts, solved_ts
    (naive Asia/Shanghai times; NaT after the data cut), channel, team, category, agent_fcr
    (False while unanswered at the cut), reopens, csat (1–5, Int64, mostly missing), nps (0–10),
    is_complaint, customer_id, customer_phone (personal: a Chinese mobile), complaint_text
    (complaints only). ``truth_columns=True`` adds what tests need to check the planted events
    and the masking: week (ISO label), complaint_lang, complaint_theme and the personal values
    put in each text (pii_phone, pii_intl, pii_email, pii_card, pii_id, pii_order; '' where
    none). The other columns are the same either way.
    """
    r_arr, r_team, r_clock, r_fcr, r_survey, r_text = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6))
    df = _arrivals(r_arr)
    n = len(df)
    week = ((df["opened_ts"] - pd.Timestamp(T["first_day"])).dt.days // 7).to_numpy()
    ch = df["channel"].to_numpy()
    teams = list(T["teams"])
    team = np.array(teams)[r_team.choice(len(teams), size=n, p=list(T["teams"].values()))]
    category = np.array(list(CATEGORIES))[r_team.choice(len(CATEGORIES), size=n,
                                                        p=list(CATEGORIES.values()))]
    weights = r_team.gamma(0.6, 1.0, CUSTOMERS)
    customer = r_team.choice(CUSTOMERS, size=n, p=weights / weights.sum())
    mobiles = np.array([f"1{a}{b:09d}" for a, b in zip(
        r_team.choice([3, 5, 7, 8, 9], size=CUSTOMERS), r_team.integers(0, 10 ** 9, CUSTOMERS),
        strict=True)])

    # clocks: FRT (minutes), resolution = FRT + handling (hours)
    chs = pd.Series(ch)
    frt = _lognormal(r_clock, chs.map(T["frt_median_min"]), chs.map(T["frt_log_sd"]).to_numpy())
    a, a0, a1 = _event("deterioration_a")
    in_a = (team == a["team"]) & (ch == a["channel"]) & (week >= a0) & (week <= a1)
    frt = np.where(in_a, frt * a["size"], frt)
    handling = _lognormal(r_clock, chs.map(T["handling_median_h"]), T["handling_log_sd"])
    handling *= np.where(r_clock.random(n) < T["complex_share"], T["complex_factor"], 1.0)
    ttr = frt / 60 + handling
    d, d0, d1 = _event("drift")
    in_d = (team == d["team"]) & (ch == d["channel"]) & (week >= d0) & (week <= d1)
    ttr = np.where(in_d, ttr * d["size"] ** (week - d0 + 1.0), ttr)
    cut = pd.Timestamp(T["data_cut"])
    opened = df["opened_ts"]
    reply = opened + pd.to_timedelta(np.round(frt * 60), unit="s")
    solved = opened + pd.to_timedelta(np.round(ttr * 3600), unit="s")
    reply, solved = reply.where(reply <= cut), solved.where(solved <= cut)

    # first contact resolution and what follows from it
    p_fcr = np.full(n, T["fcr"])
    north, _, _ = _event("better_team")
    p_fcr[team == north["team"]] = north["size"]
    b, b0, b1 = _event("deterioration_b")
    in_b = (team == b["team"]) & (ch == b["channel"]) & (week >= b0) & (week <= b1)
    fcr = r_fcr.random(n) < p_fcr
    cell = np.flatnonzero(in_b)  # B is planted exactly: round(0.45 n) of the cell's tickets
    fcr[cell] = False
    fcr[r_fcr.choice(cell, int(round((T["fcr"] + b["size"]) * cell.size)), replace=False)] = True
    fcr &= reply.notna().to_numpy()
    done = solved.notna().to_numpy()
    reopens = np.where(done, r_fcr.poisson(np.where(fcr, 0.06, 0.35)), 0)
    rate = T["complaint_rate"]
    complaint = r_fcr.random(n) < np.where(fcr, rate["fcr"], rate["not_fcr"])
    quality = 0.7 * fcr - 0.4 * (reopens > 0)
    csat = np.clip(np.round(3.7 + quality + r_survey.normal(0, 0.9, n)), 1, 5)
    nps = np.clip(np.round(6.9 + 2 * quality + r_survey.normal(0, 1.8, n)), 0, 10)
    csat_ok = done & (r_survey.random(n) < T["csat_answered"])
    nps_ok = done & (r_survey.random(n) < T["nps_answered"])

    themes = theme_schedule()
    texts = complaints_for(r_text, themes["payment_share"].to_numpy()[week[complaint]],
                           themes["reset_share"].to_numpy()[week[complaint]],
                           mobiles[customer[complaint]], T)
    theme = np.full(n, None, dtype=object)
    theme[complaint] = texts["theme"]
    category = np.where(complaint, pd.Series(theme).map(THEME_CATEGORY).to_numpy(), category)
    text = np.full(n, None, dtype=object)
    text[complaint] = texts["text"]

    out = pd.DataFrame({
        "ticket_id": [f"M{i:06d}" for i in range(1, n + 1)],
        "opened_ts": opened, "first_reply_ts": reply, "solved_ts": solved,
        "channel": ch, "team": team, "category": category, "agent_fcr": fcr,
        "reopens": reopens.astype("int64"),
        "csat": pd.array(np.where(csat_ok, csat, np.nan), dtype="Float64").astype("Int64"),
        "nps": pd.array(np.where(nps_ok, nps, np.nan), dtype="Float64").astype("Int64"),
        "is_complaint": complaint, "customer_id": [f"C{c + 1:05d}" for c in customer],
        "customer_phone": mobiles[customer], "complaint_text": text})
    if truth_columns:
        out["week"] = iso_week(opened).to_numpy()
        for col, values in (("complaint_lang", texts["lang"]), ("complaint_theme", texts["theme"])):
            out[col] = None
            out.loc[complaint, col] = values
        for key in [k for k in texts if k.startswith("pii_")]:
            out[key] = ""
            out.loc[complaint, key] = texts[key]
    return out
