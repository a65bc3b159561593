"""Staggered-adoption inputs of the control-group study: each unit's adoption (a unit-level
column or a mapping in params) matched to the period it is first treated in, and the data checks
(adoption outside the data, two adoption dates for one unit, adoption units missing from the
data, treated_units that disagree, no never-treated units for the never-treated comparison).

Matching an adoption to a period: a value equal to a period label is that period; otherwise a
date falls in the period that starts on or before it (a ticket table's week or month; a unit
table's date-like labels). The period holding the adoption is the first treated period, so an
adoption in the middle of a period makes event time 0 a partly treated period.
"""

from __future__ import annotations

import pandas as pd

from sqresearch import kpi
from sqresearch.designs.control_group.load import period_labels, unit_level_problems
from sqresearch.io import params as params_mod
from sqresearch.io.data import LoadedTable, with_custom_metrics
from sqresearch.io.errors import DataError, Problem, examples
from sqresearch.io.schemas import ControlGroupParams

_BLANK = ("", "nan", "none", "nat", "<na>", "0")


def period_sequence(labels) -> list[str]:
    """The distinct period labels in time order (numbers as numbers, ISO dates as text)."""
    values = sorted(set(map(str, labels)))
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if len(values) and numbers.notna().all():
        return [v for _, v in sorted(zip(numbers, values, strict=True))]
    return values


def _where(p: ControlGroupParams) -> str:
    return (f"{p.data.path}, column {p.adoption_column!r}" if p.adoption_column
            else "key 'adoption'")


