"""The control-group study with staggered adoption: units adopt at their own dates (a column or
a mapping in params), some never.

Per metric, the unit × period panel of ``ControlGroup.panel`` (the KPI engine for tickets,
durations on the log scale) goes to ``stats.staggered.att_gt`` (Callaway & Sant'Anna: each
cohort against the never-treated — or not-yet-treated — units; doubly robust with covariates),
``stats.staggered_agg.aggregate`` (overall, per cohort, by event time) with the multiplier
bootstrap clustered by unit, and ``stats.staggered_twfe`` (the naive two-way fixed-effects
estimate and its Goodman-Bacon decomposition, shown beside it). The verdict of each metric rests
on the overall ATT (the simple aggregation), judged as the 2 × 2 rows are (SESOI, equivalence,
Holm within the confirmatory family). Words in ``staggered_words``, report sections in
``staggered_views``, results.json in ``staggered_record``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sqresearch.designs.control_group import staggered_record, staggered_views, staggered_words
from sqresearch.designs.control_group.load import Metric, load, metrics_of, period_labels
from sqresearch.designs.control_group.staggered_load import (
    first_treated,
    period_sequence,
    unit_adoption,
)
from sqresearch.designs.control_group.study import ControlGroup
from sqresearch.io.errors import DataError, Problem, examples
from sqresearch.io.schemas import ControlGroupParams
from sqresearch.stats import staggered_twfe, verdicts
from sqresearch.stats.staggered import StaggeredDesignError, att_gt
from sqresearch.stats.staggered_agg import aggregate

#: below this many units in a cohort the simultaneous event-time band is too narrow
#: (stats.staggered: familywise error 13 % with 5 units per cohort, 8 % with 10, 6 % with 25)
BAND_MIN_UNITS = 25
COMPARISON_WORDS = {"never": "never-treated", "notyet": "not-yet-treated"}


@dataclass
class StaggeredResult:
    """Everything computed for one metric (overall or, without the extras, in a segment)."""

    metric: Metric
    panel: pd.DataFrame  # _unit, period, t (1..T), cohort (0 = never), value, treated, post
    att_gt: pd.DataFrame  # group, time, event_time, base, post, att, n_treated, n_comparison,
    #                       se, ci_low, ci_high, band_low, band_high, p_value, crit
    overall: pd.Series  # the simple aggregation: estimate, se, ci_low, ci_high, p_value
    group: pd.DataFrame | None = None  # level = cohort (first treated period index)
    dynamic: pd.DataFrame | None = None  # level = event time
    twfe: dict | None = None
    bacon: pd.DataFrame | None = None
    caveats: list[str] = field(default_factory=list)

    @property
    def primary(self) -> pd.Series:
        return self.overall


class StaggeredControlGroup(ControlGroup):
    """A control-group study whose units adopt at their own dates (``ControlGroup`` returns one
    when params give ``adoption_column`` or ``adoption``)."""

    staggered = True
    _views, _words, _record = staggered_views, staggered_words, staggered_record

    def __init__(self, params: ControlGroupParams, source: str = "notebook parameters"):
        p = params
        frame = self._start(p, source, load)
        frame["period"] = period_labels(frame, p)
        frame["_unit"] = frame[p.unit].astype(str)
        self.intervention = None
        self.periods = period_sequence(frame["period"])
        adoption, _ = unit_adoption(p, frame)
        self.adoption = adoption
        self.cohort, _ = first_treated(adoption, self.periods, p)  # 0 = never treated
        index = {q: i + 1 for i, q in enumerate(self.periods)}
        frame["treated"] = (frame["_unit"].map(self.cohort) > 0).astype(float)
        g = frame["_unit"].map(self.cohort)
        frame["post"] = ((g > 0) & (frame["period"].map(index) >= g)).astype(float)
        self.frame = frame
        self.metrics = metrics_of(p)

    def _post(self, panel: pd.DataFrame) -> pd.Series:
        """1.0 for a treated unit's periods from its adoption on."""
        g = panel["_unit"].map(self.cohort)
        t = panel["period"].map({q: i + 1 for i, q in enumerate(self.periods)})
        return ((g > 0) & (t >= g)).astype(float)

    # --- words the report needs ----------------------------------------------------------------
    @cached_property
    def period_word(self) -> str:
        """"month", "week" or "period": what one step of the panel is."""
        p = self.params
        if p.ticket_table:
            return p.panel_freq
        dates = pd.to_datetime(pd.Series(self.periods), errors="coerce", format="mixed")
        if len(dates) > 1 and dates.notna().all() and \
                pd.to_numeric(pd.Series(self.periods), errors="coerce").isna().all():
            days = float(np.median(np.diff(dates.to_numpy()).astype("timedelta64[D]")
                                   .astype(float)))
            return "month" if 27 <= days <= 32 else "week" if days == 7 else "period"
        return "period"

    @cached_property
    def cohort_sizes(self) -> pd.Series:
        """Units per cohort, indexed by the cohort's first treated period label."""
        g = self.cohort[self.cohort > 0]
        return g.map(lambda i: self.periods[i - 1]).value_counts().sort_index()

    def cohort_label(self, g: int) -> str:
        return self.periods[int(g) - 1]

    @property
    def comparison_words(self) -> str:
        return COMPARISON_WORDS[self.params.comparison]

    #: how the pre-trend test's covariance is obtained (the robustness section's caption)
    pretrend_covariance = ("the influence functions' covariance of the event-time estimates "
                           "with the universal base period; units are the clusters")

    @cached_property
    def sensitivity(self) -> dict:
        """Per metric: how robust its overall verdict is (``staggered_sensitivity``): joint
        pre-trend test and relative-magnitudes bounds on the event-time estimates, leave-one-
        unit-out, the specification table (comparison group, base period, covariates, TWFE)."""
        from sqresearch.designs.control_group import staggered_sensitivity

        return {m.name: staggered_sensitivity.of_metric(self, m) for m in self.metrics}

    # --- analysis ------------------------------------------------------------------------------
    def analyse(self, m: Metric, frame: pd.DataFrame | None = None,
                checks: bool = True) -> StaggeredResult:
        return analyse(self, m, frame, checks)

    def _segment_result(self, m: Metric, part: pd.DataFrame):
        """The analysis of one segment's units, or why it cannot be estimated (the segment's
        row is then "not estimable"); ``effects`` is ``ControlGroup``'s."""
        try:
            return self.analyse(m, part, checks=False)
        except StaggeredDesignError as exc:
            return exc.problems[0].what

    def _effect_row(self, m: Metric, segment: str, r, primary: bool) -> dict:
        p = self.params
        scale = "log" if m.log else "linear"
        panel = r.panel if isinstance(r, StaggeredResult) else \
            self.frame.assign(value=np.nan).iloc[:0]
        arms = self.cohort.loc[panel["_unit"].unique()] if len(panel) else self.cohort.iloc[:0]
        n_t, n_c = int((arms > 0).sum()), int((arms == 0).sum())
        text = (f"Callaway–Sant'Anna ATT (simple aggregation over the treated {self.period_word}s)"
                f", comparison: {self.comparison_words}, base period: {p.base_period}"
                + (f", doubly robust with {', '.join(p.covariates)}" if p.covariates else "")
                + f"; multiplier bootstrap clustered by unit (B={p.bootstrap.resamples})")
        if isinstance(r, StaggeredResult):
            o = r.overall
            inf = verdicts.wald(float(o["estimate"]), float(o["se"]), math.inf,
                                "multiplier_bootstrap", text, scale, n=n_t + n_c)
        else:
            inf = verdicts.not_estimable(f"not estimable in this segment: {r}", scale)
        kind = verdicts.kind_of(m.name, m.unit, m.log)
        sesoi, origin = self._sesoi(m, kind, panel) if len(panel) else \
            (verdicts.DEFAULT_SESOI[kind], "default")
        reason = (f"Staggered adoption: {len(self.cohort_sizes)} cohorts "
                  f"({n_t} treated units) against {n_c} {self.comparison_words} units; "
                  "inference by the multiplier bootstrap clustered by unit (R did's default).")
        return {"metric": m.name, "label": m.label, "segment": segment, "kind": kind,
                "unit": m.unit, "inference": inf,
                "estimator": "Callaway–Sant'Anna overall ATT", "estimate": inf.estimate,
                "method": inf.method, "method_text": inf.description, "reason": reason,
                "scale": scale, "clusters": n_t + n_c, "treated_clusters": n_t,
                "control_clusters": n_c, "direction": m.direction, "sesoi": sesoi,
                "sesoi_origin": origin, "sesoi_unit": verdicts.sesoi_unit(kind, m.unit),
                "margin": verdicts.margin_on_scale(sesoi, kind),
                "guardrail": m.name in p.guardrails,
                "family": "confirmatory" if segment == "all" and primary else "exploratory"}


