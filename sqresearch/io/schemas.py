"""Typed parameter schemas, one per study type, built from shared pieces.

Every model forbids unknown keys, so a misspelt key is an error (with a "did you mean") rather
than a silently ignored setting. The top-level fields of a study model are exactly the parameter
names of its template notebook.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


def _label(value):
    """A value written in YAML as a number (2, 2.0) names the same period or level as "2"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int | float) else value


#: A period or level label: numbers are accepted unquoted and compared as text ("2" == 2).
Label = Annotated[str, BeforeValidator(_label)]
#: the period column a wide table is read into (values "before" and "after")
WIDE_PERIOD = "period"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

#: Column roles a ticket/contact table can have. ``columns`` in params maps a role to the file's
#: column name; a role left out is looked up under its own name.
TICKET_ROLES: dict[str, str] = {
    "ticket_id": "unique id of the ticket or contact",
    "created": "timestamp the ticket was opened (contact arrived)",
    "first_response": "timestamp of the first agent reply (service start)",
    "resolved": "timestamp of the last solve (service end); empty while open",
    "reopened": "number of times the ticket was reopened (or true/false)",
    "fcr_flag": "agent flag: resolved in the first contact (true/false)",
    "fcr_survey": "customer survey answer: resolved in the first contact (true/false)",
    "customer_id": "customer key, for the repeat-contact FCR rule",
    "csat": "satisfaction score (scale from params, default 1-5)",
    "nps": "likelihood to recommend, 0-10",
    "ces": "customer effort score (scale from params, default 1-7)",
    "complaint": "the contact is a complaint (true/false)",
    "category": "contact or complaint category (for the Pareto chart)",
}
REQUIRED_TICKET_ROLES = ("ticket_id", "created")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataSource(Strict):
    """One input table."""

    path: str = Field(description="file path, relative to the project root")
    format: Literal["csv", "parquet", "excel"] | None = Field(
        None, description="inferred from the file suffix when omitted")
    sheet: str | int | None = Field(None, description="Excel sheet name or index")
    columns: dict[str, str] = Field(default_factory=dict, description="role -> column in file")
    personal: dict[str, Literal["drop", "pseudonymise"]] = Field(
        default_factory=dict, description="personal-data column -> drop | pseudonymise")
    missing_codes: dict[str, list[float]] = Field(
        default_factory=dict, description="role -> sentinel codes meaning 'no answer'")
    types: dict[str, Literal["number", "integer", "category", "text"]] = Field(
        default_factory=dict, description="column -> type for columns that are not roles "
        "(segments, covariates, units, periods); inferred from the values when omitted")
    timestamp_format: str | None = Field(
        None, description="strptime format for timestamps; ISO 8601 when omitted")
    on_invalid: Literal["error", "exclude"] = Field(
        "error", description="invalid rows stop the run (error) or are excluded and counted")
    decimal: Literal[".", ","] = Field(
        ".", description="decimal separator of numbers in a CSV: '.' or ',' (3,5 — usually "
        "with ; as the delimiter)")
    layout: Literal["long", "wide"] = Field(
        "long", description="long: one row per unit and period; wide: one row per unit with "
        "each measure in a before and an after column (see wide)")
    wide: dict[str, tuple[str, str]] = Field(
        default_factory=dict, description="layout wide: measure -> [column before, column "
        "after], e.g. csat_mean: [csat_before, csat_after]; the table is read as one row per "
        "unit and period, the period in column 'period' (values before, after)")

    @model_validator(mode="after")
    def _layout(self):
        if self.layout == "wide" and not self.wide:
            raise ValueError("a wide table needs its before/after columns | add wide: "
                             "{measure: [column_before, column_after]}.")
        if self.wide and self.layout != "wide":
            raise ValueError("wide columns are given but layout is long | set layout: wide.")
        return self

    @field_validator("format", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.lower() if isinstance(v, str) else v

    @property
    def file_format(self) -> str:
        if self.format:
            return self.format
        suffix = self.path.lower().rsplit(".", 1)[-1]
        return {"csv": "csv", "txt": "csv", "parquet": "parquet", "pq": "parquet",
                "xlsx": "excel", "xls": "excel"}.get(suffix, "csv")


class BusinessHours(Strict):
    """The working schedule used for business-hours clocks (local, naive timestamps)."""

    days: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    holidays: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError("business_hours.end must be after business_hours.start | set e.g. "
                             "start: '09:00' and end: '18:00'.")
        if not self.days:
            raise ValueError("business_hours.days must name at least one weekday | e.g. "
                             "days: [mon, tue, wed, thu, fri].")
        return self


class Sla(Strict):
    """A service-level agreement on one clock: the share of tickets meeting it is a KPI."""

    name: Identifier = Field(description="the KPI is called sla_<name>")
    clock: Literal["first_response", "resolution"]
    within: float = Field(gt=0)
    unit: Literal["minutes", "hours"]
    business_hours: bool = False


class Target(Strict):
    """A target on a KPI, e.g. ``{kpi: fcr, op: '>=', value: 0.75}``."""

    kpi: str
    op: Literal[">=", "<="]
    value: float
    label: str | None = None


class Indicator(Strict):
    kpi: str
    direction: Literal["higher", "lower"] = Field(description="which way is better")


class Weights(Strict):
    method: Literal["expert", "ahp", "entropy"]
    values: dict[str, float] | None = Field(None, description="expert: kpi -> weight")
    matrix: list[list[float | str]] | None = Field(
        None, description="ahp: pairwise comparisons, rows/columns in indicator order")


class IndexBootstrap(Strict):
    resamples: int = Field(1000, description="bootstrap resamples of the tickets within each "
                           "unit for the index and rank intervals; 0 = no intervals")

    @field_validator("resamples")
    @classmethod
    def _range(cls, v: int):
        if v != 0 and not 200 <= v <= 100_000:
            raise ValueError(f"{v} resamples | use 0 (no intervals) or 200 to 100000.")
        return v


class CompositeIndexSpec(Strict):
    """The composite index: from the study's ticket KPIs per ``by`` unit, or from a ready
    indicator table (``table`` + ``unit``).

    The indicator table is a CSV with one row per unit: the ``unit`` column names the unit (text,
    unique, no blanks) and each indicator's ``kpi`` names a numeric column (no blanks). Its
    indices carry no bootstrap intervals (there are no tickets to resample).
    """

    by: str | None = Field(None, description="'period' or a segment column: the units that get "
                           "an index (ticket KPIs)")
    table: str | None = Field(None, description="CSV of units × indicators, path relative to "
                              "the project root; replaces the ticket KPIs")
    unit: str | None = Field(None, description="with table: the column naming the units")
    indicators: list[Indicator] = Field(min_length=2)
    weights: Weights
    bootstrap: IndexBootstrap = Field(default_factory=IndexBootstrap)

    @model_validator(mode="after")
    def _source(self):
        if self.table is None and self.by is None:
            raise ValueError("no units | give by (a segment or 'period') or table and unit.")
        if self.table is not None and (self.by is not None or self.unit is None):
            raise ValueError("a table index needs unit and no by | e.g. table: "
                             "data/indicators.csv, unit: branch.")
        return self

    @property
    def unit_name(self) -> str:
        """What the units are called: the segment, 'period' or the table's unit column."""
        return self.unit if self.table is not None else self.by


class Window(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("end is before start | swap the two dates.")
        return self


class Fcr(Strict):
    method: Literal["flag", "survey", "repeat_contact"] = "flag"
    repeat_window_days: int = Field(7, ge=1, le=90)


class Scales(Strict):
    csat: tuple[int, int] = (1, 5)
    ces: tuple[int, int] = (1, 7)


class StudyBase(Strict):
    """Keys every study type has."""

    study_type: str
    study_id: Identifier
    title: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(20260101, ge=0, description="seed for every random step")
    alpha: Fraction = Field(0.05, description="1 - confidence level of every interval")


class TicketSettings(Strict):
    """How tickets become KPIs: shared by every study type that reads a ticket table."""

    data_cut: dt.datetime | None = Field(
        None, description="as-of time: open tickets are censored here (default: last timestamp)")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    fcr: Fcr = Field(default_factory=Fcr)
    scales: Scales = Field(default_factory=Scales)
    sla: list[Sla] = Field(default_factory=list)


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


class CustomMetric(Strict):
    """A plain column compared between periods (e.g. a unit-level score)."""

    name: Identifier
    column: str
    type: Literal["duration", "continuous", "binary"]
    direction: Literal["higher", "lower"]
    unit: str = ""
    label: str | None = None
    range: tuple[float, float] | None = Field(None, description="valid values, e.g. [1, 5]")


class Goal(Strict):
    """An improvement goal: ``{metric: nps, change: 5, unit: absolute}`` (NPS +5 points) or
    ``{metric: ttr, change: -10, unit: percent}`` (resolution time −10 %)."""

    metric: str
    change: float
    unit: Literal["absolute", "percent"]
    label: str | None = None


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


class Bootstrap(Strict):
    resamples: int = Field(2000, ge=200, le=100_000)
    method: Literal["BCa", "percentile"] = "BCa"


class VerdictSettings(Strict):
    """How estimates become verdicts (shared/domain.md §7): the confirmatory family, the smallest
    effects of interest and the guardrail metrics."""

    primary: list[str] | None = Field(
        None, description="metrics forming the confirmatory family (Holm); default: all metrics."
        " The others, and every segment, are exploratory")
    sesoi: dict[str, float] = Field(
        default_factory=dict, description="metric -> smallest effect of interest, in the unit "
        "the effect is shown in: % for durations, percentage points for shares, points for NPS "
        "and scores (defaults: 5 %, 2 points, 3 NPS points, 0.1 score points)")
    guardrails: list[str] = Field(
        default_factory=list, description="metrics that must not get worse: judged by "
        "non-inferiority (not worse than -sesoi)")

    @field_validator("sesoi")
    @classmethod
    def _positive(cls, v: dict[str, float]):
        bad = {k: x for k, x in v.items() if not x > 0}
        if bad:
            raise ValueError(f"a smallest effect of interest is a size, so it must be positive: "
                             f"{bad} | give e.g. sesoi: {{frt: 5}} (5 %), whichever direction "
                             "is better.")
        return v


class BeforeAfterParams(VerdictSettings, TicketSettings, StudyBase):
    """One service measured before and after an intervention."""

    study_type: Literal["before_after"]
    data: DataSource
    design: Literal["independent", "paired"] = "independent"
    unit: str | None = Field(None, description="unit id column (agents, branches): paired design")
    intervention: dt.datetime | None = Field(
        None, description="first moment of the after period (ticket tables)")
    period_column: str | None = Field(None, description="column saying before/after (unit tables)")
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

    @model_validator(mode="after")
    def _design(self):
        if self.data.layout == "wide" and self.intervention is None:
            self.period_column = self.period_column or WIDE_PERIOD
        if (self.intervention is None) == (self.period_column is None):
            raise ValueError("give either intervention (a ticket table) or period_column (a unit "
                             "table) | e.g. intervention: 2026-04-01 or period_column: period.")
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


class ControlGroupParams(VerdictSettings, TicketSettings, StudyBase):
    """Treated and untreated units, before and after: difference-in-differences."""

    study_type: Literal["control_group"]
    data: DataSource
    unit: str = Field(description="unit id column (branch, agent, team): the clusters")
    treatment_column: str | None = Field(None, description="column: 1/true for treated units")
    treated_value: Label | None = Field(None, description="the treatment column's value for "
                                      "treated units (default: 1/true/yes/treated)")
    treated_units: list[Label] = Field(default_factory=list, description="or: the treated units")
    intervention: dt.datetime | None = Field(None, description="start of the post period")
    period_column: str | None = Field(None, description="unit × period tables: the period")
    post_periods: list[Label] = Field(default_factory=list,
                                    description="unit × period tables: labels counted as post")
    panel_freq: Literal["week", "month"] = "week"
    metrics: list[str] = Field(default_factory=list, description="KPIs (ticket tables)")
    custom_metrics: list[CustomMetric] = Field(default_factory=list)
    log_durations: bool = Field(True, description="durations on the log scale: effects in %")
    covariates: list[str] = Field(default_factory=list, description="numeric unit-level columns")
    segments: list[str] = Field(default_factory=list, description="unit-level columns")
    randomized: bool = Field(False, description="arms assigned at random (enables ANCOVA)")
    placebo_date: dt.datetime | None = None
    bootstrap: ClusterBootstrap = Field(default_factory=ClusterBootstrap)
    targets: list[Target] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _design(self):
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

    path: str


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
