"""The gap model's plain-language summary and its results.json entries: every number the
report shows, under the keys documented in docs/results-schema.md (gap_model)."""

from __future__ import annotations

import numpy as np

from sqresearch.designs.gap_model import measurement
from sqresearch.designs.gap_model.measurement import ALPHA_BAR
from sqresearch.kpi.targets import verdict_word
from sqresearch.report import tables
from sqresearch.report.results import Results


def summary_lines(s) -> list[str]:
    p = s.params
    sq = s.scores.set_index("key").loc["unweighted"]
    used = s.used.set_index("dimension")
    n_all = int(used.loc["all", "used"])
    rule = ("who answered every item" if p.missing == "complete_case" else
            "with a score on every dimension (available-case: each dimension's own n is in "
            "the tables)")
    lines = [f"**What was measured.** {len(s.table.frame):,} customers rated "
             f"{len(s.instrument)} items in {len(s.dims)} dimensions on a {p.scale[0]}–"
             f"{p.scale[1]} scale, once for what they expect (E) and once for what they "
             f"perceived (P); {n_all:,} respondents {rule} are analysed.",
             f"**The customer gap.** Unweighted SERVQUAL {tables.signed(sq['mean'])} (95 % CI "
             f"{tables.signed(sq['ci_low'])} to {tables.signed(sq['ci_high'])}): perceptions "
             + ("fall short of" if sq["mean"] < 0 else "meet or exceed") +
             " expectations overall."]
    score = s.scores.set_index("key")
    if "weighted" in score.index:
        lines[-1] += f" Weighted by importance: {tables.signed(score.loc['weighted', 'mean'])}."
    lines.append("**Where to improve first** (largest shortfall weighted by importance):")
    gaps = s.dimension_gaps.set_index("dimension")
    for r in s.priorities.head(3).itertuples():
        d = gaps.loc[r.dimension]
        lines.append(f"{r.rank}. **{s.label(r.dimension)}**: expected {d.E:.2f}, perceived "
                     f"{d.P:.2f}, gap {tables.signed(r.gap)} ({100 * d.ci_level:.3g} % CI "
                     f"{tables.signed(d.holm_ci_low)} to {tables.signed(d.holm_ci_high)}, "
                     f"Holm {tables.fmt_p(d.p_holm)}) — **{d.verdict}**; importance "
                     f"{100 * r.importance:.0f} %.")
    weak = s.reliability[(s.reliability["measure"] == "P") & (s.reliability["flag"] != "ok")]
    if len(weak):
        lines.append("Reliability below 0.7 for perceptions of "
                     f"{', '.join(map(s.label, weak['dimension']))}.")
    d = s.difference_reliability
    lines.append(f"**Gap scores as measures.** The gaps' reliability (from α) ranges "
                 f"{d['gap_alpha'].min():.2f}–{d['gap_alpha'].max():.2f}, against "
                 f"{d['P_alpha'].min():.2f}–{d['P_alpha'].max():.2f} for perceptions: "
                 "difference scores are in general less reliable than the scales they come "
                 "from, so individual customers' gaps are noisier than the averages reported "
                 "here.")
    if s.predictive is not None:
        c = s.predictive
        who = {None: "Neither SERVQUAL nor SERVPERF predicts overall satisfaction clearly "
                     "better", "SERVPERF": "Perceptions alone (SERVPERF) predict overall "
                     "satisfaction better than the gaps", "SERVQUAL": "The gaps (SERVQUAL) "
                     "predict overall satisfaction better than perceptions alone"}[c.better]
        lines.append(f"{who} (R² {c.r2[1]:.2f} vs {c.r2[0]:.2f}; ΔR² {c.delta_r2:+.2f}, "
                     f"{100 * c.ci_level:g} % CI {c.ci[0]:+.2f} to {c.ci[1]:+.2f}).".replace(
                         "-", "−"))
    if s.cfa:
        c = s.cfa
        fit = "acceptably" if measurement.fits(c) else "poorly"
        f = c["factors"]
        h = c["htmt"].to_numpy()
        worst = h[np.triu_indices_from(h, k=1)].max()
        lines.append(f"The {len(s.dims)}-dimension structure fits the data {fit} "
                     f"(CFI {c['cfi']:.3f}, RMSEA {c['rmsea']:.3f}, SRMR {c['srmr']:.3f}; "
                     f"Satorra–Bentler scaled χ² {c['chi2_scaled']:.1f} on {c['df']:.0f} df); "
                     f"factor ω {f['omega'].min():.2f}–{f['omega'].max():.2f}, AVE "
                     f"{f['ave'].min():.2f}–{f['ave'].max():.2f}, largest HTMT {worst:.2f} ("
                     + ("dimensions distinct" if worst <= measurement.HTMT_BAR else
                        "some dimensions are hard to tell apart") + ").")
    for g, v in s.provider_gaps.items():
        if v is not None and g in ("gap 3", "gap 4") and len(v):
            met = int((v["status"] == "met").sum())
            lines.append(f"**{g.capitalize()}**: {met} of {len(v)} "
                         f"{'standards' if g == 'gap 3' else 'promises'} met by delivered "
                         "performance.")
    g1 = s.provider_gaps["gap 1"]
    if g1 is not None:
        worst = g1.loc[g1["gap"].abs().idxmax()]
        lines.append(f"**Gap 1**: managers' view of expectations differs most on "
                     f"{s.label(worst.dimension)} ({worst.managers_E:.2f} vs customers' "
                     f"{worst.customers_E:.2f}).")
    if s.missing_gaps:
        lines.append("Not assessed — " + "; ".join(s.missing_gaps) + ".")
    return lines


