"""Gap model: SERVQUAL expectations vs perceptions over five dimensions, and the provider gaps.

load (survey, instrument, optional provider inputs) -> study (``GapModel``)."""

from sqresearch.designs.gap_model.load import load
from sqresearch.designs.gap_model.study import STUDY_TYPE, GapModel

__all__ = ["STUDY_TYPE", "GapModel", "load"]
