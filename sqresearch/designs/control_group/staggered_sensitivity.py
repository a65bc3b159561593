"""How robust a staggered-adoption verdict is: the same four checks as ``sensitivity`` for a
design with one date, computed on the Callaway–Sant'Anna estimates.

- the joint pre-trend test and the relative-magnitudes bounds use the event-time estimates
  θ(e) with the *universal* base period (every ATT(g, t) against period g − 1, so θ(−1) = 0 is
  the reference, as in an event study; with the varying base the pre-period estimates would be
  period-to-period changes, which Δ^RM does not describe). Their covariance is the influence
  functions' (Ψ'Ψ / n², what the multiplier bootstrap draws from); the test is F with n − 1
  denominator df, n the units (the clusters);
- leave-one-unit-out refits ATT(g, t) without each unit, with the verdict's own inference (the
  multiplier bootstrap, same resamples and seed);
- the specification table: the other comparison group (never- vs not-yet-treated), the other
  base period, without covariates (when there are any), and the naive two-way fixed-effects
  estimate (CR1, G − 1 df) — each judged with the verdict's rule.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sqresearch.designs.control_group.load import Metric
from sqresearch.designs.control_group.sensitivity import (
    MBAR,
    SINGULAR_TOL,
    SPEC_COLUMNS,
    Sensitivity,
    _judge,
    _row,
)
from sqresearch.stats import sensitivity, verdicts
from sqresearch.stats.staggered import att_gt
from sqresearch.stats.staggered_agg import aggregate
from sqresearch.stats.staggered_checks import StaggeredDesignError

COMPARISONS = {"never": "never-treated", "notyet": "not-yet-treated"}


def of_metric(study, m: Metric) -> Sensitivity:
    """Every sensitivity analysis of metric ``m`` (overall, not per segment)."""
    r = study.results_by_metric[m.name]
    main = study.verdict(m.name)
    wald, rm, note = event_checks(study, r, 1 - float(main.ci_level))
    spec, notes = spec_table(study, m, r)
    return Sensitivity(m, main.verdict, float(main.ci_level), wald, rm, note,
                       int(r.panel["_unit"].nunique()), leave_one_out(study, m, r), spec, notes)


def _fit(study, panel: pd.DataFrame, **choices):
    p = study.params
    kw = {"comparison": p.comparison, "base": p.base_period, "covariates": p.covariates,
          **choices}
    return att_gt(panel, "_unit", "t", "value", "cohort", **kw)


def _boot(study) -> dict:
    p = study.params
    return {"resamples": p.bootstrap.resamples, "seed": p.seed, "alpha": p.alpha,
            "weights": "rademacher" if p.bootstrap.weights == "rademacher" else "mammen"}


def _overall(study, m: Metric, panel: pd.DataFrame, what: str, **choices) -> verdicts.Inference:
    """The overall (simple) ATT under ``choices`` with the verdict's bootstrap inference."""
    o = aggregate(_fit(study, panel, **choices), "simple").summary(**_boot(study)).iloc[-1]
    scale = "log" if m.log else "linear"
    return verdicts.wald(float(o["estimate"]), float(o["se"]), math.inf, "multiplier_bootstrap",
                         f"{what}; multiplier bootstrap clustered by unit", scale,
                         n=int(panel["_unit"].nunique()))


# --- the event study: joint pre-trend test and relative-magnitudes bounds ----------------------
def event_estimates(study, r) -> tuple[pd.Series, pd.DataFrame, list[str], list[str]]:
    """θ(e) with the universal base, their covariance from the influence functions, and the
    names of the pre-period (e ≤ −2; e = −1 is the reference) and post-period (e ≥ 0) terms."""
    p = study.params
    lo, hi = p.event_window or (-np.inf, np.inf)
    agg = aggregate(_fit(study, r.panel, base="universal"), "dynamic", min_e=lo, max_e=hi)
    e = agg.table["level"].astype(int).to_numpy()
    names = [f"event:{k}" for k in e]
    n = agg.influence.shape[0]
    vcov = pd.DataFrame(agg.influence.T @ agg.influence / n ** 2, index=names, columns=names)
    coef = pd.Series(agg.table["estimate"].to_numpy(dtype=float), index=names)
    pre = [f"event:{k}" for k in e if k <= -2]
    post = [f"event:{k}" for k in e if k >= 0]
    return coef, vcov, pre, post


