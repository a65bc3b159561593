"""The control-group study in words: effects as people read them, the plain summary and the
caveats."""

from __future__ import annotations

import math

import pandas as pd

from sqresearch.designs.control_group import sensitivity
from sqresearch.designs.control_group.load import Metric
from sqresearch.report import tables
from sqresearch.stats import verdicts


def fmt_value(m: Metric, value: float, scale: str) -> str:
    """An effect as people read it: % change for log-scale effects, percentage points for
    shares, the metric's unit otherwise."""
    if scale == "log":
        return tables.signed(100 * math.expm1(value) if math.isfinite(value) else value, "%")
    if m.unit == "share":
        return tables.signed(100 * value, "points")
    return tables.signed(value, m.unit)


def fmt_effect(m: Metric, estimate, low, high, scale: str, alpha: float) -> str:
    """'−8.7 % (95 % CI −12.0 % to −5.3 %)'."""
    return (f"{fmt_value(m, estimate, scale)} ({100 * (1 - alpha):g} % CI "
            f"{fmt_value(m, low, scale)} to {fmt_value(m, high, scale)})")


def _when(p) -> str:
    if p.intervention:
        return f"the intervention on {pd.Timestamp(p.intervention):%d %b %Y}"
    return "post periods " + ", ".join(map(str, p.post_periods))


def summary_lines(study) -> list[str]:
    p, units = study.params, study.units
    n_t = int(units["treated"].sum())
    design = "randomized" if p.randomized else "observational (arms not randomized)"
    lines = [f"**What was compared.** {n_t} treated and {len(units) - n_t} control units "
             f"({p.unit}), before and after {_when(p)}; {design}; effects are "
             f"differences-in-differences with units ({p.unit}) as clusters. The primary "
             "metrics form the confirmatory family (Holm); segments are exploratory."]
    for m in study.metrics:
        r = study.results_by_metric[m.name]
        e = study.verdict(m.name)
        fam = (f"confirmatory, Holm-adjusted {tables.fmt_p(e.p_adjusted)}"
               if e.family == "confirmatory" else f"exploratory, {tables.fmt_p(e.p_value)}")
        trend = (f"; pre-trend test {tables.fmt_p(r.pretrend['p_value'])}" if r.pretrend
                 else "")
        lines.append(f"- **{m.label}**: {fmt_value(m, e.estimate, e.scale)} "
                     f"({100 * e.ci_level:.3g} % CI {fmt_value(m, e.ci_low, e.scale)} "
                     f"to {fmt_value(m, e.ci_high, e.scale)}; {fam}; "
                     f"{e.method.replace('_', ' ')} on {e.clusters} units, "
                     f"{e.treated_clusters} treated; smallest effect of interest "
                     f"{verdicts.fmt_sesoi(e.sesoi, e.sesoi_unit)}{trend}) — **{e.verdict}**.")
    lines.append(sensitivity.sentence(study))
    lines += [f"Goal *{gl.goal}*: **{gl.status}**." for gl in study.goals.itertuples()]
    n_cav = tables.count(len(caveats(study)), "caveat").capitalize()
    lines.append(f"{n_cav} to read (see Caveats).")
    return lines


def caveats(study) -> list[str]:
    p, out = study.params, []
    bad = study.balance[study.balance["flag"] == "imbalanced"]
    if len(bad):
        out.append(f"**Imbalance at baseline.** {', '.join(bad['variable'])} differ between the "
                   "arms before the intervention (|SMD| > 0.25); the DiD allows for level "
                   "differences but not for different trends they may bring.")
    for r in study.results_by_metric.values():
        if r.pretrend and r.pretrend["p_value"] < p.alpha:
            out.append(f"**Diverging pre-trends.** {r.metric.label}: the arms already moved "
                       f"apart before the intervention (difference in pre-period slopes "
                       f"{r.pretrend['estimate']:+.3g} per period, "
                       f"{tables.fmt_p(r.pretrend['p_value'])}); the parallel-trends "
                       "assumption is doubtful.")
    out.append("**Parallel trends are an assumption.** A passed pre-trend test does not prove "
               "that the arms would have moved in parallel without the intervention.")
    overall = study.effects[study.effects.segment == "all"]
    for method, part in overall.groupby("method", sort=False):
        r = part.iloc[0]
        if method == "randomization_inference":
            out.append(f"**Very few treated units.** {r.reason} The verdicts of "
                       f"{', '.join(part['label'])} rest on "
                       f"{tables.count(r.treated_clusters, 'treated unit')}: read them as a "
                       "statement about those units.")
        elif method == "wild_cluster_bootstrap_wcr":
            out.append(f"**Few clusters.** {r.reason}")
    out.append("**Spill-over.** If treated and control units share staff, customers or queues, "
               "the control group is partly treated and the effect is understated.")
    if not p.randomized:
        out.append("**Arms not randomized.** If the treated units were chosen after looking at "
                   "their outcomes (e.g. the worst branches first), regression to the mean can "
                   "pass for an effect.")
    return out
