"""What the gap-model report shows about where the gap matters: the zone of tolerance,
importance–performance, segments, the provider-side gaps and the priorities (one call per
template cell; the number formats are present's)."""

from __future__ import annotations

import pandas as pd

from sqresearch.designs.gap_model.present import (
    Note,
    Table,
    _figure,
    gap_ci,
    mean_text,
    num,
    p_text,
    sg,
)
from sqresearch.report import plots, tables


class ContextPresentation:
    """Presentation methods of :class:`GapModel` for the zone, importance, segments, provider
    gaps and priorities (mixed in; they read its tables and ``_names``)."""

    # --- zone of tolerance, importance, segments -----------------------------------------------
    def plot_zone(self):
        if self.zone is None:
            return Note("No adequate and desired levels were collected (three-column format).")
        return _figure(plots.zone_chart(self.zone, {x: self.label(x) for x in self.dims},
                                        self.params.scale))

    def zone_table(self) -> Table | Note:
        z = self.zone
        if z is None:
            return Note("No zone of tolerance without adequate and desired levels.")
        frame = pd.DataFrame({"Dimension": self._names(z["dimension"]),
                              **{k: z[c].map(mean_text) for k, c in (
                                  ("Perceived", "perceived"), ("Adequate", "adequate"),
                                  ("Desired", "desired"))},
                              "MSA (P − adequate)": z["msa"].map(sg),
                              "MSS (P − desired)": z["mss"].map(sg),
                              "Position": z["position"]})
        return Table(frame, "Zone of tolerance by dimension, scale points")

    def plot_importance(self):
        import matplotlib.pyplot as plt

        imp = self.importance
        cols = [c for c in ("stated", "derived") if c in imp]
        if not cols:
            return Note("No importance points or overall satisfaction were collected.")
        fig, axes = plt.subplots(1, len(cols), figsize=(6.2 * len(cols), 4.8),
                                 layout="constrained", squeeze=False)
        for ax, col in zip(axes[0], cols, strict=True):
            plots.ipa_grid(imp, col, {x: self.label(x) for x in self.dims},
                           f"{col.capitalize()} importance vs performance", ax=ax)
            ax.margins(x=0.2, y=0.2)  # the point labels and corner notes stay apart
        return _figure(fig)

    def importance_table(self) -> Table:
        imp = self.importance
        frame = pd.DataFrame({"Dimension": self._names(imp["dimension"]),
                              "Performance (mean P)": imp["performance"].map(mean_text)})
        for col in ("stated", "derived"):
            if col in imp:
                frame[f"{col.capitalize()} importance"] = imp[col].map(
                    lambda v: tables.fmt(v, "share"))
                frame[f"Quadrant ({col})"] = imp[f"quadrant_{col}"]
        return Table(frame, "Importance–performance (importance as % of the total weight)")

    def segment_table(self) -> Table | Note:
        st = self.segment_tests
        if st.empty:
            return Note("No segments were set for this study.")
        frame = pd.DataFrame({
            "Segment": st["segment"], "Dimension": self._names(st["dimension"]),
            "Test": st["test"], "Statistic": st["statistic"].map(num),
            "Difference (95 % CI)": [
                f"{r.levels[1]} − {r.levels[0]}: {gap_ci(r.difference, r.ci_low, r.ci_high)}"
                if r.test == "Welch t" else "" for r in st.itertuples()],
            "p": st["p_value"].map(p_text), "p (Holm)": st["p_holm"].map(p_text),
            "Mean gap by group": st["means"].map(
                lambda m: "; ".join(f"{k}: {sg(v)}" for k, v in m.items()))})
        return Table(frame, "Dimension gaps compared between segments, scale points (Holm "
                            "across the dimensions within each segment)")

    def posthoc_table(self) -> Table | Note:
        ph, p = self.posthoc, self.params
        if ph.empty:
            return Note("No segment has more than two groups: no pairwise comparisons.")
        sig = ph[ph["p_corr"] < p.alpha]
        head = (f"Pairwise Welch tests (Holm within each dimension): {len(sig)} of "
                f"{len(ph)} pairs differ at α = {p.alpha:g}")
        if sig.empty:
            return Note(head + ".")
        frame = pd.DataFrame({"Segment": sig["segment"],
                              "Dimension": self._names(sig["dimension"]),
                              "Pair": sig["A"] + " vs " + sig["B"],
                              "t": sig["T"].map(num),
                              "p (Holm)": sig["p_corr"].map(p_text)})
        return Table(frame, head + "; the pairs that differ")

    # --- the provider-side gaps and priorities -------------------------------------------------
    def gap1_table(self) -> Table | Note:
        g = self.provider_gaps["gap 1"]
        if g is None:
            return Note("Gap 1 not assessed: it needs a management survey (management).")
        frame = pd.DataFrame({
            "Dimension": self._names(g["dimension"]),
            "Customers' E": g["customers_E"].map(mean_text),
            "Managers' E": g["managers_E"].map(mean_text),
            "Gap 1: managers − customers (95 % CI)": [
                gap_ci(r.gap, r.ci_low, r.ci_high) for r in g.itertuples()],
            "p (Holm)": g["p_holm"].map(p_text)})
        return Table(frame, "Gap 1 (knowledge): managers' view of expectations, scale points")

    def gap2_table(self) -> Table | Note:
        g = self.provider_gaps["gap 2"]
        if g is None:
            return Note("Gap 2 not assessed: it needs a service-standards table (standards).")
        frame = pd.DataFrame({"Dimension": self._names(g["dimension"]),
                              "Written standards": g["standards"].map(str),
                              "Customers' E": g["customers_E"].map(mean_text),
                              "Standard level": g["standard_level"].map(mean_text),
                              "Gap 2: standard − E": g["gap"].map(sg)})
        none = g[g["standards"] == 0]
        note = (" No written standard for " + ", ".join(self._names(none["dimension"])) +
                ".") if len(none) else ""
        return Table(frame, "Gap 2 (standards): standards against expectations, scale points."
                     + note)

    def delivery_table(self, gap: str) -> Table | Note:
        """Gap 3 (``"gap 3"``: standards) or gap 4 (``"gap 4"``: promises)."""
        g = self.provider_gaps[gap]
        what = "standard" if gap == "gap 3" else "promise"
        if g is None or g.empty:
            return Note(f"{gap.capitalize()} not assessed: it needs {what}s with KPI targets "
                        "and KPI data.")
        frame = pd.DataFrame({
            what.capitalize(): g[what], "Dimension": [self.label(d) if d else "" for d in
                                                      g["dimension"]],
            "KPI": g["label"],
            "Target": [f"{tables.OPS[r.op]} {tables.fmt(r.target, r.unit)}"
                       for r in g.itertuples()],
            "Delivered (95 % CI)": [tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)
                                    for r in g.itertuples()],
            "Status": g["status"], "Certainty": g["certainty"]})
        kind = "delivery" if gap == "gap 3" else "communication"
        return Table(frame, f"{gap.capitalize()} ({kind}): delivered performance against each "
                            f"{what}")

    def priorities_table(self) -> Table:
        pr = self.priorities
        basis = pr["basis"].iloc[0]
        frame = pd.DataFrame({
            "Rank": pr["rank"].map(str), "Dimension": self._names(pr["dimension"]),
            "Gap P − E (CI at its Holm level)": [gap_ci(r.gap, r.ci_low, r.ci_high)
                                                 for r in pr.itertuples()],
            "Importance": pr["importance"].map(lambda v: tables.fmt(v, "share")),
            "Priority score": pr["priority"].map("{:.3f}".format)})
        return Table(frame, "Improvement priorities: priority = shortfall (−gap, 0 if none) × "
                            f"{basis} importance")
