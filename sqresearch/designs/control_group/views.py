"""What the control-group template shows, one function per report section: formatted tables and
labelled figures. The ``*_table`` functions return what the section functions display."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.designs.control_group.load import period_order
from sqresearch.designs.control_group.sensitivity import RM_TITLE
from sqresearch.designs.control_group.words import fmt_effect, fmt_value
from sqresearch.report import notebook as nb
from sqresearch.report import plots, tables
from sqresearch.report import verdict_tables as vt


def summary(study) -> None:
    nb.md("\n\n".join(study.summary_lines()))


def design_table(study) -> pd.DataFrame:
    p, u = study.params, study.units
    n_t = int(u.treated.sum())
    treated = (", ".join(map(str, p.treated_units)) if p.treated_units else
               f"{p.treatment_column} = {p.treated_value or 'true'}")
    when = (f"intervention {study.intervention:%d %b %Y}" if p.intervention else
            f"column {p.period_column}: post = " + ", ".join(map(str, p.post_periods))
            + (f"; the post period starts with its first ticket, {study.intervention:%d %b %Y}"
               if study.tickets else ""))
    panel = (f"{p.panel_freq}ly unit × period cells from the ticket table" if study.tickets
             else f"unit × period table (periods in column {p.period_column})")
    rows = [("Units (clusters)", f"{len(u)} ({n_t} treated, {len(u) - n_t} control), by "
                                 f"{p.unit}"),
            ("Treated", treated), ("Before / after", when), ("Panel", panel),
            ("Assignment", "randomized" if p.randomized else "not randomized (observational)"),
            ("Inference", study.effects.reason.iloc[0]),
            ("Intervals", f"{100 * (1 - p.alpha):g} % confidence intervals; primary metrics "
                          "at their Holm step's level")]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def design(study) -> None:
    nb.table(design_table(study), "Design")


def verdict_table(study, family: str | None = None) -> pd.DataFrame:
    def show(r, x):
        return fmt_value(study.metric(r.metric), x, r.scale)

    def units(r):
        return f"{r.clusters} ({r.treated_clusters} treated)"

    return vt.verdict_table(study.effects, show, family, units)


def method_table(study, family: str | None = None) -> pd.DataFrame:
    return vt.method_table(study.effects, family)


def verdicts(study) -> None:
    nb.table(verdict_table(study, "confirmatory"),
             "Verdicts on the primary metrics (confirmatory family); each CI at the level of "
             "its Holm step")
    nb.table(method_table(study, "confirmatory"), "Methods behind the verdicts")


def balance_table(study) -> pd.DataFrame:
    b = study.balance
    return pd.DataFrame({"Variable": b.variable,
                         "Treated": [f"{v:.3g}" for v in b.treated_mean],
                         "Control": [f"{v:.3g}" for v in b.control_mean],
                         "SMD": [tables.signed(v) for v in b.smd], "Balance": b.flag,
                         "n treated": b.n_treated, "n control": b.n_control})


def balance(study) -> None:
    nb.table(balance_table(study), "Baseline balance (unit-level pre-period means)")


def _effect_axis(m) -> tuple[str, object]:
    """(axis label, transform) for a metric's effects: % change for log-scale metrics,
    percentage points for shares, the unit otherwise."""
    if m.log:
        return "% change", plots.pct_change
    if m.unit == "share":
        return "percentage points", lambda v: 100 * v
    return plots.axis_label(m.unit), lambda v: v


def means_table(r) -> pd.DataFrame:
    m, means = r.metric, r.means
    value = (lambda v: tables.fmt(v, m.unit)) if m.unit in ("min", "h", "share", "score",
                                                            "points") else (lambda v: f"{v:.3g}")
    change = [f"× {v:.3f}" if m.log else fmt_value(m, v, "linear") for v in means.change]
    return pd.DataFrame({"Arm": means.index, "Before": [value(v) for v in means.before],
                         "After": [value(v) for v in means.after], "Change": change})


def estimates_table(study, r) -> pd.DataFrame:
    e, m, alpha = r.estimates, r.metric, study.params.alpha
    return pd.DataFrame({
        "Estimator": e.estimator,
        "Effect (CI)": [fmt_effect(m, x.estimate, x.ci_low, x.ci_high, x.scale, alpha)
                        for x in e.itertuples()],
        "p": [tables.fmt_p(v) for v in e.p_value], "Clusters": e.clusters, "n": e.n})


def _checks(study, r) -> None:
    m, p = r.metric, study.params
    label, transform = _effect_axis(m)
    if r.event is not None:
        plots.event_study(r.event, m.label, f"effect ({label})", transform=transform)
        plots.show()
        pt = r.pretrend
        nb.md(f"Pre-period trend test (treated − control slope before the intervention): "
              f"{tables.signed(pt['estimate'])} per period (CI {tables.signed(pt['ci_low'])} to "
              f"{tables.signed(pt['ci_high'])}), {tables.fmt_p(pt['p_value'])}. A passed test "
              "does not prove parallel trends.")
    for note in r.notes:
        nb.md(note)
    if r.placebo:
        pl = r.placebo
        effect = fmt_effect(m, pl["estimate"], pl["ci_low"], pl["ci_high"],
                            "log" if m.log else "linear", p.alpha)
        nb.md(f"Placebo: pretending the intervention happened at {pl['date']} (pre-period data "
              f"only) gives {effect}, {tables.fmt_p(pl['p_value'])} — an effect here would "
              "point to something other than the intervention.")
    loo = r.loo
    if loo is not None and 0 < len(loo) <= 30:
        plots.forest(loo.assign(segment=loo.left_out), f"{m.label}: leaving out one {p.unit} "
                     "at a time", 0.0, f"effect ({label})", transform=transform)
        plots.show()
        if study.verdict(m.name).method in ("wild_cluster_bootstrap_wcr",
                                            "randomization_inference"):
            nb.md("The intervals above are the analytic cluster-robust ones, which are too "
                  "narrow with this few treated units; read the plot for how much the estimate "
                  "moves, and the verdict table for its uncertainty.")
    elif loo is not None and len(loo):
        lo, hi = loo.estimate.idxmin(), loo.estimate.idxmax()
        nb.md(f"Leaving out one of the {len(loo)} units at a time, the 2 × 2 estimate ranges "
              f"from {fmt_value(m, loo.estimate[lo], r.primary.scale)} (without "
              f"{loo.left_out[lo]}) to {fmt_value(m, loo.estimate[hi], r.primary.scale)} "
              f"(without {loo.left_out[hi]}).")


# --- How robust is the verdict? (designs/control_group/sensitivity) ----------------------------
def _shown(m, v: float, scale: str) -> str:
    return fmt_value(m, v, scale) if math.isfinite(v) else ("−∞" if v < 0 else "+∞")


def pretrend_tests_table(study, s) -> pd.DataFrame:
    """The linear pre-trend test beside the joint Wald test of every pre-period coefficient."""
    pt = getattr(study.results_by_metric[s.metric.name], "pretrend", None)
    rows = []
    if pt:
        rows.append({"Test": "Linear pre-trend (treated − control slope per period = 0)",
                     "Statistic": f"t = {pt['t']:.3f}", "df": f"{pt['df']:g}",
                     "p": tables.fmt_p(pt["p_value"])})
    if s.wald is not None:
        w = s.wald
        rows.append({"Test": f"Joint Wald test: all {w.q} pre-period event-study coefficients = 0",
                     "Statistic": f"F = {w.f:.3f}", "df": f"{w.q}, {w.df_denom:g}",
                     "p": tables.fmt_p(w.f_p)})
    return pd.DataFrame(rows, columns=["Test", "Statistic", "df", "p"])


def rm_table(s) -> pd.DataFrame:
    """Relative-magnitudes bounds per M̄ in display units (% change for log metrics)."""
    m, scale = s.metric, "log" if s.metric.log else "linear"
    t = s.rm.table
    return pd.DataFrame({
        "M̄": [f"{v:g}" for v in t.mbar],
        "Identified set (at the estimated pre-trend)": [
            f"{_shown(m, lo, scale)} to {_shown(m, hi, scale)}"
            for lo, hi in zip(t.id_low, t.id_high, strict=True)],
        f"{100 * s.level:.3g} % CI (Bonferroni)": [
            f"{_shown(m, lo, scale)} to {_shown(m, hi, scale)}"
            for lo, hi in zip(t.ci_low, t.ci_high, strict=True)],
        "Excludes no effect": ["yes" if v else "no" for v in t.excludes_zero]})


def loo_table(s, rows: pd.Index | None = None) -> pd.DataFrame:
    """Leave-one-unit-out with the verdict's inference, in display units (``rows``: a subset)."""
    lo = s.loo if rows is None else s.loo.loc[rows]
    m, scale = s.metric, "log" if s.metric.log else "linear"
    return pd.DataFrame({
        "Left out": lo.left_out, "Arm": lo.arm,
        "Effect": [_shown(m, v, scale) for v in lo.estimate],
        f"{100 * s.level:.3g} % CI": [f"{_shown(m, a, scale)} to {_shown(m, b, scale)}"
                                       for a, b in zip(lo.ci_low, lo.ci_high, strict=True)],
        "p": [tables.fmt_p(v) for v in lo.p_value], "Verdict": lo.verdict,
        "Same verdict": ["yes" if v else "no" for v in lo.same_verdict]})


