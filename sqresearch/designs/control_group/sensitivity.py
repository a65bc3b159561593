"""How robust a control-group verdict is: the joint pre-trend Wald test, conservative
relative-magnitudes bounds (Rambachan & Roth's Δ^RM, Bonferroni), leave-one-unit-out with the
verdict's own inference, and a small specification table (estimator, covariates, cluster level;
the comparison group through a hook a staggered study fills).

Each check is judged with the verdict's own rule where that is cheap: the same smallest effect of
interest, direction and (Holm) level, and the inference ``fewclusters.choose_inference`` picks for
the clusters at hand (cluster-robust t, wild cluster bootstrap, randomization inference). Where it
is not (randomization inference with covariates or with clusters coarser than units), the row
uses the cluster-robust CR1 t with G − 1 df and says so in its note.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.designs.control_group import inference as cg_inference
from sqresearch.designs.control_group.load import Metric, period_order
from sqresearch.kpi.behaviour_segment import without_derived
from sqresearch.stats import did, fewclusters, sensitivity, verdicts
from sqresearch.stats.ancova import ancova

MBAR = (0.0, 0.5, 1.0, 2.0)
SINGULAR_TOL = 1e-10  # smallest / largest eigenvalue below which a covariance counts as singular
MIN_CLUSTERS = 5  # below this no cluster-robust inference holds its level (MacKinnon & Webb)
RM_TITLE = "Conservative (Bonferroni) relative-magnitudes bounds, Rambachan & Roth's Δ^RM"
SPEC_COLUMNS = ["key", "choice", "specification", "clusters", "inference", "estimate", "ci_low",
                "ci_high", "p_value", "verdict", "same_verdict", "note"]


@dataclass
class Sensitivity:
    """The sensitivity analyses of one metric's overall verdict.

    ``wald`` / ``rm`` are None when the event study has fewer than two pre-periods, ``wald``
    also when the pre-period covariance is singular (``event_note`` says why); ``loo`` has
    left_out, arm, estimate, ci_low, ci_high, p_value, method, verdict, same_verdict;
    ``spec`` has the SPEC_COLUMNS, its first row the verdict as reported.
    """

    metric: Metric
    verdict: str
    level: float  # the confidence level of the verdict's CI (its Holm step's)
    wald: sensitivity.PretrendTest | None
    rm: sensitivity.RMBounds | None
    event_note: str
    event_clusters: int
    loo: pd.DataFrame
    spec: pd.DataFrame
    spec_notes: list[str]

    @property
    def flips(self) -> list[str]:
        """Units whose omission changes the verdict word."""
        return list(self.loo.loc[~self.loo["same_verdict"], "left_out"])

    @property
    def spec_changes(self) -> list[str]:
        """Specification choices under which the verdict word differs from the main one."""
        s = self.spec[self.spec["same_verdict"] == "no"]
        return list(s["specification"])


def of_metric(study, m: Metric) -> Sensitivity:
    """Every sensitivity analysis of metric ``m`` (overall, not per segment)."""
    r = study.results_by_metric[m.name]
    main = study.verdict(m.name)
    wald, rm, note, g = _event_checks(r, 1 - main.ci_level)
    spec, notes = spec_table(study, m)
    return Sensitivity(m, main.verdict, float(main.ci_level), wald, rm, note, g,
                       leave_one_out(study, m), spec, notes)


# --- the event study: joint pre-trend test and relative-magnitudes bounds -----------------------
def event_terms(r) -> tuple[list[str], list[str]]:
    """(pre-period, post-period) event-study coefficient names, earliest first; the reference
    period k = −1 lies between them."""
    ks = sorted(int(t.split(":")[1]) for t in r.event_fit.names if t.startswith("event:"))
    return [f"event:{k}" for k in ks if k < -1], [f"event:{k}" for k in ks if k >= 0]


def _event_checks(r, alpha: float):
    if r.event_fit is None:
        n_pre = int((r.panel.groupby("period")["post"].first() == 0).sum())
        why = (f"Only {n_pre} pre-period{'s' * (n_pre != 1)}: the joint pre-trend test and "
               "the relative-magnitudes bounds need at least two (one pre-period coefficient "
               "beside the reference period), so they are not shown.")
        return None, None, why, 0
    fit = r.event_fit
    coef = pd.Series(fit.beta, index=fit.names)
    vcov = pd.DataFrame(fit.vcov, index=fit.names, columns=fit.names)
    pre, post = event_terms(r)
    block = vcov.loc[pre, pre].to_numpy()
    eig = np.linalg.eigvalsh(block)
    if eig.min() <= SINGULAR_TOL * eig.max():
        c = cg_inference.counts(r.panel)
        return None, sensitivity.rm_bounds(coef, vcov, pre, post, mbar=MBAR, alpha=alpha), (
            f"The joint test is not computable: the cluster-robust covariance of the {len(pre)} "
            f"pre-period coefficients is singular — {c.total} clusters ({c.treated} treated) "
            f"cannot support a joint test of {len(pre)} coefficients."), fit.clusters
    wald = sensitivity.pretrend_wald(coef, vcov, pre, df_denom=fit.clusters - 1)
    rm = sensitivity.rm_bounds(coef, vcov, pre, post, mbar=MBAR, alpha=alpha)
    return wald, rm, "", fit.clusters


# --- leave one unit out, judged with the verdict's own inference -------------------------------
def _is_ancova(study, m: Metric) -> bool:
    return study.results_by_metric[m.name].primary["estimator"].startswith("ANCOVA")


def _ancova_inference(study, panel: pd.DataFrame, covariates) -> verdicts.Inference:
    wide = panel.pivot_table(index="_unit", columns="post", values="value")
    wide.columns = ["pre", "post"]
    wide = wide.join(study.units)
    a = ancova(wide.reset_index(), "post", "pre", "treated", 1.0, list(covariates),
               study.params.alpha)
    return cg_inference.ancova_inference(a)


def _main_inference(study, m: Metric, panel: pd.DataFrame) -> verdicts.Inference:
    """The verdict's estimator and inference (rule re-chosen for the clusters in ``panel``)."""
    p = study.params
    if _is_ancova(study, m):
        return _ancova_inference(study, panel, p.covariates)
    twfe = len(period_order(panel)) > 2
    return cg_inference.did_inference(panel, twfe, p.alpha, p.seed, p.bootstrap.resamples,
                                      p.bootstrap.weights)[0]


