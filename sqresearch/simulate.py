"""Deterministic simulator of service data with known true effects.

It writes the demo files in ``data/`` (``python -m sqresearch.simulate --out data``) and lets
tests make larger data sets. The same seed gives the same rows on every machine (NumPy's PCG64).
``TRUTH`` records the effects built in, so studies can be checked against them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

TRUTH = {
    "support_tickets": {
        "intervention": "chatbot launch on 2026-04-01 (chat channel only)",
        "chat_frt_ratio": 0.6,  # chat first-response times × 0.6 after the launch
        "chat_fcr_uplift": 0.05,  # +5 points FCR in chat after the launch
        "frt_median_min": {"phone": 2.0, "chat": 4.0, "email": 45.0},
        "ttr_median_h": {"phone": 1.0, "chat": 3.0, "email": 20.0},
    },
    "agent_coaching": {
        "intervention": "coaching programme for every agent between the two periods",
        "csat_uplift": 0.15,  # mean CSAT per agent +0.15 after coaching
        "handle_time_ratio": 0.9,  # average handle time × 0.9
        "qa_pass_before": 0.5, "qa_pass_after": 0.7,  # quality-audit pass probability
    },
    "coaching_trial": {
        "design": "60 agents, half randomized to coaching; scored before and after",
        "csat_effect": 0.2,  # coached agents' mean CSAT +0.2 relative to control
        "handle_time_ratio": 0.92,  # coached agents' handle time × 0.92
    },
    "servqual_survey": {
        "expectation": {"tangibles": 5.4, "reliability": 6.4, "responsiveness": 6.1,
                        "assurance": 6.2, "empathy": 5.8},
        "gap": {"tangibles": -0.3, "reliability": -1.1, "responsiveness": -0.9,
                "assurance": -0.4, "empathy": -0.6},  # P - E, population means
        "importance": {"tangibles": 0.10, "reliability": 0.32, "responsiveness": 0.25,
                       "assurance": 0.18, "empathy": 0.15},
        "management_bias": {"reliability": -0.7, "responsiveness": -0.6},  # gap 1
    },
    "branch_visits": {
        "intervention": "queueing system at branches B01-B04 from 2026-04-01",
        "wait_ratio": 0.7,  # waiting times × 0.7 at adopting branches after adoption
        "adopters": ["B01", "B02", "B03", "B04"],
        "wait_median_min": 8.0,
    },
    "branch_pilot": {
        "design": "12 branches x 16 weeks; a new appointment system piloted at P01 and P02 "
                  "from week 9",
        "wait_ratio": 1.0,  # no true effect on waiting times
        "csat_effect": 0.0,  # no true effect on CSAT
        "note": "branches drift on their own (branch-specific trends and autocorrelated weeks); "
                "the seed is one where the naive clustered t-test calls the pilot a success, "
                "as it does in about a quarter of such null pilots with 2 treated units",
    },
}

_FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas",
          "Kemal", "Lena", "Marta", "Noah", "Olga", "Pavel"]
_LAST = ["Schmidt", "Okafor", "Dubois", "Rossi", "Nowak", "Jensen", "García", "Müller", "Khan",
         "Smith"]
_COMMENTS = ["Quick and friendly.", "Had to explain my issue twice.", "Waited too long <again>.",
             "Great help, thanks!", "The chatbot couldn't answer & I gave up.",
             "Problem solved on first call.", "Refund still not received.", ""]


def _arrivals(rng, start, end, per_weekday, per_weekend_day, open_h=(7, 21)):
    """Timestamps of arrivals, busier mid-morning and mid-afternoon."""
    days = pd.date_range(start, end, freq="D")
    out = []
    for d in days:
        lam = per_weekday if d.weekday() < 5 else per_weekend_day
        k = rng.poisson(lam)
        draw = rng.normal(rng.choice([10.5, 14.5], size=3 * k + 10), 2.0)
        hours = draw[(draw >= open_h[0]) & (draw < open_h[1])][:k]  # truncated, not clipped
        out.append(d + pd.to_timedelta(np.sort(hours) * 3600, unit="s").round("s"))
    return pd.DatetimeIndex(np.concatenate([np.asarray(o) for o in out])) if out else \
        pd.DatetimeIndex([])


def _likert(rng, latent, low, high):
    return np.clip(np.round(latent + rng.normal(0, 0.9, latent.size)), low, high).astype(int)


def support_tickets(seed: int = 11, start="2026-01-01", end="2026-06-30",
                    per_weekday: float = 32, per_weekend_day: float = 8) -> pd.DataFrame:
    """A support desk's tickets (email, chat, phone) with a chatbot launch on 2026-04-01."""
    truth = TRUTH["support_tickets"]
    rng = np.random.default_rng(seed)
    created = _arrivals(rng, start, end, per_weekday, per_weekend_day)
    n = created.size
    channel = rng.choice(["email", "chat", "phone"], size=n, p=[0.5, 0.3, 0.2])
    team = rng.choice(["tier1_north", "tier1_south", "tier2"], size=n, p=[0.4, 0.4, 0.2])
    after = created >= pd.Timestamp("2026-04-01")
    chat_after = (channel == "chat") & after

    frt_med = pd.Series(channel).map(truth["frt_median_min"]).to_numpy()
    frt_med = np.where(chat_after, frt_med * truth["chat_frt_ratio"], frt_med)
    frt = frt_med * np.exp(rng.normal(0, 0.8, n))
    ttr_med = pd.Series(channel).map(truth["ttr_median_h"]).to_numpy()
    ttr = ttr_med * np.exp(rng.normal(0, 1.0, n)) * np.where(rng.random(n) < 0.1, 5, 1)
    ttr = np.maximum(ttr, frt / 60 + 0.05)
    first_response = created + pd.to_timedelta(np.round(frt * 60), unit="s")
    resolved = created + pd.to_timedelta(np.round(ttr * 3600), unit="s")
    cut = pd.Timestamp(end) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    first_response = pd.Series(first_response).where(first_response <= cut)
    resolved = pd.Series(resolved).where(resolved <= cut)

    base_fcr = pd.Series(channel).map({"phone": 0.8, "chat": 0.72, "email": 0.6}).to_numpy()
    fcr = rng.random(n) < base_fcr + np.where(chat_after, truth["chat_fcr_uplift"], 0)
    quality = 0.8 * fcr - 0.15 * np.log(frt / frt_med.mean()) + rng.normal(0, 0.5, n)
    surveyed = (rng.random(n) < 0.3) & resolved.notna().to_numpy()
    csat = np.where(surveyed, _likert(rng, 3.6 + quality, 1, 5), -1).astype(float)
    csat[surveyed & (rng.random(n) < 0.03)] = 99  # "declined to answer"
    nps_asked = (rng.random(n) < 0.2) & resolved.notna().to_numpy()
    nps = np.where(nps_asked, _likert(rng, 7.2 + 1.6 * quality, 0, 10), -1).astype(float)
    ces_asked = (rng.random(n) < 0.15) & resolved.notna().to_numpy()
    ces = np.where(ces_asked, _likert(rng, 3.0 - quality, 1, 7), -1).astype(float)
    complaint = rng.random(n) < 0.02 + 0.04 * (quality < -0.3)
    category = rng.choice(["billing", "login", "delivery", "refund", "product defect", "other"],
                          size=n, p=[0.34, 0.22, 0.16, 0.13, 0.09, 0.06])
    reopened = np.where(resolved.notna(), rng.poisson(0.12 - 0.06 * fcr), 0)
    customer = rng.integers(1, 2600, size=n)

    df = pd.DataFrame({
        "ticket_id": [f"T{i:06d}" for i in range(1, n + 1)],
        "opened_ts": created, "first_reply_ts": first_response, "solved_ts": resolved,
        "channel": channel, "team": team, "category": category,
        "agent_fcr": np.where(resolved.notna(), fcr, False),
        "reopens": reopened, "csat": csat, "nps": nps, "ces": ces,
        "is_complaint": complaint,
        "customer_id": [f"C{c:05d}" for c in customer],
        "customer_name": [f"{_FIRST[c % 16]} {_LAST[c % 10]}" for c in customer],
        "customer_email": [f"customer{c}@example.org" for c in customer],
        "comment": rng.choice(_COMMENTS, size=n),
    })
    for col in ("csat", "nps", "ces"):
        df[col] = df[col].astype("Int64").mask(df[col] < 0)
    return df


