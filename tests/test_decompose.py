"""Mix-versus-rate (Kitagawa) decomposition: exact identity, a hand-worked example, pure-mix
and pure-rate changes, the log scale and input errors."""

import math

import numpy as np
import pandas as pd
import pytest

from sqresearch.stats.decompose import DecompositionDataError, decompose, kitagawa

#: hand-worked: FRT (min) by channel. Baseline phone 100 tickets at 30, chat 300 at 10
#: -> R0 = (3000 + 3000)/400 = 15. Current phone 200 at 33, chat 200 at 10 -> R1 = 21.5.
#: Shares c0 = (.25, .75), c1 = (.5, .5), midpoints c̄ = (.375, .625), v̄ = (31.5, 10).
#: rate = .375 × 3 + .625 × 0 = 1.125; mix = 31.5 × .25 + 10 × (−.25) = 5.375; total 6.5.
#: Centred mix parts (R̄ = 18.25): phone 13.25 × .25 = 3.3125, chat −8.25 × −.25 = 2.0625.
WORKED = pd.DataFrame({"channel": ["phone", "chat"], "n0": [100, 300], "n1": [200, 200],
                       "frt0": [30.0, 10.0], "frt1": [33.0, 10.0]})


def test_hand_worked_example():
    d = kitagawa(WORKED, "channel", "n0", "n1", "frt0", "frt1")
    assert (d.baseline, d.current, d.total) == pytest.approx((15.0, 21.5, 6.5), abs=1e-12)
    assert d.rate_effect == pytest.approx(1.125, abs=1e-12)
    assert d.mix_effect == pytest.approx(5.375, abs=1e-12)
    t = d.table.set_index("segment")
    assert t["rate_part"].tolist() == pytest.approx([1.125, 0.0], abs=1e-12)
    assert t["mix_part"].tolist() == pytest.approx([3.3125, 2.0625], abs=1e-12)
    assert d.driver == "mix" and d.top_segment == "phone"
    s = d.summary().iloc[0]
    assert s["driver"] == "mix" and math.isnan(s["rate_ratio"])


@pytest.mark.parametrize("seed", range(20))
def test_rate_plus_mix_equals_total_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    t = pd.DataFrame({"s": range(k), "n0": rng.integers(0, 500, k), "n1": rng.integers(1, 500, k),
                      "v0": rng.uniform(1, 100, k), "v1": rng.uniform(1, 100, k)})
    t.loc[0, "n0"] = max(t.loc[0, "n0"], 1)
    for scale in ("linear", "log"):
        d = kitagawa(t, "s", "n0", "n1", "v0", "v1", scale=scale)
        assert d.rate_effect + d.mix_effect == pytest.approx(d.total, abs=1e-12)
        assert d.table["contribution"].sum() == pytest.approx(d.total, abs=1e-12)
        # the aggregates themselves, computed directly
        c0, c1 = t["n0"] / t["n0"].sum(), t["n1"] / t["n1"].sum()
        f = np.log if scale == "log" else (lambda x: x)
        v0 = np.where(t["n0"] > 0, f(t["v0"]), f(t["v1"]))
        direct = float(c1 @ f(t["v1"]) - c0 @ v0)
        assert d.total == pytest.approx(direct, abs=1e-12)


def test_pure_mix_change_has_zero_rate_effect():
    t = WORKED.assign(frt1=WORKED["frt0"])
    d = kitagawa(t, "channel", "n0", "n1", "frt0", "frt1")
    assert d.rate_effect == 0.0 and d.mix_effect == pytest.approx(d.total, abs=1e-12)
    assert d.total == pytest.approx(5.0)  # (30 × 200 + 10 × 200)/400 − 15


def test_pure_rate_change_has_zero_mix_effect():
    t = WORKED.assign(n1=WORKED["n0"] * 3)  # same shares, different volume
    d = kitagawa(t, "channel", "n0", "n1", "frt0", "frt1")
    assert d.mix_effect == pytest.approx(0.0, abs=1e-15)
    assert d.rate_effect == pytest.approx(d.total) == pytest.approx(0.75)  # .25 × 3


def test_log_scale_from_ticket_rows_gives_geometric_mean_ratios():
    # chat durations 2 and 8 (GM 4); phone 10 and 40 (GM 20). Baseline 2 chat + 2 phone,
    # current 2 chat + 6 phone: a pure mix shift towards phone, ratio of GMs 20^(3/4)4^(1/4)/√80
    rows = ([("b", "chat", v) for v in (2, 8)] + [("b", "phone", v) for v in (10, 40)]
            + [("c", "chat", v) for v in (2, 8)] + [("c", "phone", v) for v in (10, 40) * 3])
    data = pd.DataFrame(rows, columns=["week", "channel", "ttr"])
    d = decompose(data, "channel", "ttr", "week", "b", "c", scale="log")
    assert d.baseline == pytest.approx(math.sqrt(80))
    assert d.current == pytest.approx(20 ** 0.75 * 4 ** 0.25)
    assert d.rate_effect == pytest.approx(0.0, abs=1e-12)
    s = d.summary().iloc[0]
    assert s["total_ratio"] == pytest.approx(d.current / d.baseline)
    assert s["rate_ratio"] * s["mix_ratio"] == pytest.approx(s["total_ratio"])
    assert d.table.set_index("segment").loc["phone", "value_base"] == pytest.approx(20)


def test_a_segment_seen_once_is_all_mix():
    t = pd.DataFrame({"s": ["a", "b", "new"], "n0": [10, 10, 0], "n1": [10, 10, 5],
                      "v0": [1.0, 2.0, np.nan], "v1": [1.0, 2.0, 9.0]})
    d = kitagawa(t, "s", "n0", "n1", "v0", "v1")
    assert d.rate_effect == 0.0 and d.top_segment == "new"
    assert d.total == pytest.approx((10 + 20 + 45) / 25 - 1.5)


def test_input_errors_name_the_column():
    with pytest.raises(DecompositionDataError, match="column 'frt1'"):
        kitagawa(WORKED.assign(frt1=[np.nan, 1.0]), "channel", "n0", "n1", "frt0", "frt1")
    with pytest.raises(DecompositionDataError, match="> 0 on the log scale"):
        kitagawa(WORKED.assign(frt1=[0.0, 1.0]), "channel", "n0", "n1", "frt0", "frt1",
                 scale="log")
    rows = pd.DataFrame({"w": ["b", "c"], "ch": ["x", "x"], "v": [1.0, 2.0]})
    with pytest.raises(DecompositionDataError, match="no rows for period 'z'"):
        decompose(rows, "ch", "v", "w", "b", "z")
