"""What the synthetic-control template shows, one function per report section: formatted
tables and labelled figures. The ``*_table`` functions return what the sections display."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.designs.synthetic_control.words import fit_text, fmt_effect
from sqresearch.report import notebook as nb
from sqresearch.report import plots, tables

#: donor weights below this are grouped in one row of the weights table
SMALL_WEIGHT = 0.001


def summary(study) -> None:
    nb.md("\n\n".join(study.summary_lines()))


def design_table(study) -> pd.DataFrame:
    p, i = study.params, study.inputs
    how = {"synth": "synthetic control per treated unit (simplex weights fitted to the "
                    "pre-period outcomes" + (" and covariates" if p.covariates else "") + ")",
           "sdid": "synthetic difference-in-differences (unit and time weights)"}[study.design]
    rows = [("Units", f"{len(i.treated) + len(i.donors)} ({len(i.treated)} treated, "
                      f"{len(i.donors)} donors), by {p.unit}"),
            ("Treated", ", ".join(i.treated)),
            ("Periods", f"{p.period_column} {i.periods[0]} … {i.periods[-1]}: {study.n_pre} "
                        f"before, {study.n_post} from {p.intervention_period} on"),
            ("Method", how + (" (method: auto)" if p.method == "auto" else "")),
            ("Inference", "placebo-in-space: rank of the post/pre RMSPE ratio, p = rank/(J+1)"
             f" ({p.placebo.pool} pool); in-time placebo {study.shift} periods earlier"
             if study.design == "synth" else
             f"placebo standard error ({p.placebo_reps} draws, seed {p.seed}), normal CI"),
            ("Scale", "log (effects as % changes)" if any(m.log for m in study.outcomes)
             else "the outcome's own unit; % of the synthetic (counterfactual) level")]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def design(study) -> None:
    nb.table(design_table(study), "Design")


def verdict_table(study) -> pd.DataFrame:
    e = study.effects
    synth = study.design == "synth"
    out = pd.DataFrame({
        "Outcome": e["label"], "Treated": e["treated"],
        "Average post-period effect (unit, %)": [fmt_effect(r) for r in e.itertuples()],
        "Pre-period RMSPE": [f"{v:.3g}" for v in e["pre_rmspe"]]})
    if synth:
        out["Placebo rank"] = [f"{r.rank} of {r.n_units}" for r in e.itertuples()]
        out["p (smallest possible)"] = [f"{r.p_value:.3f} ({r.smallest_p:.3f})"
                                        for r in e.itertuples()]
    else:
        out[f"{100 * (1 - study.params.alpha):g} % CI (analysis scale)"] = [
            tables.fmt_ci(r.ci_low, r.ci_high) for r in e.itertuples()]
        out["p"] = [tables.fmt_p(v) for v in e["p_value"]]
    out["Verdict"] = e["verdict"]
    out["Note"] = e["note"]
    return out


def verdicts(study) -> None:
    nb.table(verdict_table(study), "Verdicts: the average gap over the post-periods "
             "(treated − synthetic)")


def weights_table(weights: pd.DataFrame, label: str = "donor") -> pd.DataFrame:
    """Weights sorted largest first; those below SMALL_WEIGHT grouped in one row."""
    w = weights.sort_values("weight", ascending=False, kind="mergesort")
    big, small = w[w["weight"] >= SMALL_WEIGHT], w[w["weight"] < SMALL_WEIGHT]
    rows = [(str(r[label]), f"{r.weight:.3f}") for _, r in big.iterrows()]
    if len(small):
        rows.append((f"{tables.count(len(small), 'other ' + label)} (each < {SMALL_WEIGHT:g})",
                     f"{small['weight'].sum():.3f}"))
    return pd.DataFrame(rows, columns=[label.capitalize(), "Weight (sums to 1)"])


def placebo_table(study, f) -> pd.DataFrame:
    t = f.placebo.table.sort_values(["excluded", "ratio"], ascending=[True, False])
    unit = study.outcome_unit(f.outcome)
    return pd.DataFrame({
        study.params.unit.capitalize(): t["unit"], "Role": t["role"],
        f"Pre-period RMSPE ({unit})": [f"{v:.3g}" for v in t["pre_rmspe"]],
        f"Post-period RMSPE ({unit})": [f"{v:.3g}" for v in t["post_rmspe"]],
        "Post/pre ratio": [f"{v:.3g}" for v in t["ratio"]],
        "Rank": ["–" if np.isnan(v) else f"{v:.0f}" for v in t["rank"]],
        "Ranked": np.where(t["excluded"], "no: pre-fit too poor", "yes")})


def gap_plot(study, f):
    """Two panels: the treated unit and its synthetic control over time, the intervention
    marked; the gap (treated − synthetic) with the placebo gaps in grey. Returns the axes."""
    import matplotlib.pyplot as plt

    m, p = f.outcome, study.params
    gaps = f.fit.gaps if hasattr(f, "fit") else f.gaps
    unit = study.outcome_unit(m)
    periods = list(gaps["period"])
    x = np.arange(len(periods))
    start = int(np.argmax(gaps["post"].to_numpy())) - 0.5
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.6), layout="constrained", sharex=True)
    who = f.treated if hasattr(f, "treated") else "treated (average)"
    top.plot(x, gaps["treated"], "o-", ms=3, color="#1f5f8b", label=who)
    top.plot(x, gaps["synthetic"], "--", color="#b35806", label="synthetic control")
    top.set_ylabel(f"{m.label} ({unit})")
    top.set_title(f"{m.label}: {who} and its synthetic control", loc="left", fontsize=10)
    if hasattr(f, "placebo"):
        for u, g in f.placebo.gaps.groupby("unit", sort=False):
            if u != f.treated:
                kept = not bool(f.placebo.table.set_index("unit").loc[u, "excluded"])
                bottom.plot(x, g["gap"], color="#b8bfc7", lw=0.8, alpha=0.9 if kept else 0.35,
                            label="placebo gaps (donors treated in turn)"
                            if u == f.placebo.table["unit"].iloc[1] else None)
    bottom.plot(x, gaps["gap"], "o-", ms=3, color="#1f5f8b", label=f"{who}: gap")
    bottom.axhline(0, color="#333", lw=1)
    bottom.set_ylabel(f"gap, treated − synthetic ({unit})")
    bottom.set_title("Gap over time" + (" with the placebo gaps in grey"
                                        if hasattr(f, "placebo") else ""), loc="left",
                     fontsize=10)
    for ax in (top, bottom):
        ax.axvline(start, color="#b03a2e", ls="--", lw=1, label="intervention")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, frameon=False)
    step = max(1, len(periods) // 14)
    bottom.set_xticks(x[::step], [str(q) for q in periods[::step]])
    bottom.set_xlabel(p.period_column)
    return top, bottom


def per_outcome(study) -> None:
    """Per outcome and treated unit: the donor weights, the pre-period fit, the gap plot, the
    placebo ranking and the in-time placebo (synthetic DiD: unit and time weights)."""
    for (name, treated), f in study.fits.items():
        m = study.outcome(name)
        row = study.verdict(name, treated)
        nb.md(f"### {m.label} — {treated}")
        if hasattr(f, "fit"):
            nb.table(weights_table(f.fit.weights), f"Donor weights of {treated}'s synthetic "
                     f"control ({m.label})")
            nb.md(fit_text(study, f))
        else:
            nb.table(weights_table(f.result.unit_weights.rename(columns={"unit": "donor"})),
                     f"Unit weights ω of the controls ({m.label})")
            nb.table(weights_table(f.result.time_weights.astype({"period": str}), "period"),
                     "Time weights λ of the pre-periods")
        gap_plot(study, f)
        plots.show()
        nb.md(f"Average post-period effect: {fmt_effect(row)}.")
        if hasattr(f, "placebo"):
            nb.table(placebo_table(study, f), f"Placebo-in-space ({m.label}): every unit's "
                     "post/pre RMSPE ratio, largest first (rank 1 = largest)")
            it = f.in_time
            nb.md(f"In-time placebo: moving the intervention {f.shift} periods earlier and "
                  f"using the pre-period data only, the synthetic control shows an average gap "
                  f"of {tables.signed(it.effect)} {study.outcome_unit(m)} over those periods "
                  f"(pre-period RMSPE {it.pre_rmspe:.3g}, post/pre ratio {it.ratio:.3g}); a "
                  "gap near 0, small beside the real one, supports the design.")


def caveats(study) -> None:
    nb.md("\n\n".join(study.caveats()))
