"""New and returning customers, derived from the ticket history: the ``customer_type`` segment.

The rule
--------
Tickets are ordered by creation time, ties broken by ticket id. A ticket is from a **new**
customer when it is the customer's first ticket in the data, else from a **returning** one.
With ``customer_history: {lookback_days: N}`` a ticket is **returning** only when the same
customer has an earlier ticket (in that order) created at most N days before it; the default
looks back over the whole history. A ticket without a customer id is **unknown** (counted, never
guessed). The history is every valid ticket of the table, before a study's own filters,
wash-out window and data cut (a customer whose first ticket fell in the wash-out window is
returning afterwards). Only equality of ids is used, so pseudonymised ids give the same labels.

Left truncation: "first in the data" is not "first ever". A customer who last wrote before the
data start looks new; the notes count the tickets labelled new within the first N days of the
data (the whole history: every new label is relative to the data start).

``customer_type`` labels a frame; its engine twin is ``pushdown_prepare.customer_type_expr``
(tested equal on DuckDB and PostgreSQL in tests/test_customer_type.py and
tests/test_prepare_pushdown.py). ``derive`` adds the column to a loaded or lazy table.
"""

from __future__ import annotations

import pandas as pd

#: the derived segment's name in ``segments``
SEGMENT = "customer_type"
LABELS = ("new", "returning", "unknown")
#: how the notes ``derive`` adds begin (the report shows them as they are, not as personal data)
NOTE_PREFIXES = ("Customer type (segment", "Left truncation:")


def requested(params) -> bool:
    """Whether the study asks for the derived segment."""
    return SEGMENT in getattr(params, "segments", ())


def without(columns) -> list:
    """``columns`` without the derived segment (it is not a column of the file)."""
    return [c for c in columns if c != SEGMENT]


def lookback(params) -> int | None:
    history = getattr(params, "customer_history", None)
    return history.lookback_days if history is not None else None


def rule(lookback_days: int | None) -> str:
    """The rule in words, for the report's notes."""
    window = ("in the whole history" if lookback_days is None else
              f"within the {lookback_days} days before it")
    return (f"Customer type (segment {SEGMENT}): a ticket is from a returning customer when the "
            f"same customer id has an earlier ticket {window} (tickets ordered by creation time, "
            "ties by ticket id), from a new customer otherwise; tickets without a customer id "
            "are 'unknown'. The history is every valid ticket in the data, before the study's "
            "filters, wash-out and data cut.")


def customer_type(frame: pd.DataFrame, lookback_days: int | None = None) -> pd.Series:
    """``new`` / ``returning`` / ``unknown`` for every ticket of ``frame``.

    Parameters
    ----------
    frame : columns ``customer_id`` (any hashable; missing or blank: unknown), ``created``
        (timestamps) and ``ticket_id`` (breaks ties of the creation time)
    lookback_days : returning only when the previous ticket of the customer was created at
        most this many days before (None: any earlier ticket)

    Returns
    -------
    Series of str aligned with ``frame``.

    Notes
    -----
    The previous ticket of each customer is ``shift(1)`` within the customer after a stable sort
    by (created, ticket_id); SQL twin: ``lag(created) over (partition by customer_id order by
    created, ticket_id)``.
    """
    out = pd.Series("unknown", index=frame.index, dtype=object)
    ids = frame["customer_id"]
    known = ids.notna() & (ids.astype("string").str.strip() != "").fillna(False)
    if not known.any():
        return out
    df = frame.loc[known, ["customer_id", "created", "ticket_id"]]
    order = df.sort_values(["created", "ticket_id"], kind="mergesort")
    prev = order.groupby("customer_id", sort=False)["created"].shift(1)
    returning = prev.notna()
    if lookback_days is not None:
        returning &= (order["created"] - prev) <= pd.Timedelta(days=lookback_days)
    out.loc[order.index] = returning.map({True: "returning", False: "new"}).to_numpy()
    return out


def missing_customer_id(params, where: str):
    """The problem when the segment is asked for without the customer_id role."""
    from sqresearch.io.errors import Problem

    return Problem(f"key 'segments' ({SEGMENT})",
                   f"the customer_type segment is derived from each customer's ticket history "
                   f"and needs the customer_id role, which is not mapped in {where}.",
                   "map it in data.columns (customer_id: <the column naming customers>), or "
                   "drop customer_type from segments.")


