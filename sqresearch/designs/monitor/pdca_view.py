"""The PDCA log in the weekly report: the items open at the report week listed; those with an
action start and enough complete weeks after it checked automatically (``pdca_check``: a
before/after comparison, or difference-in-differences when the action covered some cells
only, through the verdict code), with the proposed Act step."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.designs.monitor.pdca_check import check_item
from sqresearch.designs.scorecard.display import Bundle, Table, Text
from sqresearch.report import tables

OPEN = ("open", "doing")
#: the catalogue KPI a PDCA item names for each monitored per-ticket metric
METRIC_KPI = {"frt": "frt_median", "frt_bh": "frt_median", "ttr": "ttr_median",
              "ttr_bh": "ttr_median_bh", "fcr": "fcr", "reopen": "reopen_rate",
              "complaint": "complaints_per_1000", "csat": "csat_mean", "csat_top2": "csat_top2",
              "ces": "ces_mean", "nps": "nps"}


def open_command(study, metric: str, cell: str) -> str:
    """The command that opens an improvement item for a problem (the Plan step)."""
    from sqresearch.report.notebook import params_file

    kpi = METRIC_KPI.get(metric, metric)
    return (f"sqr pdca add {params_file(study.params.study_id)} --kpi {kpi} --segment "
            f"'{cell}' --week {study.week} --owner '…' --plan '…'")


def items(study) -> pd.DataFrame:
    """Items opened up to the report week that are not closed (a rerun of a past week shows
    the log as it applied then, apart from later edits of status)."""
    log = study.inputs.log
    if log is None:
        return pd.DataFrame()
    t = log.items
    return t[(t["opened_week"] <= study.week) & t["status"].isin(OPEN)]


def checks(study) -> list[dict]:
    """One dict per open item: its fields and the check's result (verdict, estimate, CI,
    act, sentence, weeks needed)."""
    p, out = study.params, []
    for item in items(study).to_dict("records"):
        r = check_item(item, study.frame, ctx=study.ctx, weeks_after_min=p.pdca.weeks_after,
                       alpha=p.alpha, seed=p.seed, through_week=study.week)
        out.append({"id": item["id"], "kpi": item["kpi"], "segment": item["segment"],
                    "owner": item["owner"], "plan": item["plan"],
                    "action_start": item["action_start"], "status": item["status"],
                    "verdict": r.verdict, "estimate": _num(r.estimate),
                    "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high), "unit": r.unit,
                    "method": r.method, "act": r.act if r.checked else "",
                    "sentence": r.sentence, "weeks_needed": r.weeks_needed})
    return out


def _label(name: str, study) -> str:
    from sqresearch import kpi

    if name in kpi.CATALOGUE:
        return kpi.CATALOGUE[name].label
    sla = next((s for s in study.params.sla if f"sla_{s.name}" == name), None)
    return kpi.sla_kpi(sla).label if sla else name.replace("_", " ")


def open_command_block(study, metric: str, cell: str) -> str:
    """The command as a Markdown code block (shown as code, copied as is)."""
    return "```\n" + open_command(study, metric, cell) + "\n```"


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def section(study):
    if study.params.pdca is None:
        return Text("No improvement log is set (`pdca` in the study file).")
    c = study.pdca
    log = study.params.pdca.log
    if not c:
        return Text(f"No open items in `{log}` at week {study.week}. Open one by adding a "
                    "line to the log (id, kpi, segment, opened_week, owner, plan, "
                    "action_start, action_segments, status).")
    rows = [{"item": x["id"], "KPI": _label(x["kpi"], study), "segment": x["segment"],
             "owner": x["owner"],
             "plan": x["plan"], "action start": x["action_start"] or "—",
             "check": x["verdict"], "estimate": "" if x["estimate"] is None else
             tables.fmt_estimate(x["estimate"], x["ci_low"], x["ci_high"], x["unit"]),
             "Act": x["act"] or
             f"not yet ({tables.count(x['weeks_needed'], 'more week', 'more weeks')})"}
            for x in c]
    words = "\n".join(f"- **{x['id']}**: {x['sentence']}" for x in c)
    return Bundle([Table(pd.DataFrame(rows), f"Open items of the improvement log `{log}` at "
                         f"week {study.week}."), Text(words)])
