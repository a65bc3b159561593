"""Synthetic control: one treated unit (or a few, each on its own) against a weighted mix of
donor units, judged by placebos; several treated units from one date: synthetic DiD.

load (read, check, build each outcome's unit × period panel) -> study (``SyntheticControl``:
fits, placebos, verdicts, words)."""

from sqresearch.designs.synthetic_control.load import load

__all__ = ["STUDY_TYPE", "SyntheticControl", "load"]


def __getattr__(name: str):
    """The study object and its statistics are imported when first asked for, so that
    ``sqr validate --quick`` (``load`` alone) imports no scipy, statsmodels or plotting."""
    if name in ("STUDY_TYPE", "SyntheticControl"):
        from sqresearch.designs.synthetic_control import study

        return getattr(study, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