def _judge(study, m: Metric, inf: verdicts.Inference) -> dict:
    main = study.verdict(m.name)
    return verdicts.decide(inf, float(main.alpha_used), main.direction, float(main.margin),
                           bool(main.guardrail))


def leave_one_out(study, m: Metric) -> pd.DataFrame:
    """The verdict's estimate, CI (at the verdict's level) and verdict word without each unit."""
    panel = study.results_by_metric[m.name].panel
    main = study.verdict(m.name)
    rows = []
    for u in sorted(panel["_unit"].unique()):
        part = panel[panel["_unit"] != u]
        if part.groupby("_unit")["treated"].first().nunique() < 2:
            continue
        inf = _main_inference(study, m, part)
        d = _judge(study, m, inf)
        rows.append({"left_out": u, "arm": "treated" if study.units.loc[u, "treated"] else
                     "control", "estimate": inf.estimate, "ci_low": d["ci_low"],
                     "ci_high": d["ci_high"], "p_value": inf.p_value, "method": inf.method,
                     "verdict": d["verdict"], "same_verdict": d["verdict"] == main.verdict})
    return pd.DataFrame(rows, columns=["left_out", "arm", "estimate", "ci_low", "ci_high",
                                       "p_value", "method", "verdict", "same_verdict"])


# --- the specification table --------------------------------------------------------------------
def _x_inference(study, y, x: pd.DataFrame, g, term: str, rule: str, name: str,
                 note: str = "") -> tuple[verdicts.Inference, str]:
    """CR1 t (G − 1 df) or WCR for ``term`` of an arbitrary design; randomization inference is
    replaced by CR1 with a note."""
    p = study.params
    y, g = np.asarray(y, dtype=float), np.asarray(g)
    if rule == "wild_cluster_bootstrap_wcr":
        res = fewclusters.wild_cluster_restricted(y, x, g, term, weights=p.bootstrap.weights,
                                                  resamples=p.bootstrap.resamples,
                                                  seed=p.seed, alpha=p.alpha, ci=False)
        return verdicts.Inference(res.estimate, res.p_value, functools.lru_cache(res.interval),
                                  rule, f"{name}; {res.method}", se=res.se,
                                  df=len(set(g)) - 1, n=len(y)), note
    if rule == "randomization_inference":
        note = (note + " " if note else "") + (
            "Randomization inference is not available for this specification: CR1 t with "
            "G − 1 df, too narrow with this few treated clusters — read the row as indicative.")
    t = did.cluster_ols(y, x, g).term(term, p.alpha)
    return verdicts.wald(t["estimate"], t["se"], t["df"], "cluster_robust_t",
                         f"{name}, cluster-robust (CR1) t with {t['df']} df", n=len(y)), note


