"""``sqr pdca add``: open an improvement item in a weekly study's PDCA log (Plan), from an
alert of its report. The log is the study's ``pdca.log`` (a CSV in the project, reviewed in
git); the item is appended under a lock (``io.pdca.append_item``), never rewriting a line."""

from __future__ import annotations

import sys

from sqresearch.io.errors import ParamsError, Problem


def add_parser(sub) -> None:
    a = sub.add_parser("pdca", help="open an improvement item in a monitor study's PDCA log")
    a.add_argument("action", choices=["add"], help="add: append a new item")
    a.add_argument("params", help="the monitor study's params file")
    a.add_argument("--kpi", required=True, help="the KPI, e.g. frt_median, fcr, sla_<name>")
    a.add_argument("--segment", default="all", help="e.g. 'team=east & channel=phone'")
    a.add_argument("--week", required=True, help="the week the item is opened, e.g. 2026-W48")
    a.add_argument("--owner", default="", help="who carries it")
    a.add_argument("--plan", default="", help="what will be done")
    a.add_argument("--action-start", default="", help="the date the action starts (ISO)")
    a.add_argument("--action-segments", default="", help="cells the action covers ('; '-"
                   "separated); empty: the item's segment")
    a.set_defaults(func=cmd_pdca)


def cmd_pdca(args) -> int:
    from sqresearch import kpi
    from sqresearch.cli import runner
    from sqresearch.io import paths, pdca

    p = runner.load_params(args.params)
    source = paths.display(paths.resolve(args.params))
    if getattr(p, "pdca", None) is None:
        raise ParamsError(source, Problem("key 'pdca'", "this study has no improvement log.",
                                          "add pdca: {log: pdca/<study>.csv} to the study file "
                                          "(monitor studies)."))
    log = paths.project_root() / p.pdca.log
    new = pdca.append_item(log, kpi=args.kpi, opened_week=args.week, segment=args.segment,
                           owner=args.owner, plan=args.plan, action_start=args.action_start,
                           action_segments=args.action_segments,
                           known_kpis=kpi.known_kpis(p))
    print(f"{new} added to {paths.display(log)}")
    sys.stdout.flush()
    return 0