def event_checks(study, r, alpha: float):
    """(PretrendTest | None, RMBounds | None, why one is missing)."""
    coef, vcov, pre, post = event_estimates(study, r)
    word = study.period_word
    if len(pre) < 1 or not post:
        return None, None, (
            f"Only {len(pre) + 1} pre-adoption {word}(s) with estimates: the joint pre-trend "
            "test and the relative-magnitudes bounds need at least two (one beside the "
            "reference period), so they are not shown.")
    n = int(r.panel["_unit"].nunique())
    rm = sensitivity.rm_bounds(coef, vcov, pre, post, mbar=MBAR, alpha=alpha)
    eig = np.linalg.eigvalsh(vcov.loc[pre, pre].to_numpy())
    if eig.max() <= 0 or eig.min() <= SINGULAR_TOL * eig.max():
        return None, rm, (f"The joint test is not computable: the covariance of the {len(pre)} "
                          f"pre-adoption event-time estimates is singular ({n} units).")
    return sensitivity.pretrend_wald(coef, vcov, pre, df_denom=n - 1), rm, ""


# --- leave one unit out -------------------------------------------------------------------------
def leave_one_out(study, m: Metric, r) -> pd.DataFrame:
    """The overall ATT, its CI (at the verdict's level) and verdict word without each unit."""
    main = study.verdict(m.name)
    rows = []
    for u in sorted(r.panel["_unit"].unique()):
        part = r.panel[r.panel["_unit"] != u]
        try:
            inf = _overall(study, m, part, f"Callaway–Sant'Anna overall ATT without {u}")
        except StaggeredDesignError:  # e.g. the last never-treated unit: no comparison left
            continue
        d = _judge(study, m, inf)
        rows.append({"left_out": u, "arm": "treated" if study.cohort.get(u, 0) > 0 else
                     "control", "estimate": inf.estimate, "ci_low": d["ci_low"],
                     "ci_high": d["ci_high"], "p_value": inf.p_value, "method": inf.method,
                     "verdict": d["verdict"], "same_verdict": d["verdict"] == main.verdict})
    return pd.DataFrame(rows, columns=["left_out", "arm", "estimate", "ci_low", "ci_high",
                                       "p_value", "method", "verdict", "same_verdict"])


# --- the specification table --------------------------------------------------------------------
def spec_table(study, m: Metric, r) -> tuple[pd.DataFrame, list[str]]:
    """The verdict as reported, then the other comparison group, the other base period, no
    covariates, and the naive TWFE; a choice that cannot be estimated is left out with a
    note."""
    p = study.params
    n = int(r.panel["_unit"].nunique())
    main = study.verdict(m.name)
    rows = [_row(study, m, "main", "as reported",
                 f"Callaway–Sant'Anna, {COMPARISONS[p.comparison]} comparison, "
                 f"{p.base_period} base period", main.inference, n)]
    notes = []
    other = "notyet" if p.comparison == "never" else "never"
    choices = [("comparison", "comparison group", f"{COMPARISONS[other]} comparison",
                {"comparison": other}),
               ("base", "base period",
                f"{'universal' if p.base_period == 'varying' else 'varying'} base period",
                {"base": "universal" if p.base_period == "varying" else "varying"})]
    if p.covariates:
        choices.append(("covariates", "covariates", "without covariates (unconditional "
                        "parallel trends)", {"covariates": ()}))
    for key, choice, spec, kw in choices:
        try:
            inf = _overall(study, m, r.panel, f"Callaway–Sant'Anna, {spec}", **kw)
        except StaggeredDesignError as exc:
            notes.append(f"{spec.capitalize()}: not estimable — {exc.problems[0].what}")
            continue
        rows.append(_row(study, m, key, choice, spec, inf, n))
    if r.twfe is not None:
        t = r.twfe
        inf = verdicts.wald(float(t["estimate"]), float(t["se"]), float(t["df"]),
                            "cluster_robust_t", "naive two-way fixed effects, cluster-robust "
                            f"(CR1) t with {t['df']:g} df", "log" if m.log else "linear", n=n)
        rows.append(_row(study, m, "twfe", "estimator", "naive two-way fixed effects (biased "
                         "when effects change over time: see the Bacon decomposition)", inf, n))
    return pd.DataFrame(rows, columns=SPEC_COLUMNS), notes
