"""Bootstrap rank intervals: closed-form cases, determinism, persistence, reduced calibration."""

import numpy as np
import pandas as pd
import pytest

from sqresearch.stats.ranks import (
    RankDataError,
    bootstrap_ranks,
    claim_persists,
    claim_runs,
    claim_supported,
    sampling_ranks,
)


def _obs(means, n=40, sd=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"team": f"T{i}", "csat": v}
                         for i, m in enumerate(means) for v in rng.normal(m, sd, n)])


def test_widely_separated_units_get_single_ranks():
    # means 10 SDs apart with n = 40: a resampled mean moves by ~0.16 SD, never past a neighbour
    r = bootstrap_ranks(_obs([0, 10, 20, 30, 40]), "team", "csat", resamples=500, seed=1)
    t = r.table.set_index("unit")
    assert (t["rank_low"] == t["rank_high"]).all()
    assert t.loc["T4", "rank"] == 1 and t.loc["T0", "rank"] == 5  # higher is better
    assert claim_supported(r, "T4", 1) and claim_supported(r, "T3", 2)
    assert not claim_supported(r, "T3", 1)
    low = bootstrap_ranks(_obs([0, 10, 20]), "team", "csat", higher_is_better=False,
                          resamples=200, seed=1)
    assert low.table.set_index("unit").loc["T0", "rank_high"] == 1


def test_identical_units_span_all_ranks():
    """K units holding the very same observations are exchangeable: with random tie-breaking
    each unit's rank is uniform on 1..K, so P(rank = 1) = P(rank = K) = 1/K = 20 % > 2.5 % and
    the 95 % interval is [1, K]; mean rank (K + 1)/2 = 3."""
    rng = np.random.default_rng(3)
    v = rng.normal(0, 1, 30)
    d = pd.DataFrame({"team": np.repeat([f"T{i}" for i in range(5)], 30), "csat": np.tile(v, 5)})
    r = bootstrap_ranks(d, "team", "csat", resamples=2000, seed=2)
    assert (r.table["rank_low"] == 1).all() and (r.table["rank_high"] == 5).all()
    # each draw ties all five units, so ranks are a random permutation: mean 3, SE ~0.03
    assert r.table["mean_rank"].to_numpy() == pytest.approx(3.0, abs=0.15)
    assert r.table["p_top1"].to_numpy() == pytest.approx(0.2, abs=0.03)
    assert not any(claim_supported(r, u, 4) for u in r.table["unit"])


def test_same_seed_same_intervals_and_sampling_draws():
    d = _obs([0, 0.2, 0.4, 0.6], n=25)
    a = bootstrap_ranks(d, "team", "csat", resamples=300, seed=7)
    b = bootstrap_ranks(d, "team", "csat", resamples=300, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    s = pd.DataFrame({"team": ["a", "b", "c"], "est": [0.9, 0.5, 0.1], "se": [0.01, 0.01, 0.01]})
    r = sampling_ranks(s, "team", "est", "se", resamples=500, seed=1)
    assert r.table["rank_low"].tolist() == [1, 2, 3] == r.table["rank_high"].tolist()
    assert r.summary()["decided"].iloc[0] == 3


def test_persistence_needs_support_in_every_period():
    def table(high):
        return pd.DataFrame({"unit": ["A", "B"], "rank_high": high})
    months = {"2026-09": table([2, 3]), "2026-10": table([1, 2]), "2026-11": table([2, 2])}
    assert claim_persists(months, "A", 2, 3)
    assert not claim_persists(months, "B", 2, 3)  # September's interval reaches rank 3
    assert claim_persists(months, "B", 2, 2)
    assert not claim_persists(months, "A", 2, 4)  # only three months exist
    runs = claim_runs(months, 2).set_index(["unit", "period"])["run"]
    assert runs[("B", "2026-11")] == 2 and runs[("A", "2026-11")] == 3


def test_top1_is_rarely_claimed_for_identical_units_reduced_calibration():
    """5 units drawn from the same N(0, 1) (30 obs each), 200 datasets: "top 1 supported" for
    any unit needs ≥ 97.5 % of its draws ranked first; it should happen in ≤ 5 % of datasets."""
    rng = np.random.default_rng(2026)
    claimed = 0
    for i in range(200):
        d = pd.DataFrame({"team": np.repeat(list("abcde"), 30), "csat": rng.normal(0, 1, 150)})
        r = bootstrap_ranks(d, "team", "csat", resamples=400, seed=i)
        claimed += any(claim_supported(r, u, 1) for u in "abcde")
    assert claimed / 200 <= 0.05


def test_bad_input_messages():
    with pytest.raises(RankDataError, match="no column"):
        bootstrap_ranks(_obs([0, 1]), "team", "nps")
    with pytest.raises(RankDataError, match="fewer than 2 observations"):
        bootstrap_ranks(pd.DataFrame({"team": ["a", "b", "b"], "csat": [1, 2, 3]}),
                        "team", "csat")
    with pytest.raises(RankDataError, match="no unit 'Z'"):
        claim_supported(bootstrap_ranks(_obs([0, 1]), "team", "csat", resamples=100), "Z", 1)
