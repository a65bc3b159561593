"""The before/after study in words: effects as people read them, the plain summary and the
caveats."""

from __future__ import annotations

import math

from sqresearch.designs.before_after import effects as pe
from sqresearch.designs.before_after.comparisons import RATIO_NAMES, Comparison, MetricSpec
from sqresearch.report import caveats as cav
from sqresearch.report import tables
from sqresearch.stats import verdicts


def fmt_effect(r, value: float) -> str:
    """An effect on the verdict scale as people read it: % for log ratios, points for shares,
    the metric's unit otherwise (``r`` is a verdicts row)."""
    if r.kind in ("duration", "censored"):
        return tables.signed(100 * math.expm1(value), "%")
    if r.kind == "share":
        return tables.signed(100 * value, "points")
    if r.unit == "points":
        return tables.signed(value, "points")
    return tables.signed(value, r.unit)


def fmt_change(value: float, spec: MetricSpec) -> str:
    """A change as people read it: '+7.6 points' for shares, '−0.8 min', '+5.0' NPS."""
    if math.isnan(value):
        return "–"
    if spec.unit == "share":
        return tables.signed(100 * value, "points")
    if spec.unit == "points":
        return tables.signed(value, "points")
    return ("+" if value >= 0 else "−") + tables.fmt(abs(value), spec.unit)


def fmt_range(low: float, high: float, spec: MetricSpec, alpha: float) -> str:
    return f"{100 * (1 - alpha):g} % CI {fmt_change(low, spec)} to {fmt_change(high, spec)}"


def fmt_test_estimate(row, spec: MetricSpec, alpha: float) -> str:
    """One test row's estimate with its CI, in the estimate's own unit."""
    e, lo, hi = row.estimate, row.ci_low, row.ci_high
    if row.estimate_name in RATIO_NAMES:
        ci = f" ({lo:.3f} to {hi:.3f})" if not math.isnan(lo) else ""
        return f"{e:.3f}{ci}"
    if row.estimate_name.startswith("%"):
        ci = f" ({tables.signed(lo, '%')} to {tables.signed(hi, '%')})" \
            if not math.isnan(lo) else ""
        return f"{tables.signed(e, '%')}{ci}"
    ci = f" ({fmt_range(lo, hi, spec, alpha)})" if not math.isnan(lo) else ""
    return fmt_change(e, spec) + ci


def _levels(c: Comparison) -> str:
    d = c.descriptives.set_index("period")
    unit, kind = c.metric.unit, c.metric.type
    if kind == "censored":
        col, stat, unit = "median", "Kaplan–Meier median ", unit
    elif kind == "nps":
        col, stat, unit = "nps", "", "points"
    elif kind == "binary":
        col, stat, unit = "mean", "", "share"
    else:
        col, stat = ("p50", "median ") if kind == "duration" else ("mean", "mean ")
    return f"{stat}{tables.fmt(d.loc['before', col], unit)} → " \
           f"{tables.fmt(d.loc['after', col], unit)}"


def describe_change(study, c: Comparison) -> str:
    """'First response time: median 12.4 → 7.6 min; change −38 % (…) — improved'."""
    v = study.verdict(c.metric.name, c.segment)
    family = ("confirmatory, Holm-adjusted " + tables.fmt_p(v.p_adjusted)
              if v.family == "confirmatory" else "exploratory, " + tables.fmt_p(v.p_value))
    est = (f"change {fmt_effect(v, v.estimate)} ({100 * v.ci_level:.3g} % CI "
           f"{fmt_effect(v, v.ci_low)} to {fmt_effect(v, v.ci_high)}; {family}; "
           f"smallest effect of interest {verdicts.fmt_sesoi(v.sesoi, v.sesoi_unit)})")
    return f"{_levels(c)}; {est} — **{v.verdict}**" + (f" ({v.note})" if v.note else "")


def _goal_line(study, g) -> str:
    spec = next(x for x in study.specs if x.name == g.metric)
    if math.isnan(g.estimate):
        change = "not estimable"
    elif g.unit == "percent":
        change = (f"{tables.signed(g.estimate, '%')} (CI {tables.signed(g.ci_low, '%')} to "
                  f"{tables.signed(g.ci_high, '%')})")
    else:
        change = (f"{fmt_change(g.estimate, spec)} "
                  f"({fmt_range(g.ci_low, g.ci_high, spec, study.params.alpha)})")
    return f"Goal *{g.goal}*: **{g.status}** — achieved change {change}."


