"""One parameter model per study type, built from the shared pieces (``schema_parts``). The
top-level fields of a study model are exactly the parameter names of its template notebook."""


from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from sqresearch.io.schema_parts import (
    WIDE_PERIOD,
    Bootstrap,
    CompositeIndexSpec,
    CustomMetric,
    DataSource,
    FilePath,
    Fraction,
    Goal,
    Label,
    Moment,
    Strict,
    StudyBase,
    Target,
    TicketSettings,
    VerdictSettings,
    Window,
    _label,
    positive_sizes,
)


class ScorecardParams(TicketSettings, StudyBase):
    """Service-level scorecard: KPIs per period and segment against targets."""

    study_type: Literal["scorecard"]
    data: DataSource
    periods: Literal["week", "month", "quarter"] = "month"
    segments: list[str] = Field(default_factory=list, description="columns to break KPIs down by")
    targets: list[Target] = Field(default_factory=list)
    series_freq: Literal["day", "week"] = "day"
    baseline: Window | None = Field(None, description="control-chart limits come from here")
    control_charts: list[str] = Field(default_factory=list, description="KPIs to chart")
    pareto: str | None = Field(None, description="role or column for the Pareto chart")
    pareto_complaints_only: bool = True
    index: CompositeIndexSpec | None = None
    labels: dict[str, str] = Field(
        default_factory=dict, description="kpi -> display name, e.g. frt_median: Waiting time")


_SEASON_PART = r"(weekday|month|fourier:[1-9][0-9]?)"
SEASONALITY = rf"auto|none|{_SEASON_PART}(\+{_SEASON_PART})*"


class ItsSpec(Strict):
    """Interrupted time series of KPIs on calendar time (sqresearch.stats.its)."""

    freq: Literal["day", "week", "month"] = Field(
        "week", description="period of the series: day, week (Monday start) or calendar month")
    metrics: list[str] = Field(min_length=1, description="KPIs of the KPI engine")
    seasonality: str = Field(
        "auto", validation_alias=AliasChoices("seasonality", "seasonal"),
        description="none | weekday | month | fourier:K, or several joined by '+'; auto: "
        "weekday dummies for daily series with 3+ weeks before, fourier:2 when the series "
        "spans 2+ years")
    errors: Literal["ar1", "newey-west"] | None = Field(
        None, description="ar1 (GLS with AR(1) errors on the calendar; the default) or "
        "newey-west (OLS with HAC errors; what giving lags selects)")
    lags: int | None = Field(None, ge=0, description="Newey–West lag (default: rule of thumb)")
    model: Literal["segmented", "structural"] = Field(
        "segmented", description="segmented regression, or a structural (state-space) "
        "counterfactual fitted on the before period")

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: str):
        v = str(v).strip().lower().replace(" ", "")
        if not re.fullmatch(SEASONALITY, v):
            raise ValueError(f"seasonality {v!r} is not understood | use none, auto, weekday, "
                             "month or fourier:K (K harmonic pairs, e.g. fourier:2), or several "
                             "joined by '+' (weekday+fourier:2).")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.errors == "ar1" and self.lags is not None:
            raise ValueError("lags is the Newey–West lag, but errors is ar1 | drop lags, or set "
                             "errors: newey-west.")
        if "weekday" in self.seasonality and self.freq != "day":
            raise ValueError(f"seasonality weekday needs a daily series, but freq is "
                             f"{self.freq} | set freq: day, or use seasonality: month or "
                             "fourier:K.")
        if self.model == "structural" and (self.errors or self.lags is not None):
            raise ValueError("errors and lags belong to the segmented model | drop them, or set "
                             "model: segmented.")
        return self

    @property
    def error_model(self) -> str | None:
        return self.errors or ("newey-west" if self.lags is not None else None)


