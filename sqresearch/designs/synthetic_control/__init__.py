"""Synthetic control: one treated unit (or a few, each on its own) against a weighted mix of
donor units, judged by placebos; several treated units from one date: synthetic DiD.

load (read, check, build each outcome's unit × period panel) -> study (``SyntheticControl``:
fits, placebos, verdicts, words)."""

from sqresearch.designs import study_getattr
from sqresearch.designs.synthetic_control.load import load

__all__ = ["STUDY_TYPE", "SyntheticControl", "load"]

__getattr__ = study_getattr(__name__, ("STUDY_TYPE", "SyntheticControl"))
