"""Synthetic-control inputs: the outcomes, the treated units and donors, the ordered periods and
the balanced unit × period panel of each outcome, with every data check made before anything is
fitted (units and periods named in params, one row per unit and period, no holes, enough pre-
periods, a donor pool of two or more, covariates with one number per unit)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io import params as params_mod
from sqresearch.io.data import LoadedTable, load_table, with_custom_metrics
from sqresearch.io.errors import DataError, Problem, examples, show
from sqresearch.io.schemas import SyntheticControlParams

#: pre-periods a study needs: the in-time placebo moves the date by at least 2 periods and
#: its fit needs 2 before that
MIN_PRE_PERIODS = 4


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    unit: str
    direction: str
    log: bool  # analysed on the log scale (effects as % changes)


@dataclass(frozen=True)
class Inputs:
    """What the study fits: ``panels`` maps an outcome to its wide panel (units × periods in
    time order, on the analysis scale); ``pre`` marks the pre-periods."""

    table: LoadedTable
    outcomes: list[Outcome]
    panels: dict[str, pd.DataFrame]
    periods: list[str]
    pre: np.ndarray
    treated: list[str]
    donors: list[str]
    covariates: pd.DataFrame | None


def outcomes_of(p: SyntheticControlParams) -> list[Outcome]:
    out = []
    for m in p.outcomes:
        unit = m.unit or ("share" if m.type == "binary" else "")
        out.append(Outcome(m.name, p.labels.get(m.name, m.label or m.column), unit, m.direction,
                           p.log_durations and m.type == "duration"))
    return out


def period_order(values: pd.Series) -> list[str]:
    """Period labels in time order: as numbers when every label is one (1, 2, …, 10), else as
    text (ISO dates sort in time)."""
    labels = sorted(set(values))
    numbers = pd.to_numeric(pd.Series(labels), errors="coerce")
    if numbers.notna().all():
        rank = dict(zip(labels, numbers, strict=True))
        return sorted(labels, key=lambda q: rank[q])
    return labels


def _label(values: pd.Series) -> pd.Series:
    """Unit and period values as the text params compare them with ("7" for 7.0)."""
    def one(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return values.map(one)


def _units_check(p, known: set[str], where: str) -> list[Problem]:
    problems = []
    for key, names in (("treated_units", p.treated_units), ("donors", p.donors)):
        for u in names:
            if str(u) not in known:
                fix = params_mod.suggest(str(u), known) or \
                    f"name units of column {p.unit!r} ({', '.join(sorted(known)[:8])} …)."
                problems.append(Problem(f"key '{key}' ({u})", f"is not a unit in column "
                                        f"{p.unit!r} of {where}.", fix))
    return problems


def _holes(wide: pd.DataFrame, unit: str, period: str, column: str, where: str) -> Problem:
    cells = wide.isna().stack()
    cells = cells[cells]
    shown = examples([f"{show(u)} × {show(q)}" for u, q in cells.index[:5]], None, len(cells))
    return Problem(f"{where}, column {column!r}", f"the panel has {len(cells)} missing "
                   f"{unit} × {period} cell(s): {shown}; a synthetic control needs every unit "
                   "in every period.", "add the missing rows (or values), or leave those units "
                   "out of donors (a treated unit with holes cannot be analysed).")


def load(p: SyntheticControlParams, source: str) -> Inputs:
    """Read and check the unit × period table; build each outcome's wide panel."""
    src, custom = with_custom_metrics(p.data, p.outcomes)
    table = load_table(src, custom, tuple(custom), (p.unit, p.period_column, *p.covariates),
                       (), source)
    frame, where = table.frame, p.data.where
    units, periods = _label(frame[p.unit]), _label(frame[p.period_column])
    known = set(units)
    problems = _units_check(p, known, where)
    order = period_order(periods)
    start = str(p.intervention_period)
    if start not in order:
        fix = params_mod.suggest(start, order) or f"give a value of column {p.period_column!r}."
        problems.append(Problem(f"key 'intervention_period' ({start})", f"is not a value of "
                                f"column {p.period_column!r} of {where} ({order[0]} … "
                                f"{order[-1]}).", fix))
        raise DataError(source, problems)
    pre = np.arange(len(order)) < order.index(start)
    treated = [str(u) for u in p.treated_units]
    donors = [str(u) for u in p.donors] or sorted(known - set(treated))
    n_pre = int(pre.sum())
    if n_pre < MIN_PRE_PERIODS:
        problems.append(Problem(f"key 'intervention_period' ({start})", f"leaves {n_pre} "
                                f"pre-period(s) in column {p.period_column!r}; a synthetic "
                                f"control needs at least {MIN_PRE_PERIODS} (2 to fit and 2 for "
                                "the in-time placebo), and credibly many more — at least as "
                                "many as donors.", "choose a later intervention_period or add "
                                "earlier periods to the data."))
    if pre.all():
        problems.append(Problem(f"key 'intervention_period' ({start})", "leaves no post-period.",
                                "give the first period after the intervention."))
    shift = p.placebo.in_time_shift
    if shift is not None and n_pre - shift < 2:
        problems.append(Problem(f"key 'placebo.in_time_shift' ({shift})", f"leaves {n_pre - shift}"
                                f" of the {n_pre} pre-periods to fit the in-time placebo; it "
                                "needs 2.", f"use a shift of at most {max(n_pre - 2, 1)}."))
    if len(donors) < 2:
        problems.append(Problem("key 'donors'" if p.donors else f"column {p.unit!r}",
                                f"the donor pool holds {len(donors)} unit(s) "
                                f"({', '.join(donors) or 'none'}); a synthetic control needs at "
                                "least 2.", "add untreated units to the data or to donors."))
    elif p.design == "sdid" and len(donors) <= len(treated):
        problems.append(Problem("key 'method'", f"synthetic DiD with {len(treated)} treated and "
                                f"{len(donors)} control units: the placebo standard error needs "
                                "more controls than treated units.", "add control units, or "
                                "set method: synth (one synthetic control per treated unit)."))
    dup = frame.assign(_u=units, _q=periods).duplicated(["_u", "_q"], keep=False).to_numpy()
    if dup.any():
        problems.append(Problem(f"{where}, columns {p.unit!r}, {p.period_column!r}",
                                "more than one row for a unit and period: " +
                                table.examples(dup, units + " × " + periods) + ".",
                                "aggregate the table to one row per unit and period."))
    covariates = _covariates(p, frame, units, table, where, problems)
    if problems:
        raise DataError(source, problems)
    outcomes, panels = outcomes_of(p), {}
    keep = treated + donors
    for m in outcomes:
        wide = (frame.assign(_u=units, _q=periods).pivot(index="_u", columns="_q", values=m.name)
                .reindex(index=keep, columns=order).astype(float))
        if wide.isna().to_numpy().any():
            problems.append(_holes(wide, p.unit, p.period_column,
                                   next(o.column for o in p.outcomes if o.name == m.name), where))
            continue
        if m.log:
            bad = (wide <= 0).stack()
            if bad.any():
                cells = bad[bad].index
                problems.append(Problem(f"{where}, column {m.name!r}", "durations on the log "
                                        "scale must be positive: " + examples(
                                            [f"{show(u)} × {show(q)}" for u, q in cells[:5]], None,
                                            len(cells)) + ".", "set log_durations: false."))
                continue
            wide = np.log(wide)
        if wide.to_numpy()[:, pre].std() == 0:
            problems.append(Problem(f"{where}, column {m.name!r}", "the outcome is constant "
                                    "before the intervention: there is nothing to match.",
                                    "choose an outcome that varies."))
        panels[m.name] = wide
    if problems:
        raise DataError(source, problems)
    return Inputs(table, outcomes, panels, order, pre, treated, donors, covariates)


def _covariates(p, frame, units, table, where, problems) -> pd.DataFrame | None:
    if not p.covariates:
        return None
    cols = {}
    for c in p.covariates:
        values = pd.to_numeric(frame[c], errors="coerce")
        if values.isna().any():
            problems.append(Problem(f"{where}, column {c!r}", "covariates must be numbers: " +
                                    table.examples(values.isna(), frame[c]) + ".",
                                    "use a numeric unit-level column."))
            continue
        varies = units.map(values.groupby(units).nunique() > 1).to_numpy()
        if varies.any():
            problems.append(Problem(f"{where}, column {c!r}", "covariates must have one value "
                                    "per unit: " + table.examples(
                                        varies, units + " = " + frame[c].astype(str)) + ".",
                                    "use a unit-level column (the same value in every row of "
                                    "a unit)."))
            continue
        cols[c] = values.groupby(units).first()
    return pd.DataFrame(cols) if len(cols) == len(p.covariates) else None


def in_time_shift(p: SyntheticControlParams, n_pre: int) -> int:
    """The in-time placebo's shift: the one given, else half the pre-periods (at least 2)."""
    if p.placebo.in_time_shift is not None:
        return p.placebo.in_time_shift
    return max(2, math.floor(n_pre / 2))
