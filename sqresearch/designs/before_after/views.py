"""What the before/after template shows, one function per report section: formatted tables
(labels, units, consistent numbers) and labelled figures. Each section function displays; the
``*_table`` functions return the DataFrame they display, for tests and for reuse."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch import kpi
from sqresearch.designs.before_after import words
from sqresearch.report import notebook as nb
from sqresearch.report import plots, tables
from sqresearch.report import verdict_tables as vt
from sqresearch.stats.survival import kaplan_meier


def summary(study) -> None:
    nb.md("\n\n".join(study.summary_lines()))


def verdicts(study) -> None:
    nb.table(verdict_table(study, "confirmatory"),
             "Verdicts on the primary metrics (confirmatory family); each CI at the level of "
             "its Holm step")
    nb.table(method_table(study, "confirmatory"), "Methods behind the verdicts")


def _plural(n: float, noun: str) -> str:
    return f"{n:g} {noun}" + ("" if n == 1 else "s")


def design_table(study) -> pd.DataFrame:
    """Design, periods, wash-out, filters, intervals, unit of analysis, case mix, multiplicity,
    bootstrap — one row each."""
    p, frame = study.params, study.frame
    rows = [("Design", f"paired: each unit measured in both periods ({p.unit})"
             if p.design == "paired" else "independent periods: different cases before and "
             "after")]
    if study.tickets:
        per = frame["period"]

        def span(name: str) -> str:
            created = frame.loc[per == name, "created"]
            return f"{created.min():%d %b %Y} – {created.max():%d %b %Y}"

        if p.period_column:
            rows += [("Periods", f"column {p.period_column}: {p.before_value} (before) and "
                                 f"{p.after_value} (after); the after period starts with its "
                                 f"first ticket, {study.intervention:%d %b %Y %H:%M}")]
        else:
            rows += [("Intervention", f"{study.intervention:%d %b %Y %H:%M}"),
                     ("Wash-out", f"{_plural(p.washout_days_before, 'day')} before and "
                                  f"{_plural(p.washout_days_after, 'day')} after the "
                                  "intervention left out")]
        rows += [("Before period", span("before")), ("After period", span("after")),
                 ("Data cut", f"{study.ctx.data_cut:%d %b %Y %H:%M} (cases open then are "
                              "censored)")]
    else:
        rows.append(("Periods", f"column {p.period_column}: {p.before_value} (before) and "
                                f"{p.after_value} (after)"))
    if p.filters:
        rows.append(("Filters", "; ".join(f"{k}: {', '.join(map(str, v))}"
                                          for k, v in p.filters.items())))
    rows += [("Intervals", f"{100 * (1 - p.alpha):g} % confidence intervals"),
             ("Unit of analysis", study.clustering.reason),
             ("Case mix", "effects adjusted for " + ", ".join(p.adjust_for) if p.adjust_for
              else "not adjusted (no adjust_for)"),
             ("Multiple testing", "primary metrics: Holm across the confirmatory family, each "
              "interval at its Holm step's level; segments and secondary metrics: exploratory, "
              "unadjusted"),
             ("Bootstrap", f"{p.bootstrap.method}, {p.bootstrap.resamples:,} resamples, seed "
                           f"{p.seed}")]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def tests_table(study) -> pd.DataFrame:
    """Per metric: the descriptive test used first and why."""
    e = study.effects[study.effects.segment == "all"]
    return pd.DataFrame({"Metric": e["label"], "Descriptive test": e["test"],
                         "Why this test": e["reason"]})


def design(study) -> None:
    nb.table(design_table(study), "Design")
    nb.table(tests_table(study), "Tests per metric (the verdicts rest on the effects below)")


def verdict_table(study, family: str | None = None) -> pd.DataFrame:
    return vt.verdict_table(study.verdicts, words.fmt_effect, family)


def method_table(study, family: str | None = None) -> pd.DataFrame:
    return vt.method_table(study.verdicts, family)


def descriptives_table(c) -> pd.DataFrame:
    """One metric's descriptives per period, in its unit."""
    spec, d = c.metric, c.descriptives
    unit = "share" if spec.type == "binary" else spec.unit
    if spec.type == "censored":
        return pd.DataFrame({
            "Period": d.period, "n": [tables.fmt(v, "contacts") for v in d.n],
            "Resolved": [tables.fmt(v, "contacts") for v in d.events],
            "Open at data cut": [tables.fmt(v, "share") for v in d.open_share],
            "Kaplan–Meier median (CI)": [tables.fmt_estimate(m, lo, hi, unit) for m, lo, hi in
                                         zip(d["median"], d.median_low, d.median_high,
                                             strict=True)]})
    spread = spec.type != "binary"
    view = pd.DataFrame({
        "Period": d.period, "n": [tables.fmt(v, "contacts") for v in d.n],
        "Missing": [tables.fmt(v, "contacts") for v in d.missing],
        "Share" if spec.type == "binary" else "Mean": [tables.fmt(v, unit) for v in d["mean"]]})
    if spread:
        view["SD"] = [tables.fmt(v, unit) for v in d.sd]
        view["Median"] = [tables.fmt(v, unit) for v in d.p50]
        view["P90"] = [tables.fmt(v, unit) for v in d.p90]
    if spec.type == "nps":
        view["NPS"] = [tables.fmt(v, "points") for v in d.nps]
    return view


