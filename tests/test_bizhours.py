"""Business-hours clocks: hand-computed durations across nights, weekends and holidays."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sqresearch.kpi.bizhours import Schedule, calendar_duration

# Mon-Fri 09:00-17:00; Tuesday 6 Jan 2026 is a holiday. 2 Jan 2026 is a Friday.
S = Schedule(["mon", "tue", "wed", "thu", "fri"], dt.time(9), dt.time(17), ["2026-01-06"])


@pytest.mark.parametrize("start, end, hours", [
    ("2026-01-02 16:00", "2026-01-05 10:00", 2.0),  # Friday evening over the weekend
    ("2026-01-05 07:00", "2026-01-05 10:00", 1.0),  # before opening
    ("2026-01-05 16:00", "2026-01-07 10:00", 2.0),  # over the Tuesday holiday
    ("2026-01-03 10:00", "2026-01-04 15:00", 0.0),  # Saturday to Sunday
    ("2026-01-05 10:00", "2026-01-05 10:30", 0.5),  # inside one working day
    ("2026-01-02 20:00", "2026-01-05 09:30", 0.5),  # after closing, Friday
    ("2026-01-12 09:00", "2026-01-19 09:00", 40.0),  # a full week
    ("2026-01-05 12:00", "2026-01-05 23:00", 5.0),  # ends after closing
])
def test_business_hours_durations(start, end, hours):
    got = S.duration(pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]), "hours")
    assert got.iloc[0] == pytest.approx(hours)


def test_minutes_and_missing_values():
    got = S.duration(pd.Series([pd.Timestamp("2026-01-05 09:00"), pd.NaT]),
                     pd.Series([pd.Timestamp("2026-01-05 09:45"), pd.Timestamp("2026-01-05")]),
                     "minutes")
    assert got.iloc[0] == pytest.approx(45.0)
    assert np.isnan(got.iloc[1])


def test_business_time_is_additive_and_never_exceeds_calendar_time():
    rng = np.random.default_rng(5)
    base = pd.Timestamp("2026-01-01")
    a = base + pd.to_timedelta(rng.uniform(0, 60 * 24 * 3600, 500), unit="s")
    b = a + pd.to_timedelta(rng.uniform(0, 10 * 24 * 3600, 500), unit="s")
    c = b + pd.to_timedelta(rng.uniform(0, 10 * 24 * 3600, 500), unit="s")
    a, b, c = (pd.Series(x).dt.round("s") for x in (a, b, c))
    ab, bc, ac = S.duration(a, b), S.duration(b, c), S.duration(a, c)
    np.testing.assert_allclose(ab + bc, ac, atol=1e-9)
    assert (ac <= calendar_duration(a, c) + 1e-9).all() and (ac >= 0).all()


def test_describe_names_the_schedule():
    assert S.describe() == "Mon, Tue, Wed, Thu, Fri 09:00–17:00, excluding 1 holiday"
    with pytest.raises(ValueError):
        Schedule(["mon"], dt.time(18), dt.time(9))