def _customer(res: Results, s) -> None:
    p = s.params
    for r in s.dimension_gaps.itertuples():
        res.add(f"gap.{r.dimension}", f"{s.label(r.dimension)}: P − E", r.gap,
                ci=(r.holm_ci_low, r.holm_ci_high), ci_level=r.ci_level, statistic=r.t,
                statistic_name="t", p_value=r.p_value, p_adjusted=r.p_holm, n=r.n,
                unit="score", method="paired t; Holm across the dimensions, CI at the Holm "
                "step's level", verdict=r.verdict, decided_by="paired_t",
                family="confirmatory", sesoi=p.gap_sesoi)
        res.add(f"gap.{r.dimension}.ci95", f"{s.label(r.dimension)}: P − E, unadjusted CI",
                r.gap, ci=(r.ci_low, r.ci_high), n=r.n, unit="score", method="paired t")
        res.add(f"wilcoxon.{r.dimension}", f"{s.label(r.dimension)}: Wilcoxon signed-rank p",
                r.wilcoxon_p, p_value=r.wilcoxon_p, n=r.n, method="Wilcoxon signed-rank")
        for m in ("E", "P"):
            res.add(f"mean.{m}.{r.dimension}", f"{s.label(r.dimension)}: mean {m}",
                    getattr(r, m), n=r.n, unit="score", method="mean of dimension scores")
    for r in s.item_gaps.itertuples():
        res.add(f"gap.item.{r.item}", f"{r.item}: P − E", r.gap, ci=(r.ci_low, r.ci_high),
                statistic=r.t, statistic_name="t", p_value=r.p_value, p_adjusted=r.p_holm,
                n=r.n, unit="score", method="paired t; p_adjusted: Holm across the items",
                group={"dimension": r.dimension}, family="exploratory")
        res.add(f"wilcoxon.item.{r.item}", f"{r.item}: Wilcoxon signed-rank p", r.wilcoxon_p,
                p_value=r.wilcoxon_p, n=r.n, method="Wilcoxon signed-rank")
        for m in ("E", "P"):
            res.add(f"mean.{m}.item.{r.item}", f"{r.item}: mean {m}", getattr(r, m), n=r.n,
                    unit="score", method="mean of the item's answers")
    for dim in s.dims:
        e, perf = s.E_dim[dim], s.P_dim[dim]
        res.add(f"expectation.{dim}", f"{s.label(dim)}: customers' mean E", e.mean(),
                n=int(e.notna().sum()), unit="score",
                method="mean over the respondents with an E score (gaps 1 and 2)")
        res.add(f"performance.{dim}", f"{s.label(dim)}: mean P", perf.mean(),
                n=int(perf.notna().sum()), unit="score",
                method="mean over the respondents with a P score (importance–performance)")
    for r in s.scores.itertuples():
        res.add(f"score.{r.key}", r.score, r.mean, ci=(r.ci_low, r.ci_high), n=r.n,
                unit="score", method="mean over respondents, t interval")
    for r in s.used.itertuples():
        res.add(f"respondents.{r.dimension}", f"respondents used: {r.dimension}", r.used,
                n=r.respondents, method=f"missing: {p.missing}; left out: {r.left_out}")
    for r in s.missing.itertuples():
        res.add(f"missing.{r.dimension}", f"{r.dimension}: no dimension score",
                r.too_few_answers, n=r.respondents,
                method=f"fewer than {100 * p.min_item_share:g} % of {r.items} items answered")


