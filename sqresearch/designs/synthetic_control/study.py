"""The synthetic-control study: one treated unit (or a few, each on its own) against a weighted
mix of donor units (``stats.synth``), judged by placebos in space and in time
(``stats.synth_placebo``); several treated units from one date against few controls: synthetic
difference-in-differences (``stats.sdid``).

Unit × period tables only (a ready outcome per unit and period). The fits per outcome and
treated unit are in ``fits``; the verdict rows in ``effects``; the words in ``words``, the
report sections in ``views`` and results.json in ``record``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch.designs.synthetic_control import record, views, words
from sqresearch.designs.synthetic_control.load import Inputs, Outcome, in_time_shift, load
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import SyntheticControlParams
from sqresearch.stats import sdid, synth, synth_placebo, verdicts

STUDY_TYPE = "synthetic_control"


@dataclass(frozen=True)
class SynthFit:
    """One treated unit's synthetic control on one outcome, with its placebos."""

    outcome: Outcome
    treated: str
    fit: synth.SynthResult
    placebo: synth_placebo.PlaceboTest
    in_time: synth.SynthResult
    shift: int


@dataclass(frozen=True)
class SdidFit:
    """The treated units' synthetic DiD on one outcome, with its treated-vs-synthetic path."""

    outcome: Outcome
    result: sdid.SynthDiD
    gaps: pd.DataFrame  # period, post, treated, synthetic, gap


