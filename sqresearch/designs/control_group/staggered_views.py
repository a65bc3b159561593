"""The report sections of a staggered-adoption control-group study: design, and per metric the
ATT by cohort, the event-time table and plot (pointwise CIs and the simultaneous band), the naive
TWFE beside the Callaway–Sant'Anna overall ATT, the Goodman-Bacon decomposition and the plain
summary. The other sections (verdicts, balance, segments, goals, caveats) are those of
``views``; ``views`` hands the sections drawn differently here."""

from __future__ import annotations

import pandas as pd

from sqresearch.designs.control_group import staggered_words as sw
from sqresearch.designs.control_group import views
from sqresearch.designs.control_group.words import fmt_effect, fmt_value
from sqresearch.report import notebook as nb
from sqresearch.report import plots, tables


def design_table(study) -> pd.DataFrame:
    p, sizes = study.params, study.cohort_sizes
    n_c = int((study.cohort == 0).sum())
    where = f"column {p.adoption_column}" if p.adoption_column else "the adoption list in params"
    rows = [("Units (clusters)", f"{len(study.cohort)} ({int(sizes.sum())} adopting, {n_c} never "
                                 f"treated), by {p.unit}"),
            ("Cohorts (first treated period: units)",
             "; ".join(f"{g}: {n}" for g, n in sizes.items()) + f" (from {where})"),
            ("Panel", f"{len(study.periods)} {study.period_word}s, {study.periods[0]} to "
                      f"{study.periods[-1]}"
             + (f" ({p.panel_freq}ly cells from the ticket table)" if study.tickets else "")),
            ("Comparison", f"{study.comparison_words} units (comparison: {p.comparison})"),
            ("Base period", {"varying": "varying: the period before each ATT(g, t) before "
                             "adoption, the period before adoption after it",
                             "universal": "universal: the period before adoption"}
             [p.base_period]),
            ("Covariates", ", ".join(p.covariates) + " (doubly robust)" if p.covariates
             else "none"),
            ("Event window", f"{p.event_window[0]} to {p.event_window[1]} {study.period_word}s"
             if p.event_window else "all event times"),
            ("Inference", study.effects.reason.iloc[0]),
            ("Intervals", f"{100 * (1 - p.alpha):g} % confidence intervals; primary metrics "
                          "at their Holm step's level")]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def design(study) -> None:
    nb.table(design_table(study), "Design (staggered adoption)")


def cohort_table(study, r) -> pd.DataFrame:
    m, alpha, g = r.metric, study.params.alpha, r.group
    lv = g[g["level"].notna()]
    scale = "log" if m.log else "linear"
    sizes = r.panel.groupby("cohort")["_unit"].nunique()
    cells = r.att_gt[r.att_gt["post"]].groupby("group").size()
    return pd.DataFrame({
        "Cohort (first treated)": [study.cohort_label(x) for x in lv["level"]],
        "Units": [int(sizes[int(x)]) for x in lv["level"]],
        f"{study.period_word.capitalize()}s averaged": [int(cells.get(int(x), 0))
                                                        for x in lv["level"]],
        "ATT (CI)": [fmt_effect(m, x.estimate, x.ci_low, x.ci_high, scale, alpha)
                     for x in lv.itertuples()],
        "Simultaneous band": [f"{fmt_value(m, x.band_low, scale)} to "
                              f"{fmt_value(m, x.band_high, scale)}" for x in lv.itertuples()],
        "p": [tables.fmt_p(v) for v in lv["p_value"]]})


def event_table(study, r) -> pd.DataFrame:
    m, alpha, d = r.metric, study.params.alpha, r.dynamic
    lv = d[d["level"].notna()]
    scale = "log" if m.log else "linear"
    return pd.DataFrame({
        f"{study.period_word.capitalize()}s since adoption": lv["level"].astype(int),
        "Cohorts": lv["cohorts"].astype(int),
        "Effect (CI)": [fmt_effect(m, x.estimate, x.ci_low, x.ci_high, scale, alpha)
                        for x in lv.itertuples()],
        "Simultaneous band": [f"{fmt_value(m, x.band_low, scale)} to "
                              f"{fmt_value(m, x.band_high, scale)}" for x in lv.itertuples()],
        "p": [tables.fmt_p(v) for v in lv["p_value"]]})