def branch_visits(seed: int = 12, start="2026-01-05", end="2026-06-27",
                  n_branches: int = 12, per_day: float = 9) -> pd.DataFrame:
    """Customer visits at a bank-branch network; a queueing system at four branches in April."""
    truth = TRUTH["branch_visits"]
    rng = np.random.default_rng(seed)
    frames = []
    branch_effect = rng.normal(0, 0.25, n_branches)
    for b in range(n_branches):
        name = f"B{b + 1:02d}"
        arrived = _arrivals(rng, start, end, per_day, 0, open_h=(9, 16.5))
        arrived = arrived[arrived.weekday < 6]
        k = arrived.size
        service = rng.choice(["cash", "account opening", "card issue", "loan advice"], size=k,
                             p=[0.45, 0.2, 0.2, 0.15])
        after = (arrived >= pd.Timestamp("2026-04-01")) & (name in truth["adopters"])
        wait = truth["wait_median_min"] * np.exp(branch_effect[b] + rng.normal(0, 0.7, k))
        wait = np.where(after, wait * truth["wait_ratio"], wait)
        serv_min = pd.Series(service).map({"cash": 4, "account opening": 25, "card issue": 10,
                                           "loan advice": 40}).to_numpy()
        serv = serv_min * np.exp(rng.normal(0, 0.4, k))
        served = arrived + pd.to_timedelta(np.round(wait * 60), unit="s")
        left = served + pd.to_timedelta(np.round(serv * 60), unit="s")
        quality = -0.05 * (wait - 8) + rng.normal(0, 0.6, k)
        surveyed = rng.random(k) < 0.25
        csat = np.where(surveyed, _likert(rng, 3.9 + quality, 1, 5), -1)
        complaint = rng.random(k) < 0.015 + 0.03 * (wait > 20)
        frames.append(pd.DataFrame({
            "branch": name, "region": "north" if b < 6 else "south",
            "arrived": arrived, "served": served, "left": left, "service": service,
            "csat": pd.array(csat, dtype="Int64"), "complaint": complaint,
            "complaint_type": np.where(complaint, rng.choice(
                ["waiting time", "staff", "fees", "opening hours"], size=k,
                p=[0.5, 0.2, 0.2, 0.1]), ""),
            "customer_ref": [f"K{x:06d}" for x in rng.integers(1, 40000, size=k)],
        }))
    df = pd.concat(frames, ignore_index=True).sort_values(["arrived", "branch"], kind="mergesort")
    df["csat"] = df["csat"].mask(df["csat"] < 0)
    df.insert(0, "visit_id", [f"V{i:06d}" for i in range(1, len(df) + 1)])
    return df.reset_index(drop=True)