def summary_lines(study) -> list[str]:
    """The plain-language summary: what was compared, each primary metric's change and verdict,
    exploratory segments, goals, and how many caveats apply."""
    p, frame = study.params, study.frame
    per = frame["period"]
    what = (f"{len(frame):,} {'tickets' if study.tickets else 'rows'} "
            f"({(per == 'before').sum():,} before, {(per == 'after').sum():,} after)")
    when = (f"the intervention on {study.intervention:%d %b %Y}" if p.intervention
            else f"{p.period_column} = {p.before_value} vs {p.after_value}")
    design = (f"the same units measured twice (paired by {p.unit})" if p.design == "paired"
              else "independent periods")
    lines = [f"**What was compared.** {what}, split at {when}; {design}."]
    lines += [f"- **{c.metric.label}**: {describe_change(study, c)}."
              for c in study.comparisons if c.segment == "all"]
    for seg in p.segments:
        part = study.verdicts[study.verdicts["segment"].str.startswith(f"{seg}=")]
        if len(part):
            better = part[part["verdict"] == "improved"]
            names = ", ".join(f"{r.label} in {r.segment.split('=', 1)[1]}"
                              for r in better.itertuples()) or "none"
            lines.append(f"By {seg} (exploratory, unadjusted α): improvements — {names} "
                         "(see the forest plot).")
    lines += [_goal_line(study, g) for g in study.goals.itertuples()]
    n_cav = len(caveats(study)) - 1
    lines.append(f"{tables.count(n_cav, 'caveat').capitalize()} apply (see Caveats). "
                 f"{cav.CONTROL_GROUP_NOTE}")
    return lines


def caveats(study) -> list[str]:
    """Every caveat that applies, the control-group note last."""
    out = study.timeseries.caveats()
    frame = study.frame
    if study.tickets:
        per = frame["period"]
        out.append(cav.seasonality(frame.loc[per == "before", "created"],
                                   frame.loc[per == "after", "created"]))
    for c in study.comparisons:
        if c.segment != "all":
            continue
        r = c.primary
        minimum = 10 if c.design == "paired" else 30
        out.append(cav.small_sample(c.metric.label, int(r.n_before), int(r.n_after), minimum))
        if c.metric.type == "censored":
            for d in c.descriptives.itertuples():
                out.append(cav.heavy_censoring(c.metric.label, d.open_share, d.period))
    out += inference_caveats(study)
    return [c for c in out if c] + [cav.CONTROL_GROUP_NOTE]


def inference_caveats(study) -> list[str]:
    """Unclustered tickets, large design effects, case-mix shifts, rows left out of the verdict
    effects, goals judged without clustering."""
    p, frame, clus, out = study.params, study.frame, study.clustering, []
    if study.tickets and not clus.columns:
        out.append(f"Tickets are treated as independent ({clus.reason}). Tickets of one week, "
                   "agent or customer share shocks; with such correlation the intervals are too "
                   "narrow. Set cluster: to the unit that shares them.")
    deff = study.verdicts.dropna(subset=["design_effect"])
    big = deff[deff["design_effect"] > 2]
    if len(big):
        out.append("Tickets are strongly correlated within " + clus.label + ": "
                   + ", ".join(f"{r.label} design effect {r.design_effect:.1f}"
                               for r in big.itertuples()) + ". Treating them as independent "
                   "would have overstated the precision by a factor √(design effect).")
    for col in p.adjust_for:
        tvd, pval = pe.mix_shift(frame, col)
        if tvd >= 0.05 and pval < p.alpha:
            out.append(f"The case mix shifted between periods: the distribution of {col} moved "
                       f"by {100 * tvd:.0f} percentage points (total variation, "
                       f"{tables.fmt_p(pval)}). The verdicts rest on effects adjusted for "
                       f"{', '.join(p.adjust_for)}; the unadjusted changes mix the two.")
    for col in dict.fromkeys((*clus.columns, *p.adjust_for)):
        missing = int(frame[col].isna().sum())
        if missing:
            out.append(f"{tables.count(missing, 'row')} ({100 * missing / len(frame):.1f} %) "
                       f"have no value in column {col} and are left out of the verdict effects "
                       "(they still count in the descriptive tables).")
    loose = study.goals[study.goals["basis"].str.contains("independent")]
    if clus.columns and len(loose):
        out.append("The goals " + ", ".join(f"*{g}*" for g in loose["goal"]) + " are judged on "
                   "a bootstrap that treats tickets as independent (the goal is on a different "
                   "scale from the verdict effect), so their intervals may be too narrow.")
    if not p.adjust_for and study.tickets and "channel" in frame:
        tvd, pval = pe.mix_shift(frame, "channel")
        if tvd >= 0.05 and pval < p.alpha:
            out.append(f"The channel mix shifted by {100 * tvd:.0f} percentage points between "
                       "periods; part of any change may be mix, not performance. Add "
                       "adjust_for: [channel].")
    return out
