"""Control charts against hand-computed limits and signals."""

import numpy as np
import pandas as pd
import pytest

from sqresearch.stats.control import p_chart, xmr

DATES = pd.date_range("2026-01-01", periods=20, freq="D")


def test_xmr_limits_from_the_baseline_only():
    values = [10, 12, 11, 13, 12] + [16, 11, 12] + [12.5] * 12
    base = np.arange(20) < 5
    chart = xmr(DATES, values, base, "frt")
    p = chart.points
    # baseline mean 11.6; moving ranges 2, 1, 2, 1 -> 1.5; limits 11.6 ± 2.66 × 1.5
    assert p["centre"].iloc[0] == pytest.approx(11.6)
    assert p["ucl"].iloc[0] == pytest.approx(11.6 + 3.99)
    assert p["lcl"].iloc[0] == pytest.approx(11.6 - 3.99)
    assert p.loc[5, "beyond"] and p.loc[5, "signal"]  # 16 > 15.59
    # 12.5 twelve times: a run above the centre from point 8 (index 7 is 12 > 11.6 as well)
    assert p.loc[6, "signal"] == bool(p.loc[6, "run"])
    assert p["run"].iloc[8:].all()
    assert not p.loc[:4, "signal"].any()  # nothing is a signal inside the baseline


def test_p_chart_uses_pooled_baseline_rate_and_point_sizes():
    n = np.array([100] * 10 + [50] * 10)
    x = np.array([20] * 10 + [5] * 10)
    chart = p_chart(DATES, x, n, np.arange(20) < 10, "sla")
    p = chart.points
    assert p["centre"].iloc[0] == pytest.approx(0.2)
    assert p["ucl"].iloc[0] == pytest.approx(0.2 + 3 * np.sqrt(0.2 * 0.8 / 100))
    assert p["lcl"].iloc[15] == pytest.approx(0.2 - 3 * np.sqrt(0.2 * 0.8 / 50))
    # after: 0.10 with n = 50: lcl = 0.0303, so not beyond, but ten points below -> run signal
    assert not p["beyond"].iloc[10:].any()
    assert p["signal"].iloc[10:].all()
    assert len(chart.signals) == 10


def test_baseline_needs_two_points():
    with pytest.raises(ValueError, match="fewer than two"):
        xmr(DATES[:3], [1, 2, 3], [True, False, False])
