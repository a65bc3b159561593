"""Every number the synthetic-control report shows, recorded for results.json under ``synth.*``
(keys documented in docs/results-schema.md)."""

from __future__ import annotations

from sqresearch.designs.synthetic_control.words import fmt_effect
from sqresearch.report.results import Results


def _verdict(res: Results, study, r) -> None:
    key = f"{r.metric}.{r.treated}"
    scale_unit = "log ratio" if r.scale == "log" else r.unit
    counts = {"total": int(r.n_units), "treated": len(study.inputs.treated),
              "control": int(r.n_donors)}
    res.add(f"synth.verdict.{key}", f"{r.label}: average post-period gap, {r.treated}",
            r.estimate, ci=(r.ci_low, r.ci_high), p_value=r.p_value, unit=scale_unit,
            method=r.method, verdict=r.verdict, decided_by=r.decided_by, sesoi=r.sesoi,
            clusters=counts, group={study.params.unit: r.treated})
    res.add(f"synth.effect.{key}", f"{r.label}: average post-period effect, {r.treated}",
            r.effect, unit="percentage points" if r.unit == "share" else r.unit,
            method="mean of treated − synthetic over the post-periods, in the outcome's unit")
    res.add(f"synth.effect_pct.{key}", f"{r.label}: average post-period effect in %, "
            f"{r.treated}", r.effect_pct, unit="%",
            method="exp(mean log gap) − 1" if r.scale == "log" else
            "mean gap / mean synthetic level over the post-periods")


def _synth(res: Results, study, f) -> None:
    key = f"{f.outcome.name}.{f.treated}"
    unit = study.outcome_unit(f.outcome)
    r, pl = f.fit, f.placebo
    for w in r.weights.itertuples():
        res.add(f"synth.weight.{key}.{w.donor}", f"weight of {w.donor} in {f.treated}'s "
                "synthetic control", w.weight, unit="weight (sums to 1)",
                method="simplex least squares on the pre-period outcomes")
    res.add(f"synth.fit.{key}.pre_rmspe", f"{f.outcome.label}: pre-period RMSPE, {f.treated}",
            r.pre_rmspe, unit=unit, n=int((~r.gaps["post"]).sum()),
            verdict="poor fit" if r.poor_fit else "good fit",
            method=f"poor fit when above {0.5:.0%} of the treated unit's pre-period SD "
                   f"({r.treated_pre_sd:.6g})")
    res.add(f"synth.fit.{key}.post_rmspe", f"{f.outcome.label}: post-period RMSPE, "
            f"{f.treated}", r.post_rmspe, unit=unit, n=int(r.gaps["post"].sum()))
    res.add(f"synth.fit.{key}.ratio", f"{f.outcome.label}: post/pre RMSPE ratio, {f.treated}",
            r.ratio)
    res.add(f"synth.placebo.{key}", f"{f.outcome.label}: placebo-in-space p, {f.treated}",
            pl.p_value, p_value=pl.p_value, statistic=r.ratio,
            statistic_name="post/pre RMSPE ratio", n=pl.n_units,
            method=f"rank {pl.rank} of {pl.n_units} ({pl.pool} pool; smallest possible p "
                   f"1/{pl.n_units}; {int(pl.table['excluded'].sum())} placebo(s) left out for a "
                   "poor pre-fit)")
    for t in pl.table.iloc[1:].itertuples():
        res.add(f"synth.placebo_unit.{key}.{t.unit}", f"placebo {t.unit}: post/pre RMSPE ratio",
                t.ratio, verdict="left out (pre-fit)" if t.excluded else "ranked",
                method=f"pre-period RMSPE {t.pre_rmspe:.6g}, post-period {t.post_rmspe:.6g}")
    it = f.in_time
    res.add(f"synth.in_time.{key}", f"{f.outcome.label}: in-time placebo gap, {f.treated}",
            it.effect, unit=unit, statistic=it.ratio, statistic_name="post/pre RMSPE ratio",
            method=f"intervention moved {f.shift} periods earlier, pre-period data only")
    for g in r.gaps.itertuples():
        res.add(f"synth.gap.{key}.{g.period}", f"{f.outcome.label}: gap in {g.period}, "
                f"{f.treated}", g.gap, unit=unit, group={"period": g.period},
                method=f"treated {g.treated:.6g} − synthetic {g.synthetic:.6g}")


def _sdid(res: Results, study, f) -> None:
    key = f"{f.outcome.name}.treated"
    unit = study.outcome_unit(f.outcome)
    r = f.result
    for w in r.unit_weights.itertuples():
        res.add(f"synth.weight.{key}.{w.unit}", f"unit weight ω of {w.unit}", w.weight,
                unit="weight (sums to 1)", method="synthetic DiD unit weights (ridge ζ_ω = "
                f"{r.zeta_omega:.6g})")
    for w in r.time_weights.itertuples():
        res.add(f"synth.time_weight.{f.outcome.name}.{w.period}", f"time weight λ of "
                f"{w.period}", w.weight, unit="weight (sums to 1)",
                method="synthetic DiD time weights")
    res.add(f"synth.sdid_se.{f.outcome.name}", f"{f.outcome.label}: placebo standard error",
            r.se, unit=unit, n=r.placebo_reps, method="SD of placebo estimates among the "
            "controls (Arkhangelsky et al. 2021, Algorithm 4)")
    for g in f.gaps.itertuples():
        res.add(f"synth.gap.{key}.{g.period}", f"{f.outcome.label}: gap in {g.period}",
                g.gap, unit=unit, group={"period": g.period},
                method=f"treated average {g.treated:.6g} − synthetic {g.synthetic:.6g}")


def results(study) -> Results:
    res = Results.for_study(study.params, study.table, study.summary_lines())
    for r in study.effects.itertuples():
        _verdict(res, study, r)
    for f in study.fits.values():
        (_synth if hasattr(f, "placebo") else _sdid)(res, study, f)
    res.headline = "; ".join(f"{r.label} ({r.treated}): {r.verdict} ({fmt_effect(r)})"
                             for r in study.effects.itertuples())
    return res
