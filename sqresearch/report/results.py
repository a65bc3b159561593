"""What a study reports: every headline number with estimate, CI, statistic, p-value, n, method.

A template builds a :class:`Results` and calls ``publish()`` in its last cell; the runner reads the
payload back from the executed notebook and writes ``results.json``. The JSON is deterministic
(sorted keys, no timestamps, NaN as null), so the same params and data give the same bytes.
Schema: ``docs/results-schema.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIME = "application/vnd.sqresearch.results+json"
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Result:
    key: str
    label: str
    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    statistic: float | None = None
    statistic_name: str | None = None
    p_value: float | None = None
    n: int | None = None
    unit: str = ""
    method: str = ""
    verdict: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    decided_by: str | None = None  # the inference the verdict rests on (verdict.* keys)
    family: str | None = None  # confirmatory (Holm) or exploratory
    p_adjusted: float | None = None
    sesoi: float | None = None  # smallest effect of interest, in the shown unit
    clusters: dict[str, int] | None = None  # cluster counts behind the inference


def _num(v) -> float | int | None:
    if v is None:
        return None
    if isinstance(v, np.integer | int) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


class Results:
    """Collects a study's results, in the order they were added; keys must be unique."""

    def __init__(self, study_id: str, study_type: str, alpha: float = 0.05):
        self.study_id, self.study_type, self.alpha = study_id, study_type, alpha
        self.items: dict[str, Result] = {}
        self.headline = ""
        self.summary_lines: list[str] = []
        self.inputs: list[dict] = []
        self.data_quality: list[dict] = []
        self.personal_data: list[dict] = []  # column, handling, reason (data.personal / allow)
        self.seed: int | None = None
        self.meeting_summary: str | None = None  # weekly studies: summary.md beside the report

    @classmethod
    def for_study(cls, params, table, summary_lines: list[str], more_inputs=()) -> Results:
        """A study's results with its identity, inputs (the main table's and ``more_inputs``),
        data quality and summary filled in."""
        res = cls(params.study_id, params.study_type, params.alpha)
        res.seed = params.seed
        res.inputs = [table.source.as_dict(), *(i.as_dict() for i in more_inputs)]
        res.data_quality = table.quality.to_dict("records")
        res.personal_data = list(getattr(table, "personal", []))
        res.summary_lines = summary_lines
        return res

    def add(self, key: str, label: str, estimate, *, ci=(None, None), statistic=None,
            statistic_name=None, p_value=None, n=None, unit="", method="", verdict=None,
            group=None, ci_level=None, decided_by=None, family=None, p_adjusted=None,
            sesoi=None, clusters=None) -> None:
        if key in self.items:
            raise KeyError(f"result key {key!r} recorded twice")
        lo, hi = ci
        level = None if _num(lo) is None and _num(hi) is None else \
            round(ci_level if ci_level is not None else 1 - self.alpha, 10)
        self.items[key] = Result(key, label, _num(estimate), _num(lo), _num(hi), level,
                                 _num(statistic), statistic_name, _num(p_value),
                                 None if n is None else int(n), unit, method, verdict,
                                 {k: str(v) for k, v in (group or {}).items()}, decided_by,
                                 family, _num(p_adjusted), _num(sesoi),
                                 None if clusters is None else
                                 {k: int(v) for k, v in clusters.items()})

    def add_kpis(self, table: pd.DataFrame, prefix: str = "kpi") -> None:
        """Record every row of a tidy KPI table (``kpi_table`` columns)."""
        for r in table.itertuples():
            group = {} if r.group_by == "all" else {r.group_by: r.group}
            key = ".".join([prefix, r.kpi] + ([f"{r.group_by}={r.group}"] if group else []))
            self.add(key, r.label, r.estimate, ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit,
                     method=r.method, group=group)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "study_id": self.study_id,
                "study_type": self.study_type, "ci_level": round(1 - self.alpha, 10),
                "seed": self.seed, "headline": self.headline, "summary": self.summary_lines,
                "inputs": self.inputs, "data_quality": self.data_quality,
                "personal_data": self.personal_data,
                "results": [asdict(r) for r in self.items.values()]} | (
                    {"meeting_summary": self.meeting_summary} if self.meeting_summary else {})

    def to_json(self) -> str:
        return to_json(self.to_dict())

    @property
    def summary(self) -> pd.DataFrame:
        """One row per result: key, label, estimate, ci_low, ci_high, p_value, n, unit."""
        cols = ["key", "label", "estimate", "ci_low", "ci_high", "p_value", "n", "unit"]
        return pd.DataFrame([{c: getattr(r, c) for c in cols} for r in self.items.values()],
                            columns=cols)

    def to_html(self) -> str:
        return self.summary.to_html(index=False, na_rep="–", escape=True)

    def _repr_html_(self) -> str:
        return self.to_html()

    def publish(self) -> None:
        """Display the payload in the notebook, where the runner picks it up."""
        from IPython.display import display

        text = f"{len(self.items)} results recorded for {self.study_id}"
        display({MIME: self.to_dict(), "text/plain": text}, raw=True)


def to_json(payload: dict) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def extract(nb) -> dict | None:
    """The published payload from an executed notebook (the last one wins), or None."""
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME in data:
                found = data[MIME]
    return found
