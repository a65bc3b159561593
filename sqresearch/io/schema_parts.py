"""The pieces every study's parameters share: labels and identifiers, the data source, business
hours, SLAs, targets, goals, custom metrics, the composite index, the verdict settings.

Every model forbids unknown keys, so a misspelt key is an error (with a "did you mean") rather
than a silently ignored setting.
"""


from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Fraction = Annotated[float, Field(gt=0, lt=1)]
def _written_out(value):
    """Dates and times are written out ('2026-04-01', '09:00'): a bare number would be read as
    seconds since 1970, in UTC."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"{value!r} is a number, not a date or time | write dates as "
                         "YYYY-MM-DD, times as HH:MM, moments as YYYY-MM-DDTHH:MM:SS.")
    return value


def _local(value):
    """A moment or time of day in the data's local time (timestamps are compared naive)."""
    if getattr(value, "tzinfo", None) is not None:
        raise ValueError(f"{value.isoformat()} has a UTC offset | write it without the offset, "
                         "in the data's local time.")
    return value


#: a calendar day, a time of day and a moment, written out and (times) local
Day = Annotated[dt.date, BeforeValidator(_written_out)]
Clock = Annotated[dt.time, BeforeValidator(_written_out), AfterValidator(_local)]
Moment = Annotated[dt.datetime, BeforeValidator(_written_out), AfterValidator(_local)]
#: the data cut may carry an offset: it is converted to data.timezone (TicketSettings)
CutMoment = Annotated[dt.datetime, BeforeValidator(_written_out)]

