"""The one-row table every two-period test returns, and the helpers the tests share.

``COLUMNS`` are the columns of that row (test, statistic, p-value, the difference after − before
with its CI, an effect size with its CI, the sample sizes and the method), so results of
different tests (``ttests``, ``ranktests``, ``proportions``, ``nps``, ``bootstrap``,
``restricted_means``) stack into one table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

COLUMNS = ["test", "statistic_name", "statistic", "df", "p_value", "estimate_name", "estimate",
           "ci_low", "ci_high", "effect_name", "effect", "effect_low", "effect_high", "n_before",
           "n_after", "method"]


def _row(**kw) -> pd.DataFrame:
    return pd.DataFrame([{c: kw.get(c, math.nan if c not in ("test", "statistic_name",
                                                             "estimate_name", "effect_name",
                                                             "method") else "")
                          for c in COLUMNS}])


def _clean(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[~np.isnan(a)]


def _z(alpha: float) -> float:
    return stats.norm.ppf(1 - alpha / 2)
