"""Scorecard: service levels per period and segment against targets, control charts and a
composite index.

study (``load`` and ``Scorecard``)."""

from sqresearch.designs.scorecard.study import STUDY_TYPE, Scorecard, load

__all__ = ["STUDY_TYPE", "Scorecard", "load"]