#: a file path: no control characters (a NUL byte, an escape sequence), at most 1,024 characters
FilePath = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: one line of display text (a title): no control characters
OneLine = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: a paragraph of display text (a description): line breaks and tabs only
Paragraph = Annotated[str, Field(max_length=4000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]


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


_SUFFIXES = {"csv": "csv", "txt": "csv", "tsv": "csv", "parquet": "parquet", "pq": "parquet",
             "xlsx": "excel", "xls": "excel"}


def _suffix(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


#: the name of an environment variable (credentials are never written in params)
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
#: a table name, optionally qualified by its schema or database: sales.tickets
TableName = Annotated[str, Field(min_length=1, max_length=200,
                                 pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")]


class EngineTable(Strict):
    """A table on a database or on Spark, read through Ibis instead of a file."""

    backend: Literal["duckdb", "postgres", "spark"] = Field(
        description="duckdb (a database file), postgres (a server) or spark (local or a cluster)")
    table: TableName | None = Field(
        None, description="the table, optionally schema-qualified (sales.tickets); for spark "
        "give table or path")
    url_env: EnvName | None = Field(
        None, description="postgres: the environment variable holding the connection URL "
        "(postgresql://user:password@host:port/database); default SQR_POSTGRES_URL, else the "
        "libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. The URL is never "
        "written in params, printed or stored")
    database: FilePath | None = Field(
        None, description="duckdb: the database file (under a data folder), opened read-only")
    path: FilePath | None = Field(
        None, description="spark: Parquet or CSV files read by Spark (a file or a folder)")
    warehouse: FilePath | None = Field(
        None, description="spark: the catalog's folder (local mode; default: Spark's own)")

    @model_validator(mode="after")
    def _complete(self):
        b = self.backend
        needs = {"duckdb": ("table", "database"), "postgres": ("table",)}.get(b, ())
        missing = [k for k in needs if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {b} source needs {' and '.join(missing)} | e.g. source: "
                             + ("{backend: duckdb, database: data/warehouse.duckdb, table: "
                                "tickets}" if b == "duckdb" else
                                "{backend: postgres, table: public.tickets, url_env: "
                                "SQR_POSTGRES_URL}") + ".")
        if b == "spark" and (self.table is None) == (self.path is None):
            raise ValueError("a spark source needs table or path, not both | e.g. source: "
                             "{backend: spark, table: tickets} or {backend: spark, path: "
                             "data/tickets.parquet}.")
        foreign = [k for k, owner in (("url_env", "postgres"), ("database", "duckdb"),
                                      ("path", "spark"), ("warehouse", "spark"))
                   if getattr(self, k) is not None and b != owner]
        if foreign:
            raise ValueError(f"{', '.join(foreign)} do(es) not apply to a {b} source | remove "
                             "it, or set the backend it belongs to.")
        return self

    @property
    def where(self) -> str:
        """How messages name the table (never with credentials)."""
        if self.backend == "spark" and self.path is not None:
            return f"spark files {self.path}"
        return f"{self.backend} table {self.table}"


class DataSource(Strict):
    """One input table: a file, or a table on a database or Spark (``source``)."""

    path: FilePath | None = Field(None, description="file path, relative to the project root")
    source: EngineTable | None = Field(
        None, description="instead of path: a table on a database or Spark (backend, table, …)")
    engine: Literal["auto", "memory", "pushdown"] = Field(
        "auto", description="where rows are checked and KPIs computed: memory (pandas, every "
        "reading rule), pushdown (in DuckDB for a file, or in the source's engine: only "
        "aggregates come back; timestamps must be ISO 8601), auto: pushdown for tables of "
        "1,000,000 rows or more (scorecard and before/after studies)")
    format: Literal["csv", "parquet", "excel"] | None = Field(
        None, description="inferred from the file suffix when omitted")
    sheet: str | int | None = Field(None, description="Excel sheet name or index")
    columns: dict[str, str] = Field(default_factory=dict, description="role -> column in file")
    personal: dict[str, Literal["drop", "pseudonymise", "mask"]] = Field(
        default_factory=dict, description="personal-data column -> drop | pseudonymise | mask "
        "(free text kept with e-mails, phone numbers, ID, card and order numbers and the row's "
        "other personal values replaced by tokens such as ‹email›)")
    order_pattern: str | None = Field(
        None, description="a regular expression for order numbers masked in mask columns, e.g."
        " 'ORD-[0-9]{10}'")
    allow_personal: dict[str, str] = Field(
        default_factory=dict, description="column -> why it may be used and shown although it "
        "looks personal (an e-mail, phone, name, id or free-text column); the reason is printed "
        "in the report")
    missing_codes: dict[str, list[float]] = Field(
        default_factory=dict, description="role -> sentinel codes meaning 'no answer'")
    types: dict[str, Literal["number", "integer", "category", "text"]] = Field(
        default_factory=dict, description="column -> type for columns that are not roles "
        "(segments, covariates, units, periods); inferred from the values when omitted")
    timestamp_format: str | dict[str, str] | None = Field(
        None, description="how timestamps are written: one format for every timestamp column, "
        "or per column ({created: dayfirst, resolved: '%Y-%m-%d %H:%M'}, by role or column "
        "name); a strptime format, dayfirst (25/03/2026), monthfirst (03/25/2026) or iso8601. "
        "Omitted: ISO 8601, and dates such as 25/03/2026 only where a single reading fits")
    timezone: str | None = Field(
        None, description="the study's time zone (IANA name, e.g. Europe/Berlin): timestamps "
        "written with a UTC offset are converted to it, those without are read in it; omitted:"
        " mixed offsets are converted to UTC, with a warning")
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

    @field_validator("allow_personal")
    @classmethod
    def _reasons(cls, v: dict[str, str]):
        empty = [c for c, reason in v.items() if not str(reason).strip()]
        if empty:
            raise ValueError(f"no reason given for {empty} | write why the column may be shown, "
                             "e.g. allow_personal: {team_mailbox: 'shared team addresses, not "
                             "people'}; the reason is printed in the report.")
        return {c: str(reason).strip() for c, reason in v.items()}

    @field_validator("order_pattern")
    @classmethod
    def _order(cls, v: str | None):
        if v is None:
            return v
        import re

        try:
            re.compile(v)
        except re.error as err:
            raise ValueError(f"order_pattern {v!r} is not a regular expression ({err}) | write "
                             "one such as 'ORD-[0-9]{10}'.") from None
        return v

    @model_validator(mode="after")
    def _personal_or_allowed(self):
        both = sorted(set(self.personal) & set(self.allow_personal))
        if both:
            raise ValueError(f"{both} both declared personal and allowed | keep one: personal "
                             "(dropped or pseudonymised) or allow_personal (used as it is).")
        return self

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

    @field_validator("timestamp_format")
    @classmethod
    def _timestamp_format(cls, v):
        from sqresearch.io.timestamps import check_format

        if isinstance(v, dict):
            return {k: check_format(f) for k, f in v.items()}
        return None if v is None else check_format(v)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v):
        import zoneinfo

        if v is None:
            return v
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            import difflib

            close = difflib.get_close_matches(v, sorted(zoneinfo.available_timezones()), n=1)
            fix = f"did you mean {close[0]!r}?" if close else \
                "give an IANA name such as Europe/Berlin or UTC."
            raise ValueError(f"{v!r} is not a time zone | {fix}") from None
        return v

    def format_for(self, role: str, column: str) -> str | None:
        """The timestamp format of one column (by role or by the file's column name)."""
        f = self.timestamp_format
        return f.get(role, f.get(column)) if isinstance(f, dict) else f

    @property
    def where(self) -> str:
        """How messages name the table: the file path, or the backend and table."""
        return self.path if self.source is None else self.source.where

    @property
    def file_format(self) -> str:
        if self.source is not None:
            return self.source.backend
        if self.format:
            return self.format
        return _SUFFIXES.get(_suffix(self.path), "csv")

    @model_validator(mode="after")
    def _path_or_source(self):
        if (self.path is None) == (self.source is None):
            raise ValueError("give path (a file) or source (a table on a database), one of them"
                             " | e.g. path: data/tickets.csv, or source: {backend: postgres, "
                             "table: public.tickets}.")
        if self.source is not None:
            for key in ("format", "sheet") + (("decimal",) if self.decimal != "." else ()):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} describes a file; a {self.source.backend} table "
                                     f"has its own types | remove {key}.")
        return self

    @model_validator(mode="after")
    def _known_format(self):
        if self.path is None:
            return self
        suffix = _suffix(self.path)
        if self.format is None and suffix and suffix not in _SUFFIXES:
            raise ValueError(f"a .{suffix} file is not a table this tool reads | export it as "
                             "CSV, Parquet or Excel, or set format: csv if it is a CSV under "
                             "another name.")
        return self


class BusinessHours(Strict):
    """The working schedule used for business-hours clocks (local, naive timestamps)."""

    days: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: Clock = dt.time(9, 0)
    end: Clock = dt.time(18, 0)
    holidays: list[Day] = Field(default_factory=list)

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
    label: str | None = Field(None, max_length=120, description="display name, e.g. 'Served "
                              "within 10 min of arrival' (default: 'SLA: first response "
                              "within 10 minutes')")


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
    start: Day
    end: Day

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


class CustomerHistory(Strict):
    """How the ``customer_type`` segment (new / returning customers) reads the ticket history."""

    lookback_days: int | None = Field(
        None, ge=1, le=3650, description="a ticket is from a returning customer when the same "
        "customer had a ticket in the previous N days (default: anywhere in the history)")


BehaviourFeature = Literal["contacts_per_month", "channel_mix", "self_service_share",
                          "complaint_share", "tenure_days"]


class Behaviour(Strict):
    """How the ``behaviour`` segment clusters customers by their ticket history
    (``kpi.behaviour_segment``)."""

    k: Literal["auto"] | int = Field(
        "auto", description="number of segments, or auto: the best k in 2..8 by the method's "
        "criterion that is separated (silhouette >= 0.25) and stable (bootstrap ARI >= 0.6)")
    method: Literal["kmeans", "gmm"] = Field(
        "kmeans", description="kmeans (k by silhouette) or gmm (Gaussian mixture, k by BIC)")
    seed: int | None = Field(None, ge=0, description="seed of the fits and the bootstrap "
                             "(default: the study's seed)")
    features: list[BehaviourFeature] | None = Field(
        None, min_length=1, description="features clustered (default: every one the data "
        "allow); channel_mix stands for the share of each channel")
    channel: str = Field("channel", min_length=1, max_length=200,
                         description="the column naming each ticket's channel")
    self_service: str | list[Label] | None = Field(
        None, description="a 0/1 column flagging self-service tickets, or the channel values "
        "that are self-service (e.g. [app, web]); none: no self-service share")
    min_contacts: int = Field(3, ge=2, le=50, description="customers with fewer tickets are "
                              "not clustered ('too few contacts')")

    @field_validator("k", mode="before")
    @classmethod
    def _k(cls, v):
        if v == "auto" or (isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 8):
            return v
        raise ValueError(f"k {v!r} is neither auto nor a number of segments from 2 to 8 | "
                         "write k: auto, or a whole number from 2 to 8.")

    @field_validator("features")
    @classmethod
    def _once(cls, v):
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"features {v} name a feature twice | list each once.")
        return v