def _row(study, m, key: str, choice: str, spec: str, inf, clusters: int, note: str = "") -> dict:
    main = study.verdict(m.name)
    d = _judge(study, m, inf)
    return {"key": key, "choice": choice, "specification": spec, "clusters": clusters,
            "inference": inf.method, "estimate": inf.estimate, "ci_low": d["ci_low"],
            "ci_high": d["ci_high"], "p_value": inf.p_value, "verdict": d["verdict"],
            "same_verdict": "yes" if d["verdict"] == main.verdict else "no",
            "note": note or d["note"]}


def _rule(panel: pd.DataFrame) -> str:
    c = cg_inference.counts(panel)
    return fewclusters.choose_inference(c.total, c.treated, c.control)[0]


def _cluster_rule(panel: pd.DataFrame, column: str) -> tuple[str, str]:
    """The few-cluster rule for clusters coarser than units: by arm counts when the arms are
    constant within clusters, by the number of clusters when they mix."""
    arms = panel.groupby(column)["treated"].agg(["min", "max"])
    g = len(arms)
    if (arms["min"] == arms["max"]).all():
        t = int((arms["max"] == 1).sum())
        return fewclusters.choose_inference(g, t, g - t)[0], ""
    rule = "cluster_robust_t" if g >= 30 else "wild_cluster_bootstrap_wcr"
    return rule, (f"Both arms occur within {column} clusters: the rule counts clusters (CR1 t "
                  "with ≥ 30, the wild cluster bootstrap below).")


def spec_table(study, m: Metric) -> tuple[pd.DataFrame, list[str]]:
    """(rows, notes): the verdict as reported, then the same verdict rule under (b) the other
    estimator, (a) with / without covariates, (c) clusters coarser than units (each declared
    segment), (d) the comparison group of a staggered study (``comparison_group_rows``)."""
    p, r = study.params, study.results_by_metric[m.name]
    panel, main = r.panel, study.verdict(m.name)
    units = cg_inference.counts(panel).total
    rows = [_row(study, m, "main", "as reported", main.estimator, main.inference, units)]
    notes = []
    ancova_main = _is_ancova(study, m)
    twfe = len(period_order(panel)) > 2
    if ancova_main or twfe:
        inf = cg_inference.did_inference(panel, False, p.alpha, p.seed, p.bootstrap.resamples,
                                         p.bootstrap.weights)[0]
        rows.append(_row(study, m, "did_2x2", "estimator", "2 × 2 DiD (before / after means) "
                         + ("instead of the ANCOVA" if ancova_main else "instead of TWFE"),
                         inf, units))
    else:
        notes.append("With two periods and one row per unit and period, two-way fixed effects "
                     "and the 2 × 2 DiD are the same estimate: no separate row.")
    if p.covariates:
        covs = ", ".join(p.covariates)
        if ancova_main:
            rows.append(_row(study, m, "ancova_no_covariates", "covariates",
                             "ANCOVA without covariates (before-period value only)",
                             _ancova_inference(study, panel, []), units))
        inf, note = _x_inference(study, panel["value"], did.design_2x2(panel, p.covariates),
                                 panel["_unit"], "treated:post", _rule(panel),
                                 f"2 × 2 DiD adjusted for {covs}")
        rows.append(_row(study, m, "did_2x2_covariates", "covariates",
                         f"2 × 2 DiD adjusted for {covs}", inf, units, note))
    else:
        notes.append("No covariates were declared: no with / without covariates row.")
    unit_level = without_derived(p.segments)  # customer_type, behaviour: ticket-level
    for seg in unit_level:
        rows.append(_cluster_row(study, m, seg, ancova_main, twfe))
    if not unit_level:
        notes.append("No segment column was declared: clusters are units only.")
    rows += comparison_group_rows(study, m)
    return pd.DataFrame(rows, columns=SPEC_COLUMNS), notes