def branch_pilot(seed: int = 64, n_branches: int = 12, weeks: int = 16) -> pd.DataFrame:
    """A unit × week table: a pilot at two branches with no true effect, branches drifting."""
    rng = np.random.default_rng(seed)
    rows = []
    level = rng.normal(0, 0.25, n_branches)
    trend = rng.normal(0, 0.02, n_branches)
    for b in range(n_branches):
        name = f"P{b + 1:02d}"
        noise = 0.0
        for w in range(1, weeks + 1):
            noise = 0.6 * noise + rng.normal(0, 0.08)
            wait = 8.0 * np.exp(level[b] + trend[b] * (w - weeks / 2) + noise)
            csat = 4.0 - 0.04 * (wait - 8) + rng.normal(0, 0.08)
            rows.append({"branch": name, "region": "north" if b % 2 == 0 else "south",
                         "week": w, "pilot": int(b < 2), "visits": int(rng.integers(150, 260)),
                         "wait_min": round(float(wait), 2), "csat_mean": round(float(csat), 3)})
    return pd.DataFrame(rows)


def clustered_tickets(rng: np.random.Generator, icc: float, effect: float, weeks: int = 10,
                      per_week: int = 60, kind: str = "score") -> pd.DataFrame:
    """Tickets of ``2 × weeks`` calendar weeks sharing week-level shocks (intra-week correlation
    ``icc``), before and after an intervention with a known ``effect``: for calibrating the
    before/after verdicts. ``kind``: "score" (unit variance, effect in score points), "share"
    (0/1 around 50 %, effect in share points), "duration" (log-normal, effect on the log
    scale) or "censored" (the same durations, independently censored — about a quarter of them —
    with a 0/1 ``event`` column; true restricted means: :func:`lognormal_rmst`)."""
    week = np.repeat(np.arange(2 * weeks), per_week)
    after = week >= weeks
    shock = rng.normal(0, np.sqrt(icc), 2 * weeks)[week]
    noise = rng.normal(0, np.sqrt(1 - icc), week.size)
    if kind == "share":
        p = np.clip(0.5 + 0.5 * shock + effect * after, 0.01, 0.99)
        y = (rng.random(week.size) < p).astype(float)
    elif kind in ("duration", "censored"):
        y = 10 * np.exp(shock + noise + effect * after)
    else:
        y = shock + noise + effect * after
    out = pd.DataFrame({"y": y, "period": np.where(after, "after", "before"), "_week": week})
    if kind == "censored":
        limit = 10 * np.exp(rng.normal(1.0, 1.0, week.size))
        out["event"] = (y <= limit).astype(int)
        out["y"] = np.minimum(y, limit)
    return out


