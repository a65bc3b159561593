"""Control group: treated and untreated units before and after (difference-in-differences,
ANCOVA for randomized trials).

load (read, check, build the unit × period panel) -> inference (what the number of treated
clusters allows) -> study (``ControlGroup``: effects, verdicts, checks, words)."""

from sqresearch.designs import study_getattr
from sqresearch.designs.control_group.load import load

__all__ = ["STUDY_TYPE", "ControlGroup", "load"]

__getattr__ = study_getattr(__name__, ("STUDY_TYPE", "ControlGroup"))