def _measurement(res: Results, s) -> None:
    for r in s.reliability.itertuples():
        res.add(f"alpha.{r.dimension}.{r.measure}", f"Cronbach's α, {r.dimension} "
                f"({r.measure})", r.alpha, ci=(r.ci_low, r.ci_high), n=r.n,
                method="Feldt CI", verdict=r.flag)
        res.add(f"omega.{r.dimension}.{r.measure}", f"McDonald's ω, {r.dimension} "
                f"({r.measure})", r.omega, n=r.n, method="omega total of the unit-weighted "
                "sum: one-factor ML, (Σλ)²/((Σλ)² + Σθ)")
    for r in s.difference_reliability.itertuples():
        for kind, word in (("alpha", "α"), ("omega", "ω")):
            res.add(f"gap_reliability.{r.dimension}.{kind}", f"{s.label(r.dimension)}: "
                    f"reliability of the gap P − E (from the {word} of E and P)",
                    getattr(r, f"gap_{kind}"), n=r.n, method="difference-score reliability "
                    "(σ²_P r_PP + σ²_E r_EE − 2 r_PE σ_P σ_E)/(σ²_P + σ²_E − 2 r_PE σ_P σ_E)",
                    verdict="lower than E and P" if getattr(r, f"gap_{kind}") <
                    min(getattr(r, f"E_{kind}"), getattr(r, f"P_{kind}")) else
                    "between E and P")
        res.add(f"gap_reliability.{r.dimension}.r_PE", f"{s.label(r.dimension)}: correlation "
                "of the E and P scores", r.r_PE, n=r.n, method="Pearson")
    for r in s.item_reliability.itertuples():
        res.add(f"item_total.{r.item}.{r.measure}", f"{r.item} ({r.measure}): corrected "
                "item-total r", r.r_drop, method="r with the sum of the other items")
        res.add(f"alpha_if_deleted.{r.item}.{r.measure}", f"{r.item} ({r.measure}): α if "
                "deleted", r.alpha_if_deleted, method="Cronbach's α without the item")
    if s.cfa:
        c = s.cfa
        for k, name in (("cfi", "CFI"), ("rmsea", "RMSEA"), ("srmr", "SRMR"), ("chi2", "χ²"),
                        ("df", "df")):
            res.add(f"cfa.{k}", f"CFA {name}", c[k], n=c["n"], method="semopy, ML (Wishart)",
                    verdict=("acceptable" if measurement.fits(c) else "poor")
                    if k == "cfi" else None)
        for r in c["loadings"].itertuples():
            res.add(f"cfa.loading.{r.item}", f"{r.item} on {r.dimension}: standardized "
                    "loading", r.loading, n=c["n"], group={"dimension": r.dimension})
        res.add("cfa.chi2_scaled", "CFA χ², Satorra–Bentler scaled", c["chi2_scaled"],
                statistic=c["chi2_scaled"], statistic_name="chi2", p_value=c["p_scaled"],
                n=c["n"], method=f"robust ML (lavaan MLM): χ²_ML (normal) {c['chi2_ml']:.3f} "
                f"/ scaling factor; df {c['df']:.0f}")
        res.add("cfa.scaling", "CFA Satorra–Bentler scaling factor", c["scaling"], n=c["n"],
                method="tr(UΓ)/df, Γ from the fourth moments (divisor N)")
        for r in c["factors"].itertuples():
            res.add(f"cfa.omega.{r.dimension}", f"{s.label(r.dimension)}: ω (composite "
                    "reliability)", r.omega, n=c["n"], method="(Σλ)²ψ/((Σλ)²ψ + Σθ) from the "
                    "CFA", verdict="ok" if r.omega >= ALPHA_BAR else f"below {ALPHA_BAR:g}")
            res.add(f"cfa.ave.{r.dimension}", f"{s.label(r.dimension)}: average variance "
                    "extracted", r.ave, n=c["n"], method="mean squared standardized loading",
                    verdict="ok" if r.ave >= 0.5 else "below 0.5")
        h = c["htmt"]
        for i, a in enumerate(h.index):
            for b in h.index[i + 1:]:
                v = float(h.loc[a, b])
                res.add(f"cfa.htmt.{a}|{b}", f"HTMT {s.label(a)}–{s.label(b)}", v, n=c["n"],
                        method="Henseler et al. 2015, absolute Pearson correlations",
                        verdict="ok" if v <= measurement.HTMT_BAR else
                        f"above {measurement.HTMT_BAR:g}")
    c = s.predictive
    if c is not None:
        for name, r2, adj in zip(c.names, c.r2, c.adj_r2, strict=True):
            key = name.lower()
            res.add(f"predictive.{key}.r2", f"{name}: R² for overall satisfaction", r2, n=c.n,
                    method="OLS on the five dimension scores")
            res.add(f"predictive.{key}.adj_r2", f"{name}: adjusted R²", adj, n=c.n,
                    method="1 − (1 − R²)(n − 1)/(n − k − 1)")
        res.add("predictive.delta_r2", "R²(SERVPERF) − R²(SERVQUAL)", c.delta_r2, ci=c.ci,
                ci_level=c.ci_level, n=c.n, method=f"percentile bootstrap, {c.n_boot} "
                f"resamples of respondents, seed {s.params.seed}",
                verdict=(c.better or "neither") + " better")
        res.add("predictive.vuong", "Vuong test, SERVQUAL vs SERVPERF", c.vuong_z,
                statistic=c.vuong_z, statistic_name="z", p_value=c.vuong_p, n=c.n,
                method="Vuong (1989) non-nested LR test; z > 0 favours SERVQUAL")
        for name, (t, pv) in zip(c.names, (c.j_a, c.j_b), strict=True):
            res.add(f"predictive.j.{name.lower()}", f"J test: the other model's fit added to "
                    f"{name}", t, statistic=t, statistic_name="t", p_value=pv, n=c.n,
                    method="Davidson–MacKinnon J test (H0: this model is adequate)")