def did_panel(rng: np.random.Generator, units: int, treated: int, periods: int = 8,
              effect: float = 0.0, rho: float = 0.5) -> pd.DataFrame:
    """A unit × period panel for calibrating control-group inference: unit and period effects,
    AR(1) noise (``rho``) with a unit-specific scale, the first ``treated`` units treated from
    the middle period on with a constant ``effect``. Columns unit, period, treated, post,
    value."""
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    noise = np.empty((units, periods))
    scale = rng.uniform(0.5, 1.5, units)
    noise[:, 0] = rng.normal(size=units) / np.sqrt(1 - rho ** 2)
    for s in range(1, periods):
        noise[:, s] = rho * noise[:, s - 1] + rng.normal(size=units)
    tr = (u < treated).astype(float)
    post = (t >= periods // 2).astype(float)
    y = (rng.normal(size=units)[u] + rng.normal(size=periods)[t]
         + (scale[:, None] * noise).ravel() + effect * tr * post)
    return pd.DataFrame({"unit": u, "period": t, "treated": tr, "post": post, "value": y})


def its_series(rng: np.random.Generator, n: int, phi: float, washout: bool,
               delta: float = 0.0, season: float = 1.0,
               start: str = "2023-01-02") -> tuple[pd.DatetimeIndex, np.ndarray, pd.Timestamp,
                                                   tuple | None]:
    """A weekly series for calibrating the interrupted time series: level 10, trend 0.02 per
    week, a yearly cycle ``season``·(1.5 sin + 0.8 cos of the 52.18-week cycle), AR(1) errors
    with unit innovations, and a level change ``delta`` from the middle week on (two weeks later
    with ``washout``, whose window covers the weeks before, at and after the middle).
    Returns (dates, values, intervention date, washout window or None)."""
    z = rng.normal(size=n)
    e = np.empty(n)
    e[0] = z[0] / np.sqrt(1 - phi ** 2)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + z[i]
    t = np.arange(n)
    angle = 2 * np.pi * t / 52.18
    mid = n // 2
    t0 = mid + 2 if washout else mid
    cycle = season * (1.5 * np.sin(angle) + 0.8 * np.cos(angle))
    y = 10 + 0.02 * t + cycle + delta * (t >= t0) + e
    dates = pd.Timestamp(start) + pd.to_timedelta(7 * t, unit="D")
    window = (dates[mid - 1], dates[mid + 1] + pd.Timedelta(days=6)) if washout else None
    return dates, y, dates[mid], window


def lognormal_rmst(tau: float, effect: float, scale: float = 10.0) -> float:
    """The restricted mean to ``tau`` of T = scale·exp(N(effect, 1)) (``clustered_tickets``'
    durations, shocks and noise together): E[min(T, τ)] = scale·e^(μ + 1/2)·Φ(z − 1) +
    τ·(1 − Φ(z)), z = log(τ/scale) − μ, μ = effect."""
    from scipy import stats

    z = np.log(tau / scale) - effect
    return float(scale * np.exp(effect + 0.5) * stats.norm.cdf(z - 1) + tau * stats.norm.sf(z))


def agent_coaching(seed: int = 13, n_agents: int = 48) -> pd.DataFrame:
    """One row per agent and period (before/after a coaching programme): a paired unit table."""
    truth = TRUTH["agent_coaching"]
    rng = np.random.default_rng(seed)
    skill = rng.normal(0, 1, n_agents)
    rows = []
    for i in range(n_agents):
        for period in ("before", "after"):
            after = period == "after"
            csat = 3.9 + 0.15 * skill[i] + (truth["csat_uplift"] if after else 0) + \
                rng.normal(0, 0.12)
            aht = 9.0 * np.exp(-0.08 * skill[i] + rng.normal(0, 0.1)) * \
                (truth["handle_time_ratio"] if after else 1)
            qa_p = truth["qa_pass_after"] if after else truth["qa_pass_before"]
            rows.append({
                "agent_id": f"A{i + 1:03d}", "agent_name": f"{_FIRST[i % 16]} {_LAST[i % 10]}",
                "team": ["north", "south", "east"][i % 3], "period": period,
                "tickets": int(rng.integers(60, 140)), "csat_mean": round(float(csat), 3),
                "handle_time_min": round(float(aht), 2),
                "qa_pass": bool(rng.random() < qa_p + 0.05 * skill[i])})
    return pd.DataFrame(rows)


def coaching_trial(seed: int = 14, n_agents: int = 60) -> pd.DataFrame:
    """A randomized trial: half the agents coached, every agent scored before and after."""
    truth = TRUTH["coaching_trial"]
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["coached", "control"], n_agents // 2))
    skill = rng.normal(0, 1, n_agents)
    tenure = np.round(rng.gamma(2.0, 1.5, n_agents), 1)
    rows = []
    for i in range(n_agents):
        for period in ("pre", "post"):
            effect = period == "post" and arm[i] == "coached"
            drift = 0.05 if period == "post" else 0.0  # everyone improves a little
            csat = 3.9 + 0.15 * skill[i] + 0.02 * tenure[i] + drift + \
                (truth["csat_effect"] if effect else 0) + rng.normal(0, 0.1)
            aht = 9.0 * np.exp(-0.08 * skill[i] + rng.normal(0, 0.08)) * \
                (truth["handle_time_ratio"] if effect else 1)
            rows.append({"agent_id": f"T{i + 1:03d}", "arm": arm[i],
                         "team": ["north", "south", "east"][i % 3], "tenure_years": tenure[i],
                         "period": period, "csat_mean": round(float(csat), 3),
                         "handle_time_min": round(float(aht), 2)})
    return pd.DataFrame(rows)


def _survey_block(rng, means: dict[str, float], n: int, prefix: str, items: pd.DataFrame,
                  person: np.ndarray, sd: float = 0.55, dim_sd: float = 0.6
                  ) -> dict[str, np.ndarray]:
    """1-7 answers: dimension mean + respondent effect + respondent × dimension effect + noise,
    so items of one dimension correlate as a real instrument's do."""
    cols = {}
    dim_effect = {d: rng.normal(0, dim_sd, n) for d in means}
    for item, dim in zip(items["item"], items["dimension"], strict=True):
        latent = means[dim] + person + dim_effect[dim] + rng.normal(0, sd, n)
        cols[f"{prefix}{item}"] = np.clip(np.round(latent), 1, 7).astype(int)
    return cols


def servqual_survey(seed: int = 15, n: int = 420) -> pd.DataFrame:
    """A bank's SERVQUAL survey: expectations, perceptions, adequate and desired levels per
    item (1-7), importance points per dimension, overall satisfaction, branch and segment."""
    from sqresearch.stats.servqual import read_instrument

    truth = TRUTH["servqual_survey"]
    rng = np.random.default_rng(seed)
    items = read_instrument()
    person = rng.normal(0, 0.35, n)
    e_means = truth["expectation"]
    p_means = {d: e_means[d] + g for d, g in truth["gap"].items()}
    data = {"respondent_id": [f"R{i + 1:04d}" for i in range(n)],
            "branch": rng.choice([f"B{b:02d}" for b in range(1, 7)], n),
            "segment": rng.choice(["retail", "business"], n, p=[0.75, 0.25])}
    data |= _survey_block(rng, e_means, n, "E_", items, person)
    data |= _survey_block(rng, p_means, n, "P_", items, person + rng.normal(0, 0.3, n))
    data |= _survey_block(rng, {d: v - 1.4 for d, v in e_means.items()}, n, "A_", items, person)
    data |= _survey_block(rng, {d: min(v + 0.3, 6.9) for d, v in e_means.items()}, n, "D_",
                          items, person)
    weights = rng.dirichlet([truth["importance"][d] * 40 for d in truth["importance"]], n)
    points = np.round(weights * 100).astype(int)
    points[:, 0] += 100 - points.sum(axis=1)  # every row sums to 100
    for j, d in enumerate(truth["importance"]):
        data[f"W_{d}"] = points[:, j]
    df = pd.DataFrame(data)
    perceived = np.column_stack([df[[f"P_{i}" for i in items.loc[items.dimension == d, "item"]]]
                                 .mean(axis=1) for d in truth["importance"]])
    overall = perceived @ np.array(list(truth["importance"].values())) + rng.normal(0, 0.5, n)
    df["overall_satisfaction"] = np.clip(np.round(overall), 1, 7).astype(int)
    straight = rng.choice(n, 6, replace=False)  # a few respondents tick the same box throughout
    cols = [c for c in df if c[:2] in ("E_", "P_")]
    df.loc[straight, cols] = 7
    df = pd.concat([df, df.iloc[[10, 11]]], ignore_index=True)  # two duplicated submissions
    df["customer_email"] = [f"client{i}@example.org" for i in range(len(df))]
    return df


def management_survey(seed: int = 16, n: int = 24) -> pd.DataFrame:
    """Branch managers answer the expectation section as they think customers would."""
    from sqresearch.stats.servqual import read_instrument

    truth = TRUTH["servqual_survey"]
    rng = np.random.default_rng(seed)
    items = read_instrument()
    means = {d: v + truth["management_bias"].get(d, 0.0) for d, v in
             truth["expectation"].items()}
    data = {"manager_id": [f"M{i + 1:02d}" for i in range(n)]}
    data |= _survey_block(rng, means, n, "E_", items, rng.normal(0, 0.3, n), sd=0.5, dim_sd=0.25)
    return pd.DataFrame(data)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with fixed formatting, so the same frame always gives the same bytes."""
    df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S", lineterminator="\n")


def write_demo(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    tickets, visits = out / "support_tickets.csv", out / "branch_visits.parquet"
    coaching = out / "agent_coaching.csv"
    write_csv(support_tickets(), tickets)
    branch_visits().to_parquet(visits, index=False, compression="zstd")
    trial = out / "coaching_trial.csv"
    survey, managers = out / "servqual_survey.csv", out / "management_survey.csv"
    write_csv(agent_coaching(), coaching)
    write_csv(coaching_trial(), trial)
    write_csv(servqual_survey(), survey)
    write_csv(management_survey(), managers)
    pilot = out / "branch_pilot.csv"
    write_csv(branch_pilot(), pilot)
    return [tickets, visits, coaching, trial, survey, managers, pilot]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to write the demo files to")
    args = ap.parse_args(argv)
    for p in write_demo(args.out):
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