class SyntheticControl:
    """One synthetic-control study, computed once. ``summary()`` is the verdict table (tidy);
    the report sections are in ``views``; ``results()`` is results.json."""

    _summary_columns = ("metric", "treated", "estimate", "effect", "effect_pct", "ci_low",
                        "ci_high", "p_value", "rank", "n_units", "smallest_p", "pre_rmspe",
                        "poor_fit", "sesoi", "verdict", "method", "note")

    def __init__(self, params: SyntheticControlParams, source: str = "notebook parameters"):
        self.params, self.source = params, source
        self.inputs: Inputs = load(params, source)
        self.table = self.inputs.table
        self.outcomes = self.inputs.outcomes

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> SyntheticControl:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- fits ------------------------------------------------------------------------------------
    @property
    def design(self) -> str:
        return self.params.design

    @property
    def n_pre(self) -> int:
        return int(self.inputs.pre.sum())

    @property
    def n_post(self) -> int:
        return int((~self.inputs.pre).sum())

    @property
    def shift(self) -> int:
        return in_time_shift(self.params, self.n_pre)

    def outcome(self, name: str) -> Outcome:
        return next(m for m in self.outcomes if m.name == name)

    @staticmethod
    def outcome_unit(m: Outcome) -> str:
        """The unit the analysis scale is in (what gaps and RMSPEs are measured in)."""
        return "log points" if m.log else (m.unit or "outcome units")

    def fit_synth(self, m: Outcome, treated: str) -> SynthFit:
        """The synthetic control of ``treated`` on outcome ``m`` from the donor pool, its
        placebo-in-space test and its in-time placebo (``stats.synth``, ``synth_placebo``)."""
        i, p = self.inputs, self.params
        wide = i.panels[m.name].loc[[treated, *i.donors]]
        kw = {"pre": i.pre, "donors": i.donors, "covariates": i.covariates}
        fit = synth.synth_control(wide, treated, **kw)
        placebo = synth_placebo.placebo_in_space(wide, treated, **kw, pool=p.placebo.pool,
                                                 exclude_mspe=p.placebo.exclude_mspe, fit=fit)
        in_time = synth.in_time_placebo(wide, treated, shift=self.shift, **kw)
        return SynthFit(m, treated, fit, placebo, in_time, self.shift)

    def fit_sdid(self, m: Outcome) -> SdidFit:
        """The synthetic DiD of the treated units on outcome ``m`` (``stats.sdid``), and the
        treated average against its synthetic path (controls weighted by ω, shifted to the
        treated units' λ-weighted pre-period level): the mean post-period gap is τ̂."""
        i, p = self.inputs, self.params
        wide = i.panels[m.name].loc[[*i.donors, *i.treated]]
        res = sdid.synth_did(wide, i.treated, pre=i.pre, placebo_reps=p.placebo_reps,
                             seed=p.seed, alpha=p.alpha)
        tr = wide.loc[i.treated].to_numpy().mean(axis=0)
        co = res.unit_weights["weight"].to_numpy() @ wide.loc[i.donors].to_numpy()
        lam = res.time_weights["weight"].to_numpy()
        path = co + (lam @ tr[i.pre] - lam @ co[i.pre])
        gaps = pd.DataFrame({"period": i.periods, "post": ~i.pre, "treated": tr,
                             "synthetic": path, "gap": tr - path})
        return SdidFit(m, res, gaps)

    @cached_property
    def fits(self) -> dict[tuple[str, str], SynthFit | SdidFit]:
        """(outcome, treated unit) -> fit; synthetic DiD fits are under the unit 'treated'."""
        if self.design == "sdid":
            return {(m.name, "treated"): self.fit_sdid(m) for m in self.outcomes}
        return {(m.name, t): self.fit_synth(m, t) for m in self.outcomes
                for t in self.inputs.treated}

    # --- effects and verdicts --------------------------------------------------------------------
    def sesoi(self, m: Outcome) -> tuple[float, str, str]:
        """(SESOI in the shown unit, where it comes from, its unit)."""
        kind = verdicts.kind_of(m.name, m.unit, m.log)
        unit = verdicts.sesoi_unit(kind, m.unit)
        if m.name in self.params.sesoi:
            return self.params.sesoi[m.name], "declared", unit
        if kind in ("duration", "share"):
            return verdicts.DEFAULT_SESOI[kind], "default", unit
        wide = self.inputs.panels[m.name].loc[self.inputs.treated]
        value, origin = verdicts.sd_sesoi(pd.Series(wide.to_numpy()[:, self.inputs.pre].ravel()))
        return value, origin.replace("before period", "treated unit(s)' pre-periods"), unit

    def _levels(self, m: Outcome, gaps: pd.DataFrame) -> tuple[float, float]:
        """The average post-period effect in the outcome's unit and in % of the synthetic
        (counterfactual) level."""
        post = gaps[gaps["post"]]
        if m.log:
            level = float(np.mean(np.exp(post["treated"]) - np.exp(post["synthetic"])))
            return level, 100 * math.expm1(float(post["gap"].mean()))
        base = float(post["synthetic"].mean())
        scale = 100.0 if m.unit == "share" else 1.0
        pct = 100 * float(post["gap"].mean()) / base if base != 0 else math.nan
        return scale * float(post["gap"].mean()), pct

    def _synth_row(self, f: SynthFit) -> dict:
        m, pl, alpha = f.outcome, f.placebo, self.params.alpha
        effect, pct = self._levels(m, f.fit.gaps)
        good = (f.fit.effect < 0) == (m.direction == "lower")
        note = ""
        if f.fit.poor_fit:
            verdict = "inconclusive"
            note = ("poor pre-period fit: the synthetic unit does not reproduce the treated "
                    "unit's path, so the gap is not read as an effect")
        elif pl.p_value <= alpha:
            verdict = "improved" if good else "worsened"
        else:
            verdict = "inconclusive"
            if 1 / pl.n_units > alpha:
                note = (f"with {pl.n_units - 1} placebo units the smallest attainable p is "
                        f"1/{pl.n_units} = {1 / pl.n_units:.3f} > α = {alpha:g}: this test "
                        "cannot reach significance")
        return {"rank": pl.rank, "n_units": pl.n_units, "smallest_p": 1 / pl.n_units,
                "p_value": pl.p_value, "ci_low": math.nan, "ci_high": math.nan,
                "estimate": f.fit.effect, "effect": effect, "effect_pct": pct,
                "pre_rmspe": f.fit.pre_rmspe, "post_rmspe": f.fit.post_rmspe,
                "ratio": f.fit.ratio, "poor_fit": f.fit.poor_fit, "verdict": verdict,
                "note": note, "decided_by": "placebo_in_space",
                "method": (f"synthetic control; placebo-in-space p = rank/(J+1) of the post/pre "
                           f"RMSPE ratio ({pl.pool} pool" +
                           (f", placebos with a pre-MSPE over {pl.exclude_mspe:g}× the treated "
                            "unit's left out)" if pl.exclude_mspe else ")")),
                "n_donors": len(self.inputs.donors)}

    def _sdid_row(self, f: SdidFit, margin: float) -> dict:
        m, r, alpha = f.outcome, f.result, self.params.alpha
        inf = verdicts.wald(r.estimate, r.se, math.inf, "sdid_placebo_se",
                            "synthetic DiD, placebo standard error, normal CI",
                            "log" if m.log else "linear")
        d = verdicts.decide(inf, alpha, m.direction, margin)
        effect, pct = self._levels(m, f.gaps)
        pre = f.gaps[~f.gaps["post"]]["gap"].to_numpy()
        return {"rank": math.nan, "n_units": r.n_treated + r.n_control, "smallest_p": math.nan,
                "p_value": inf.p_value, "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                "estimate": r.estimate, "effect": effect, "effect_pct": pct,
                "pre_rmspe": float(np.sqrt(np.mean((pre - pre.mean()) ** 2))),
                "post_rmspe": math.nan, "ratio": math.nan, "poor_fit": False,
                "verdict": d["verdict"], "note": d["note"], "decided_by": "sdid_placebo_se",
                "method": (f"synthetic DiD (Arkhangelsky et al. 2021): placebo SE from "
                           f"{r.placebo_reps} draws, normal CI; equivalence by two one-sided "
                           "tests on the (1 − 2α) CI"), "n_donors": r.n_control}

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per outcome and treated unit (or 'treated' for synthetic DiD): the average
        post-period effect (analysis scale: estimate; outcome unit: effect; %: effect_pct), its
        inference, the pre-period fit and the verdict."""
        rows = []
        for (name, treated), f in self.fits.items():
            m = self.outcome(name)
            sesoi, origin, unit = self.sesoi(m)
            margin = verdicts.margin_on_scale(sesoi, verdicts.kind_of(m.name, m.unit, m.log)) \
                if np.isfinite(sesoi) else math.nan
            row = self._synth_row(f) if isinstance(f, SynthFit) else self._sdid_row(f, margin)
            rows.append({"metric": name, "label": m.label, "treated": treated, "unit": m.unit,
                         "direction": m.direction, "scale": "log" if m.log else "linear",
                         "sesoi": sesoi, "sesoi_origin": origin, "sesoi_unit": unit, **row})
        return pd.DataFrame(rows)

    def verdict(self, metric: str, treated: str | None = None) -> pd.Series:
        e = self.effects
        rows = e[(e["metric"] == metric) & ((e["treated"] == treated) if treated else True)]
        return rows.iloc[0]

    def summary(self) -> pd.DataFrame:
        """The verdicts, tidy: one row per outcome and treated unit."""
        return self.effects[list(self._summary_columns)].reset_index(drop=True)

    def plot(self, metric: str | None = None, treated: str | None = None):
        """The gap plot of one outcome and treated unit (default: the first)."""
        key = (metric or self.outcomes[0].name,
               treated or ("treated" if self.design == "sdid" else self.inputs.treated[0]))
        return views.gap_plot(self, self.fits[key])

    def _repr_html_(self) -> str:
        from sqresearch.report.tables import html

        return html(views.verdict_table(self), f"{self.params.title}: verdicts")

    def summary_lines(self) -> list[str]:
        return words.summary_lines(self)

    def caveats(self) -> list[str]:
        return words.caveats(self)

    def results(self):
        return record.results(self)
