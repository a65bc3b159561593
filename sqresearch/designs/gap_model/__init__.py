"""Gap model: SERVQUAL expectations vs perceptions over five dimensions, and the provider gaps.

load (survey, instrument, optional provider inputs) -> study (``GapModel``)."""

from sqresearch.designs.gap_model.load import load

__all__ = ["STUDY_TYPE", "GapModel", "load"]


def __getattr__(name: str):
    """The study object and its statistics are imported when first asked for, so that
    ``sqr validate --quick`` (``load`` alone) imports no scipy, statsmodels or plotting."""
    if name in ("STUDY_TYPE", "GapModel"):
        from sqresearch.designs.gap_model import study

        return getattr(study, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