def name_free(params, name: str, what: str, source: str) -> None:
    """A DataError when the study's file or engine table has its own column named like the
    derived segment ``name``: the derived values would silently take its place."""
    from sqresearch.io.errors import DataError, Problem
    from sqresearch.io.files import header

    src = params.data
    if src.source is not None:  # a table on a connection: its schema, not its rows
        from sqresearch.io.lazy import open_table

        names = list(open_table(src, source)[1].schema().names)
    elif src.path:
        names = header(src, source)
    else:
        return
    if name in names:
        what_has = "table" if src.source is not None else "file"
        raise DataError(source, Problem(
            f"column {name!r} of {src.where}", f"the {what_has} has its own column {name!r}, and "
            f"segments: [{name}] asks for the segment derived from {what}; the derived values "
            "would silently replace the file's.", f"to segment by the file's values, rename "
            f"that column (e.g. {name}_file) and list the new name in segments; to use the "
            f"derived segment, rename or drop the file's column."))


def derive(table, params, source: str) -> None:
    """Add ``customer_type`` to a validated ticket table (``io.data.LoadedTable`` frame, or a
    ``io.lazy.LazyTable`` expression computed by its engine), with the rule and the
    left-truncation caveat in its notes; a DataError when the customer_id role is not mapped."""
    from sqresearch.io.errors import DataError, Problem

    if not getattr(params, "ticket_table", True):
        raise DataError(source, Problem(f"key 'segments' ({SEGMENT})",
                                        "the customer_type segment is derived from a ticket "
                                        "table's history; this study reads ready values per "
                                        "unit.", "drop customer_type from segments."))
    name_free(params, SEGMENT, "each customer's ticket history", source)
    columns = table.frame.columns if hasattr(table, "frame") else table.columns
    if "customer_id" not in columns:
        raise DataError(source, missing_customer_id(params, params.data.where))
    n_days = lookback(params)
    if hasattr(table, "frame"):
        table.frame[SEGMENT] = customer_type(table.frame, n_days)
        counts, early, start = _summary_frame(table.frame, n_days)
    else:
        from sqresearch.kpi.pushdown_prepare import customer_type_expr

        table.expr = table.expr.mutate(**{SEGMENT: customer_type_expr(table.expr, n_days)})
        counts, early, start = _summary_expr(table.expr, n_days)
    table.notes.append(rule(n_days) + " Counts: " + ", ".join(
        f"{name} {counts.get(name, 0):,}" for name in LABELS) + ".")
    if (note := truncation_note(start, counts.get("new", 0), early, n_days)) is not None:
        table.notes.append(note)


def truncation_note(start: pd.Timestamp, n_new: int, early_new: int,
                    lookback_days: int | None) -> str | None:
    """The left-truncation caveat: tickets labelled new that an earlier, unseen ticket would
    make returning (``early_new``: new tickets within the first ``lookback_days`` of the data)."""
    if n_new == 0:
        return None
    if lookback_days is None:
        return (f"Left truncation: 'new' means no earlier ticket in the data, which starts on "
                f"{start:%Y-%m-%d}; customers who wrote before then count as new, so the share "
                f"of new customers ({n_new:,} tickets) is overstated, most in the first months. "
                "Set customer_history.lookback_days to compare like with like.")
    if early_new == 0:
        return None
    return (f"Left truncation: {early_new:,} of {n_new:,} tickets labelled new were created in "
            f"the first {lookback_days} days of the data (from {start:%Y-%m-%d}), where an "
            "earlier ticket outside the data would make them returning; the share of new "
            "customers is overstated in that stretch.")


def _summary_frame(frame: pd.DataFrame, n_days: int | None):
    labels = frame[SEGMENT]
    start = frame["created"].min()
    counts = labels.value_counts().to_dict()
    early = 0
    if n_days is not None:
        early = int(((labels == "new") &
                     (frame["created"] < start + pd.Timedelta(days=n_days))).sum())
    return counts, early, start


def _summary_expr(expr, n_days: int | None):
    """Counts per label, new tickets in the first ``n_days`` and the data start (two queries)."""
    import ibis

    start = pd.Timestamp(expr.created.min().execute())
    got = expr.group_by(SEGMENT).aggregate(n=expr.count()).to_pandas()
    counts = dict(zip(got[SEGMENT], got["n"].astype(int), strict=True))
    early = 0
    if n_days is not None:
        limit = ibis.literal((start + pd.Timedelta(days=n_days)).to_pydatetime(),
                             type="timestamp")
        early = int(expr.filter((expr[SEGMENT] == "new") & (expr.created < limit))
                    .count().execute())
    return counts, early, start
