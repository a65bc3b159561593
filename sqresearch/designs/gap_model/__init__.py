"""Gap model: SERVQUAL expectations vs perceptions over five dimensions, and the provider gaps.

load (survey, instrument, optional provider inputs) -> study (``GapModel``)."""

from sqresearch.designs import study_getattr
from sqresearch.designs.gap_model.load import load

__all__ = ["STUDY_TYPE", "GapModel", "load"]

__getattr__ = study_getattr(__name__, ("STUDY_TYPE", "GapModel"))
