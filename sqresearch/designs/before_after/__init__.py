"""Before/after: one service measured before and after an intervention.

load (read and check) -> comparisons (the test per metric) and effects (the verdict's effect:
clustered, case-mix adjusted) -> study (``BeforeAfter``: verdicts, time series, words)."""

from sqresearch.designs.before_after.load import load

__all__ = ["STUDY_TYPE", "BeforeAfter", "load"]


def __getattr__(name: str):
    """The study object and its statistics are imported when first asked for, so that
    ``sqr validate --quick`` (``load`` alone) imports no scipy, statsmodels or plotting."""
    if name in ("STUDY_TYPE", "BeforeAfter"):
        from sqresearch.designs.before_after import study

        return getattr(study, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