def spec_table(s) -> pd.DataFrame:
    """The specification table: one row per choice, with the verdict it gives."""
    m, scale, t = s.metric, "log" if s.metric.log else "linear", s.spec
    effect = [f"{_shown(m, e, scale)} ({_shown(m, a, scale)} to {_shown(m, b, scale)})"
              if not math.isnan(a) else _shown(m, e, scale)
              for e, a, b in zip(t.estimate, t.ci_low, t.ci_high, strict=True)]
    return pd.DataFrame({"Choice": t.choice, "Specification": t.specification,
                         "Clusters": t.clusters, "Inference": t.inference.str.replace("_", " "),
                         f"Effect ({100 * s.level:.3g} % CI)": effect,
                         "p": [tables.fmt_p(v) for v in t.p_value], "Verdict": t.verdict,
                         "Same verdict as the main one": t.same_verdict, "Note": t.note})


def _robustness_metric(study, s) -> None:
    m, p = s.metric, study.params
    what = "% change" if m.log else plots.axis_label(m.unit)
    few = study.verdict(m.name).method in ("wild_cluster_bootstrap_wcr",
                                           "randomization_inference")
    nb.md(f"### {m.label}")
    if s.wald is not None or getattr(study.results_by_metric[m.name], "pretrend", None):
        covariance = getattr(study, "pretrend_covariance", "cluster-robust CR1 covariance")
        nb.table(pretrend_tests_table(study, s), f"{m.label}: pre-trend tests ({covariance}, "
                 f"{s.event_clusters} clusters; F with G − 1 denominator df)")
    if s.wald is not None:
        w = s.wald
        reading = ("no evidence against parallel pre-trends" if w.f_p >= p.alpha else
                   "evidence that the arms already moved apart before the intervention")
        nb.md(f"Reading: {reading} (F = {w.f:.2f}, {tables.fmt_p(w.f_p)}) — which is not proof "
              "of parallel trends: see the bounds below.")
    if s.event_note:
        nb.md(s.event_note)
    if s.rm is not None:
        nb.table(rm_table(s), f"{m.label}: {RM_TITLE} — average post-period event-study effect "
                 f"({what}; estimate {_shown(m, s.rm.estimate, 'log' if m.log else 'linear')}, "
                 "relative to the last pre-period)")
        bd = s.rm.breakdown
        bd_text = (f"The breakdown value is M̄ = {bd:.2g}: the interval excludes no effect up to "
                   "there." if math.isfinite(bd) else "The interval includes no effect even "
                   "at M̄ = 0 (exact parallel trends), so there is no breakdown value.")
        nb.md("M̄ bounds how far the trends may part after the intervention: the verdict holds "
              "if post-period violations of parallel trends are at most M̄ times the largest "
              "pre-period one (M̄ = 0 is exact parallel trends, M̄ = 1 violations as large as the "
              f"worst seen before). {bd_text} The intervals are a Bonferroni union — valid but "
              "wider than Rambachan & Roth's conditional test (HonestDiD), so a small breakdown "
              "value is a conservative reading.")
    if few and (s.wald is not None or s.rm is not None):
        nb.md(f"With {study.verdict(m.name).treated_clusters} treated units the cluster-robust "
              "covariance behind this test and these bounds is too small (tests over-reject, "
              "intervals too narrow): read them as indicative; the verdict itself rests on "
              f"{study.verdict(m.name).method.replace('_', ' ')}.")
    lo = s.loo
    if len(lo):
        i, j = lo.estimate.idxmin(), lo.estimate.idxmax()
        scale = "log" if m.log else "linear"
        flips = (f"leaving out {', '.join(map(str, s.flips))} changes the verdict"
                 if s.flips else "no single unit changes the verdict")
        nb.md(f"Leaving out one {p.unit} at a time (verdict's own estimator and inference): the "
              f"effect ranges from {_shown(m, lo.estimate[i], scale)} (without "
              f"{lo.left_out[i]}) to {_shown(m, lo.estimate[j], scale)} (without "
              f"{lo.left_out[j]}); {flips} (main verdict: {s.verdict}).")
        shown = None if len(lo) <= 30 else sorted({i, j, *lo.index[~lo.same_verdict]})
        nb.table(loo_table(s, shown),
                 f"{m.label}: leave-one-{p.unit}-out" + (" (all units)" if len(lo) <= 30 else
                                                          " (the extremes and any flips)"))
    nb.table(spec_table(s), f"{m.label}: specification table — the verdict's rule under other "
             "analysis choices")
    for note in s.spec_notes:
        nb.md(note)


