"""The scorecard's tables and figures, formatted for the report: labels and units from the KPI
registry, numbers through report.tables. Each function takes the study and returns a display
object (display.Table / Figure / Text / Bundle)."""

from __future__ import annotations

import pandas as pd

from sqresearch.designs.scorecard.display import Bundle, Details, Figure, Table, Text
from sqresearch.report import plots, tables

#: at most this many segment levels as columns side by side (each with its interval)
MAX_SIDE_BY_SIDE = 4


def level(study) -> str:
    return f"{100 * (1 - study.params.alpha):g} %"


def _cell(r) -> str:
    return tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)


def target_table(study) -> Table | Text:
    t = study.targets[study.targets["group_by"] == "all"]
    if t.empty:
        return Text("No targets were set for this study.")
    view = pd.DataFrame({
        "Target": t["target"], f"Estimate ({level(study)} CI)": [_cell(r) for r in t.itertuples()],
        "Threshold": [f"{tables.OPS[r.op]} {tables.fmt(r.value, r.unit)}" for r in t.itertuples()],
        "Contacts": [tables.fmt(n, "contacts") for n in t["n"]],
        "Status": t["status"], "Certainty": t["certainty"]})
    return Table(view, f"Targets over the whole study window ({level(study)} CI)")


def target_grid(study) -> Table | Text:
    per = study.targets[study.targets["group_by"] == "period"]
    if per.empty:
        return Text("No targets were set for this study.")
    cells = per.assign(cell=[f"{r.status} · {_cell(r)}" for r in per.itertuples()])
    grid = cells.pivot(index="target", columns="group", values="cell").rename_axis(None, axis=1)
    grid = grid.reindex(list(dict.fromkeys(per["target"])))
    return Table(grid.reset_index().rename(columns={"target": "Target"}),
                 f"Targets per {study.params.periods}: status · estimate ({level(study)} CI)")


def trend_figure(study) -> Figure | Text:
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(t.kpi for t in study.params.targets))
    if not names:
        return Text("No targets were set for this study.")
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.6 * len(names)),
                             layout="constrained", squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        rows = study.by_period[study.by_period["kpi"] == name]
        target = next(x for x in study.params.targets if x.kpi == name)
        plots.kpi_trend(rows, study.label(name), rows["unit"].iloc[0], target, ax=ax)
    labels = ", ".join(study.label(n) for n in names)
    return Figure(fig, f"Per-{study.params.periods} estimates with {level(study)} intervals "
                  f"and the target line for: {labels}.")


def kpi_period_table(study) -> Table:
    allrows = study.overall.assign(group="whole window")
    wide = tables.kpi_wide(pd.concat([study.by_period, allrows]), study.params.labels)
    return Table(wide, f"KPIs per {study.params.periods} and over the whole window: estimate "
                 f"({level(study)} CI)")


def segment_section(study) -> Bundle | Text:
    if not study.by_segment:
        return Text("No segments were set for this study.")
    names = list(dict.fromkeys(t.kpi for t in study.params.targets))
    out = Bundle()
    for seg, tab in study.by_segment.items():
        out.add(f"By {seg}")
        full = Table(tables.kpi_wide(tab, study.params.labels),
                     f"KPIs by {seg}, whole window: estimate ({level(study)} CI)")
        if tab["group"].nunique() <= MAX_SIDE_BY_SIDE:
            out.add(full)
        else:  # one row per level; the intervals folded away (and in the panels below)
            out.add(Table(tables.kpi_by_level(tab, study.params.labels, seg),
                          f"KPIs by {seg}, whole window: estimates (the {level(study)} "
                          "intervals are in the table folded below and, for the KPIs with a "
                          "target, in the panels)"))
            out.add(Details(f"KPIs by {seg} with {level(study)} confidence intervals", full))
        if names:
            axes = plots.segment_grid(tab, names, {k: study.label(k) for k in names}, seg)
            out.add(Figure(axes.flat[0].figure, f"Estimates with {level(study)} intervals by "
                           f"{seg} for the KPIs with a target: "
                           f"{', '.join(study.label(k) for k in names)}."))
    return out


def control_section(study) -> Bundle | Text:
    if not study.control_charts:
        return Text("No control charts were requested.")
    out = Bundle()
    for chart in study.control_charts:
        name, unit = study.label(chart.kpi), study.unit(chart.kpi)
        ax = plots.control_chart(chart, name, unit)
        sig = chart.signals
        out.add(Figure(ax.figure, f"{chart.kind} control chart of {name} by "
                       f"{study.params.series_freq} with baseline centre line and limits; "
                       f"{tables.count(len(sig), 'signal')} after the baseline."))
        if len(sig):
            out.add(Table(pd.DataFrame({
                "Week of" if study.params.series_freq == "week" else "Day":
                    sig["date"].dt.strftime("%d %b %Y"),
                "Value": [tables.fmt(v, unit) for v in sig["value"]],
                "Lower limit": [tables.fmt(v, unit) for v in sig["lcl"]],
                "Upper limit": [tables.fmt(v, unit) for v in sig["ucl"]],
                "Reason": ["beyond a limit" if b else "run of 8 on one side"
                           for b in sig["beyond"]]}),
                f"{name}: {tables.count(len(sig), 'signal')} after the baseline"))
        else:
            out.add(Text(f"{name}: no signals after the baseline."))
    return out


def pareto_section(study) -> Bundle | Text:
    p = study.pareto
    if p is None or p.empty:
        return Text("No category column was set, or no contacts fall in it.")
    what = "complaints" if study.params.pareto_complaints_only else "contacts"
    title = f"{what.capitalize()} by {study.params.pareto} (n = {p['count'].sum():,})"
    ax = plots.pareto(p, title)
    view = pd.DataFrame({"Category": p["category"],
                         "Count": [tables.fmt(v, "contacts") for v in p["count"]],
                         "Share": [tables.fmt(v, "share") for v in p["share"]],
                         "Cumulative share": [tables.fmt(v, "share")
                                              for v in p["cumulative_share"]]})
    return Bundle([Figure(ax.figure, f"Pareto chart: {title}, largest first, with the "
                          "cumulative share."),
                   Table(view, f"{what.capitalize()} by category, largest first")])


def results_table(res) -> Table:
    """Every recorded result, formatted: key, label, estimate (interval), n, verdict."""
    rows = [{"Key": r.key, "Result": r.label,
             "Estimate": tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit),
             "n": "" if r.n is None else f"{r.n:,}", "Verdict": r.verdict or ""}
            for r in res.items.values()]
    return Table(pd.DataFrame(rows), f"{len(rows):,} results recorded for {res.study_id}")
