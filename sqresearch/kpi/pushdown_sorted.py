"""The order-based KPIs of tickets left in their engine — first-response quantiles and
Kaplan–Meier medians — from the few columns they read, fetched once for every grouping.

A quantile's interval needs order statistics and a Kaplan–Meier median the whole curve up to
where it crosses one half: in SQL both are window functions over every distinct value, once per
grouping and column (``kpi.pushdown``), the most expensive queries of a large study. Instead,
``SortedValues`` fetches the duration columns, ``solved`` and the grouping columns (period and
segments, as dictionary codes) in one query, sorts each duration column once (the columns side
by side, in threads), and reads every group of every grouping from that order by the positions
of its codes: n log n once per column, linear per grouping. The quantiles are then
``describe.quantile_from_order_stats`` on the sorted group and the medians
``survival.median_sorted``, the in-memory path's own arithmetic, so the results equal
``engine.kpi_table``'s bit for bit.

Memory: about 45 bytes per ticket once sorted (per duration column its values and events in
value order and the order itself as 32-bit positions; the grouping codes as 8- or 16-bit
integers), e.g. 450 MB at 10 million tickets; ``fits`` sends a table larger than
``ROWS_IN_MEMORY`` back to the window functions in the engine. The values are durations and
groups only: no id, customer or text column leaves the engine.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqresearch.stats import describe
from sqresearch.stats.survival import median_sorted

#: tickets above which the order-based KPIs stay in the engine (window functions)
ROWS_IN_MEMORY = 40_000_000


def fits(n: int) -> bool:
    return n <= ROWS_IN_MEMORY


class SortedValues:
    """Duration columns, events and grouping codes of the prepared tickets, fetched once.

    Parameters
    ----------
    expr : the prepared tickets (an Ibis table)
    values : the duration columns to order (``frt_min``, ``ttr_h``, ``ttr_bh_h`` …)
    groups : the columns tickets are grouped by (``period`` and the segments)
    n : the table's number of rows, when already known
    """

    def __init__(self, expr, values: list[str], groups: list[str], n: int | None = None):
        names = list(dict.fromkeys([*values, "solved", *groups]))
        labels = {g: {} for g in groups}  # value → provisional code, in order of appearance
        # the arrays are allocated once, at the table's size (``n``, counted when not given),
        # and filled batch by batch: no list of parts joined at the end (which held every
        # column twice)
        n = int(expr.count().execute()) if n is None else n
        self._values = {c: np.empty(n) for c in values}
        self._solved = np.empty(n, bool)
        codes = {g: np.empty(n, np.int32) for g in groups}
        at = 0
        for batch in expr.select(*names).to_pyarrow_batches(chunk_size=1 << 20):
            end = at + batch.num_rows
            for c in values:
                self._values[c][at:end] = _floats(batch.column(c))
            self._solved[at:end] = _floats(batch.column("solved")) == 1
            for g in groups:
                codes[g][at:end] = _provisional(batch.column(g), labels[g])
            at = end
            del batch
        if at != n:
            raise RuntimeError(f"the engine returned {at:,} rows of a table of {n:,}")
        self._groups = {g: _final(codes.pop(g), labels[g]) for g in groups}
        self._order: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def has(self, column: str, by: str | None) -> bool:
        return (column in self._values or column in self._order) and \
            (by is None or by in self._groups)

    def _sort(self) -> None:
        """Every duration column put in value order, two columns at a time side by side (numpy
        sorts without the interpreter lock); each column's unsorted values are let go as soon
        as it is sorted, so that memory holds at most two columns in transit."""
        def one(c: str):
            v = self._values.pop(c)
            # not stable: tied values are equal, and the quantiles and Kaplan–Meier counts
            # per distinct time do not depend on the order within a tie; missing values (NaN)
            # sort last and are cut off
            order = np.argsort(v)[:np.count_nonzero(~np.isnan(v))]
            order = order.astype(np.int32 if v.size < 2 ** 31 else np.int64)
            # the values and events in that order, gathered once per column: each grouping
            # then reads them in runs of rising positions, not at random
            self._order[c] = (order, v[order], self._solved[order])

        pending = list(self._values)
        with ThreadPoolExecutor(max(1, min(2, len(pending), os.cpu_count() or 1))) as pool:
            list(pool.map(one, pending))

    def _sorted(self, column: str, by: str | None):
        """(group value, sorted values, events in the same order) for each group with data."""
        if column not in self._order:
            self._sort()
        order, v, e = self._order[column]
        if by is None:
            if order.size:
                yield "all", v, e
            return
        codes, labels = self._groups[by]
        c = codes[order]
        for label, part in zip(labels, _positions(c, len(labels)), strict=True):
            if part.size:
                yield label, v[part], e[part]

    def order_statistics(self, column: str, by: str | None, ps: list[float],
                         alpha: float) -> dict:
        """{group: {rank: value}} for the ranks ``describe.quantile_ranks`` names (as
        ``pushdown._order_statistics`` returns them)."""
        out = {}
        for g, x, _ in self._sorted(column, by):
            needed = frozenset().union(*(describe.quantile_ranks(x.size, p, alpha).needed()
                                         for p in ps))
            out[g] = {r: float(x[r - 1]) for r in needed}
        return out

    def km_medians(self, column: str, by: str | None, alpha: float) -> dict:
        """{group: (n, (median, low, high))} of the Kaplan–Meier curve of ``column`` (event:
        ``solved`` == 1), as ``survival.kaplan_meier(...).median()`` gives them."""
        return {g: median_sorted(x, e, alpha) for g, x, e in self._sorted(column, by)}


def _positions(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """For each code 0..k − 1, its positions in ``codes``, rising (so the values keep their
    order): one comparison per code when there are few, else a radix sort (stable)."""
    if k <= 64:
        return [np.flatnonzero(codes == i) for i in range(k)]
    within = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[within], np.arange(-1, k + 1, dtype=codes.dtype))
    return [within[bounds[i + 1]:bounds[i + 2]] for i in range(k)]  # code −1 comes first


def _floats(col) -> np.ndarray:
    """A numeric or boolean Arrow column as float64, NaN where missing."""
    if not pa.types.is_floating(col.type) or col.null_count:
        col = pc.fill_null(pc.cast(col, pa.float64()), math.nan)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)


def _provisional(col, labels: dict) -> np.ndarray:
    """Codes of one batch's values in ``labels`` (extended with new values), −1 where missing
    (NULL, or NaN in a floating column)."""
    if pa.types.is_floating(col.type):
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
    encoded = pc.dictionary_encode(col)
    local = np.array([labels.setdefault(v, len(labels))
                      for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int32)
    idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return local[idx]  # −1 indexes the appended −1


def _final(codes: np.ndarray, labels: dict) -> tuple[np.ndarray, list]:
    """Provisional codes renumbered 0..k − 1 in the order of the sorted values (pandas'
    groupby order), −1 kept; and the values in that order."""
    values = sorted(labels)
    # the smallest integer type: numpy's stable sort of 8- and 16-bit integers is a radix
    # sort, a few times faster than the merge sort it uses for 32-bit ones
    dtype = np.int8 if len(values) < 127 else np.int16 if len(values) < 32767 else np.int32
    rank = np.empty(len(labels) + 1, dtype=dtype)
    rank[[labels[v] for v in values]] = np.arange(len(values), dtype=dtype)
    rank[-1] = -1
    return rank[codes], values
