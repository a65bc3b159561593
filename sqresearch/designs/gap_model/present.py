"""What the gap-model report shows, one call per template cell: formatted tables (labels,
units in the headers, one number format per kind of number) and labelled figures.

Numbers: scale means with two decimals; gaps and differences signed ('−0.45'); shares as
'%'; p-values '0.012' / '< 0.001'; α, r and fit indices with two or three decimals."""

from __future__ import annotations

import pandas as pd

from sqresearch.report import plots, tables
from sqresearch.report.safe import markdown_html

MEASURES = {"E": "Expectations", "P": "Perceptions", "gap": "Gap (P − E)"}


class Table:
    """A formatted table with its caption; displays as an escaped HTML table."""

    def __init__(self, frame: pd.DataFrame, caption: str):
        self.frame, self.caption = frame.reset_index(drop=True), caption

    def _repr_html_(self) -> str:
        return tables.html(self.frame, self.caption)

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.frame.to_string(index=False)}"


class Note:
    """A sentence in the report (Markdown)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return markdown_html(self.text)

    def __repr__(self) -> str:
        return self.text


def p_text(p) -> str:
    """A p-value in a table cell: '0.012', '< 0.001', '–' when not available."""
    if tables._nan(p):
        return "–"
    return tables.fmt_p(p).removeprefix("p = ").replace("p < ", "< ")


def sg(v) -> str:
    """A signed scale-point number with two decimals and a real minus: '−0.45', '+0.06'."""
    return "–" if tables._nan(v) else f"{v:+.2f}".replace("-", "−")


def num(v, digits: int = 2) -> str:
    return "–" if tables._nan(v) else f"{v:.{digits}f}".replace("-", "−")


def gap_ci(est, lo, hi) -> str:
    return f"{sg(est)} ({sg(lo)} to {sg(hi)})"


def mean_text(v) -> str:
    return "–" if tables._nan(v) else f"{v:.2f}"


def _figure(ax):
    import matplotlib.pyplot as plt

    fig = ax.figure if hasattr(ax, "figure") else ax
    plt.close(fig)  # shown once, as the cell's value
    return fig


class Presentation:
    """The presentation methods of :class:`GapModel` (mixed in; they read its tables)."""

    def _names(self, dims) -> list[str]:
        return [self.label(d) for d in dims]

    def summary_md(self) -> Note:
        return Note("\n\n".join(self.summary_lines()))

    # --- the instrument and the respondents used ---------------------------------------------
    def instrument_table(self) -> Table:
        ins, p = self.instrument, self.params
        frame = pd.DataFrame({"Item": ins["item"], "Dimension": self._names(ins["dimension"]),
                              "Wording": ins["wording"],
                              "Reverse-coded": ins["reverse"].map({True: "yes", False: ""})})
        return Table(frame, f"Instrument: {len(ins)} items, {len(self.dims)} dimensions, "
                            f"scale {p.scale[0]}–{p.scale[1]}")

    def respondents_table(self) -> Table:
        p = self.params
        u = self.used.merge(self.missing[["dimension", "items", "too_few_answers"]],
                            on="dimension", how="left")
        rule = ("complete cases: respondents who answered every E and P item"
                if p.missing == "complete_case" else
                f"available cases: a dimension score needs at least {100 * p.min_item_share:g}"
                " % of its items answered, in E and in P")
        frame = pd.DataFrame({
            "Dimension": [("All dimensions (SERVQUAL score)" if d == "all" else self.label(d))
                          for d in u["dimension"]],
            "Items": u["items"].map(lambda v: "" if tables._nan(v) else f"{v:.0f}"),
            "Respondents": u["respondents"].map("{:,}".format),
            "Used": u["used"].map("{:,}".format),
            "Left out": u["left_out"].map("{:,}".format)})
        return Table(frame, f"Respondents used per dimension (missing answers: {rule})")

    # --- the customer gap ----------------------------------------------------------------------
    def plot_gaps(self):
        """The gap per dimension with its Holm-level CI (scale points)."""
        d = self.dimension_gaps
        shown = d.assign(ci_low=d["holm_ci_low"], ci_high=d["holm_ci_high"])
        ax = plots.gap_profile(shown, {x: self.label(x) for x in self.dims})
        ax.get_legend().remove()  # the title says what the bars are: no legend over the data
        ax.set_title("The customer gap P − E by dimension, with each CI at its Holm level",
                     loc="left", fontsize=10)
        return _figure(ax)

    def dimension_table(self) -> Table:
        d, p = self.dimension_gaps, self.params
        frame = pd.DataFrame({
            "Dimension": self._names(d["dimension"]), "E (mean)": d["E"].map(mean_text),
            "P (mean)": d["P"].map(mean_text),
            "Gap P − E": d["gap"].map(sg),
            "CI (at its Holm level)": [f"{sg(r.holm_ci_low)} to {sg(r.holm_ci_high)}"
                                       for r in d.itertuples()],
            "CI level": d["ci_level"].map(lambda v: f"{100 * v:.3g} %"),
            "t": d["t"].map(num), "p (Holm)": d["p_holm"].map(p_text),
            "Wilcoxon p": d["wilcoxon_p"].map(p_text), "n": d["n"].map("{:,}".format),
            "Verdict": d["verdict"]})
        return Table(frame, "Dimension gaps in scale points (the confirmatory family; a gap "
                            f"within ± {p.gap_sesoi:g} points meets expectations)")

    def scores_table(self) -> Table:
        s = self.scores
        frame = pd.DataFrame({"Score": s["score"], "Mean (95 % CI)": [
            gap_ci(r.mean, r.ci_low, r.ci_high) if r.key != "servperf" else
            f"{r.mean:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f})" for r in s.itertuples()],
            "n": s["n"].map("{:,}".format)})
        return Table(frame, "Overall scores, scale points")

    def item_table(self) -> Table:
        i = self.item_gaps
        frame = pd.DataFrame({
            "Item": i["item"], "Dimension": self._names(i["dimension"]), "Wording": i["wording"],
            "E (mean)": i["E"].map(mean_text), "P (mean)": i["P"].map(mean_text),
            "Gap P − E": i["gap"].map(sg),
            "95 % CI": [f"{sg(r.ci_low)} to {sg(r.ci_high)}" for r in i.itertuples()],
            "p (Holm over items)": i["p_holm"].map(p_text),
            "Wilcoxon p": i["wilcoxon_p"].map(p_text), "n": i["n"].map("{:,}".format)})
        return Table(frame, "Item gaps in scale points (exploratory)")

    # --- reliability and structure -------------------------------------------------------------
    def reliability_table(self) -> Table:
        r = self.reliability
        cell = [f"{a:.2f} ({lo:.2f} to {hi:.2f})" for a, lo, hi in
                zip(r["alpha"], r["ci_low"], r["ci_high"], strict=True)]
        r = r.assign(cell=cell, omega_text=r["omega"].map(lambda v: num(v, 3)))
        wide = r.pivot(index="dimension", columns="measure", values="cell")
        wide = wide.reindex(index=self.dims, columns=list(MEASURES))
        om = r.pivot(index="dimension", columns="measure", values="omega_text").reindex(
            index=self.dims, columns=list(MEASURES))
        n = r.groupby("dimension", sort=False)["n"].min().reindex(self.dims)
        cols = {}
        for m in MEASURES:
            cols[f"{MEASURES[m]}: α (95 % CI)"] = wide[m].to_numpy()
            cols[f"{MEASURES[m]}: ω"] = om[m].to_numpy()
        frame = pd.DataFrame({"Dimension": self._names(self.dims), **cols,
                              "n": n.map("{:,}".format).to_numpy()})
        return Table(frame, "Cronbach's α with Feldt's 95 % CI and McDonald's ω (one-factor "
                            "ML) per dimension (0.7 is the usual bar)")

    def item_reliability_table(self) -> Table:
        ir = self.item_reliability[self.item_reliability["measure"] == "P"]
        frame = pd.DataFrame({"Dimension": self._names(ir["dimension"]), "Item": ir["item"],
                              "Item-total r (corrected)": ir["r_drop"].map("{:.3f}".format),
                              "α if deleted": ir["alpha_if_deleted"].map("{:.3f}".format)})
        return Table(frame, "Perception items: corrected item-total correlation")

    def cfa_table(self) -> Table | Note:
        c = self.cfa
        if c is None:
            return Note("The factor analysis was not requested (cfa: false).")
        frame = pd.DataFrame({"Index": ["CFI", "RMSEA", "SRMR", "χ² (ML, Wishart)", "df",
                                        "χ² scaled (Satorra–Bentler, robust ML)",
                                        "Scaling factor c", "p (scaled χ²)", "n"],
                              "Value": [f"{c['cfi']:.3f}", f"{c['rmsea']:.3f}",
                                        f"{c['srmr']:.3f}", f"{c['chi2']:.1f}",
                                        f"{c['df']:.0f}", f"{c['chi2_scaled']:.1f}",
                                        f"{c['scaling']:.3f}", p_text(c["p_scaled"]),
                                        f"{c['n']:,}"],
                              "Guide": ["≥ 0.90 (0.95 good)", "≤ 0.08 (0.06 good)", "≤ 0.08",
                                        "", "", "χ²_ML (normal, N) / c", "> 1: heavier tails "
                                        "than normal", "exact-fit test; large n rejects small "
                                        "misfits", "complete rows"]})
        return Table(frame, "Fit of the instrument's structure (perception items)")

    def loadings_table(self) -> Table | Note:
        if self.cfa is None:
            return Note("No loadings: the factor analysis was not requested.")
        ld = self.cfa["loadings"]
        return Table(pd.DataFrame({"Dimension": self._names(ld["dimension"]),
                                   "Item": ld["item"],
                                   "Standardized loading": ld["loading"].map("{:.3f}".format)}),
                     "Standardized loadings")
