"""The demo ticket, visit and agent tables in ``data/``: support tickets (chatbot launch),
branch visits (queueing system), the branch pilot (no true effect), agent coaching and the
randomized coaching trial. Each generator takes a seed; the same seed gives the same rows on
every machine (NumPy's PCG64); the effects built in are in ``truth.TRUTH``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.simulate.truth import TRUTH

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