class BeforeAfterParams(VerdictSettings, TicketSettings, StudyBase):
    """One service measured before and after an intervention."""

    study_type: Literal["before_after"]
    data: DataSource
    design: Literal["independent", "paired"] = "independent"
    unit: str | None = Field(None, description="unit id column (agents, branches): paired design")
    intervention: Moment | None = Field(
        None, description="first moment of the after period (ticket tables)")
    period_column: str | None = Field(
        None, description="column saying before/after: a unit table's period, or a ticket "
        "table's own pre/post column (the after period then starts at its first ticket)")
    before_value: Label = "before"
    after_value: Label = "after"
    washout_days_before: float = Field(0, ge=0, description="days before the intervention left out")
    washout_days_after: float = Field(0, ge=0, description="days after the intervention left out")
    filters: dict[str, list[Label]] = Field(default_factory=dict,
                                          description="column -> values kept, e.g. channel: [chat]")
    metrics: list[str] = Field(default_factory=list, description="built-in metrics (frt, ttr …)")
    custom_metrics: list[CustomMetric] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list, description="judged in each period")
    goals: list[Goal] = Field(default_factory=list)
    its: ItsSpec | None = None
    cluster: Literal["auto", "none"] | str | list[str] = Field(
        "auto", description="what tickets share shocks by: 'week' (calendar week of creation), "
        "a column such as agent, or two ([agent, week]); 'auto' clusters by week when each "
        "period spans at least 8 weeks; 'none' treats rows as independent")
    adjust_for: list[str] = Field(
        default_factory=list, description="case-mix columns (e.g. [channel, priority]): "
        "adjusted effects by regression beside the unadjusted ones")
    control_charts: list[str] = Field(default_factory=list, description="KPIs, before = baseline")
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    power: Fraction = Field(0.8, description="power for the minimum detectable effect")
    labels: dict[str, str] = Field(default_factory=dict, description="metric -> display name")

    @property
    def ticket_table(self) -> bool:
        """Tickets with timestamps (built-in KPIs), not a unit table of ready values."""
        return self.intervention is not None or bool(self.metrics)

    @model_validator(mode="after")
    def _design(self):
        if self.data.layout == "wide" and self.intervention is None:
            self.period_column = self.period_column or WIDE_PERIOD
        if (self.intervention is None) == (self.period_column is None):
            raise ValueError("give either intervention (a ticket table) or period_column (a unit "
                             "table) | e.g. intervention: 2026-04-01 or period_column: period.")
        if self.period_column and (self.washout_days_before or self.washout_days_after):
            raise ValueError("wash-out days need an intervention date; with period_column the "
                             "column decides each row's period | give the wash-out rows another "
                             "value in the column (they are then left out), or use intervention.")
        if self.design == "paired" and not self.unit:
            raise ValueError("the paired design needs the unit column | add unit: agent_id (the "
                             "column naming the agents, branches or customers).")
        if not self.metrics and not self.custom_metrics:
            raise ValueError("no metrics to compare | add metrics: [frt, fcr, …] or "
                             "custom_metrics.")
        return self


class ClusterBootstrap(Strict):
    resamples: int = Field(999, ge=99, le=99_999)
    weights: Literal["auto", "webb", "rademacher"] = "auto"


def _adoption_label(value):
    """An adoption written as a YAML date (2024-03-01) or a number (7) names a period."""
    if isinstance(value, dt.date):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) or \
            value.time() == dt.time() else value.isoformat(sep=" ")
    return _label(value)


AdoptionLabel = Annotated[str, BeforeValidator(_adoption_label)]