def _balanced(study: StaggeredControlGroup, panel: pd.DataFrame, m: Metric) -> None:
    """A panel cell without a value (no tickets, a missing or non-positive value) cannot enter
    ATT(g, t): name the units and periods."""
    units = panel["_unit"].unique()
    have = set(zip(panel["_unit"], panel["period"], strict=True))
    missing = [f"{u} {q}" for u in units for q in study.periods if (u, q) not in have]
    if missing:
        p = study.params
        raise DataError(study.source, Problem(
            f"{p.data.path}, metric {m.name!r}",
            f"{len(missing)} unit × period cell(s) have no value"
            + (" (no positive value to take the log of)" if m.log else "")
            + f": {examples(missing)}; the staggered estimator needs every unit in every period.",
            "drop these units (data filters), or use a coarser panel_freq (month) so that "
            "every unit has data in every period."))


def analyse(study: StaggeredControlGroup, m: Metric, frame: pd.DataFrame | None = None,
            checks: bool = True) -> StaggeredResult:
    """ATT(g, t) of one metric with bootstrap inference and the overall ATT; with ``checks``
    also the cohort and event-time aggregations, TWFE and the Bacon decomposition."""
    p = study.params
    panel = study.panel(m, frame)
    _balanced(study, panel, m)
    index = {q: i + 1 for i, q in enumerate(study.periods)}
    panel["t"] = panel["period"].map(index)
    panel["cohort"] = panel["_unit"].map(study.cohort)
    gt = att_gt(panel, "_unit", "t", "value", "cohort", comparison=p.comparison,
                base=p.base_period, covariates=p.covariates)
    boot = {"resamples": p.bootstrap.resamples, "seed": p.seed, "alpha": p.alpha,
            "weights": "rademacher" if p.bootstrap.weights == "rademacher" else "mammen"}
    overall = aggregate(gt, "simple").summary(**boot).iloc[-1]
    result = StaggeredResult(m, panel, gt.summary(**boot), overall, caveats=list(gt.caveats))
    if not checks:
        return result
    result.group = aggregate(gt, "group").summary(**boot)
    lo, hi = p.event_window or (-np.inf, np.inf)
    result.dynamic = aggregate(gt, "dynamic", min_e=lo, max_e=hi).summary(**boot)
    result.dynamic = result.dynamic.merge(
        gt.table.groupby("event_time").size().rename("cohorts"), left_on="level",
        right_index=True, how="left")
    result.twfe = staggered_twfe.twfe(panel, "_unit", "t", "value", "cohort", alpha=p.alpha)
    result.bacon = staggered_twfe.bacon(panel, "_unit", "t", "value", "cohort")
    return result