def _importance(res: Results, s) -> None:
    if s.zone is not None:
        for r in s.zone.itertuples():
            for k in ("perceived", "adequate", "desired", "msa", "mss"):
                res.add(f"zone.{r.dimension}.{k}", f"{s.label(r.dimension)}: {k}",
                        getattr(r, k), unit="score", verdict=r.position
                        if k == "msa" else None)
    for r in s.importance.itertuples():
        for k in ("stated", "derived"):
            if hasattr(r, k):
                res.add(f"importance.{k}.{r.dimension}", f"{s.label(r.dimension)}: {k} "
                        "importance", getattr(r, k), unit="share",
                        verdict=getattr(r, f"quadrant_{k}"), method="mean points / 100"
                        if k == "stated" else "Johnson's relative weight / R²")
        if hasattr(r, "derived_r2"):
            res.add(f"importance.relative_weight.{r.dimension}", f"{s.label(r.dimension)}: "
                    "relative weight (share of variance in overall satisfaction)",
                    r.derived_r2, method="Johnson (2000); the weights sum to R²")
    for r in s.priorities.itertuples():
        res.add(f"priority.{r.rank}", f"priority {r.rank}: {s.label(r.dimension)}",
                r.priority, method=f"max(−gap, 0) × {r.basis} importance",
                group={"dimension": r.dimension})
    for r in s.segment_tests.itertuples():
        key = f"segment.{r.segment}.{r.dimension}"
        res.add(key, f"{r.segment}: {s.label(r.dimension)} gap compared ({r.test})",
                r.difference if r.test == "Welch t" else r.statistic,
                ci=(r.ci_low, r.ci_high), statistic=r.statistic,
                statistic_name="t" if r.test == "Welch t" else "F", p_value=r.p_value,
                p_adjusted=r.p_holm, n=r.n, family="exploratory", unit="score",
                method=(f"Welch t ({r.levels[1]} − {r.levels[0]})" if r.test == "Welch t" else
                        "one-way ANOVA") + "; Holm across the dimensions in the segment")
        for level, mean in r.means.items():
            res.add(f"{key}.mean.{level}", f"{r.segment} = {level}: mean gap, {r.dimension}",
                    mean, unit="score", group={r.segment: level})
    for r in s.posthoc.itertuples():
        res.add(f"posthoc.{r.segment}.{r.dimension}.{r.A}|{r.B}",
                f"{r.segment}: {r.A} vs {r.B}, {r.dimension}", r.T, statistic=r.T,
                statistic_name="t", p_value=r.p_unc, p_adjusted=r.p_corr,
                method="Welch t; Holm across the pairs within the dimension")