def unit_adoption(p: ControlGroupParams, frame: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """(each unit's adoption value — None for never treated — indexed by unit, the units with
    more than one adoption value). Units come from ``frame[p.unit]`` as text."""
    units = frame[p.unit].astype(str)
    if not p.adoption_column:
        known = sorted(set(units))
        return pd.Series([p.adoption.get(u) for u in known], index=known, dtype=object), []
    raw = frame[p.adoption_column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        text = raw.dt.strftime("%Y-%m-%d").astype(object)
    else:
        text = raw.astype(object).map(lambda v: None if pd.isna(v) else _plain(v))
    text = text.where(~text.astype(str).str.strip().str.lower().isin(_BLANK), None)
    values = text.fillna("(blank)").groupby(units).agg(lambda s: sorted(set(s)))
    twice = [f"{u} ({', '.join(v)})" for u, v in values.items() if len(v) > 1]
    first = values.map(lambda v: None if v[0] == "(blank)" else v[0])
    return first.astype(object), twice


def _plain(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _step(periods: list[str], dates: pd.DatetimeIndex, p: ControlGroupParams) -> pd.Timedelta:
    if p.ticket_table:
        return pd.Timedelta(days=7) if p.panel_freq == "week" else \
            (dates[-1] + pd.offsets.MonthBegin(1)) - dates[-1]
    return dates[-1] - dates[-2] if len(dates) > 1 else pd.Timedelta(days=1)


def first_treated(adoption: pd.Series, periods: list[str],
                  p: ControlGroupParams) -> tuple[pd.Series, dict[str, list[str]]]:
    """(each unit's first treated period as a 1-based index into ``periods`` — 0 for never
    treated —, the units whose adoption falls outside the data, by reason)."""
    index = {q: i + 1 for i, q in enumerate(periods)}
    dates = pd.to_datetime(pd.Series(periods), errors="coerce", format="mixed")
    dated = bool(len(periods)) and dates.notna().all()
    numbers = pd.to_numeric(pd.Series(periods), errors="coerce")
    numeric = bool(len(periods)) and numbers.notna().all()
    out, bad = {}, {"before": [], "first": [], "after": [], "unknown": []}
    for unit, a in adoption.items():
        if a is None:
            out[unit] = 0
            continue
        g = index.get(str(a))
        if g is None and numeric and pd.notna(pd.to_numeric(a, errors="coerce")):
            v = float(pd.to_numeric(a))
            key = "before" if v < numbers.iloc[0] else "after" if v > numbers.iloc[-1] \
                else "unknown"
            bad[key].append(f"{unit} ({a})")
            continue
        if g is None and dated and not numeric:
            when = pd.to_datetime(str(a), errors="coerce", format="mixed")
            if pd.isna(when):
                bad["unknown"].append(f"{unit} ({a})")
                continue
            d = pd.DatetimeIndex(dates)
            if when < d[0]:
                bad["before"].append(f"{unit} ({a})")
                continue
            if when >= d[-1] + _step(periods, d, p):
                bad["after"].append(f"{unit} ({a})")
                continue
            g = int((d <= when).sum())
        if g is None:
            bad["unknown"].append(f"{unit} ({a})")
            continue
        if g == 1:
            bad["first"].append(f"{unit} ({a})")
            continue
        out[unit] = g
    return pd.Series(out, dtype=int), bad


_OUTSIDE = {
    "before": ("adopt before the data start ({first}): there is no untreated period to compare "
               "with", "drop these units or add the data from before their adoption"),
    "first": ("adopt in the first period of the data ({first}): there is no untreated period to "
              "compare with", "drop these units or add the data from before their adoption"),
    "after": ("adopt after the data end ({last}): they are never treated in the data",
              "leave their adoption empty (never treated), or add the data after it"),
    "unknown": ("have an adoption that is not a period of the data (periods {first} … {last})",
                "write the adoption as one of the period labels or as a date (YYYY-MM-DD)"),
}


def adoption_problems(p: ControlGroupParams, table: LoadedTable, periods: list[str]
                      ) -> list[Problem]:
    """Every problem with the adoption dates, each naming the units and the fix."""
    frame, problems, where = table.frame, [], _where(p)
    known = set(frame[p.unit].astype(str))
    for u in p.adoption:
        if u not in known:
            fix = params_mod.suggest(u, known) or "check the unit names (column " \
                f"{p.unit!r} of {p.data.path})."
            problems.append(Problem(f"key 'adoption' ({u})", "is not a unit in the data.", fix))
    adoption, twice = unit_adoption(p, frame)
    if twice:
        problems.append(Problem(where, f"{len(twice)} unit(s) have more than one adoption value: "
                                f"{examples(twice)}.", "give each unit one adoption date in "
                                "every one of its rows (empty in every row for never-treated "
                                "units)."))
        return problems
    g, bad = first_treated(adoption, periods, p)
    for reason, units in bad.items():
        if units:
            what, fix = _OUTSIDE[reason]
            problems.append(Problem(where, f"{len(units)} unit(s) " + what.format(
                first=periods[0], last=periods[-1]) + f": {examples(units)}.", fix + "."))
    treated = set(adoption.index[adoption.notna()])
    if p.treated_units and p.adoption_column and set(p.treated_units) != treated:
        odd = sorted(set(p.treated_units) ^ treated)
        problems.append(Problem(f"key 'treated_units' and {where}",
                                f"disagree on {len(odd)} unit(s): {examples(odd)}.",
                                "list in treated_units exactly the units with an adoption "
                                "date, or drop treated_units."))
    if not treated:
        problems.append(Problem(where, "no unit has an adoption date.",
                                "give the adoption date of the treated units."))
    elif p.comparison == "never" and adoption.notna().all():
        problems.append(Problem(where, f"every unit ({len(adoption)}) adopts: there are no "
                                "never-treated units to compare with (comparison: never).",
                                "set comparison: notyet (compare with the units not yet "
                                "treated), or add never-treated units."))
    return problems


def load(p: ControlGroupParams, source: str) -> LoadedTable:
    """Read and check a staggered-adoption study: the adoption dates, covariates and outcomes."""
    src, custom = with_custom_metrics(p.data, p.custom_metrics)
    table = kpi.load_study_table(p, src, custom, [p.unit, p.adoption_column, p.period_column,
                                                  *p.covariates, *p.segments], source)
    periods = period_sequence(period_labels(table.frame, p))
    problems = adoption_problems(p, table, periods)
    problems += unit_level_problems(p, table, table.frame[p.unit].astype(str))
    if problems:
        raise DataError(source, problems)
    return table
