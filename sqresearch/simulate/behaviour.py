"""Tickets of customers with planted behaviour groups, for the behaviour segments
(``stats.behaviour``) and their demo.

Each customer belongs to one group; the group fixes the contact rate (a Poisson process from the
customer's first contact to the data cut), the channel mix, the chance that a ticket is solved by
self-service (only on the chat and app channels) and the chance that it is a complaint. Customers
start uniformly over the first ``start_spread`` of the period, so tenure varies within every
group and carries no group signal. Seeded: NumPy's PCG64 via ``default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = ("phone", "email", "chat", "app")

#: group → (contacts a month, channel probabilities in CHANNELS order, P(self-service | chat or
#: app), P(complaint))
GROUPS: dict[str, tuple[float, tuple[float, ...], float, float]] = {
    "frequent callers": (4.0, (0.80, 0.10, 0.05, 0.05), 0.05, 0.10),
    "self-service users": (1.5, (0.05, 0.05, 0.30, 0.60), 0.85, 0.03),
    "complainers": (1.2, (0.40, 0.40, 0.15, 0.05), 0.05, 0.60),
    "occasional": (0.4, (0.30, 0.30, 0.20, 0.20), 0.30, 0.05),
}


def behaviour_tickets(seed: int = 15, sizes: dict[str, int] | None = None,
                      start: str = "2026-01-01", cut: str = "2027-01-01",
                      start_spread: float = 0.5, groups=None):
    """Tickets of customers in planted behaviour groups.

    Parameters
    ----------
    seed : seed of ``numpy.random.default_rng``
    sizes : customers per group (names of ``groups``); default 150 of each of the four groups
    start, cut : the period; ``cut`` is the data cut (no ticket at or after it)
    start_spread : customers make their first contact uniformly within the first
        ``start_spread`` share of the period (that first contact is a ticket)
    groups : the group definitions (default ``GROUPS``)

    Returns
    -------
    (tickets, truth) : tickets with ticket_id, customer_id, created, channel, self_service (bool),
        complaint (bool), sorted by created; truth with customer_id and group, one row per
        customer.
    """
    groups = GROUPS if groups is None else groups
    sizes = {name: 150 for name in GROUPS} if sizes is None else sizes
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(cut)
    span = (t1 - t0).total_seconds() / 86400.0
    rows, truth, n = [], [], 0
    for name, count in sizes.items():
        rate, mix, p_self, p_complaint = groups[name]
        for _ in range(count):
            n += 1
            cid = f"C{n:05d}"
            first = rng.uniform(0.0, start_spread * span)
            months = (span - first) / 30.4375
            k = 1 + rng.poisson(rate * months)
            days = np.sort(np.concatenate([[first], rng.uniform(first, span, k - 1)]))
            chan = rng.choice(len(CHANNELS), size=k, p=mix)
            selfs = (chan >= 2) & (rng.random(k) < p_self)
            comp = rng.random(k) < p_complaint
            rows.append(pd.DataFrame({
                "customer_id": cid, "created": t0 + pd.to_timedelta(days, unit="D"),
                "channel": np.asarray(CHANNELS)[chan], "self_service": selfs,
                "complaint": comp}))
            truth.append((cid, name))
    tickets = pd.concat(rows, ignore_index=True)
    tickets["created"] = tickets["created"].dt.floor("s")
    tickets = tickets.sort_values(["created", "customer_id"], kind="mergesort",
                                  ignore_index=True)
    tickets.insert(0, "ticket_id", np.arange(1, len(tickets) + 1))
    return tickets, pd.DataFrame(truth, columns=["customer_id", "group"])