def robustness(study) -> None:
    """How robust is the verdict?: per metric, pre-trend tests, relative-magnitudes bounds,
    leave-one-unit-out and the specification table."""
    for s in study.sensitivity.values():
        _robustness_metric(study, s)


def mixed_table(r) -> pd.DataFrame:
    mx = r.mixed
    return pd.DataFrame({"Source": mx.Source, "df 1": mx.DF1, "df 2": mx.DF2,
                         "F": [f"{v:.3f}" for v in mx.F],
                         "p": [tables.fmt_p(v) for v in mx.p_unc],
                         "partial η²": [f"{v:.3f}" for v in mx.np2]})


def metric_effects(study) -> None:
    """Per metric: the 2 × 2 table, the estimates, the arm trends, the event study with its
    pre-trend test, the placebo, leave-one-cluster-out and (randomized) the mixed ANOVA."""
    for m in study.metrics:
        r = study.results_by_metric[m.name]
        nb.md(f"### {m.label}")
        nb.table(means_table(r), "2 × 2 table: " + ("geometric means" if m.log else "means")
                 + " per arm and period")
        nb.table(estimates_table(study, r), f"{m.label}: difference-in-differences estimates")
        plots.arm_trends(r.panel, period_order(r.panel), m.label, plots.axis_label(m.unit),
                         100.0 if m.unit == "share" and not m.log else 1.0, log=m.log)
        plots.show()
        _checks(study, r)
        if r.mixed is not None:
            nb.table(mixed_table(r), f"{m.label}: mixed ANOVA (arm × time), pingouin — the "
                     "interaction is the effect")