class ControlGroupParams(VerdictSettings, TicketSettings, StudyBase):
    """Treated and untreated units, before and after: difference-in-differences."""

    study_type: Literal["control_group"]
    data: DataSource
    unit: str = Field(description="unit id column (branch, agent, team): the clusters")
    treatment_column: str | None = Field(None, description="column: 1/true for treated units")
    treated_value: Label | None = Field(None, description="the treatment column's value for "
                                      "treated units (default: 1/true/yes/treated)")
    treated_units: list[Label] = Field(default_factory=list, description="or: the treated units")
    intervention: Moment | None = Field(None, description="start of the post period")
    period_column: str | None = Field(
        None, description="unit × period tables: the period; or a ticket table's own pre/post "
        "column (the post period then starts at its first ticket)")
    post_periods: list[Label] = Field(default_factory=list,
                                    description="period_column values counted as post")
    panel_freq: Literal["week", "month"] = "week"
    metrics: list[str] = Field(default_factory=list, description="KPIs (ticket tables)")
    custom_metrics: list[CustomMetric] = Field(default_factory=list)
    log_durations: bool = Field(True, description="durations on the log scale: effects in %")
    covariates: list[str] = Field(default_factory=list, description="numeric unit-level columns")
    segments: list[str] = Field(default_factory=list, description="unit-level columns")
    randomized: bool = Field(False, description="arms assigned at random (enables ANCOVA)")
    placebo_date: Moment | None = None
    bootstrap: ClusterBootstrap = Field(default_factory=ClusterBootstrap)
    targets: list[Target] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    # staggered adoption (designs/control_group/staggered.py): each unit's own adoption period
    adoption_column: str | None = Field(
        None, description="staggered adoption: a unit-level column with each unit's adoption "
        "date or period (empty for never-treated units)")
    adoption: dict[Label, AdoptionLabel] = Field(
        default_factory=dict, description="staggered adoption: unit -> adoption date or period "
        "(units not listed are never treated)")
    comparison: Literal["never", "notyet"] = Field(
        "never", description="staggered adoption: compare with never-treated units, or with "
        "never- and not-yet-treated units")
    base_period: Literal["varying", "universal"] = Field(
        "varying", description="staggered adoption: the period each ATT(g, t) is measured from "
        "(varying: t − 1 before adoption, g − 1 after; universal: g − 1 throughout)")
    event_window: tuple[int, int] | None = Field(
        None, description="staggered adoption: event times [−k, +k] shown and averaged")

    @property
    def staggered(self) -> bool:
        """Units adopt at their own dates (adoption_column or adoption given)."""
        return self.adoption_column is not None or bool(self.adoption)

    @property
    def ticket_table(self) -> bool:
        """Tickets with timestamps (built-in KPIs), not a unit table of ready values."""
        return self.intervention is not None or bool(self.metrics)

    def _staggered_design(self):
        if self.adoption_column is not None and self.adoption:
            raise ValueError("adoption given twice | give adoption_column (a column of the data) "
                             "or adoption (a unit -> date mapping), not both.")
        if self.intervention is not None or self.post_periods:
            raise ValueError("intervention / post_periods conflict with staggered adoption | each "
                             "unit's adoption date says when it starts: remove intervention and "
                             "post_periods.")
        if self.treatment_column is not None:
            raise ValueError("treatment_column conflicts with staggered adoption | the treated "
                             "units are those with an adoption date: remove treatment_column.")
        if self.adoption and self.treated_units and \
                set(self.treated_units) != set(self.adoption):
            only_t = sorted(set(self.treated_units) - set(self.adoption))
            only_a = sorted(set(self.adoption) - set(self.treated_units))
            raise ValueError("treated_units and adoption disagree | "
                             + (f"treated but no adoption date: {', '.join(only_t)}; " if only_t
                                else "")
                             + (f"an adoption date but not in treated_units: {', '.join(only_a)}; "
                                if only_a else "")
                             + "list the same units, or drop treated_units (the units in "
                             "adoption are the treated ones).")
        if self.randomized:
            raise ValueError("randomized conflicts with staggered adoption | the ANCOVA of a "
                             "randomized pre/post trial needs one common date: remove randomized.")
        if self.event_window is not None and not (self.event_window[0] <= 0
                                                  <= self.event_window[1]):
            raise ValueError(f"event_window {list(self.event_window)} must run from a negative "
                             "(or 0) to a positive event time | e.g. event_window: [-6, 6].")
        if not self.metrics and not self.custom_metrics:
            raise ValueError("no metrics | add metrics (KPIs) or custom_metrics (columns).")
        if not self.metrics and self.period_column is None:
            raise ValueError("a unit × period table needs its period column | give "
                             "period_column (the adoption dates name its values).")
        return self

    @model_validator(mode="after")
    def _design(self):
        if self.staggered:
            return self._staggered_design()
        if (self.treatment_column is None) == (not self.treated_units):
            raise ValueError("name the treated units one way | give treatment_column (a 0/1 "
                             "column) or treated_units (a list), not both and not neither.")
        if self.data.layout == "wide" and self.intervention is None:
            self.period_column = self.period_column or WIDE_PERIOD
            self.post_periods = self.post_periods or ["after"]
        if self.period_column is None and self.intervention is None:
            raise ValueError("no way to tell before from after | give intervention (a ticket "
                             "table) or period_column with post_periods (a unit × period table).")
        if self.period_column is not None and not self.post_periods and \
                self.intervention is None:
            raise ValueError("a unit × period table needs post_periods | e.g. post_periods: "
                             "[post].")
        if not self.metrics and not self.custom_metrics:
            raise ValueError("no metrics | add metrics (KPIs) or custom_metrics (columns).")
        return self


