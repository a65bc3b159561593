"""A factor-model panel for synthetic control and synthetic DiD: a flagship branch (or a few
treated branches) and donor branches sharing common factors, with a known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd


def factor_panel(rng: np.random.Generator, donors: int = 15, treated: int = 1, pre: int = 20,
                 post: int = 8, effect=0.0, factors: int = 2, noise: float = 0.5,
                 level: float = 50.0) -> pd.DataFrame:
    """Y_it = level + α_i + δ_t + Σ_f λ_if μ_tf + ε_it + effect_t · treated_i · post_t.

    Unit effects α_i ~ N(0, 2²); period effects δ_t ~ N(0, 1); factors μ_tf are random walks
    with N(0, 1) steps; loadings λ_if ~ N(1, 0.5²); ε ~ N(0, noise²) independent. Treated and
    donor units draw their α and λ from the same distributions, so under ``effect = 0`` all
    units are exchangeable (the placebo test's null). ``effect`` is a number or one value per
    post-period (e.g. an effect that grows).

    Returns a tidy frame: unit ("flagship", or "treated_1"… when ``treated`` > 1;
    "branch_01"… for donors), period (1 … pre + post), value, treated (0/1), post (0/1).
    """
    n, t = treated + donors, pre + post
    mu = np.cumsum(rng.normal(size=(t, factors)), axis=0)
    lam = rng.normal(1.0, 0.5, size=(n, factors))
    y = (level + rng.normal(0, 2, n)[:, None] + rng.normal(size=t)[None, :] + lam @ mu.T
         + rng.normal(0, noise, size=(n, t)))
    eff = np.broadcast_to(np.asarray(effect, dtype=float), (post,))
    y[:treated, pre:] += eff
    names = (["flagship"] if treated == 1 else [f"treated_{i + 1}" for i in range(treated)]) + \
        [f"branch_{j + 1:02d}" for j in range(donors)]
    return pd.DataFrame({"unit": np.repeat(names, t), "period": np.tile(np.arange(1, t + 1), n),
                         "value": y.ravel(),
                         "treated": np.repeat((np.arange(n) < treated).astype(int), t),
                         "post": np.tile((np.arange(t) >= pre).astype(int), n)})


def flagship_pilot(seed: int = 1314, donors: int = 15, pre: int = 20, post: int = 8,
                   effect: float = -4.0) -> pd.DataFrame:
    """The flagship-pilot demo: a unit × week table of one flagship branch (an appointment
    system from week ``pre`` + 1) and ``donors`` branches that kept walk-in queues.

    Average waiting time (minutes) is :func:`factor_panel` at level 20 with ``effect`` minutes
    in every post week; CSAT (1–5) is a second factor panel rescaled to 4 ± 0.2, with no effect.
    Columns: branch, region, week, visits, wait_min, csat_mean.
    """
    rng = np.random.default_rng(seed)
    wait = factor_panel(rng, donors=donors, pre=pre, post=post, effect=effect, level=20.0)
    csat = factor_panel(rng, donors=donors, pre=pre, post=post, effect=0.0, level=0.0)
    names = {u: ("FLAG" if u == "flagship" else f"B{u[-2:]}") for u in wait["unit"].unique()}
    order = list(names)
    return pd.DataFrame({
        "branch": wait["unit"].map(names), "region":
            wait["unit"].map(lambda u: ["north", "south", "east"][order.index(u) % 3]),
        "week": wait["period"], "visits": rng.integers(180, 420, len(wait)),
        "wait_min": wait["value"].round(2),
        "csat_mean": (4.0 + 0.04 * csat["value"]).clip(1, 5).round(3)})
