"""Control group: treated and untreated units before and after (difference-in-differences,
ANCOVA for randomized trials).

load (read, check, build the unit × period panel) -> inference (what the number of treated
clusters allows) -> study (``ControlGroup``: effects, verdicts, checks, words)."""

from sqresearch.designs.control_group.load import load

__all__ = ["STUDY_TYPE", "ControlGroup", "load"]


def __getattr__(name: str):
    """The study object and its statistics are imported when first asked for, so that
    ``sqr validate --quick`` (``load`` alone) imports no scipy, statsmodels or plotting."""
    if name in ("STUDY_TYPE", "ControlGroup"):
        from sqresearch.designs.control_group import study

        return getattr(study, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
