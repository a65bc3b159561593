"""What the gap-model report shows about measurement quality beyond α: the reliability of the
gap as a difference score, SERVQUAL vs SERVPERF as predictors of overall satisfaction, and the
factor-level validity of the CFA (ω, AVE, HTMT). One call per template cell."""

from __future__ import annotations

import pandas as pd

from sqresearch.designs.gap_model import measurement
from sqresearch.designs.gap_model.present import Note, Table, num, p_text

DIFFERENCE_CAVEAT = (
    "**Gap scores are less reliable than the scales they come from.** A gap P − E subtracts "
    "two scores that share part of their true variation (the same customer's general "
    "attitude), so what remains carries relatively more measurement error — the more so the "
    "more E and P are correlated. Read individual customers' gaps with care; averages over "
    "many respondents (the dimension gaps above) are much less affected.")


class MeasurementPresentation:
    """Presentation methods of :class:`GapModel` for the difference-score reliability, the
    predictive comparison and the factor validity (mixed in)."""

    def difference_reliability_table(self) -> Table:
        d = self.difference_reliability
        frame = pd.DataFrame({
            "Dimension": self._names(d["dimension"]),
            "E: α / ω": [f"{a:.2f} / {o:.2f}" for a, o in zip(d["E_alpha"], d["E_omega"],
                                                             strict=True)],
            "P: α / ω": [f"{a:.2f} / {o:.2f}" for a, o in zip(d["P_alpha"], d["P_omega"],
                                                             strict=True)],
            "r(E, P)": d["r_PE"].map(lambda v: num(v)),
            "SD E / SD P": [f"{a:.2f} / {b:.2f}" for a, b in zip(d["sd_E"], d["sd_P"],
                                                                 strict=True)],
            "Gap P − E: reliability from α / from ω": [
                f"{a:.2f} / {o:.2f}" for a, o in zip(d["gap_alpha"], d["gap_omega"],
                                                      strict=True)],
            "Gap items: α": d["gap_items_alpha"].map(lambda v: num(v)),
            "n": d["n"].map("{:,}".format)})
        return Table(frame, "Reliability of the gap as a difference score: r_DD = (σ²_P r_PP "
                            "+ σ²_E r_EE − 2 r_PE σ_P σ_E) / (σ²_P + σ²_E − 2 r_PE σ_P σ_E)")

    def difference_caveat(self) -> Note:
        d = self.difference_reliability
        lower = d[d["lower_than_both"]]
        if len(lower) == len(d):
            tail = " Here every gap is less reliable than both its E and its P scale."
        else:
            tail = (f" Here {len(lower)} of {len(d)} gaps are less reliable than both their E "
                    "and P scales; the others lie between the two (E and P correlate only "
                    f"{d['r_PE'].min():.2f}–{d['r_PE'].max():.2f}).")
        return Note(DIFFERENCE_CAVEAT + tail)

    def predictive_table(self) -> Table | Note:
        c = self.predictive
        if c is None:
            return Note("SERVQUAL vs SERVPERF not compared: the survey has no overall "
                        "satisfaction or quality item (overall).")
        s = c.summary()
        frame = pd.DataFrame({
            "Predictors of overall satisfaction": ["SERVQUAL: the five gap scores (P − E)",
                                                   "SERVPERF: the five perception scores"],
            "R²": s["r2"].map(lambda v: num(v, 3)),
            "Adjusted R²": s["adj_r2"].map(lambda v: num(v, 3)),
            "J test: t of the other model's fit added": s["j_t"].map(num),
            "J test p": s["j_p"].map(p_text), "n": s["n"].map("{:,}".format)})
        return Table(frame, "SERVQUAL vs SERVPERF as predictors of overall satisfaction "
                            "(OLS; a significant J test means the model misses what the other "
                            "captures)")

    def predictive_md(self) -> Note:
        c = self.predictive
        if c is None:
            return Note("")
        lvl = f"{100 * c.ci_level:g} %"
        words = {None: "Neither predicts overall satisfaction clearly better",
                 "SERVPERF": "Perceptions alone (SERVPERF) predict overall satisfaction better "
                             "than the gaps (SERVQUAL)",
                 "SERVQUAL": "The gaps (SERVQUAL) predict overall satisfaction better than "
                             "perceptions alone (SERVPERF)"}[c.better]
        return Note(f"{words}: ΔR² = R²(SERVPERF) − R²(SERVQUAL) = {num(c.delta_r2, 3)} "
                    f"({lvl} bootstrap CI {num(c.ci[0], 3)} to {num(c.ci[1], 3)}, "
                    f"{c.n_boot:,} resamples); Vuong z = {num(c.vuong_z)} "
                    f"({p_text(c.vuong_p)}; z < 0 favours SERVPERF).")

    def factor_table(self) -> Table | Note:
        c = self.cfa
        if c is None:
            return Note("No factor reliabilities: the factor analysis was not requested.")
        f = c["factors"]
        frame = pd.DataFrame({"Dimension": self._names(f["dimension"]),
                              "Items": f["items"].map(str),
                              "ω (composite reliability)": f["omega"].map(lambda v: num(v, 3)),
                              "AVE": f["ave"].map(lambda v: num(v, 3)),
                              "√AVE": f["sqrt_ave"].map(lambda v: num(v, 3)),
                              "AVE ≥ 0.5": f["ave"].map(lambda v: "yes" if v >= 0.5 else "no")})
        return Table(frame, "Factor reliability and convergent validity (perception items; ω "
                            "≥ 0.7 and AVE ≥ 0.5 are the usual bars)")

    def htmt_table(self) -> Table | Note:
        c = self.cfa
        if c is None:
            return Note("No HTMT: the factor analysis was not requested.")
        h = c["htmt"].reindex(index=self.dims, columns=self.dims)
        frame = pd.DataFrame({"Dimension": self._names(self.dims)})
        for j, b in enumerate(self.dims):
            frame[self.label(b)] = [num(h.iloc[i, j], 3) if i > j else "" for i in
                                    range(len(self.dims))]
        high = [(a, b) for i, a in enumerate(self.dims) for b in self.dims[:i]
                if h.loc[a, b] > measurement.HTMT_BAR]
        note = ("; above the bar: " + ", ".join(f"{self.label(a)}–{self.label(b)}"
                                                for a, b in high)) if high else \
            "; every pair is below it"
        return Table(frame.drop(columns=self.label(self.dims[-1])),
                     f"Discriminant validity: HTMT ratios of the perception dimensions "
                     f"(Henseler et al. 2015; above {measurement.HTMT_BAR:g} questions it"
                     f"{note})")
