"""Comparing a metric between two periods (after vs before), independent or paired.

This module gathers the two-period tests under one name; each family lives in its own module:

- ``testrow``: ``COLUMNS``, the one-row table every test returns, so results stack into one
  table (the test, its statistic and p-value, the difference after − before with its CI, an
  effect size with its CI, the sample sizes and the reason the test was chosen);
- ``ttests``: Welch, paired t, Hedges' g, the ratio of geometric means (t-test on logs);
- ``ranktests``: Mann–Whitney U and Wilcoxon signed-rank with the Hodges–Lehmann estimate and
  its interval (``hodges_lehmann`` computes it as R ``wilcox.test(conf.int = TRUE)``);
- ``proportions``: two shares (Newcombe) and McNemar with Tango's score interval;
- ``nps``: NPS intervals (Wald or Rocks's adjusted Wald) and the NPS difference;
- ``bootstrap``: seeded percentile/BCa intervals for the median difference or % change;
- ``restricted_means``: the RMST difference and ratio;
- ``multiplicity``: Holm-adjusted p-values.

Every test follows the R function named in its docstring, so numbers can be checked against R
(tests/reference_before_after.R, tests/reference_smallfix.R). A CI sits beside the test it
agrees with: the Hodges–Lehmann interval with the rank tests, Tango's score interval with the
uncorrected McNemar test, the adjusted NPS interval with its own z statistic.
"""

from __future__ import annotations

from sqresearch.stats.bootstrap import _loo_medians, bootstrap
from sqresearch.stats.hodges_lehmann import _kth_pairwise_sum
from sqresearch.stats.multiplicity import holm
from sqresearch.stats.nps import NPSInterval, _nps_moments, nps_ci, nps_difference
from sqresearch.stats.proportions import _tango_statistic, mcnemar, tango_ci, two_proportions
from sqresearch.stats.ranktests import mann_whitney, wilcoxon_signed_rank
from sqresearch.stats.restricted_means import rmst_difference, rmst_ratio
from sqresearch.stats.testrow import COLUMNS, _row
from sqresearch.stats.ttests import hedges_g, log_ratio, paired_t, welch

__all__ = ["COLUMNS", "NPSInterval", "bootstrap", "hedges_g", "holm", "log_ratio",
           "mann_whitney", "mcnemar", "nps_ci", "nps_difference", "paired_t", "rmst_difference",
           "rmst_ratio", "tango_ci", "two_proportions", "welch", "wilcoxon_signed_rank",
           # private helpers the tests reach through this module
           "_kth_pairwise_sum", "_loo_medians", "_nps_moments", "_row",
           "_tango_statistic"]
