"""Deterministic simulator of service data with known true effects.

It writes the demo files in ``data/`` (``python -m sqresearch.simulate --out data``) and lets
tests make larger data sets. The same seed gives the same rows on every machine (NumPy's PCG64).
``TRUTH`` records the effects built in, so studies can be checked against them.

- ``truth``: ``TRUTH``, the effects built in;
- ``demo``: the demo ticket, visit and agent tables (support tickets, branch visits, the branch
  pilot, agent coaching, the coaching trial);
- ``surveys``: the SERVQUAL customer and management surveys;
- ``calibration``: simulators for calibration by simulation (clustered tickets, DiD panels,
  interrupted time series, the true RMST ratio);
- ``behaviour``: tickets of customers in planted behaviour groups (frequent callers,
  self-service users, complainers, occasional) for the behaviour segments;
- ``cli``: ``write_csv``, ``write_demo`` and the command line (``__main__``).
"""

from __future__ import annotations

from sqresearch.simulate.calibration import (
    clustered_tickets,
    did_panel,
    its_series,
    lognormal_rmst,
)
from sqresearch.simulate.cli import main, write_csv, write_demo
from sqresearch.simulate.demo import (
    agent_coaching,
    branch_pilot,
    branch_visits,
    coaching_trial,
    support_tickets,
)
from sqresearch.simulate.surveys import management_survey, servqual_survey
from sqresearch.simulate.truth import TRUTH

__all__ = ["TRUTH", "agent_coaching", "branch_pilot", "branch_visits", "clustered_tickets",
           "coaching_trial", "did_panel", "its_series", "lognormal_rmst", "main",
           "management_survey", "servqual_survey", "support_tickets", "write_csv", "write_demo"]
