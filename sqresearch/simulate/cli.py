"""Deterministic simulator of service data with known true effects.

``python -m sqresearch.simulate --out data`` writes the demo files (``write_demo``), with fixed
CSV formatting so the same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sqresearch.simulate.demo import (
    agent_coaching,
    branch_pilot,
    branch_visits,
    coaching_trial,
    support_tickets,
)
from sqresearch.simulate.surveys import management_survey, servqual_survey
from sqresearch.simulate.synth import flagship_pilot


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with fixed formatting, so the same frame always gives the same bytes."""
    df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S", lineterminator="\n")


def write_demo(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    tickets, visits = out / "support_tickets.csv", out / "branch_visits.parquet"
    coaching = out / "agent_coaching.csv"
    write_csv(support_tickets(), tickets)
    branch_visits().to_parquet(visits, index=False, compression="zstd")
    trial = out / "coaching_trial.csv"
    survey, managers = out / "servqual_survey.csv", out / "management_survey.csv"
    write_csv(agent_coaching(), coaching)
    write_csv(coaching_trial(), trial)
    write_csv(servqual_survey(), survey)
    write_csv(management_survey(), managers)
    pilot = out / "branch_pilot.csv"
    write_csv(branch_pilot(), pilot)
    flagship = out / "flagship_pilot.csv"
    write_csv(flagship_pilot(), flagship)
    written = [tickets, visits, coaching, trial, survey, managers, pilot, flagship]
    # staggered adoption (issue 13): a chatbot rolled out to regions in three waves
    from sqresearch.simulate.rollout import regional_rollout

    rollout = out / "regional_rollout.csv"
    write_csv(regional_rollout(), rollout)
    written.append(rollout)
    # the weekly monitor (issue 15): 56 ISO weeks of tickets with planted events
    from sqresearch.simulate.monitor import weekly_monitor

    monitor = out / "weekly_monitor.parquet"
    weekly_monitor().to_parquet(monitor, index=False, compression="zstd")
    written.append(monitor)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sqresearch.simulate",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to write the demo files to")
    args = ap.parse_args(argv)
    for p in write_demo(args.out):
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
