"""The gap-model (SERVQUAL) study: the customer gap (P − E) over the instrument's dimensions,
reliability, the zone of tolerance, importance–performance, segments, the instrument's factor
structure (CFA), and the provider-side gaps 1–4 from whichever inputs are given.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch.designs.gap_model.load import load
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import GapModelParams
from sqresearch.kpi.targets import judge, verdict_word
from sqresearch.report import tables
from sqresearch.report.results import Results
from sqresearch.stats import compare, servqual, verdicts
from sqresearch.stats.describe import mean_ci

STUDY_TYPE = "gap_model"

#: The shared verdict words read for a gap (P − E compared with no gap, not before vs after).
GAP_WORDS = {"improved": "exceeds expectations", "worsened": "falls short of expectations",
             "equivalent": "meets expectations (equivalent)", "not worse": "not worse",
             "inconclusive": "inconclusive"}
QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}


class GapModel:
    """Everything the gap-model template shows, computed once."""

    def __init__(self, params: GapModelParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.inputs = load(p, source)
        self.table = self.inputs.survey
        self.instrument = self.inputs.instrument
        frame = self.table.frame
        items = list(self.instrument["item"])

        def block(prefix):
            out = frame[[prefix + i for i in items]].set_axis(items, axis=1)
            return servqual.reverse_code(out, self.instrument, p.scale)

        self.E, self.P = block(p.expectation_prefix), block(p.perception_prefix)
        self.G = self.P - self.E
        self.dims = list(dict.fromkeys(self.instrument["dimension"]))
        share = p.min_item_share
        self.E_dim, self.missing = servqual.dimension_scores(self.E, self.instrument, share)
        self.P_dim, _ = servqual.dimension_scores(self.P, self.instrument, share)
        self.G_dim = self.P_dim - self.E_dim
        self.A = block(p.adequate_prefix) if p.adequate_prefix else None
        self.D = block(p.desired_prefix) if p.desired_prefix else None

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> GapModel:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    def label(self, dim: str) -> str:
        return self.params.labels.get(dim, dim.capitalize())

    # --- the customer gap ------------------------------------------------------------------------
    def _paired(self, e: pd.DataFrame, pr: pd.DataFrame, names, extra: pd.DataFrame | None):
        rows = []
        for name in names:
            t = compare.paired_t(e[name], pr[name], self.params.alpha).iloc[0]
            w = compare.wilcoxon_signed_rank(e[name], pr[name], self.params.alpha).iloc[0]
            d = (pr[name] - e[name]).dropna()
            rows.append({"name": name, "E": e[name].mean(), "P": pr[name].mean(),
                         "gap": t.estimate, "se": float(d.std(ddof=1) / math.sqrt(len(d)))
                         if len(d) > 1 else math.nan, "ci_low": t.ci_low, "ci_high": t.ci_high,
                         "t": t.statistic, "p_value": t.p_value, "wilcoxon_p": w.p_value,
                         "n": int(t.n_before)})
        out = pd.DataFrame(rows)
        out["p_holm"] = compare.holm(out["p_value"])
        if extra is not None:
            out = extra.merge(out, left_on=extra.columns[0], right_on="name").drop(
                columns="name")
        return out

    @cached_property
    def item_gaps(self) -> pd.DataFrame:
        """Per item: mean E, P, gap with CI, paired t and Wilcoxon, Holm over items."""
        return self._paired(self.E, self.P, list(self.instrument["item"]),
                            self.instrument[["item", "dimension", "wording"]])

    @cached_property
    def dimension_gaps(self) -> pd.DataFrame:
        """Per dimension: E, P, the gap with its paired t, Holm over the dimensions, and the
        verdict (the dimensions are the confirmatory family; each CI at its Holm step)."""
        out = self._paired(self.E_dim, self.P_dim, self.dims, None)
        out = out.rename(columns={"name": "dimension"})
        rows = pd.DataFrame({
            "inference": [verdicts.wald(r.gap, r.se, r.n - 1,
                                        "paired_t", "paired t of P − E") for r in
                          out.itertuples()],
            "direction": "higher", "margin": self.params.gap_sesoi, "guardrail": False,
            "family": "confirmatory"})
        judged = verdicts.judge_family(rows, self.params.alpha)
        out["ci_level"] = judged["ci_level"].to_numpy()
        out["holm_ci_low"] = judged["ci_low"].to_numpy()
        out["holm_ci_high"] = judged["ci_high"].to_numpy()
        out["verdict"] = judged["verdict"].map(GAP_WORDS).to_numpy()
        return out

    @cached_property
    def scores(self) -> pd.DataFrame:
        """SERVQUAL (unweighted, weighted) and SERVPERF: mean over respondents with t CIs."""
        points = None
        if self.params.importance_prefix:
            cols = {self.params.importance_prefix + d: d for d in self.dims}
            points = self.table.frame[list(cols)].rename(columns=cols)
        per = servqual.servqual(self.G_dim, points)
        per["servperf"] = self.P_dim.mean(axis=1, skipna=False)
        rows = []
        for col, name in (("unweighted", "SERVQUAL (unweighted)"),
                          ("weighted", "SERVQUAL (weighted by importance points)"),
                          ("servperf", "SERVPERF (perceptions only)")):
            if col in per:
                m, lo, hi, n = mean_ci(per[col], self.params.alpha)
                rows.append({"score": name, "key": col, "mean": m, "ci_low": lo, "ci_high": hi,
                             "n": n})
        return pd.DataFrame(rows)

    # --- reliability and structure ---------------------------------------------------------------
    @cached_property
    def reliability(self) -> pd.DataFrame:
        rows = []
        for dim, part in self.instrument.groupby("dimension", sort=False):
            items = list(part["item"])
            for measure, block in (("E", self.E), ("P", self.P), ("gap", self.G)):
                a = servqual.cronbach_alpha(block[items], self.params.alpha)
                rows.append({"dimension": dim, "measure": measure, **a,
                             "flag": "ok" if a["alpha"] >= 0.7 else "below 0.7"})
        return pd.DataFrame(rows)

    @cached_property
    def item_reliability(self) -> pd.DataFrame:
        frames = []
        for dim, part in self.instrument.groupby("dimension", sort=False):
            for measure, block in (("E", self.E), ("P", self.P), ("gap", self.G)):
                t = servqual.item_analysis(block[list(part["item"])])
                frames.append(t.assign(dimension=dim, measure=measure))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def cfa(self) -> dict | None:
        """Confirmatory factor analysis of the perception items (semopy, ML with the Wishart
        likelihood, as R ``lavaan::cfa(likelihood = "wishart")``): χ², CFI, RMSEA (N − 1),
        SRMR and standardized loadings; None when not requested."""
        if not self.params.cfa:
            return None
        import semopy

        data = self.P.dropna()
        spec = "\n".join(f"{d} =~ " + " + ".join(part["item"]) for d, part in
                         self.instrument.groupby("dimension", sort=False))
        model = semopy.Model(spec)
        model.fit(data)  # ML, Wishart objective
        s = semopy.calc_stats(model).iloc[0]
        n = len(data)
        # semopy scales its χ² by N; the Wishart likelihood (and lavaan's) uses N − 1
        chi2, df = s["chi2"] * (n - 1) / n, s["DoF"]
        chi2_b, df_b = s["chi2 Baseline"] * (n - 1) / n, s["DoF Baseline"]
        cfi = 1 - max(chi2 - df, 0) / max(chi2_b - df_b, chi2 - df, 1e-12)
        rmsea = math.sqrt(max(chi2 - df, 0) / (df * (n - 1)))
        cov = model.mx_cov  # the sample covariance the model was fitted to
        sd = np.sqrt(np.diag(cov))
        resid = (cov - model.calc_sigma()[0]) / np.outer(sd, sd)
        srmr = float(np.sqrt(np.mean(resid[np.tril_indices_from(resid)] ** 2)))
        est = model.inspect(std_est=True)
        loadings = est[(est["op"] == "~") & est["rval"].isin(self.dims)][
            ["rval", "lval", "Est. Std"]].rename(columns={"rval": "dimension", "lval": "item",
                                                          "Est. Std": "loading"})
        return {"cfi": cfi, "rmsea": rmsea, "srmr": srmr, "chi2": float(chi2), "df": float(df),
                "n": n, "loadings": loadings.reset_index(drop=True)}

    # --- zone of tolerance, importance, segments -------------------------------------------------
    @cached_property
    def zone(self) -> pd.DataFrame | None:
        if self.A is None or self.D is None:
            return None
        a, _ = servqual.dimension_scores(self.A, self.instrument, self.params.min_item_share)
        d, _ = servqual.dimension_scores(self.D, self.instrument, self.params.min_item_share)
        return servqual.zone_of_tolerance(self.P_dim.mean(), a.mean(), d.mean())

    @cached_property
    def importance(self) -> pd.DataFrame:
        """Stated importance (mean points / 100), derived importance (standardized coefficients
        of overall satisfaction on the dimension P scores, scaled to sum to 1), performance (mean
        P) and the importance–performance quadrant for each."""
        out = pd.DataFrame({"dimension": self.dims, "performance": self.P_dim.mean().to_numpy()})
        if self.params.importance_prefix:
            pts = self.table.frame[[self.params.importance_prefix + d for d in self.dims]]
            out["stated"] = (pts.mean() / 100).to_numpy()
        if self.params.overall:
            data = pd.concat([self.table.frame[self.params.overall].rename("overall"),
                              self.P_dim], axis=1).dropna()
            z = (data - data.mean()) / data.std(ddof=1)
            x = np.column_stack([np.ones(len(z)), z[self.dims].to_numpy()])
            beta = np.linalg.lstsq(x, z["overall"].to_numpy(), rcond=None)[0][1:]
            pos = np.clip(beta, 0, None)
            out["derived"] = pos / pos.sum() if pos.sum() > 0 else np.nan
        perf_high = out["performance"] >= out["performance"].mean()
        for col in ("stated", "derived"):
            if col in out:
                imp_high = out[col] >= out[col].mean()
                out[f"quadrant_{col}"] = [QUADRANTS[(i, ph)] for i, ph in zip(imp_high, perf_high,
                                                                               strict=True)]
        return out

    @cached_property
    def segment_tests(self) -> pd.DataFrame:
        """Dimension gaps compared across each segment: Welch (two levels) or one-way ANOVA;
        Holm across dimensions within each segment."""
        import pingouin as pg

        rows = []
        for seg in self.params.segments:
            data = self.G_dim.assign(_seg=self.table.frame[seg].astype(str))
            levels = sorted(data["_seg"].dropna().unique())
            for dim in self.dims:
                d = data[[dim, "_seg"]].dropna()
                means = d.groupby("_seg")[dim].mean().round(3).to_dict()
                if len(levels) == 2:
                    r = compare.welch(d[d._seg == levels[0]][dim], d[d._seg == levels[1]][dim],
                                      self.params.alpha).iloc[0]
                    test, stat, pv = f"Welch t ({levels[1]} − {levels[0]})", r.statistic, \
                        r.p_value
                else:
                    a = pg.anova(data=d, dv=dim, between="_seg").iloc[0]
                    test, stat, pv = "one-way ANOVA", a["F"], a["p_unc"]
                rows.append({"segment": seg, "dimension": dim, "test": test, "statistic": stat,
                             "p_value": pv, "means": means})
        out = pd.DataFrame(rows, columns=["segment", "dimension", "test", "statistic",
                                          "p_value", "means"])
        out["p_holm"] = np.nan
        for idx in out.groupby("segment").groups.values():
            out.loc[idx, "p_holm"] = compare.holm(out.loc[idx, "p_value"])
        return out

    @cached_property
    def posthoc(self) -> pd.DataFrame:
        """Pairwise Welch tests between the levels of segments with more than two levels
        (pingouin ``pairwise_tests``, Holm-adjusted within each dimension)."""
        import pingouin as pg

        frames = []
        for seg in self.params.segments:
            data = self.G_dim.assign(_seg=self.table.frame[seg].astype(str))
            if data["_seg"].nunique() <= 2:
                continue
            for dim in self.dims:
                t = pg.pairwise_tests(data=data[[dim, "_seg"]].dropna(), dv=dim, between="_seg",
                                      parametric=True, correction=True, padjust="holm")
                frames.append(t[["A", "B", "T", "p_unc", "p_corr"]].assign(segment=seg,
                                                                           dimension=dim))
        cols = ["segment", "dimension", "A", "B", "T", "p_unc", "p_corr"]
        return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(
            columns=cols)

    # --- the provider-side gaps ------------------------------------------------------------------
    @cached_property
    def provider_gaps(self) -> dict[str, pd.DataFrame | None]:
        return {"gap 1": self._gap1(), "gap 2": self._gap2(), "gap 3": self._judged(
            self.inputs.standards, "standard", "target"), "gap 4": self._judged(
            self.inputs.promises, "promise", "target")}

    @property
    def missing_gaps(self) -> list[str]:
        need = {"gap 1": "a management survey (management)",
                "gap 2": "a service-standards table (standards)",
                "gap 3": "standards with KPI targets and KPI data (standards, kpi_data)",
                "gap 4": "published promises and KPI data (promises, kpi_data)"}
        return [f"{g}: needs {need[g]}" for g, v in self.provider_gaps.items() if v is None]

    def _gap1(self) -> pd.DataFrame | None:
        if self.inputs.management is None:
            return None
        m = self.inputs.management.frame.set_axis(
            [c.removeprefix(self.params.expectation_prefix) for c in
             self.inputs.management.frame.columns], axis=1)
        m = servqual.reverse_code(m[list(self.instrument["item"])], self.instrument,
                                  self.params.scale)
        m_dim, _ = servqual.dimension_scores(m, self.instrument, self.params.min_item_share)
        rows = []
        for dim in self.dims:
            r = compare.welch(self.E_dim[dim], m_dim[dim], self.params.alpha).iloc[0]
            rows.append({"dimension": dim, "customers_E": self.E_dim[dim].mean(),
                         "managers_E": m_dim[dim].mean(), "gap": r.estimate,
                         "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value})
        out = pd.DataFrame(rows)
        out["p_holm"] = compare.holm(out["p_value"])
        return out

    def _gap2(self) -> pd.DataFrame | None:
        s = self.inputs.standards
        if s is None:
            return None
        rows = []
        for dim in self.dims:
            part = s[s["dimension"] == dim]
            level = pd.to_numeric(part.get("level", pd.Series(dtype=str)), errors="coerce")
            e = self.E_dim[dim].mean()
            rows.append({"dimension": dim, "standards": len(part), "customers_E": e,
                         "standard_level": level.mean() if len(level.dropna()) else math.nan,
                         "gap": level.mean() - e if len(level.dropna()) else math.nan})
        return pd.DataFrame(rows)

    def _judged(self, table: pd.DataFrame | None, what: str, col: str) -> pd.DataFrame | None:
        if table is None or self.inputs.kpis is None:
            return None
        k = self.inputs.kpis.set_index("kpi")
        rows = []
        for r in table[table.get("kpi", "") != ""].itertuples():
            if r.kpi not in k.index:
                continue
            est = k.loc[r.kpi]
            status, certainty = judge(est.estimate, est.ci_low, est.ci_high, r.op,
                                      float(getattr(r, col)))
            rows.append({what: getattr(r, what), "dimension": getattr(r, "dimension", ""),
                         "kpi": r.kpi, "target": f"{tables.OPS[r.op]} "
                         f"{tables.fmt(float(getattr(r, col)), est.unit)}",
                         "delivered": tables.fmt_estimate(est.estimate, est.ci_low, est.ci_high,
                                                          est.unit),
                         "estimate": est.estimate, "status": status, "certainty": certainty})
        return pd.DataFrame(rows)

    # --- words -----------------------------------------------------------------------------------
    @cached_property
    def priorities(self) -> pd.DataFrame:
        """Dimensions ranked by (negative) gap × importance: where improving pays most."""
        g = self.dimension_gaps.set_index("dimension")
        imp = self.importance.set_index("dimension")
        weight = imp["stated"] if "stated" in imp else (imp["derived"] if "derived" in imp else
                                                        pd.Series(1 / len(self.dims),
                                                                  index=self.dims))
        out = pd.DataFrame({"gap": g["gap"], "ci_low": g["ci_low"], "ci_high": g["ci_high"],
                            "importance": weight})
        out["priority"] = (-out["gap"]).clip(lower=0) * out["importance"]
        return out.sort_values("priority", ascending=False).rename_axis(
            "dimension").reset_index()

    def summary_lines(self) -> list[str]:
        p = self.params
        n = len(self.table.frame)
        score = self.scores.set_index("key")
        sq = score.loc["unweighted"]
        lines = [f"**What was measured.** {n:,} customers rated {len(self.instrument)} items in "
                 f"{len(self.dims)} dimensions on a {p.scale[0]}–{p.scale[1]} scale, once for "
                 "what they expect (E) and once for what they perceived (P).",
                 f"**The customer gap.** Unweighted SERVQUAL {sq['mean']:+.2f} (95 % CI "
                 f"{sq['ci_low']:+.2f} to {sq['ci_high']:+.2f}): perceptions fall short of "
                 "expectations overall." if sq["mean"] < 0 else
                 f"**The customer gap.** Unweighted SERVQUAL {sq['mean']:+.2f}: perceptions "
                 "meet or exceed expectations overall."]
        if "weighted" in score.index:
            lines[-1] += f" Weighted by importance: {score.loc['weighted', 'mean']:+.2f}."
        lines.append("**Where to improve first** (largest shortfall weighted by importance):")
        for i, r in enumerate(self.priorities.head(3).itertuples(), 1):
            d = self.dimension_gaps.set_index("dimension").loc[r.dimension]
            lines.append(f"{i}. **{self.label(r.dimension)}**: expected {d.E:.2f}, perceived "
                         f"{d.P:.2f}, gap {r.gap:+.2f} ({100 * d.ci_level:.3g} % CI "
                         f"{d.holm_ci_low:+.2f} to {d.holm_ci_high:+.2f}, Holm "
                         f"{tables.fmt_p(d.p_holm)}) — **{d.verdict}**; importance "
                         f"{100 * r.importance:.0f} %.")
        weak = self.reliability[(self.reliability["measure"] == "P") &
                                (self.reliability["flag"] != "ok")]
        if len(weak):
            lines.append(f"Reliability below 0.7 for perceptions of "
                         f"{', '.join(map(self.label, weak['dimension']))}.")
        if self.cfa:
            c = self.cfa
            fit = "acceptably" if c["cfi"] >= 0.9 and c["rmsea"] <= 0.08 and \
                c["srmr"] <= 0.08 else "poorly"
            lines.append(f"The {len(self.dims)}-dimension structure fits the data {fit} "
                         f"(CFI {c['cfi']:.3f}, RMSEA {c['rmsea']:.3f}, SRMR {c['srmr']:.3f}).")
        for g, v in self.provider_gaps.items():
            if v is not None and g in ("gap 3", "gap 4") and len(v):
                met = int((v["status"] == "met").sum())
                lines.append(f"**{g.capitalize()}**: {met} of {len(v)} "
                             f"{'standards' if g == 'gap 3' else 'promises'} met by delivered "
                             "performance.")
        g1 = self.provider_gaps["gap 1"]
        if g1 is not None:
            worst = g1.loc[g1["gap"].abs().idxmax()]
            lines.append(f"**Gap 1**: managers' view of expectations differs most on "
                         f"{self.label(worst.dimension)} ({worst.managers_E:.2f} vs customers' "
                         f"{worst.customers_E:.2f}).")
        if self.missing_gaps:
            lines.append("Not assessed — " + "; ".join(self.missing_gaps) + ".")
        return lines

    def results(self) -> Results:
        res = Results.for_study(self.params, self.table, self.summary_lines(),
                                self.inputs.other_files)
        for r in self.dimension_gaps.itertuples():
            res.add(f"gap.{r.dimension}", f"{self.label(r.dimension)}: P − E", r.gap,
                    ci=(r.holm_ci_low, r.holm_ci_high), ci_level=r.ci_level, statistic=r.t,
                    statistic_name="t", p_value=r.p_value, p_adjusted=r.p_holm, n=r.n,
                    method="paired t; Holm across the dimensions, CI at the Holm step's level",
                    verdict=r.verdict, decided_by="paired_t", family="confirmatory",
                    sesoi=self.params.gap_sesoi)
        for r in self.item_gaps.itertuples():
            res.add(f"gap.item.{r.item}", f"{r.item}: P − E", r.gap, ci=(r.ci_low, r.ci_high),
                    statistic=r.t, statistic_name="t", p_value=r.p_value, n=r.n,
                    method=f"paired t; Holm p = {r.p_holm:.4g}", group={"dimension": r.dimension})
        for r in self.scores.itertuples():
            res.add(f"score.{r.key}", r.score, r.mean, ci=(r.ci_low, r.ci_high), n=r.n,
                    method="mean over respondents, t interval")
        for r in self.reliability.itertuples():
            res.add(f"alpha.{r.dimension}.{r.measure}", f"Cronbach's α, {r.dimension} "
                    f"({r.measure})", r.alpha, ci=(r.ci_low, r.ci_high), n=r.n,
                    method="Feldt CI", verdict=r.flag)
        if self.cfa:
            for k in ("cfi", "rmsea", "srmr"):
                res.add(f"cfa.{k}", f"CFA {k.upper()}", self.cfa[k], n=self.cfa["n"],
                        method="semopy, ML (Wishart)")
        for i, r in enumerate(self.priorities.itertuples(), 1):
            res.add(f"priority.{i}", f"priority {i}: {r.dimension}", r.priority,
                    method="−gap × importance")
        for g, v in self.provider_gaps.items():
            if v is None:
                continue
            for j, r in enumerate(v.itertuples()):
                if g in ("gap 1", "gap 2"):
                    res.add(f"{g.replace(' ', '')}.{r.dimension}", f"{g}: {r.dimension}", r.gap,
                            ci=(getattr(r, "ci_low", None), getattr(r, "ci_high", None)))
                else:
                    res.add(f"{g.replace(' ', '')}.{j}.{r.kpi}", f"{g}: {r.kpi}", r.estimate,
                            verdict=verdict_word(r.status, r.certainty))
        sq = self.scores.set_index("key").loc["unweighted"]
        res.headline = f"SERVQUAL {sq['mean']:+.2f}; first priority: " \
                       f"{self.label(self.priorities['dimension'].iloc[0])}"
        return res
