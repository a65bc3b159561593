"""Plain-language caveats a study raises when they apply (shared/domain.md §2, §3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTROL_GROUP_NOTE = ("A before/after comparison alone cannot separate the intervention from "
                      "anything else that changed at the same time (trends, seasons, staffing, "
                      "demand): only a control group can.")


def pre_trend(label: str, slope, p_value: float, alpha: float, unit: str,
              change: float) -> str | None:
    """A significant slope before the intervention; ``change`` is the estimated level change,
    to say whether the trend runs with it (part of the change may be the trend) or against it
    (the plain difference understates the change)."""
    if p_value >= alpha:
        return None
    same = (slope > 0) == (change > 0)
    consequence = ("part of the before/after difference may be that trend continuing" if same
                   else "the trend ran against the change, so the plain before/after difference "
                        "may understate it")
    return (f"**Trend already under way.** {label} was already changing before the "
            f"intervention ({slope:+.3g} {unit} per period, p = {p_value:.3g}): {consequence}. "
            "Read the interrupted time series, which allows for the trend.")


def seasonality(before_dates: pd.Series, after_dates: pd.Series) -> str | None:
    span = max(before_dates.max(), after_dates.max()) - min(before_dates.min(),
                                                           after_dates.min())
    b = set(before_dates.dt.month)
    a = set(after_dates.dt.month)
    if span < pd.Timedelta(days=365) and b != a:
        return (f"**Seasonality.** The before period covers {_months(b)} and the after period "
                f"{_months(a)}; less than a year of data cannot separate a seasonal difference "
                "from the intervention.")
    return None


def _months(months: set[int]) -> str:
    return ", ".join(pd.Timestamp(2000, m, 1).strftime("%b") for m in sorted(months))


def regression_to_mean(label: str, before_values, direction: str, share: float = 0.25
                       ) -> str | None:
    """The last stretch before the intervention was unusually bad (worse than the before mean
    by more than one SD of the before series)."""
    v = np.asarray(before_values, dtype=float)
    v = v[~np.isnan(v)]
    k = max(2, int(round(share * v.size)))
    if v.size < 6:
        return None
    recent, sd = v[-k:].mean(), v.std(ddof=1)
    worse = recent - v.mean() if direction == "lower" else v.mean() - recent
    if sd > 0 and worse > sd:
        return (f"**Regression to the mean.** {label} was unusually bad just before the "
                f"intervention (the last {k} periods were {worse / sd:.1f} SD worse than the "
                "before average). Some improvement afterwards would be expected even without "
                "the intervention.")
    return None


def small_sample(label: str, n_before: int, n_after: int, minimum: int = 30) -> str | None:
    if min(n_before, n_after) < minimum:
        return (f"**Small sample.** {label} rests on {n_before} observations before and "
                f"{n_after} after; intervals are wide and tests have little power.")
    return None


def heavy_censoring(label: str, open_share: float, period: str, limit: float = 0.2
                    ) -> str | None:
    if open_share > limit:
        return (f"**Heavy censoring.** {100 * open_share:.0f} % of the {period} period's cases "
                f"were still open at the data cut; the Kaplan–Meier median of {label} leans on "
                "few long cases and may be unstable.")
    return None
