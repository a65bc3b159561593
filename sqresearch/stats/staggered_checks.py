"""Input checks of the staggered-adoption estimators, and the long panel reshaped to arrays.

Every problem is a ``StaggeredDesignError`` (a ``DataError``) that names the column, the
offending units or rows and the fix: missing columns or values, non-numeric values, periods that
are not consecutive integers, an unbalanced panel, an adoption period that changes within a unit
and units adopting in or before the first period (no untreated period to compare).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem, examples


class StaggeredDesignError(DataError):
    """A panel, cohort column or choice the staggered-adoption estimators cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> StaggeredDesignError:
    return StaggeredDesignError("staggered adoption", Problem(where, what, fix))


@dataclass(frozen=True)
class Panel:
    """A balanced panel as arrays: ``y`` (units × periods), ``periods`` (consecutive integers),
    ``cohort`` per unit (0 = never treated), unit ``ids`` and ``x`` (units × periods × k)."""

    y: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray
    ids: np.ndarray
    x: np.ndarray | None = None


def as_panel(panel: pd.DataFrame, unit: str, period: str, value: str, cohort: str,
             covariates=()) -> Panel:
    """Check a long unit × period table and reshape it to :class:`Panel`.

    Raises :class:`StaggeredDesignError` for missing columns or values, periods that are not
    consecutive integers, a unit observed twice in a period or not in every period, a cohort
    that changes within a unit, and units adopting in or before the first period.
    """
    cols = [unit, period, value, cohort, *covariates]
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        raise _fail(f"no column(s) {', '.join(map(repr, missing))}; the table has "
                    f"{', '.join(map(str, panel.columns[:12]))}.", "name the columns that exist.")
    d = panel[cols]
    for c in [unit, period, value, *covariates]:
        bad = d.index[d[c].isna()]
        if len(bad):
            raise _fail(f"{len(bad):,} missing value(s), rows {examples(bad)}.",
                        "drop or fill these rows before estimating.", f"column {c!r}")
    num = {}
    for c in [period, cohort, value, *covariates]:
        try:
            num[c] = pd.to_numeric(d[c]).to_numpy(dtype=float)
        except (TypeError, ValueError):
            bad = d.index[pd.to_numeric(d[c], errors="coerce").isna() & d[c].notna()]
            raise _fail(f"non-numeric values, rows {examples(bad, d.loc[bad, c])}.",
                        "periods and cohorts must be integers (1..T), values and covariates "
                        "numbers.", f"column {c!r}") from None
    p, g, v = num[period], num[cohort], num[value]
    if np.any(p != np.round(p)):
        raise _fail("periods must be integers.", "number the periods 1..T.", f"column {period!r}")
    periods = np.unique(p).astype(int)
    if periods.size < 2 or np.any(np.diff(periods) != 1):
        raise _fail(f"periods {examples(range(len(periods)), periods)} are not 2 or more "
                    "consecutive integers.", "number the periods 1..T.", f"column {period!r}")
    ids, ui = np.unique(d[unit].to_numpy(), return_inverse=True)
    ti = p.astype(int) - periods[0]
    n, t = ids.size, periods.size
    count = np.zeros((n, t), dtype=int)
    np.add.at(count, (ui, ti), 1)
    if np.any(count != 1):
        bad = np.flatnonzero((count != 1).any(axis=1))
        raise _fail(f"the panel is not balanced: {bad.size:,} unit(s) are missing in some "
                    f"period or appear twice, units {examples(ids[bad])}.",
                    "give every unit exactly one row per period (aggregate first).",
                    f"columns {unit!r}, {period!r}")
    g = np.where(np.isnan(g), 0.0, g)
    gu = np.full(n, np.nan)
    gu[ui] = g
    changed = np.flatnonzero(np.bincount(ui, weights=(g != gu[ui])) > 0)
    if changed.size:
        raise _fail(f"the adoption period changes within {changed.size:,} unit(s): "
                    f"{examples(ids[changed])}.", "give each unit one first-treated period.",
                    f"column {cohort!r}")
    early = np.flatnonzero((gu > 0) & (gu <= periods[0]))
    if early.size:
        raise _fail(f"{early.size:,} unit(s) adopt in or before the first period "
                    f"{periods[0]}, with no untreated period to compare: units "
                    f"{examples(ids[early])} (cohorts {examples(gu[early].astype(int))}).",
                    "drop these units or give the data from before their adoption.",
                    f"column {cohort!r}")
    gu = np.where(gu > periods[-1], 0.0, gu).astype(int)
    y = np.empty((n, t))
    y[ui, ti] = v
    x = None
    if covariates:
        x = np.empty((n, t, len(covariates)))
        for j, c in enumerate(covariates):
            x[ui, ti, j] = num[c]
    return Panel(y, periods, gu, ids, x)