class StudyBase(Strict):
    """Keys every study type has."""

    study_type: str
    study_id: Identifier
    title: OneLine
    description: Paragraph = ""
    seed: int = Field(20260101, ge=0, description="seed for every random step")
    alpha: Fraction = Field(0.05, description="1 - confidence level of every interval")


class TicketSettings(Strict):
    """How tickets become KPIs: shared by every study type that reads a ticket table."""

    data_cut: CutMoment | None = Field(
        None, description="as-of time: open tickets are censored here (default: last timestamp)")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    fcr: Fcr = Field(default_factory=Fcr)
    scales: Scales = Field(default_factory=Scales)
    sla: list[Sla] = Field(default_factory=list)
    contact_noun: str = Field("ticket", pattern=r"^[a-z][a-z \-]{1,30}$", description="what one "
                              "row is called in the report's definitions (visit, call, case)")
    customer_history: CustomerHistory = Field(
        default_factory=CustomerHistory, description="the segment customer_type: new vs "
        "returning customers from each customer's ticket history (needs the customer_id role)")
    behaviour: Behaviour = Field(
        default_factory=Behaviour, description="the segment behaviour: customers clustered by "
        "their contact rate, channel mix, self-service and complaint shares and tenure (needs "
        "the customer_id role)")

    @model_validator(mode="after")
    def _local_data_cut(self):
        """A data cut written with a UTC offset, in the study's time zone (timestamps are
        compared as local time)."""
        cut = self.data_cut
        if cut is None or cut.tzinfo is None:
            return self
        src = getattr(self, "kpi_data", None) or getattr(self, "data", None)
        zone = getattr(src, "timezone", None)
        if zone is None:
            raise ValueError(f"data_cut {cut.isoformat()} has a UTC offset, but the study has no "
                             "time zone | write it without the offset, in the data's local "
                             "time, or set data.timezone (e.g. Europe/Berlin).")
        import zoneinfo

        self.data_cut = cut.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        return self


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
        return positive_sizes(v, "{frt: 5} (5 %)")


def positive_sizes(v: dict[str, float], example: str) -> dict[str, float]:
    """A ``sesoi`` mapping whose every value is a positive size (else the ParamsError text)."""
    bad = {k: x for k, x in v.items() if not x > 0}
    if bad:
        raise ValueError(f"a smallest effect of interest is a size, so it must be positive: "
                         f"{bad} | give e.g. sesoi: {example}, whichever direction is better.")
    return v
