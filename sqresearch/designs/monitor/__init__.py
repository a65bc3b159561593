"""The weekly service-quality monitor: this week against its own baseline in every cell, the
few problems that matter with their evidence, complaint themes, rankings and the PDCA log.

weekly (the metric × cell × week table) -> problems (alerts, age, impact, drivers) -> study
(``Monitor``: one object the template calls)."""

from sqresearch.designs import study_getattr
from sqresearch.designs.monitor.load import load

__all__ = ["STUDY_TYPE", "Monitor", "load"]

__getattr__ = study_getattr(__name__, ("STUDY_TYPE", "Monitor"))
