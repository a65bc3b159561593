import pprint, sys
import nbformat as nbf
sys.path.insert(0, "/work/main")
from sqresearch.params import read_yaml

params = read_yaml(open("/work/main/params/support_desk.yaml").read())
lines = ["# Parameters: the defaults run the support-desk demo study. papermill / `sqr run` inject a",
         "# study's YAML after this cell; every name here is a declared parameter."]
from sqresearch.schemas import ScorecardParams
full = ScorecardParams.model_validate(params).model_dump(mode="json")
values = {k: params.get(k, full[k]) for k in ScorecardParams.model_fields}
for k, v in values.items():
    text = pprint.pformat(v, width=92 - len(k), sort_dicts=False)
    text = text.replace("\n", "\n" + " " * (len(k) + 3))
    lines.append(f"{k} = {text}")
param_src = "\n".join(lines)

def code(src, tags=()):
    c = nbf.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    return c

md = nbf.v4.new_markdown_cell
cells = [
    code("_sqr_names_before = set(globals())  # lets the next cells spot undeclared parameters",
         ["sqr-setup"]),
    code(param_src, ["parameters"]),
    code('''_sqr_params = set(globals()) - _sqr_names_before  # parameter + injected names, checked below
%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from sqresearch import notebook as nb, plots, tables
from sqresearch.scorecard import Scorecard

plt.rcParams.update({"figure.dpi": 96, "savefig.dpi": 96, "font.size": 9})
study = Scorecard.from_notebook(globals(), _sqr_params)  # validates, loads, computes
nb.header(study.params)'''),
    md("## Summary"),
    code('nb.md("\\n\\n".join(study.summary_lines()))'),
    md("## Targets\n\nEach target is judged on the point estimate; *clear* means the whole "
       "confidence interval lies on the same side of the target, *within CI* that the interval "
       "contains it (more data are needed to be sure)."),
    code('''t = study.targets
if t.empty:
    nb.md("No targets were set for this study.")
else:
    view = t.assign(
        Estimate=[tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit) for r in t.itertuples()],
        Target=[f"{tables.OPS[r.op]} {tables.fmt(r.value, r.unit)}" for r in t.itertuples()])
    overall = view[view.group_by == "all"]
    nb.table(overall[["target", "Estimate", "Target", "n", "status", "certainty"]]
             .rename(columns=str.capitalize), "Targets over the whole study window (95 % CI)")
    per = view[view.group_by == "period"]
    if len(per):
        grid = per.assign(cell=per.status + " · " + per.Estimate).pivot(
            index="target", columns="group", values="cell").rename_axis(None, axis=1)
        nb.table(grid.reset_index().rename(columns={"target": "Target"}), "Targets per period")'''),
    code('''kpis_with_target = list(dict.fromkeys(t.kpi)) if len(t) else []
if kpis_with_target:
    fig, axes = plt.subplots(len(kpis_with_target), 1, figsize=(8, 2.6 * len(kpis_with_target)),
                             layout="constrained", squeeze=False)
    for ax, name in zip(axes[:, 0], kpis_with_target):
        rows = study.by_period[study.by_period.kpi == name]
        target = next(x for x in study.params.targets if x.kpi == name)
        plots.kpi_trend(rows, study.label(name), rows.unit.iloc[0], target, ax=ax)'''),
    md("## KPIs by period\n\nEstimates with 95 % confidence intervals. Durations are in "
       "minutes (min) or hours (h); shares in percent."),
    code('''allrows = study.overall.assign(group="whole window")
wide = tables.kpi_wide(pd.concat([study.by_period, allrows]), study.params.labels)
nb.table(wide, f"KPIs per {study.params.periods} and over the whole window")'''),
    md("## KPIs by segment"),
    code('''if not study.by_segment:
    nb.md("No segments were set for this study.")
for seg, tab in study.by_segment.items():
    nb.md(f"### By {seg}")
    nb.table(tables.kpi_wide(tab, study.params.labels), f"KPIs by {seg}, whole window")
    if kpis_with_target:
        plots.segment_grid(tab, kpis_with_target, {k: study.label(k) for k in kpis_with_target}, seg)
        plt.show()'''),
    md("## Control charts\n\nLimits come from the baseline window only (XmR chart for a "
       "continuous KPI: centre ± 2.66 × mean moving range; p-chart for a share: "
       "p̄ ± 3√(p̄(1−p̄)/n)). A *signal* is a point after the baseline beyond a limit, or part "
       "of a run of 8 on one side of the centre line. A weekly point (labelled by its Monday) "
       "belongs to the baseline when its week ends inside the baseline window."),
    code('''if not study.control_charts:
    nb.md("No control charts were requested.")
for chart in study.control_charts:
    unit = study.series[study.series.kpi == chart.kpi].unit.iloc[0]
    plots.control_chart(chart, study.label(chart.kpi), unit)
    plt.show()
    sig = chart.signals
    if len(sig):
        nb.table(sig.assign(date=sig.date.dt.strftime("%Y-%m-%d"),
                            value=[tables.fmt(v, unit) for v in sig.value],
                            reason=["beyond limit" if b else "run of 8" for b in sig.beyond])
                 [["date", "value", "reason"]].head(15),
                 f"{study.label(chart.kpi)}: signals (first 15 of {len(sig)})")
    else:
        nb.md(f"{study.label(chart.kpi)}: no signals after the baseline.")'''),
    md("## Complaint and contact categories (Pareto)"),
    code('''pareto = study.pareto
if pareto is None or pareto.empty:
    nb.md("No category column was set, or no contacts fall in it.")
else:
    what = "complaints" if study.params.pareto_complaints_only else "contacts"
    plots.pareto(pareto, f"{what.capitalize()} by {study.params.pareto} (n = {pareto['count'].sum():,})")
    plt.show()
    view = pareto.assign(share=[tables.fmt(v, "share") for v in pareto.share],
                         cumulative_share=[tables.fmt(v, "share") for v in pareto.cumulative_share])
    nb.table(view.rename(columns={"category": "Category", "count": "Count", "share": "Share",
                                  "cumulative_share": "Cumulative share"}),
             f"{what.capitalize()} by category, largest first")'''),
    md("## Composite service-quality index\n\nEach indicator is min–max normalised across the "
       "units (1 = best unit, respecting whether lower or higher is better) and weighted; the "
       "index is 100 × the weighted sum. It ranks units against each other, not against "
       "targets."),
    code('''idx = study.index
if idx is None:
    nb.md("No composite index was requested.")
else:
    nb.table(idx.weights.assign(indicator=[study.label(k) for k in idx.weights.indicator],
                                weight=idx.weights.weight.round(3)),
             f"Indicator weights ({idx.method})")
    if idx.ahp is not None:
        a = idx.ahp
        verdict = "acceptable (≤ 0.10)" if a.consistent else "INCONSISTENT (> 0.10): revise the judgements"
        nb.md(f"AHP: λmax = {a.lambda_max:.4f}, CI = {a.ci:.4f}, CR = {a.cr:.4f} — {verdict}.")
    plots.index_bars(idx.scores, f"Composite index by {study.params.index.by}")
    plt.show()
    scores = idx.scores.round({"index": 1, **{k: 3 for k in idx.weights.indicator}})
    scores = scores.rename(columns={"unit": study.params.index.by.capitalize(), "index": "Index",
                                    "rank": "Rank", **{k: study.label(k) + " (0–1)"
                                                       for k in idx.weights.indicator}})
    nb.table(scores, "Index and normalised indicator scores (1 = best unit) per unit")'''),
    md("## Definitions and methods"),
    code('nb.table(study.definitions(), "Definitions used in this report")'),
    md("## Data quality"),
    code("nb.data_quality(study.table)"),
    md("## Reproducibility"),
    code("nb.reproducibility(study.params, [study.table.source])"),
    code("study.results().publish()  # read by `sqr run` to write results.json", ["sqr-results"]),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata = {"kernelspec": {"name": "sqresearch", "display_name": "Python (sqresearch)",
                              "language": "python"},
               "language_info": {"name": "python"}}
nbf.validate(nb)
nbf.write(nb, "/work/main/notebooks/scorecard.ipynb")
print("written")