class TableSource(Strict):
    """A small CSV table given by path (standards, promises, an instrument)."""

    path: FilePath


class GapModelParams(TicketSettings, StudyBase):
    """The SERVQUAL gap model: expectations vs perceptions, and the provider-side gaps."""

    study_type: Literal["gap_model"]
    data: DataSource = Field(description="survey responses, one row per respondent")
    instrument: str | None = Field(None, description="items → dimensions CSV (default: the "
                                   "built-in 22-item instrument)")
    scale: tuple[int, int] = (1, 7)
    respondent_id: str | None = Field(None, description="column identifying respondents")
    expectation_prefix: str = "E_"
    perception_prefix: str = "P_"
    adequate_prefix: str | None = Field(None, description="zone of tolerance: adequate level")
    desired_prefix: str | None = Field(None, description="zone of tolerance: desired level")
    importance_prefix: str | None = Field(None, description="points per dimension, sum 100")
    overall: str | None = Field(None, description="overall satisfaction column")
    min_item_share: float = Field(0.5, gt=0, le=1, description="share of a dimension's items "
                                  "a respondent must answer for a dimension score")
    missing: Literal["complete_case", "available_case"] = Field(
        "complete_case", description="respondents with unanswered E/P items: complete_case "
        "(default) analyses only those who answered every E and P item, so every gap, score, α "
        "and the CFA rest on the same respondents; available_case keeps everyone whose dimension "
        "score exists (min_item_share), so each dimension has its own n")
    segments: list[str] = Field(default_factory=list)
    management: DataSource | None = Field(None, description="gap 1: managers' E answers")
    standards: TableSource | None = Field(None, description="gaps 2-3: the service standards")
    promises: TableSource | None = Field(None, description="gap 4: published promises")
    kpi_data: DataSource | None = Field(None, description="gaps 3-4: ticket or visit data")
    cfa: bool = Field(True, description="confirmatory factor analysis of the instrument")
    gap_sesoi: float = Field(0.25, gt=0, description="smallest gap (P − E, scale points) that "
                             "matters: a dimension whose gap's 90 % CI lies inside ± this "
                             "meets expectations")
    labels: dict[str, str] = Field(default_factory=dict, description="dimension -> name")


#: study_type -> parameter model. The template notebook is notebooks/<study_type>.ipynb.
STUDY_TYPES: dict[str, type[StudyBase]] = {"scorecard": ScorecardParams,
                                           "before_after": BeforeAfterParams,
                                           "control_group": ControlGroupParams,
                                           "gap_model": GapModelParams}


class SynthPlacebo(Strict):
    """The placebo checks of a synthetic control (sqresearch.stats.synth_placebo)."""

    pool: Literal["donors", "all"] = Field(
        "donors", description="a placebo unit's donors: the other donors (the treated unit left "
        "out, Abadie et al. 2010) or all other units (an exact permutation test)")
    exclude_mspe: float | None = Field(
        5, gt=1, description="placebos whose pre-period MSPE exceeds this multiple of the treated "
        "unit's are left out of the ranking (null: keep all)")
    in_time_shift: int | None = Field(
        None, ge=1, description="in-time placebo: the intervention moved this many periods "
        "earlier (default: half the pre-periods, at least 2)")


