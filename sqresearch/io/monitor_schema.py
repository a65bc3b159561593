"""The parameters of the weekly service-quality monitor (``study_type: monitor``): the report
week, its baseline, the alert rules, the complaint text, the ranking, the playbook and the PDCA
log. Registered in ``study_schemas.STUDY_TYPES``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sqresearch.io.schema_parts import (
    DataSource,
    FilePath,
    Fraction,
    Strict,
    StudyBase,
    TicketSettings,
)

ISO_WEEK = r"\d{4}-W(0[1-9]|[1-4][0-9]|5[0-3])"


class MonitorBaseline(Strict):
    """What this week is compared with."""

    weeks: int = Field(12, ge=4, le=104, description="the N complete weeks before the report "
                       "week (weeks of an alert that is still running are left out)")
    start: str | None = Field(None, pattern=rf"^{ISO_WEEK}$",
                              description="a fixed baseline instead: first ISO week, e.g. "
                              "2026-W01 (with end)")
    end: str | None = Field(None, pattern=rf"^{ISO_WEEK}$", description="last ISO week of a "
                            "fixed baseline")
    seasonal: bool = Field(False, description="also compare with the same week last year "
                           "(needs a year of history)")

    @model_validator(mode="after")
    def _fixed(self):
        if (self.start is None) != (self.end is None):
            raise ValueError("a fixed baseline needs both start and end | give both ISO weeks, "
                             "or neither (the previous weeks are used).")
        if self.start is not None and self.end < self.start:
            raise ValueError(f"baseline end {self.end} is before start {self.start} | swap "
                             "them.")
        return self


class AlertRules(Strict):
    """How many alerts a report may raise by chance, and which cells are judged."""

    control: Literal["per_cell", "bh"] = Field(
        "per_cell", description="per_cell: each cell's level is chosen so the expected false "
        "alerts per report stay at expected_false; bh: Benjamini–Hochberg across cells at q")
    expected_false: float = Field(0.5, gt=0, le=5, description="expected false alerts per "
                                  "report when nothing changed (per_cell)")
    q: Fraction = Field(0.05, description="false discovery rate (bh)")
    min_volume: int = Field(30, ge=5, description="cells with fewer tickets this week are not "
                            "judged (listed in the report)")
    min_weeks: int = Field(4, ge=2, description="baseline weeks with data a cell needs")
    history: int = Field(8, ge=1, le=26, description="past weeks checked to tell how long an "
                         "alert has been running")


class TextSpec(Strict):
    """The complaint free-text column: masked, segmented (jieba for Chinese), themed."""

    column: str = Field(description="the free-text column (declare it under data.personal "
                        "with policy mask)")
    user_dict: FilePath | None = Field(None, description="a jieba user dictionary (one word "
                                       "per line, optional frequency and tag)")
    stop_words: list[str] = Field(default_factory=list, description="extra words never counted")
    themes: int | Literal["auto"] = Field("auto", description="number of NMF themes, or auto "
                                          "(chosen by topic coherence, stated in the report)")
    weeks: int = Field(4, ge=1, le=26, description="recent weeks whose texts are compared with "
                       "the baseline's")

    @field_validator("themes")
    @classmethod
    def _k(cls, v):
        if v != "auto" and not 2 <= v <= 12:
            raise ValueError(f"themes is {v} | use auto or a number from 2 to 12.")
        return v


class Ranking(Strict):
    """Units compared on a funnel plot with bootstrap rank intervals."""

    by: str = Field(description="the segment whose levels are ranked, e.g. team")
    metric: str = Field("fcr", description="a binary or score metric (fcr, csat, sla_<name> …)")
    weeks: int = Field(13, ge=1, le=104, description="weeks up to the report week")
    resamples: int = Field(2000, ge=200, le=20000, description="bootstrap resamples of the "
                           "rank intervals")


class Play(Strict):
    """One line of the playbook: what to do when a metric deteriorates for a reason."""

    metric: str
    driver: Literal["rate", "mix", "any"] = Field(
        "any", description="rate: the cell itself got worse; mix: more tickets came from a "
        "slower or worse sub-segment; any: either")
    action: str = Field(min_length=3, max_length=400, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$")


class Pdca(Strict):
    """The improvement log (Plan–Do–Check–Act) checked every week."""

    log: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.csv$",
                     description="the log file in the project, e.g. pdca/weekly_monitor.csv")
    weeks_after: int = Field(4, ge=1, le=26, description="complete weeks after an action "
                             "starts before it is checked (and the weeks before it compared)")

    @field_validator("log")
    @classmethod
    def _inside(cls, v: str):
        if ".." in v.split("/") or v.startswith("/"):
            raise ValueError(f"log {v!r} leaves the project | give a path inside it, e.g. "
                             "pdca/weekly_monitor.csv.")
        return v


class MonitorParams(TicketSettings, StudyBase):
    """The weekly service-quality monitor: this week against its own baseline per cell."""

    study_type: Literal["monitor"]
    data: DataSource
    week: str = Field("latest", pattern=rf"^(latest|{ISO_WEEK})$", description="the report "
                      "week: latest (the last complete ISO week before the data cut) or an "
                      "ISO week such as 2026-W47 (`sqr run … --week` overrides it)")
    segments: list[str] = Field(min_length=1, max_length=3, description="columns whose cells "
                                "are judged, alone and crossed (e.g. team, channel)")
    metrics: list[str] = Field(default_factory=lambda: ["frt", "fcr", "csat"], min_length=1,
                               description="per-ticket metrics (frt, fcr, reopen, complaint, "
                               "csat, csat_top2, ces, nps, sla_<name>)")
    baseline: MonitorBaseline = Field(default_factory=MonitorBaseline)
    alerts: AlertRules = Field(default_factory=AlertRules)
    drift: list[str] = Field(default_factory=list, description="metrics also watched for slow "
                             "drifts (EWMA on weekly cell scores)")
    text: TextSpec | None = None
    ranking: Ranking | None = None
    playbook: list[Play] = Field(default_factory=list)
    pdca: Pdca | None = None
    top: int = Field(3, ge=1, le=10, description="problems shown in detail")

    @field_validator("segments")
    @classmethod
    def _distinct(cls, v: list[str]):
        if len(set(v)) != len(v):
            raise ValueError(f"segments {v} name a column twice | list each once.")
        return v

    @model_validator(mode="after")
    def _text_masked(self):
        if self.text is not None and self.data.personal.get(self.text.column) != "mask":
            raise ValueError(f"the text column {self.text.column!r} is free text that may hold "
                             "personal data | declare it under data.personal as "
                             f"{{{self.text.column}: mask}}.")
        return self


def latest_week(cut) -> str:
    """The last complete ISO week at ``cut`` (a datetime): its own week when the cut is the
    week's last second (Sunday 23:59:59) or later, else the week before. Plain datetime, so the
    runner can name a weekly study's folder without reading data."""
    import datetime as dt

    monday = dt.datetime.combine(cut.date() - dt.timedelta(days=cut.weekday()), dt.time())
    complete = cut + dt.timedelta(seconds=1) >= monday + dt.timedelta(days=7)
    day = monday if complete else monday - dt.timedelta(days=1)
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
