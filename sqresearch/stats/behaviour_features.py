"""Per-customer behaviour features from a ticket table: the input of the behaviour segments
(``stats.behaviour``).

The rules
---------
- **Observed span** of a customer: from the first contact (or ``first_seen``, when given and
  earlier) to the data cut, in days; the customer could have written on any day of it, so it is
  the denominator of the contact rate (not first-to-last contact, which would give a customer
  with one ticket a rate of infinity and undercount quiet spells at the end).
- **contacts_per_month** = tickets / max(observed span, one month) × one month, with a month of
  30.4375 days (365.25 / 12). The floor of one month keeps a customer first seen a week before
  the cut with two tickets at 2 a month, not 8.7.
- **channel_<name>**: share of the customer's tickets on that channel (missing channel:
  ``channel_unknown``); the shares of a customer add up to 1.
- **self_service_share**, **complaint_share**: share of the customer's tickets flagged. The
  self-service flag is a 0/1 column, or a list of channel values that count as self-service.
- **tenure_days**: days from the first contact (or ``first_seen``) to the data cut.
- Tickets without a customer id are left out and counted (``attrs["dropped"]``).

Shares of a customer with one or two tickets are 0, ½ or 1 by construction: the segmentation
clusters only customers with at least ``min_contacts`` tickets (``stats.behaviour``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem

MONTH_DAYS = 30.4375
SOURCE = "customer behaviour features"
RULE = ("Contacts a month = tickets / max(days from the first contact to the data cut, "
        "30.4375) × 30.4375; channel, self-service and complaint shares are shares of the "
        "customer's tickets; tenure = days from the first contact to the data cut.")


def _fail(what: str, fix: str, where: str = "") -> DataError:
    return DataError(SOURCE, Problem(where, what, fix))


def _flag(tickets: pd.DataFrame, column: str, role: str) -> pd.Series:
    if column not in tickets.columns:
        raise _fail(f"the {role} column '{column}' is not in the table.",
                    f"name an existing column for {role} (columns: "
                    f"{', '.join(map(str, tickets.columns[:12]))}).", f"column '{column}'")
    values = tickets[column]
    if values.dtype == bool:
        return values.astype(float)
    num = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & ~num.isin([0, 1])
    if bad.any() or num.isna().any():
        shown = ", ".join(map(repr, values[bad | num.isna()].astype(str).unique()[:5]))
        raise _fail(f"the {role} column '{column}' must hold 0/1 or true/false; found {shown}.",
                    "recode it to 0/1 (missing counts as neither: fill it).",
                    f"column '{column}'")
    return num.astype(float)


def customer_features(tickets: pd.DataFrame, customer: str, created: str, channel: str,
                      self_service=None, complaint: str | None = None,
                      first_seen: str | None = None, cut=None) -> pd.DataFrame:
    """One row per customer: contacts a month, channel mix, self-service and complaint shares,
    tenure (rules in the module docstring).

    Parameters
    ----------
    tickets : one row per ticket
    customer, created, channel : column names (customer id, creation timestamp, channel)
    self_service : a 0/1 column name, or a list/tuple/set of channel values that count as
        self-service; None: no self-service share
    complaint : a 0/1 column name; None: no complaint share
    first_seen : a column with the customer's first-seen date (e.g. account opening; the
        earliest value per customer is used when it precedes the first ticket); None: the
        first ticket
    cut : the data cut (timestamp); default the latest ``created``. Tickets after it are an
        error.

    Returns
    -------
    DataFrame indexed by customer id (sorted), columns: n_contacts, first_contact,
    contacts_per_month, channel_<value> (sorted by value), self_service_share,
    complaint_share (when asked), tenure_days. ``attrs``: rule, dropped (tickets without a
    customer id), cut.
    """
    for role, col in (("customer", customer), ("created", created), ("channel", channel)):
        if col not in tickets.columns:
            raise _fail(f"the {role} column '{col}' is not in the table.",
                        f"name an existing column for {role}.", f"column '{col}'")
    ids = tickets[customer]
    known = ids.notna() & (ids.astype("string").str.strip() != "").fillna(False)
    df = pd.DataFrame({"customer": ids, "created": pd.to_datetime(tickets[created])})[known]
    if df["created"].isna().any():
        raise _fail(f"{int(df['created'].isna().sum())} tickets have no creation time.",
                    "drop them or fill the timestamps.", f"column '{created}'")
    if df.empty:
        raise _fail("no ticket has a customer id.", "map the customer id column.",
                    f"column '{customer}'")
    cut = df["created"].max() if cut is None else pd.Timestamp(cut)
    if (df["created"] > cut).any():
        raise _fail(f"{int((df['created'] > cut).sum())} tickets were created after the data "
                    f"cut {cut}.", "filter them out or move the cut.", f"column '{created}'")
    df["channel"] = tickets.loc[df.index, channel].astype("string").fillna("unknown")
    grouped = df.groupby("customer", sort=True)
    out = pd.DataFrame({"n_contacts": grouped.size().astype(int),
                        "first_contact": grouped["created"].min()})
    start = out["first_contact"]
    if first_seen is not None:
        seen = pd.to_datetime(tickets.loc[df.index, first_seen]).groupby(df["customer"]).min()
        start = pd.concat([start, seen.reindex(out.index)], axis=1).min(axis=1)
    span = (cut - start).dt.total_seconds() / 86400.0
    out["contacts_per_month"] = out["n_contacts"] / np.maximum(span, MONTH_DAYS) * MONTH_DAYS
    mix = pd.crosstab(df["customer"], df["channel"], normalize="index")
    mix = mix.reindex(columns=sorted(mix.columns))
    mix.columns = [f"channel_{c}" for c in mix.columns]
    out = out.join(mix)
    if self_service is not None:
        if isinstance(self_service, str):
            flag = _flag(tickets.loc[df.index], self_service, "self-service")
        else:
            flag = df["channel"].isin([str(v) for v in self_service]).astype(float)
        out["self_service_share"] = flag.groupby(df["customer"]).mean()
    if complaint is not None:
        out["complaint_share"] = _flag(tickets.loc[df.index], complaint,
                                       "complaint").groupby(df["customer"]).mean()
    out["tenure_days"] = span
    out.index.name = "customer"
    out.attrs.update(rule=RULE, dropped=int((~known).sum()), cut=cut)
    return out


def feature_columns(features: pd.DataFrame) -> list[str]:
    """The columns the segmentation uses by default: contacts a month, channel shares,
    self-service and complaint shares, tenure (not the count, dates or span)."""
    return [c for c in features.columns
            if c in ("contacts_per_month", "self_service_share", "complaint_share",
                     "tenure_days") or c.startswith("channel_")]