def _provider(res: Results, s) -> None:
    g = s.provider_gaps
    if g["gap 1"] is not None:
        for r in g["gap 1"].itertuples():
            res.add(f"gap1.{r.dimension}", f"gap 1: {s.label(r.dimension)} (managers − "
                    "customers)", r.gap, ci=(r.ci_low, r.ci_high), statistic=r.t,
                    statistic_name="t", p_value=r.p_value, p_adjusted=r.p_holm,
                    n=r.n_customers + r.n_managers, unit="score",
                    method="Welch t; Holm across the dimensions")
            res.add(f"gap1.{r.dimension}.managers_E", "managers' mean E", r.managers_E,
                    n=r.n_managers, unit="score")
    if g["gap 2"] is not None:
        for r in g["gap 2"].itertuples():
            res.add(f"gap2.{r.dimension}", f"gap 2: {s.label(r.dimension)} (standard level − "
                    "customers' E)", r.gap, unit="score", method="mean stated level − mean E")
            res.add(f"gap2.{r.dimension}.standards", "written standards", r.standards)
            res.add(f"gap2.{r.dimension}.level", "mean standard level", r.standard_level,
                    unit="score")
    for name in ("gap 3", "gap 4"):
        v = g[name]
        for j, r in enumerate(v.itertuples() if v is not None else []):
            what = r.standard if name == "gap 3" else r.promise
            res.add(f"{name.replace(' ', '')}.{j}.{r.kpi}", f"{name}: {what}", r.estimate,
                    ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit,
                    verdict=verdict_word(r.status, r.certainty),
                    method=f"{r.label} against the target {r.op} {r.target:g}",
                    group={"target": f"{r.op} {r.target:g}"})


def results(s) -> Results:
    res = Results.for_study(s.params, s.table, summary_lines(s), s.inputs.other_files)
    for part in (_customer, _measurement, _importance, _provider):
        part(res, s)
    sq = s.scores.set_index("key").loc["unweighted"]
    res.headline = (f"SERVQUAL {tables.signed(sq['mean'])}; first priority: "
                    f"{s.label(s.priorities['dimension'].iloc[0])}")
    return res
