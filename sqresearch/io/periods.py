"""A ticket table's own pre/post column (an export with a ``period`` or ``phase`` column instead
of an intervention date): the moment the after period starts is its first ticket, and the column
must really split time — every before ticket earlier than every after ticket."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sqresearch.io.errors import SHOWN, DataError, Problem, examples


def start_of_after(p, created: pd.Series, before: pd.Series, after: pd.Series, source: str,
                   names: tuple[str, str], rows: Callable | None = None) -> pd.Timestamp | None:
    """When a study's after period starts: its intervention date, or a ticket table's first
    after ticket (its own period column, checked); None for a unit table. ``p`` is a
    before/after or control-group params object."""
    if p.intervention is not None:
        return pd.Timestamp(p.intervention)
    if not p.ticket_table:
        return None
    return after_start(created, before, after, p.period_column, source, names, rows)


def after_start(created: pd.Series, before: pd.Series, after: pd.Series, column: str,
                source: str, names: tuple[str, str] = ("before", "after"),
                rows: Callable | None = None) -> pd.Timestamp:
    """The first after ticket's creation time (``before``/``after`` are row masks; ``names``
    the column's values for them). Raises a DataError naming the offending rows when before
    tickets come later; ``rows`` (a loaded table's ``examples``) names them by file line."""
    first = created[after].min()
    late = before & (created >= first)
    if late.any():
        stamps = created.dt.strftime("%Y-%m-%d %H:%M")
        shown = rows(late.to_numpy(), stamps) if rows else \
            examples([f"{t}" for t in stamps[late].sort_values().drop_duplicates().head(SHOWN)],
                     total=int(late.sum()))
        raise DataError(source, Problem(
            f"column {column!r}", f"{int(late.sum()):,} ticket(s) marked {names[0]!r} were "
            f"created on or after the first {names[1]!r} ticket ({first:%Y-%m-%d %H:%M}), e.g. "
            f"{shown}: the column does not split time into before and after.",
            "correct the column, or give intervention: <date> instead of period_column; if "
            "both groups ran at the same time, this is a control-group study."))
    return pd.Timestamp(first)


def explain_missing_clock(exc: DataError, metrics: list[str]) -> DataError:
    """A table with a period column but no ticket timestamps, asked for built-in KPIs: say why
    the ticket columns are needed before listing them."""
    if not any("role 'created'" in pr.where for pr in exc.problems):
        return exc
    first = Problem("key 'metrics'", f"built-in metrics ({', '.join(metrics)}) are computed "
                    "from a ticket table with timestamps, and this table has none.",
                    "map the ticket columns in data.columns, or compare the table's own "
                    "columns with custom_metrics.")
    return DataError(exc.source, [first, *exc.problems])
