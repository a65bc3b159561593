"""The demo SERVQUAL surveys: customers' expectations and perceptions (with adequate and
desired levels, importance points, overall satisfaction) and the managers' survey behind gap 1;
the true gaps are in ``truth.TRUTH["servqual_survey"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.simulate.truth import TRUTH


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
