"""The engine twin of the behaviour segment (``kpi.behaviour_segment``) for a table left in its
engine (``data.engine``): one aggregate query counts each customer's tickets per channel, with
the first creation time and the self-service and complaint flags; ``features_from_counts`` turns
the counts into the features of ``stats.behaviour_features.customer_features`` (tested equal on
DuckDB and PostgreSQL in tests/test_behaviour_segment.py); the labels go back to the engine as a
small customer → segment table joined on the customer id. Flags are summed as CASE expressions,
which every engine sums (PostgreSQL does not cast a boolean to a number)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.io.data import _FALSE, _TRUE
from sqresearch.io.errors import DataError, Problem
from sqresearch.kpi.behaviour_segment import FEW, SEGMENT, UNKNOWN, WHERE
from sqresearch.stats.behaviour_features import MONTH_DAYS


def features_from_counts(counts: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """``customer_features`` from per-customer-and-channel counts (the engine's aggregate).

    counts : customer, channel, n (tickets), first (first creation time), and optionally
        self_service, complaint (flagged tickets)
    Returns the columns of ``customer_features`` in its order, indexed by customer (sorted).
    """
    g = counts.groupby("customer", sort=True)
    out = pd.DataFrame({"n_contacts": g["n"].sum().astype(int), "first_contact": g["first"].min()})
    span = (cut - out["first_contact"]).dt.total_seconds() / 86400.0
    out["contacts_per_month"] = out["n_contacts"] / np.maximum(span, MONTH_DAYS) * MONTH_DAYS
    mix = counts.pivot_table(index="customer", columns="channel", values="n", aggfunc="sum",
                             fill_value=0)
    mix = mix.reindex(columns=sorted(mix.columns)).div(out["n_contacts"], axis=0)
    mix.columns = [f"channel_{c}" for c in mix.columns]
    out = out.join(mix)
    for flag in ("self_service", "complaint"):
        if flag in counts:
            out[f"{flag}_share"] = g[flag].sum() / out["n_contacts"]
    out["tenure_days"] = span
    out.index.name = "customer"
    return out


def features_expr(expr, spec, cut, complaint: bool, source: str) -> pd.DataFrame:
    """The per-customer features of a table in its engine: one aggregate query."""
    import ibis

    ids = expr.customer_id.cast("string")
    t = expr.filter(expr.created <= ibis.literal(cut.to_pydatetime(), type="timestamp"),
                    ids.notnull(), ids.strip() != "")
    channel = t[spec.channel].cast("string").fill_null("unknown").name("channel")
    aggs = {"n": t.count(), "first": t.created.min()}
    if isinstance(spec.self_service, str):
        flag = t[spec.self_service]
        if flag.type().is_string():
            low = flag.strip().lower()
            aggs["bad_self_service"] = _count(low.isnull() | ~low.isin([*_TRUE, *_FALSE]))
            aggs["self_service"] = _count(low.isin(list(_TRUE)))
        else:
            aggs["bad_self_service"], aggs["self_service"] = _flag_counts(flag)
    elif spec.self_service is not None:
        aggs["self_service"] = _count(channel.isin([str(v) for v in spec.self_service]))
    if complaint:
        aggs["bad_complaint"], aggs["complaint"] = _flag_counts(t.complaint)
    counts = t.group_by([t.customer_id.name("customer"), channel]).aggregate(**aggs).to_pandas()
    if counts.empty:
        raise DataError(source, Problem(WHERE, "no ticket has a customer id.",
                                        "fill the customer_id column, or drop behaviour from "
                                        "segments."))
    for flag, column in (("self_service", spec.self_service), ("complaint", "complaint")):
        if f"bad_{flag}" in counts and counts[f"bad_{flag}"].sum() > 0:
            raise DataError(source, Problem(
                WHERE, f"column '{column}': {int(counts[f'bad_{flag}'].sum())} tickets have "
                "neither 0/1 nor true/false (or no value) in it.",
                "recode it to 0/1 (missing counts as neither: fill it)."))
    counts["first"] = pd.to_datetime(counts["first"])
    return features_from_counts(counts, cut)


def _count(condition):
    """The number of rows where ``condition`` holds (a CASE, which every engine sums)."""
    import ibis

    return ibis.cases((condition, 1), else_=0).sum()


def _flag_counts(flag):
    """(rows neither 0/1 nor true/false, rows flagged) of a boolean or numeric column."""
    if flag.type().is_boolean():
        return _count(flag.isnull()), _count(flag.fill_null(False))
    return _count(flag.isnull() | ~flag.isin([0, 1])), _count(flag == 1)


def join_labels(expr, labels: pd.Series):
    import ibis

    ids = expr.customer_id.cast("string")
    lab = ibis.memtable(pd.DataFrame({"_customer": labels.index.astype(str),
                                      "_behaviour": labels.to_numpy(dtype=object)}))
    joined = expr.left_join(lab, ids == lab._customer)
    known = ids.notnull() & (ids.strip() != "")
    value = ibis.cases((~known, UNKNOWN), else_=joined._behaviour.fill_null(FEW))
    return joined.mutate(**{SEGMENT: value}).drop("_customer", "_behaviour")
