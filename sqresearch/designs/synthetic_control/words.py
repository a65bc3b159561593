"""The synthetic-control study in words: effects as people read them, the plain summary and
the caveats."""

from __future__ import annotations

import math

from sqresearch.report import tables
from sqresearch.stats import synth, verdicts


def fmt_effect(row) -> str:
    """'−4.1 min (−22.0 %)': the average post-period effect in the outcome's unit and in %."""
    unit = "points" if row.unit == "share" else row.unit
    return f"{tables.signed(row.effect, unit)} ({tables.signed(row.effect_pct, '%')})"


def _size(row) -> str:
    """'by 4.1 min (−22.0 %)' without the sign of the level (the verb carries it)."""
    unit = "points" if row.unit == "share" else row.unit
    level = tables.signed(abs(row.effect), unit).lstrip("+")
    return f"by {level} ({tables.signed(row.effect_pct, '%')})"


def _who(study, treated: str) -> str:
    p = study.params
    if treated == "treated":
        return f"the {len(study.inputs.treated)} treated {tables.plural(p.unit)}"
    return f"{p.unit} {treated}"


def _when(study) -> str:
    p = study.params
    noun = p.period_column if study.n_post == 1 else tables.plural(p.period_column)
    return f"over the {study.n_post} {noun} from {p.period_column} {p.intervention_period} on"


def effect_sentence(study, row) -> str:
    """One outcome and treated unit, as a reader says it, with the number that decides."""
    p = study.params
    verb = "lowered" if row.effect < 0 else "raised"
    head = (f"**{row.label}**: relative to its synthetic control, {_who(study, row.treated)} "
            f"{verb} it {_size(row)} on average {_when(study)}")
    if row.decided_by == "placebo_in_space":
        units, verb = tables.plural(p.unit), "shows" if row.rank == 1 else "show"
        evidence = (f"{row.rank} of {row.n_units} {units} {verb} a gap this large relative to "
                    f"its pre-period fit (placebo p = {row.p_value:.3g}; the smallest p "
                    f"possible here is 1/{row.n_units} = {row.smallest_p:.3g})")
    else:
        evidence = (f"{100 * (1 - p.alpha):g} % CI {tables.signed(row.ci_low)} to "
                    f"{tables.signed(row.ci_high)} on the {'log' if row.scale == 'log' else ''}"
                    f"{' ' if row.scale == 'log' else ''}scale of the analysis, "
                    f"{tables.fmt_p(row.p_value)}")
    sesoi = verdicts.fmt_sesoi(row.sesoi, row.sesoi_unit)
    note = f" ({row.note})" if row.note else ""
    return (f"- {head}; {evidence}; smallest effect of interest {sesoi} — "
            f"**{row.verdict}**{note}.")


def summary_lines(study) -> list[str]:
    p, i = study.params, study.inputs
    if study.design == "sdid":
        what = (f"**What was compared.** {len(i.treated)} treated {tables.plural(p.unit)} "
                f"({', '.join(i.treated)}) against {len(i.donors)} controls, weighted so that "
                "their pre-period path runs parallel to the treated units' (synthetic "
                f"difference-in-differences); {study.n_pre} pre- and {study.n_post} "
                f"post-periods.")
    else:
        what = (f"**What was compared.** Each treated {p.unit} ({', '.join(i.treated)}) against "
                f"a synthetic control: a weighted mix of {len(i.donors)} donor "
                f"{tables.plural(p.unit)} matching its {study.n_pre} pre-periods; the effect is "
                f"the average gap over the {study.n_post} post-periods, judged by placebos "
                f"(every donor treated in turn) at α = {p.alpha:g}.")
    lines = [what]
    lines += [effect_sentence(study, r) for r in study.effects.itertuples()]
    n_cav = tables.count(len(caveats(study)), "caveat").capitalize()
    lines.append(f"{n_cav} to read (see Caveats).")
    return lines


def fit_text(study, f) -> str:
    """The pre-period fit of one synthetic control, with the poor-fit rule and its warning."""
    r = f.fit
    share = r.pre_rmspe / r.treated_pre_sd if r.treated_pre_sd > 0 else math.inf
    text = (f"Pre-period fit: RMSPE {r.pre_rmspe:.3g} against a standard deviation of "
            f"{r.treated_pre_sd:.3g} in {f.treated}'s own pre-period outcomes ({share:.0%}; the "
            f"rule flags a poor fit above {synth.POOR_FIT_SHARE:.0%}, where the synthetic unit "
            "explains less than 75 % of the treated unit's pre-period variation).")
    if r.poor_fit:
        text += (" **Warning: poor pre-period fit.** The donors cannot reproduce the treated "
                 "unit's path, so the post-period gap is not a credible effect; the verdict "
                 "is left inconclusive.")
    return text


def caveats(study) -> list[str]:
    p, out = study.params, []
    e = study.effects
    for r in e[e["poor_fit"]].itertuples():
        out.append(f"**Poor pre-period fit.** {r.label}, {r.treated}: the pre-period RMSPE "
                   f"({r.pre_rmspe:.3g}) is more than {synth.POOR_FIT_SHARE:.0%} of the treated "
                   "unit's own pre-period SD; its gap is not read as an effect.")
    if study.design == "synth":
        n = int(e["n_units"].min())
        out.append(f"**The placebo p-value is discrete.** It is the treated unit's rank among "
                   f"the {n} units ranked (itself and the placebos kept), so it can only be "
                   f"1/{n}, 2/{n}, …: the smallest p possible with J placebo units is 1/(J+1) "
                   f"= {1 / n:.3g} here" + (f", above α = {p.alpha:g}, so no verdict other "
                                            "than inconclusive is possible" if 1 / n > p.alpha
                                            else "") + ". It is exact only if the units are "
                   "exchangeable before the intervention.")
        out.append("**No equivalence verdict.** A placebo rank tests for an effect; it gives "
                   "no interval, so \"no change\" (equivalent) is never concluded.")
        if study.n_pre < len(study.inputs.donors):
            out.append(f"**Few pre-periods.** {study.n_pre} pre-periods for "
                       f"{len(study.inputs.donors)} donors: the weights may not be unique and "
                       "can over-fit the pre-period noise; prefer fewer, similar donors.")
    else:
        out.append(f"**Synthetic DiD's interval is approximate.** Its standard error comes from "
                   f"{p.placebo_reps} placebo draws among the controls, assuming them "
                   "exchangeable with the treated units; with one treated unit it is too narrow "
                   "(about 7 % false alarms at 5 % in benchmarks/calibration_synth.py).")
    out.append("**Spill-over and other shocks.** A donor affected by the intervention (shared "
               "staff, customers moving between units) or a shock that hit only the treated "
               "unit after the intervention date biases the gap.")
    if p.covariates:
        out.append("**Covariates.** Each covariate is standardised and weighs as much as one "
                   "pre-period outcome (a fixed V, not Synth's data-driven one).")
    return out
