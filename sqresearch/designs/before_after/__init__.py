"""Before/after: one service measured before and after an intervention.

load (read and check) -> comparisons (the test per metric) and effects (the verdict's effect:
clustered, case-mix adjusted) -> study (``BeforeAfter``: verdicts, time series, words)."""

from sqresearch.designs import study_getattr
from sqresearch.designs.before_after.load import load

__all__ = ["STUDY_TYPE", "BeforeAfter", "load"]

__getattr__ = study_getattr(__name__, ("STUDY_TYPE", "BeforeAfter"))