def _cluster_row(study, m: Metric, seg: str, ancova_main: bool, twfe: bool) -> dict:
    p, panel = study.params, study.results_by_metric[m.name].panel
    data = panel.assign(**{seg: panel["_unit"].map(study.units[seg]).astype(str)})
    if ancova_main:
        wide = data.pivot_table(index="_unit", columns="post", values="value")
        wide.columns = ["pre", "post"]
        wide = wide.join(study.units).reset_index()
        wide[seg] = wide[seg].astype(str)
        x = pd.DataFrame({"const": 1.0, "treated": wide["treated"].astype(float),
                          "pre": wide["pre"]})
        for c in p.covariates:
            x[c] = wide[c].astype(float)
        y, g, term, name = wide["post"], wide[seg], "treated", "ANCOVA"
        clus = wide
    else:
        x = did.design_twfe(data, "_unit", "period") if twfe else did.design_2x2(data)
        y, g, term = data["value"], data[seg], "treated:post"
        name = "two-way fixed effects DiD" if twfe else "2 × 2 DiD"
        clus = data
    n_g = clus[seg].nunique()
    spec = f"{name} with errors clustered by {seg} ({n_g} clusters) instead of by {p.unit}"
    if n_g < MIN_CLUSTERS:
        est = did.cluster_ols(y, x, g).term(term, p.alpha)["estimate"] if n_g > 1 else math.nan
        return {"key": f"cluster_{seg}", "choice": "cluster level", "specification": spec,
                "clusters": n_g, "inference": "none", "estimate": est, "ci_low": math.nan,
                "ci_high": math.nan, "p_value": math.nan, "verdict": "not assessed",
                "same_verdict": "–",
                "note": f"{n_g} {seg} clusters are too few for any cluster-robust inference "
                        f"(at least {MIN_CLUSTERS} are needed); the estimate is the same."}
    rule, note = _cluster_rule(clus, seg)
    inf, note = _x_inference(study, y, x, g, term, rule, spec, note)
    return _row(study, m, f"cluster_{seg}", "cluster level", spec, inf, n_g, note)


def comparison_group_rows(study, m: Metric) -> list[dict]:
    """Hook for choice (d), the comparison group (never-treated vs not-yet-treated): rows in
    SPEC_COLUMNS from ``study.comparison_group_specs(metric)`` when a staggered-adoption study
    defines it; nothing for a study with one intervention date."""
    specs = getattr(study, "comparison_group_specs", None)
    return list(specs(m)) if callable(specs) else []


