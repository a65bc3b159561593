"""The regional roll-out demo (``data/regional_rollout.csv``): a chatbot going live in three
waves across support regions, some regions never, with first-response-time effects that grow
with time since adoption (the case where the naive two-way fixed-effects estimate is biased)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.simulate.truth import TRUTH


def rollout_effect(e) -> np.ndarray:
    """The true effect on log first-response time at event time e ≥ 0 (months since go-live)."""
    t = TRUTH["regional_rollout"]
    e = np.asarray(e, dtype=float)
    grow = t["log_effect_growth"] * np.minimum(e, t["growth_months"])
    return -(t["log_effect_first_month"] + grow)


def true_overall_att() -> float:
    """The simple aggregation's target: the cohort-size-weighted mean of the true log effect over
    the treated region-months (equal cohorts: the mean over every post-adoption cell)."""
    t = TRUTH["regional_rollout"]
    cells = [rollout_effect(np.arange(t["months"] - g + 1)) for g in t["waves"]]
    return float(np.mean(np.concatenate(cells)))


def regional_rollout(seed: int = 1307) -> pd.DataFrame:
    """A region × month table: monthly mean first-response time and CSAT per region."""
    t = TRUTH["regional_rollout"]
    rng = np.random.default_rng(seed)
    waves = [g for g in t["waves"] for _ in range(t["regions_per_wave"])]
    go_live = waves + [0] * t["never_treated"]
    n, months = len(go_live), t["months"]
    labels = pd.period_range(t["first_month"], periods=months, freq="M").strftime("%Y-%m")
    level = rng.normal(np.log(t["frt_median_min"]), 0.3, n)
    month = rng.normal(0, 0.05, months) - 0.01 * np.arange(months)
    agents = rng.integers(8, 40, n)
    rows = []
    for i in range(n):
        noise = 0.0
        for m in range(months):
            noise = 0.5 * noise + rng.normal(0, 0.06)
            e = m + 1 - go_live[i]
            effect = float(rollout_effect(e)) if go_live[i] and e >= 0 else 0.0
            frt = np.exp(level[i] + month[m] + noise + effect)
            csat = 4.1 - 0.1 * (level[i] - np.log(t["frt_median_min"])) + rng.normal(0, 0.05)
            rows.append({"region": f"R{i + 1:02d}", "month": labels[m],
                         "chatbot_live": labels[go_live[i] - 1] if go_live[i] else "",
                         "agents": int(agents[i]), "tickets": int(rng.integers(300, 900)),
                         "frt_min": round(float(frt), 2), "csat_mean": round(float(csat), 3)})
    return pd.DataFrame(rows)
