"""The gap-model (SERVQUAL) study: the customer gap (P − E) over the instrument's dimensions,
reliability, the zone of tolerance, importance–performance, segments, the instrument's factor
structure (CFA), and the provider-side gaps 1–4 from whichever inputs are given.

``GapModel`` loads and holds the respondent tables and computes each part once (the
computations live in customer, measurement, importance and provider); ``present`` formats
what the template shows, one call per cell; ``record`` writes the summary and results.json.

Missing answers (``missing``): ``complete_case`` (default) keeps the respondents who answered
every E and P item, so every number in the report rests on the same people and the dimension
comparisons, SERVQUAL score, α and CFA are comparable; ``available_case`` keeps each
respondent wherever a dimension score exists (at least ``min_item_share`` of its items
answered), which uses more answers but gives each dimension its own n. Both are unbiased only
when answers are missing completely at random; the report states the n of every dimension.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from sqresearch.designs.gap_model import (
    customer,
    importance,
    measurement,
    present,
    present_context,
    present_measurement,
    provider,
    record,
)
from sqresearch.designs.gap_model.load import load
from sqresearch.io import params as params_mod
from sqresearch.io.schemas import GapModelParams
from sqresearch.report.results import Results
from sqresearch.stats import nonnested, servqual

STUDY_TYPE = "gap_model"


class GapModel(present.Presentation, present_context.ContextPresentation,
               present_measurement.MeasurementPresentation):
    """Everything the gap-model template shows, computed once; the presentation methods
    (``dimension_table()``, ``plot_gaps()`` …) come from :class:`present.Presentation`."""

    def __init__(self, params: GapModelParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.inputs = load(p, source)
        self.table = self.inputs.survey
        self.instrument = self.inputs.instrument
        self.dims = list(dict.fromkeys(self.instrument["dimension"]))
        E, P = self._block(p.expectation_prefix), self._block(p.perception_prefix)
        keep = servqual.complete_cases(E, P) if p.missing == "complete_case" else \
            pd.Series(True, index=E.index)
        self.frame = self.table.frame[keep]  # the respondents analysed
        self.E, self.P = E[keep], P[keep]
        self.G = self.P - self.E
        share = p.min_item_share
        self.E_dim, self.missing = servqual.dimension_scores(self.E, self.instrument, share)
        self.P_dim, _ = servqual.dimension_scores(self.P, self.instrument, share)
        self.G_dim = self.P_dim - self.E_dim
        self.used = servqual.respondents_used(self.E_dim, self.P_dim, len(E))
        self.A = self._block(p.adequate_prefix)[keep] if p.adequate_prefix else None
        self.D = self._block(p.desired_prefix)[keep] if p.desired_prefix else None

    def _block(self, prefix: str) -> pd.DataFrame:
        items = list(self.instrument["item"])
        out = self.table.frame[[prefix + i for i in items]].set_axis(items, axis=1)
        return servqual.reverse_code(out, self.instrument, self.params.scale)

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> GapModel:
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    def label(self, dim: str) -> str:
        return self.params.labels.get(dim, dim.capitalize())

    @property
    def points(self) -> pd.DataFrame | None:
        """Importance points per respondent and dimension (columns named by dimension)."""
        if not self.params.importance_prefix:
            return None
        cols = {self.params.importance_prefix + d: d for d in self.dims}
        return self.frame[list(cols)].rename(columns=cols)

    # --- the customer gap ------------------------------------------------------------------------
    @cached_property
    def item_gaps(self) -> pd.DataFrame:
        """Per item: mean E, P, gap with CI, paired t and Wilcoxon, Holm over items."""
        return customer.item_gaps(self.E, self.P, self.instrument, self.params.alpha)

    @cached_property
    def dimension_gaps(self) -> pd.DataFrame:
        """Per dimension: E, P, the gap with its paired t, Holm over the dimensions, verdict."""
        return customer.dimension_gaps(self.E_dim, self.P_dim, self.params.alpha,
                                       self.params.gap_sesoi)

    @cached_property
    def scores(self) -> pd.DataFrame:
        """SERVQUAL (unweighted, weighted) and SERVPERF with t CIs."""
        return customer.scores(self.G_dim, self.P_dim, self.points, self.params.alpha)

    # --- reliability and structure ---------------------------------------------------------------
    @property
    def _measures(self) -> dict[str, pd.DataFrame]:
        return {"E": self.E, "P": self.P, "gap": self.G}

    @cached_property
    def reliability(self) -> pd.DataFrame:
        return measurement.reliability(self.instrument, self._measures, self.params.alpha)

    @cached_property
    def difference_reliability(self) -> pd.DataFrame:
        """Per dimension: the reliability of the gap P − E from those of E and P."""
        return measurement.difference_reliability(self.instrument, self.E, self.P,
                                                  self.reliability)

    @cached_property
    def item_reliability(self) -> pd.DataFrame:
        return measurement.item_reliability(self.instrument, self._measures)

    @cached_property
    def cfa(self) -> dict | None:
        """CFA of the perception items (see ``measurement.cfa``); None when not requested."""
        return measurement.cfa(self.P, self.instrument) if self.params.cfa else None

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
        overall = self.frame[self.params.overall] if self.params.overall else None
        return importance.importance(self.P_dim, self.points, overall)

    @cached_property
    def predictive(self) -> nonnested.ModelComparison | None:
        """SERVQUAL vs SERVPERF: overall satisfaction regressed on the five gap scores vs on
        the five perception scores (R², adjusted R², Vuong, J tests, bootstrap ΔR²); None
        without an overall item."""
        p = self.params
        if not p.overall:
            return None
        gaps, perf = [f"gap:{d}" for d in self.dims], [f"P:{d}" for d in self.dims]
        data = pd.concat([self.frame[p.overall].rename("_overall"),
                          self.G_dim.set_axis(gaps, axis=1), self.P_dim.set_axis(perf, axis=1)],
                         axis=1)
        return nonnested.compare_models(data, "_overall", gaps, perf, ("SERVQUAL", "SERVPERF"),
                                        p.alpha, n_boot=2000, seed=p.seed)

    @cached_property
    def priorities(self) -> pd.DataFrame:
        """Dimensions ranked by (negative) gap × importance: where improving pays most."""
        return importance.priorities(self.dimension_gaps, self.importance)

    @property
    def _groups(self) -> dict[str, pd.Series]:
        return {seg: self.frame[seg] for seg in self.params.segments}

    @cached_property
    def segment_tests(self) -> pd.DataFrame:
        return importance.segment_tests(self.G_dim, self._groups, self.params.alpha)

    @cached_property
    def posthoc(self) -> pd.DataFrame:
        return importance.posthoc(self.G_dim, self._groups)

    # --- the provider-side gaps ------------------------------------------------------------------
    @cached_property
    def provider_gaps(self) -> dict[str, pd.DataFrame | None]:
        return provider.provider_gaps(self)

    @property
    def missing_gaps(self) -> list[str]:
        return provider.missing(self.provider_gaps)

    # --- the result object -----------------------------------------------------------------------
    def summary_lines(self) -> list[str]:
        return record.summary_lines(self)

    def results(self) -> Results:
        return record.results(self)

    def summary(self) -> pd.DataFrame:
        """Tidy: one row per recorded number (key, label, estimate, CI, p, n, unit)."""
        return self.results().summary

    def to_frame(self) -> pd.DataFrame:
        return self.summary()

    def plot(self):
        """The headline figure: the dimension gaps with their CIs."""
        return self.plot_gaps()

    def _repr_html_(self) -> str:
        return self.dimension_table()._repr_html_()
