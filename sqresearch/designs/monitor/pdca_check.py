"""The automatic Check step of a PDCA item, and the Act step it proposes.

An item (a row of ``io.pdca.read_log(...).items``) names a KPI, a segment, the date its action
started and the cells the action covered. Once ``weeks_after_min`` complete ISO weeks have passed
since the action, the KPI is compared in **equal windows**: the n weeks right after the action
against the n weeks right before it, n = min(weeks available after, ``weeks_max``, weeks of
data before). The week in which the action started is left out unless it started on a Monday
(it is partly treated); the after window is the *first* n weeks after the action, so once n
reaches ``weeks_max`` the check no longer changes from week to week (a past report reruns
identically: ``through_week`` is the report's week).

- **Before/after** (the action covered the item's whole segment): the ticket-level effect of
  the before/after study, ``designs.before_after.effects`` — a regression on the after-period
  indicator clustered by calendar week (CR2, Bell–McCaffrey df: tickets of one week share
  shocks, domain.md §7) on the KPI's verdict scale (log values for response times: a ratio of
  geometric means, also for the median and p90 KPIs; 0/1 for shares; 100·(promoter − detractor)
  for NPS), or the ratio of restricted mean resolution times with a week-cluster bootstrap for
  resolution time (censored).
- **Difference-in-differences** (the action covered only some cells of the segment): the other
  cells are the controls. The weekly KPI of every cell (``kpi.engine.kpi_table``, log values for
  durations) forms a cell × week panel; the effect is the two-way fixed-effects interaction with
  the inference ``designs.control_group.inference.did_inference`` chooses for the cell counts
  (randomization inference below 5 treated or control cells — exact, but its p-value cannot go
  below 1 / C(cells, treated): with 1 treated of 8 cells no verdict is possible, and the
  sentence says so).

The verdict is ``stats.verdicts.decide`` at level ``alpha`` with the study's SESOI convention
(``verdicts.DEFAULT_SESOI`` unless ``sesoi`` is given, in display units). Act step:

- improved → **keep** (before/after) or **extend** to the other cells (DiD);
- worsened → **roll back**;
- inconclusive → **keep watching** while the window can still grow (n < ``weeks_max``), else
  **rethink** (no clear effect after the longest window);
- equivalent → **rethink** (the change is within ± SESOI: the action did not move the KPI);
- too few weeks → verdict "not checked", **keep watching**, with the weeks still needed;
- a DiD whose randomization test cannot reach p < α with these cells (1 treated of up to 19
  cells, 2 of 4 …) → **review** by hand (the estimate is shown; the verdict cannot be
  automatic) — or cover more cells; likewise, verdict "not checked", when the data hold fewer
  than ``weeks_after_min`` weeks before the action or no ticket of an action cell;
- a volume KPI (contacts: no better direction) → "not checked", **rethink** (pick a KPI with a
  direction).

Calibration (tests/test_pdca_check.py, full table in benchmarks/calibration_pdca.py): with no
effect the share of "improved" or "worsened" checks stays near α for both paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sqresearch.designs.before_after import effects
from sqresearch.designs.control_group.inference import did_inference
from sqresearch.io.errors import DataError, Problem, show
from sqresearch.io.pdca_rows import action_cells, parse_day, parse_segment, week_monday
from sqresearch.kpi import engine
from sqresearch.kpi.metrics import BUILTIN, MetricSpec
from sqresearch.report.tables import count
from sqresearch.stats import verdicts

ACTS = ("keep", "extend", "roll back", "keep watching", "rethink", "review")
NOT_CHECKED = "not checked"
#: KPI name -> the before/after metric its ticket-level check compares
_BA_METRIC = {"frt_mean": "frt", "frt_median": "frt", "frt_p90": "frt", "ttr_median": "ttr",
              "ttr_median_bh": "ttr_bh", "fcr": "fcr", "reopen_rate": "reopen",
              "csat_mean": "csat", "csat_top2": "csat_top2", "nps": "nps", "ces_mean": "ces",
              "complaints_per_1000": "complaint"}
_BA_KIND = {"duration": "duration", "censored": "censored", "binary": "share", "nps": "nps",
            "continuous": "score"}


class PdcaCheckError(DataError):
    """An item the tickets cannot check (a segment column the tickets do not have)."""


@dataclass(frozen=True)
class CheckResult:
    """The Check of one PDCA item. Estimates are in display units (``unit``): % change for
    durations, percentage points for shares, points for NPS and scores; NaN when not
    checked."""

    item_id: str
    kpi: str
    segment: str
    verdict: str  # a verdicts.WORDS word, or "not checked"
    estimate: float
    ci_low: float
    ci_high: float
    ci_level: float
    unit: str
    p_value: float
    sesoi: float
    method: str  # "before_after: cluster_robust_cr2", "did: randomization_inference" …
    method_text: str
    act: str  # one of ACTS
    sentence: str
    weeks_before: tuple[str, ...]
    weeks_after: tuple[str, ...]
    weeks_needed: int  # more complete weeks needed before the check can run (0: checked)
    treated_cells: tuple[str, ...]
    control_cells: tuple[str, ...]
    note: str

    @property
    def checked(self) -> bool:
        return self.verdict != NOT_CHECKED

    def summary(self) -> pd.DataFrame:
        """One row: every field, the week and cell tuples joined with ', '."""
        row = {k: ", ".join(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return pd.DataFrame([row])


def week_label(monday: date) -> str:
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def last_complete_week(data_cut) -> date:
    """The Monday of the last ISO week that ended before the data cut."""
    day = pd.Timestamp(data_cut).date()
    return day - timedelta(days=day.weekday() + 7)


def _kpi(name: str, ctx: engine.Context) -> engine.Kpi:
    k = engine.CATALOGUE.get(name)
    if k is None:
        sla = next((s for s in ctx.slas if f"sla_{s.name}" == name), None)
        if sla is None:
            raise PdcaCheckError("PDCA check", Problem("kpi", f"{show(name)} is not a KPI of "
                                                       "this study.", "fix the item's kpi."))
        k = engine.sla_kpi(sla)
    return k


def _spec(k: engine.Kpi) -> MetricSpec:
    if k.name in _BA_METRIC:
        return BUILTIN[_BA_METRIC[k.name]]
    column = "solved" if k.name == "resolution_rate" else k.name  # sla_<name>: its 0/1 column
    return MetricSpec(k.name, k.label, "binary", "share", k.direction, column)


def _cell_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """' & '-joined column=value of each row, columns sorted (a canonical cell name)."""
    if not columns:
        return pd.Series("all", index=frame.index)
    parts = [f"{c}=" + frame[c].astype(str) for c in sorted(columns)]
    out = parts[0]
    for p in parts[1:]:
        out = out + " & " + p
    return out


def _canonical(cell: Mapping[str, str]) -> str:
    return " & ".join(f"{k}={cell[k]}" for k in sorted(cell)) or "all"


def check_item(item: Mapping, tickets: pd.DataFrame, *, ctx: engine.Context,
               weeks_after_min: int, alpha: float, seed: int, weeks_max: int = 12,
               through_week: str | None = None, sesoi: float | None = None,
               resamples: int = 999, week: str = "week") -> CheckResult:
    """Check one PDCA item on the prepared tickets (``kpi.engine.prepare``; ``week`` the ISO
    week label column, derived from ``created`` when absent; segment columns as named by the
    item). ``ctx`` is the tickets' KPI context; ``through_week`` the report week (default: the
    last complete week before ``ctx.data_cut``); ``sesoi`` the smallest effect of interest in
    display units (default ``verdicts.DEFAULT_SESOI`` for the KPI's kind); ``resamples`` the
    bootstrap / randomization draws. Raises :class:`PdcaCheckError` for a segment column the
    tickets do not have."""
    item_id, name = str(item["id"]), str(item["kpi"])
    segment = str(item.get("segment") or "all")
    k = _kpi(name, ctx)
    base = dict(item_id=item_id, kpi=name, segment=segment, label=k.label)
    start_text = str(item.get("action_start") or "").strip()
    if not k.direction:
        return _not_checked(base, f"{k.label} is a volume with no better direction: it is not "
                            "checked automatically.", 0, "rethink")
    if not start_text:
        return _not_checked(base, "no action start date yet, so nothing to check.",
                            weeks_after_min, "keep watching")
    try:  # items from io.pdca.read_log are already checked; others get the same message
        start = parse_day(start_text)
        cells = action_cells(segment, str(item.get("action_segments") or ""))
        where = parse_segment(segment)
    except ValueError as exc:
        raise PdcaCheckError(f"PDCA item {item_id}", Problem(
            "action_start, segment or action_segments", f"{exc}.",
            "fix the item in the PDCA log (io.pdca.read_log names the line).")) from None
    columns = sorted(cells[0])
    missing = [c for c in columns if c not in tickets]
    if missing:
        raise PdcaCheckError(f"PDCA item {item_id}", Problem(
            "segment", f"names the column {show(missing[0])}, which the tickets do not have.",
            f"use segment columns of the data: {', '.join(map(str, tickets.columns[:20]))}."))
    weeks = tickets[week] if week in tickets else engine.period_labels(tickets["created"],
                                                                       "week")
    through = week_monday(through_week) if through_week else last_complete_week(ctx.data_cut)
    action_week = start - timedelta(days=start.weekday())
    first_after = action_week if start == action_week else action_week + timedelta(days=7)
    last_before = action_week - timedelta(days=7)
    k_after = max(0, (through - first_after).days // 7 + 1)
    if k_after < weeks_after_min:
        need = weeks_after_min - k_after
        return _not_checked(base, f"{count(k_after, 'complete week')} since the action started on "
                            f"{start}; {need} more needed (at least {weeks_after_min}).", need,
                            "keep watching")
    keep = np.ones(len(tickets), dtype=bool)
    for c, v in where.items():
        keep &= (tickets[c].astype(str) == v).to_numpy()
    universe = tickets.loc[keep].assign(_week=weeks[keep])
    first_data = min((week_monday(w) for w in universe["_week"].dropna().unique()),
                     default=first_after)
    k_before = max(0, (last_before - first_data).days // 7 + 1)
    if k_before < weeks_after_min:
        return _not_checked(base, f"the data hold only {count(k_before, 'week')} before the action "
                            f"started on {start}; the check needs {weeks_after_min}.", 0,
                            "review")
    n = min(k_after, weeks_max, k_before)
    before = tuple(week_label(last_before - timedelta(days=7 * i)) for i in range(n))[::-1]
    after = tuple(week_label(first_after + timedelta(days=7 * i)) for i in range(n))
    frame = universe[universe["_week"].isin(before + after)].copy()
    frame["period"] = np.where(frame["_week"].isin(after), "after", "before")
    frame["_cell"] = _cell_keys(frame, columns)
    treated = {_canonical(c) for c in cells}
    present = set(frame["_cell"])
    base.update(weeks_before=before, weeks_after=after)
    absent = sorted(treated - present)
    if absent:
        return _not_checked(base, f"no tickets in the action's cell {absent[0]} in the check "
                            "weeks.", 0, "review")
    controls = tuple(sorted(present - treated))
    base.update(treated_cells=tuple(sorted(treated)), control_cells=controls)
    floor = math.nan  # the smallest p-value the design can reach (randomization inference)
    if controls:
        inf, kind, log, why, floor = _did(frame, k, treated, ctx, alpha, seed, resamples)
        design = "did"
    else:
        inf, kind, log, why = _before_after(frame, k, ctx, seed, resamples)
        design = "before_after"
    unit = verdicts.sesoi_unit(kind, k.unit)
    size = verdicts.DEFAULT_SESOI[kind] if sesoi is None else float(sesoi)
    d = verdicts.decide(inf, alpha, k.direction, verdicts.margin_on_scale(size, kind))
    est, lo, hi = (_display(v, log, kind) for v in (inf.estimate, d["ci_low"], d["ci_high"]))
    act = "review" if floor >= alpha else _act(d["verdict"], bool(controls), n < weeks_max)
    note = "; ".join(x for x in (d["note"], why) if x)
    base.pop("label")
    res = CheckResult(**base, verdict=d["verdict"], estimate=est, ci_low=lo, ci_high=hi,
                      ci_level=1 - alpha, unit=unit, p_value=inf.p_value, sesoi=size,
                      method=f"{design}: {inf.method}", method_text=inf.description, act=act,
                      sentence="", weeks_needed=0, note=note)
    return _with_sentence(res, k, start)


def _not_checked(base: dict, why: str, need: int, act: str) -> CheckResult:
    fill = dict(weeks_before=(), weeks_after=(), treated_cells=(), control_cells=())
    fill.update({k: v for k, v in base.items() if k in fill})
    core = {k: base[k] for k in ("item_id", "kpi", "segment")}
    label = base.get("label", base["kpi"])
    return CheckResult(**core, **fill, verdict=NOT_CHECKED, estimate=math.nan, ci_low=math.nan,
                       ci_high=math.nan, ci_level=math.nan, unit="", p_value=math.nan,
                       sesoi=math.nan, method="", method_text="", act=act,
                       sentence=f"{base['item_id']} ({label}, {base['segment']}): not "
                                f"checked — {why}", weeks_needed=int(need), note=why)


def _before_after(frame: pd.DataFrame, k: engine.Kpi, ctx: engine.Context, seed: int,
                  resamples: int):
    spec = _spec(k)
    if spec.column == "csat_top2" and "csat" in frame:
        frame = frame.assign(csat_top2=(frame["csat"] >= ctx.csat_scale[1] - 1).astype(float)
                             .where(frame["csat"].notna()))
    if spec.column not in frame:
        raise PdcaCheckError("PDCA check", Problem("kpi", f"{k.name} needs the column "
                                                   f"{spec.column!r}, which the tickets lack.",
                                                   "check the KPI against the data's roles."))
    clus = effects.Clustering(("_week",), "calendar week")
    if spec.type == "censored":
        inf, _ = effects.rmst_effect(frame, spec, clus, seed, resamples)
    else:
        inf = effects.regression_effect(frame, spec, clus, [])
    why = ""
    if k.name in ("frt_median", "frt_p90"):
        why = "the check compares geometric means of response times (log scale)"
    elif k.name == "resolution_rate":
        why = ("tickets of the last after-weeks had less time to be resolved by the data cut, "
               "which biases the resolution rate down")
    return inf, _BA_KIND[spec.type], inf.scale == "log", why


def _did(frame: pd.DataFrame, k: engine.Kpi, treated: set[str], ctx: engine.Context,
         alpha: float, seed: int, resamples: int):
    key = frame["_cell"] + "|" + frame["_week"]
    t = engine.kpi_table(frame.assign(_key=key), ctx, by="_key", only={k.name})
    parts = t["group"].str.split("|", n=1, expand=True)
    panel = pd.DataFrame({"_unit": parts[0], "period": parts[1], "value": t["estimate"]})
    log = k.unit in ("min", "h", "business h")
    panel = panel.dropna(subset=["value"])
    if log:
        panel = panel[panel["value"] > 0].assign(value=lambda d: np.log(d["value"]))
    after = set(frame.loc[frame["period"] == "after", "_week"])
    panel["treated"] = panel["_unit"].isin(treated).astype(float)
    panel["post"] = panel["period"].isin(after).astype(float)
    panel = panel.sort_values(["_unit", "period"]).reset_index(drop=True)
    kind = verdicts.kind_of(k.name, k.unit, log)
    arms = panel.groupby("_unit")["treated"].first()
    if arms.nunique() < 2 or panel["post"].nunique() < 2:
        return (verdicts.not_estimable("not estimable: a cell arm or a window has no weekly "
                                       "value"), kind, log, "", math.nan)
    inf, counts, reason = did_inference(panel, True, alpha, seed, resamples)
    floor = math.nan
    if inf.method == "randomization_inference":
        floor = 1 / math.comb(counts.total, counts.treated)
    return inf, kind, log, reason, floor


def _display(value: float, log: bool, kind: str) -> float:
    if log:
        return 100 * math.expm1(value) if np.isfinite(value) else value
    return 100 * value if kind == "share" else value


def _act(verdict: str, did: bool, can_grow: bool) -> str:
    if verdict == "improved":
        return "extend" if did else "keep"
    if verdict == "worsened":
        return "roll back"
    if verdict == "inconclusive" and can_grow:
        return "keep watching"
    return "rethink"


_ACT_TEXT = {"keep": "keep the change", "extend": "extend it to the other cells ({controls})",
             "roll back": "roll the action back",
             "keep watching": "keep watching: more weeks will sharpen the estimate",
             "rethink": "rethink the plan: the action did not move the KPI by a clear amount",
             "review": "review it by hand: with so few cells the randomization test cannot "
                       "reach a verdict (cover more cells for an automatic check)"}


def _number(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "−∞" if v < 0 else "∞"
    text = f"{v:+.1f}" if unit in ("%", "percentage points") else f"{v:+.3g}"
    return text.replace("-", "−")


def _with_sentence(r: CheckResult, k: engine.Kpi, start: date) -> CheckResult:
    n = len(r.weeks_after)
    if np.isfinite(r.estimate):
        pct = r.unit == "%"
        size = _number(r.estimate, r.unit)
        size = ("up " if r.estimate > 0 else "down ") + size[1:] if pct else size
        change = (f"{size} {r.unit} ({100 * r.ci_level:.0f} % CI {_number(r.ci_low, r.unit)} "
                  f"to {_number(r.ci_high, r.unit)})")
    else:
        change = "no estimate"
    how = ("against the other cells (difference-in-differences)" if r.control_cells else
           "before vs after")
    shown = ", ".join(r.control_cells[:4]) + (f" and {len(r.control_cells) - 4} more"
                                             if len(r.control_cells) > 4 else "")
    act = _ACT_TEXT[r.act].format(controls=shown)
    sentence = (f"{r.item_id} ({k.label}, {r.segment}): {r.verdict} — {change} over the {n} "
                f"weeks after the action of {start}, {how}; {act}.")
    return CheckResult(**{**asdict(r), "sentence": sentence})