def tests_detail_table(c, alpha: float) -> pd.DataFrame:
    """One metric's descriptive tests: estimate with CI, effect size, statistic, p."""
    t, spec = c.tests, c.metric
    return pd.DataFrame({
        "Role": t.role, "Test": t.test, "Estimate": t.estimate_name,
        "Value (CI)": [words.fmt_test_estimate(r, spec, alpha) for r in t.itertuples()],
        "Effect size (CI)": [f"{n} {e:.2f}" + (f" ({lo:.2f} to {hi:.2f})"
                                               if not pd.isna(lo) else "") if n else "–"
                             for n, e, lo, hi in zip(t.effect_name, t.effect, t.effect_low,
                                                     t.effect_high, strict=True)],
        "Statistic": [f"{n} = {s:.3f}" if n and not pd.isna(s) else "–"
                      for n, s in zip(t.statistic_name, t.statistic, strict=True)],
        "p": [tables.fmt_p(v) for v in t.p_value], "Why": t.reason})


def metric_results(study) -> None:
    """Per primary comparison: a heading, descriptives, tests and, for resolution times, the
    Kaplan–Meier curves."""
    for c in study.comparisons:
        if c.segment != "all":
            continue
        nb.md(f"### {c.metric.label}")
        nb.table(descriptives_table(c), f"{c.metric.label}: descriptives per period")
        nb.table(tests_detail_table(c, study.params.alpha),
                 f"{c.metric.label}: descriptive tests")
        spec = c.metric
        b, a, eb, ea, _ = study.values(spec.name)
        if spec.type == "censored":
            plots.km_curves({"before": kaplan_meier(b, eb == 1),
                             "after": kaplan_meier(a, ea == 1)}, spec.label, spec.unit)
        elif spec.type in ("duration", "continuous"):
            plots.period_ecdf(b, a, spec.label, spec.unit, log=spec.type == "duration")
        plots.show()


def _display(r, values) -> list[float]:
    """Verdict-scale values in display units: % change for ratios, percentage points for
    shares, the metric's unit otherwise."""
    if r.kind in ("duration", "censored"):
        return [100 * math.expm1(v) for v in values]
    return [100 * v for v in values] if r.kind == "share" else list(values)


def plot_effects(study, ax=None):
    """One small panel per primary metric: its verdict effect and CI (at its Holm level) in
    display units, a line at no change. Returns the axes."""
    v = study.verdicts[study.verdicts.family == "confirmatory"]
    units = {"duration": "% change", "censored": "% change in mean time",
             "share": "percentage points"}
    return plots.effect_panels(
        [(r.label, *_display(r, [r.estimate, r.ci_low, r.ci_high]),
          units.get(r.kind, plots.axis_label(r.unit))) for r in v.itertuples()], ax)


def segments(study) -> None:
    """One forest plot per metric (segment effects in display units), then the table."""
    v = study.verdicts
    if not study.params.segments:
        nb.md("No segments were set for this study.")
    else:
        for _, part in v.groupby("metric", sort=False):
            r = part.iloc[0]
            shown = part.assign(**{c: _display(r, part[c]) for c in
                                   ("estimate", "ci_low", "ci_high")})
            unit = {"duration": "% change", "censored": "% change in mean time",
                    "share": "percentage points"}.get(r.kind, plots.axis_label(r.unit))
            plots.forest(shown, f"{r.label}: change by segment", 0.0, f"change ({unit})")
            plots.show()
    nb.table(verdict_table(study, "exploratory"),
             "Exploratory effects: segments and secondary metrics (unadjusted α)")
    nb.table(method_table(study, "exploratory"), "Methods behind the exploratory effects")


def goals_and_targets(study) -> None:
    goals = vt.goals_view(study.goals, lambda m: lambda v: words.fmt_change(v, study.spec(m)),
                          "not estimable")
    vt.show_goals_and_targets(goals, vt.targets_view(study.targets, "Period"),
                              ("Improvement goals", "Targets in each period"),
                              "Targets are judged per period on ticket tables only."
                              if study.params.targets else "")


def time_series(study) -> None:
    ts = study.timeseries
    if not ts.its:
        nb.md("No interrupted time series was requested, or the data are a unit table without "
              "dates.")
    for name, res in ts.its.items():
        k = kpi.CATALOGUE[name]
        plots.its_plot(res, k.label, k.unit, study.intervention)
        plots.show()
        nb.table(*ts.its_table(name))
        nb.md("\n".join(f"- {note}" for note in res.notes))


def control_charts(study) -> None:
    charts = study.timeseries.control_charts
    if not charts:
        nb.md("No control charts were requested.")
    for chart in charts:
        k = kpi.CATALOGUE[chart.kpi]
        plots.control_chart(chart, k.label, k.unit)
        plots.show()
        nb.md(f"{tables.count(len(chart.signals), 'signal').capitalize()} after the "
              "intervention.")


def mde_table(study) -> pd.DataFrame:
    m = study.mde
    return pd.DataFrame({"Metric": m["label"],
                         f"Detectable at {100 * study.params.power:g} % power": m["text"]})


def mde(study) -> None:
    nb.table(mde_table(study), "Minimum detectable effects (whole sample)")


def caveats(study) -> None:
    nb.md("\n\n".join(study.caveats()))