def plot_event_time(study, r, ax=None):
    """Event-time effects with pointwise CIs (bars) and the simultaneous band (shaded), a line
    at no effect; x in periods since adoption, y in display units (% for log metrics)."""
    m = r.metric
    label, transform = views._effect_axis(m)
    d = r.dynamic[r.dynamic["level"].notna()]
    x = d["level"].astype(int).to_numpy()
    f = {c: transform(d[c].astype(float).to_numpy())
         for c in ("estimate", "ci_low", "ci_high", "band_low", "band_high")}
    ax = plots._ax(ax, (8, 3.6))
    ax.fill_between(x, f["band_low"], f["band_high"], color="#1f5f8b", alpha=0.15, step="mid",
                    label=f"simultaneous {100 * (1 - study.params.alpha):g} % band")
    ax.errorbar(x, f["estimate"], yerr=[f["estimate"] - f["ci_low"], f["ci_high"] - f["estimate"]],
                fmt="o", capsize=3, color="#1f5f8b", label="estimate, pointwise CI")
    ax.axhline(0, color="#333", lw=1)
    ax.axvline(-0.5, color="#b03a2e", ls="--", lw=1, label="adoption")
    ax.set_xlabel(f"{study.period_word}s since adoption (0 = first treated {study.period_word})")
    ax.set_ylabel(f"effect ({label})")
    ax.set_title(f"{m.label}: effect by time since adoption (Callaway–Sant'Anna, "
                 f"{study.comparison_words} comparison)", loc="left", fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def twfe_table(study, r) -> pd.DataFrame:
    m, alpha = r.metric, study.params.alpha
    scale = "log" if m.log else "linear"
    o, tw = r.overall, r.twfe
    return pd.DataFrame({
        "Estimator": ["Callaway–Sant'Anna overall ATT (the verdict's)",
                      "naive two-way fixed effects (unit and period), CR1 by unit"],
        "Effect (CI)": [fmt_effect(m, o["estimate"], o["ci_low"], o["ci_high"], scale, alpha),
                        fmt_effect(m, tw["estimate"], tw["ci_low"], tw["ci_high"], scale,
                                   alpha)],
        "p": [tables.fmt_p(o["p_value"]), tables.fmt_p(tw["p_value"])]})


def bacon_table(study, r) -> pd.DataFrame:
    m, b = r.metric, r.bacon
    scale = "log" if m.log else "linear"

    def name(g):
        return "never treated" if g == 0 else study.cohort_label(g)

    return pd.DataFrame({"Comparison": b["type"], "Treated cohort": b["treated"].map(name),
                         "Control cohort": b["control"].map(name),
                         "2 × 2 estimate": [fmt_value(m, v, scale) for v in b["estimate"]],
                         "Weight": [f"{v:.3f}" for v in b["weight"]]})


def metric_effects(study) -> None:
    """Per metric: the plain summary, ATT by cohort, the event-time table and plot, TWFE beside
    the overall ATT and the Bacon decomposition."""
    word = study.period_word
    for m in study.metrics:
        r = study.results_by_metric[m.name]
        unit = "% change" if m.log else plots.axis_label(m.unit)
        nb.md(f"### {m.label}\n\n{sw.plain_sentence(study, m)}")
        nb.table(cohort_table(study, r), f"{m.label}: ATT by cohort (effect in {unit}; each "
                 f"cohort's mean over its treated {word}s)")
        nb.table(event_table(study, r), f"{m.label}: effect by {word}s since adoption "
                 f"(effect in {unit}; negative = before adoption)")
        plot_event_time(study, r)
        plots.show()
        nb.table(twfe_table(study, r), f"{m.label}: the naive TWFE estimate beside the "
                 f"Callaway–Sant'Anna overall ATT (effect in {unit})")
        if sw.twfe_differs(r):
            nb.md(sw.twfe_caveat(study, r))
        nb.table(bacon_table(study, r), f"{m.label}: Goodman-Bacon decomposition of the TWFE "
                 f"estimate (2 × 2 estimates in {unit}; weights sum to 1)")