# --- words and results.json ---------------------------------------------------------------------
def sentence(study) -> str:
    """One plain-language sentence: whether any verdict depends on a unit or a choice, and how
    large a departure from parallel trends the effect's sign survives."""
    changes = []
    for s in study.sensitivity.values():
        loo = s.loo.set_index("left_out")["verdict"]
        what = [f"without {u} ({loo[u]})" for u in s.flips]
        what += [f"{r.specification} ({r.verdict})" for r in
                 s.spec[s.spec["same_verdict"] == "no"].itertuples()]
        if what:
            more = f" and {len(what) - 3} more" if len(what) > 3 else ""
            changes.append(f"{s.metric.label} ({s.verdict}) {', '.join(what[:3])}{more}")
    bd = [f"{s.rm.breakdown:.2g} for {s.metric.label}" for s in study.sensitivity.values()
          if s.rm is not None and math.isfinite(s.rm.breakdown)]
    tail = ("; under conservative relative-magnitudes bounds the effect's sign holds while "
            "post-period departures from parallel trends stay below M̄ times the largest "
            "pre-period one, M̄ = " + ", ".join(bd)) if bd else ""
    unit = study.params.unit
    if not changes:
        return (f"**How robust.** No verdict changes when any one unit ({unit}) is left out or "
                f"under the other specifications checked{tail} (see How robust is the "
                "verdict?).")
    return (f"**How robust.** The verdict changes for {'; '.join(changes)}{tail} (see How "
            "robust is the verdict?).")


def record(res, study) -> None:
    """``sensitivity.*`` keys of results.json (docs/results-schema.md)."""
    for name, s in study.sensitivity.items():
        unit = "log points" if s.metric.log else s.metric.unit
        base = f"sensitivity.{name}"
        label = s.metric.label
        if s.wald is not None:
            w = s.wald
            res.add(f"{base}.pretrend_wald", f"{label}: joint test of all {w.q} pre-period "
                    "event-study coefficients", w.f, statistic=w.f, statistic_name="F",
                    p_value=w.f_p, method=f"Wald test, cluster-robust (CR1) covariance of the "
                    f"event-study fit, F({w.q}, {w.df_denom:g}); chi2 {w.wald:.6g}")
        if s.rm is not None:
            for row in s.rm.table.itertuples():
                res.add(f"{base}.rm.mbar={row.mbar:g}", f"{label}: average post-period effect "
                        f"under Δ^RM(M̄ = {row.mbar:g})", s.rm.estimate,
                        ci=(row.ci_low, row.ci_high), ci_level=s.level, unit=unit,
                        verdict="excludes no effect" if row.excludes_zero else
                        "includes no effect",
                        method=f"{s.rm.method}; identified set {row.id_low:.6g} to "
                               f"{row.id_high:.6g}")
            res.add(f"{base}.rm.breakdown", f"{label}: breakdown value of M̄",
                    s.rm.breakdown, method="the largest M̄ whose Bonferroni CI excludes no "
                    "effect (missing: not even at M̄ = 0)")
        if len(s.loo):
            lo, hi = s.loo["estimate"].idxmin(), s.loo["estimate"].idxmax()
            for key, i in (("min", lo), ("max", hi)):
                row = s.loo.loc[i]
                res.add(f"{base}.loo.{key}", f"{label}: {key}imum estimate leaving out one "
                        f"unit (without {row.left_out})", row.estimate,
                        ci=(row.ci_low, row.ci_high), ci_level=s.level, p_value=row.p_value,
                        unit=unit, verdict=row.verdict, decided_by=row.method)
            res.add(f"{base}.loo.flips", f"{label}: units whose omission changes the verdict",
                    len(s.flips), method="; ".join(map(str, s.flips)) or "none",
                    verdict="changes" if s.flips else "stable")
        for row in s.spec.itertuples():
            res.add(f"{base}.spec.{row.key}", f"{label}: {row.specification}", row.estimate,
                    ci=(row.ci_low, row.ci_high), ci_level=s.level, p_value=row.p_value,
                    unit=unit, verdict=row.verdict, decided_by=row.inference,
                    method=f"{row.choice}; {row.clusters} clusters; verdict same as the main "
                           f"one: {row.same_verdict}. {row.note}".strip())