class SyntheticControlParams(StudyBase):
    """One treated unit (or a few, each on its own) against a weighted mix of untreated units:
    synthetic control; several treated units from one date: synthetic difference-in-
    differences."""

    study_type: Literal["synthetic_control"]
    data: DataSource = Field(description="a unit × period table with the outcome columns")
    unit: str = Field(description="unit id column (branch, team, region)")
    period_column: str = Field(description="the period column (numbers or ISO dates, one row "
                               "per unit and period)")
    treated_units: list[Label] = Field(min_length=1, description="the treated unit(s)")
    intervention_period: Label = Field(description="the first post period (a value of "
                                       "period_column)")
    outcomes: list[CustomMetric] = Field(min_length=1, description="outcome columns")
    log_durations: bool = Field(False, description="durations on the log scale (effects as % "
                                "changes of the ratio); default: in the outcome's unit")
    donors: list[Label] = Field(default_factory=list, description="the donor pool (default: "
                                "every untreated unit)")
    covariates: list[str] = Field(default_factory=list, description="numeric unit-level columns "
                                  "matched beside the pre-period outcomes")
    placebo: SynthPlacebo = Field(default_factory=SynthPlacebo)
    method: Literal["auto", "synth", "sdid"] = Field(
        "auto", description="synth (synthetic control per treated unit), sdid (synthetic DiD "
        "for several treated units from one date) or auto: synth for one treated unit, sdid "
        "for several")
    placebo_reps: int = Field(200, ge=50, le=10_000, description="synthetic DiD: placebo draws "
                              "for the standard error")
    sesoi: dict[str, float] = Field(
        default_factory=dict, description="outcome -> smallest effect of interest, in the unit "
        "the effect is shown in (% with log_durations); used by the synthetic DiD's "
        "equivalence test and stated beside every verdict")
    labels: dict[str, str] = Field(default_factory=dict, description="outcome -> display name")

    @field_validator("sesoi")
    @classmethod
    def _positive(cls, v: dict[str, float]):
        return positive_sizes(v, "{wait: 1.0}")

    @model_validator(mode="after")
    def _design(self):
        twice = sorted({u for u in self.treated_units if self.treated_units.count(u) > 1})
        if twice:
            raise ValueError(f"treated_units names {twice} more than once | list each treated "
                             "unit once.")
        both = sorted(set(self.treated_units) & set(self.donors))
        if both:
            raise ValueError(f"{both} are both treated and donors | a donor must be untreated: "
                             "remove them from donors.")
        dup = sorted({u for u in self.donors if self.donors.count(u) > 1})
        if dup:
            raise ValueError(f"donors names {dup} more than once | list each donor once.")
        names = [m.name for m in self.outcomes]
        again = sorted({n for n in names if names.count(n) > 1})
        if again:
            raise ValueError(f"outcomes name {again} more than once | give each outcome its own "
                             "name.")
        unknown = sorted((set(self.sesoi) | set(self.labels)) - set(names))
        if unknown:
            raise ValueError(f"sesoi/labels name {unknown}, which are not outcomes | use the "
                             f"outcome names: {names}.")
        return self

    @property
    def ticket_table(self) -> bool:
        """A unit × period table of ready values (the only layout this study reads)."""
        return False

    @property
    def sla(self) -> list:
        """No service-level KPIs: the outcomes are ready columns (the params cross-checks
        ask every study for its SLAs)."""
        return []

    @property
    def design(self) -> str:
        """synth or sdid: ``method`` with auto resolved by the number of treated units."""
        if self.method != "auto":
            return self.method
        return "synth" if len(self.treated_units) == 1 else "sdid"


STUDY_TYPES["synthetic_control"] = SyntheticControlParams

from sqresearch.io.monitor_schema import MonitorParams  # noqa: E402 (registered last)

STUDY_TYPES["monitor"] = MonitorParams