def plot_effects(study, ax=None):
    """One small panel per primary metric: its verdict effect and CI (at its Holm level) in
    display units, a line at no change. Returns the axes."""
    rows = []
    for r in study.effects[study.effects.family == "confirmatory"].itertuples():
        label, transform = _effect_axis(study.metric(r.metric))
        values = transform(pd.Series([r.estimate, r.ci_low, r.ci_high], dtype=float))
        rows.append((r.label, *values.tolist(), label))
    return plots.effect_panels(rows, ax)


def segments(study) -> None:
    if not study.params.segments:
        nb.md("No segments were set for this study.")
        return
    nb.table(verdict_table(study, "exploratory"), "Exploratory effects by segment "
             "(unadjusted α)")
    nb.table(method_table(study, "exploratory"), "Methods behind the exploratory effects")


def goals_and_targets(study) -> None:
    goals = vt.goals_view(study.goals, lambda m: lambda v: fmt_value(study.metric(m), v, "linear"),
                          "not judged: the goal is on another scale than the effect")
    vt.show_goals_and_targets(goals, vt.targets_view(study.targets, "Arm / period"),
                              ("Improvement goals (judged on the CI of the primary effect)",
                               "Targets per arm and period"))


def caveats(study) -> None:
    nb.md("\n\n".join(study.caveats()))


# --- staggered adoption: the sections drawn differently are in staggered_views ----------------
def _or_staggered(section):
    """``section`` for a common-date study; the function of the same name in
    ``staggered_views`` for a staggered-adoption one (``StaggeredControlGroup``)."""
    import functools

    @functools.wraps(section)
    def drawn(study, *args, **kwargs):
        if getattr(study, "staggered", False):
            from sqresearch.designs.control_group import staggered_views

            return getattr(staggered_views, section.__name__)(study, *args, **kwargs)
        return section(study, *args, **kwargs)

    return drawn


design_table, design, metric_effects = map(_or_staggered, (design_table, design, metric_effects))
