"""Customer behaviour segments, derived from the ticket history: the ``behaviour`` segment.

The rule
--------
Every customer with at least ``behaviour.min_contacts`` tickets (default 3) is described by
per-customer features (``stats.behaviour_features.customer_features``: contacts a month, the
share of each channel, the self-service and complaint shares, tenure) and clustered by k-means
or a Gaussian mixture on the standardised features, k chosen by the method's criterion and a
bootstrap stability check (``stats.behaviour.segment_customers``; run only for the k the rule
reaches, on at most 5,000 customers — a stratified subsample, stated in the note). Each ticket
gets its customer's segment in words (``stats.behaviour_words.describe_clusters``, e.g.
"frequent contacts, phone-first"); customers with fewer tickets are "too few contacts", tickets
without a customer id "unknown" (counted, never guessed).

As for ``customer_type`` (``kpi.customers``), the history is every valid ticket of the table
before a study's own filters and wash-out, up to the data cut (``data_cut``, else the last
ticket): a segment describes the customer, not the ticket. The tickets are put in one order
(customer, creation time, ticket id) before the features are computed, so the labels do not
depend on the file's row order; the seed is ``behaviour.seed``, else the study's seed.

A table left in its engine (``data.engine``) is not brought into memory: one aggregate query
gives the same features and the labels are joined back in the engine (``kpi.behaviour_pushdown``,
tested equal on DuckDB and PostgreSQL).
"""

from __future__ import annotations

import pandas as pd

from sqresearch.io.data import _FALSE, _TRUE
from sqresearch.io.errors import DataError, Problem
from sqresearch.stats.behaviour import segment_customers
from sqresearch.stats.behaviour_features import RULE as FEATURE_RULE
from sqresearch.stats.behaviour_words import describe_clusters

#: the derived segment's name in ``segments``
SEGMENT = "behaviour"
UNKNOWN, FEW = "unknown", "too few contacts"
#: how the notes ``derive`` adds begin (the report shows them as they are)
NOTE_PREFIXES = ("Behaviour segment",)
WHERE = f"key 'segments' ({SEGMENT})"
N_BOOT = 20
K_MAX = 8
WORDS = {"contacts_per_month": "contacts a month (log1p)", "channel_mix": "channel mix",
         "self_service_share": "self-service share", "complaint_share": "complaint share",
         "tenure_days": "tenure"}


def requested(params) -> bool:
    """Whether the study asks for the derived segment."""
    return SEGMENT in getattr(params, "segments", ())


def without(columns) -> list:
    """``columns`` without the derived segment (it is not a column of the file)."""
    return [c for c in columns if c != SEGMENT]


def without_derived(segments) -> list:
    """``segments`` without both derived ones (``customer_type``, ``behaviour``): the columns
    that can be unit-level."""
    from sqresearch.kpi.customers import without as without_customer_type

    return without(without_customer_type(segments))


def columns(params) -> list[str]:
    """The file columns the features read besides the roles (the channel, a self-service flag
    column); none when the segment is not asked for."""
    if not requested(params):
        return []
    spec = params.behaviour
    return [spec.channel, *([spec.self_service] if isinstance(spec.self_service, str) else [])]


def keep(params, cols) -> list:
    """A study's extra columns ``cols`` as read from the file: without the derived segment, with
    the columns its features need."""
    return list(dict.fromkeys([*without(cols), *columns(params)]))


def missing_customer_id(where: str) -> Problem:
    """The problem when the segment is asked for without the customer_id role."""
    return Problem(WHERE, f"the behaviour segment groups customers by their ticket history and "
                   f"needs the customer_id role, which is not mapped in {where}.",
                   "map it in data.columns (customer_id: <the column naming customers>), or "
                   "drop behaviour from segments.")


def _feature_columns(spec, features: pd.DataFrame, source: str) -> list[str]:
    """The columns of ``features`` the segmentation uses (``behaviour.features``)."""
    asked = spec.features or [f for f in WORDS if f in features or f == "channel_mix"]
    cols, problems = [], []
    for name in asked:
        got = [c for c in features if c.startswith("channel_")] if name == "channel_mix" \
            else [name] if name in features else []
        if not got:
            needs = {"self_service_share": "behaviour.self_service (a 0/1 column or the "
                     "self-service channel values)", "complaint_share": "the complaint role in "
                     "data.columns"}.get(name, "a column the data do not have")
            problems.append(Problem(f"key 'behaviour.features' ({name})",
                                    f"the feature needs {needs}.",
                                    f"set it, or leave {name} out of behaviour.features."))
        cols += got
    if problems:
        raise DataError(source, problems)
    return cols


def _flag_text(values: pd.Series) -> pd.Series:
    """A self-service column read as text ('True', 'yes', '0' …) as 1.0 / 0.0, as the reader
    reads a flag role; other values are left for ``customer_features`` to name."""
    if values.dtype == bool or pd.api.types.is_numeric_dtype(values):
        return values
    low = values.astype("string").str.strip().str.lower()
    return low.map(lambda v: 1.0 if v in _TRUE else 0.0 if v in _FALSE else v).astype(object) \
        .where(values.notna(), None)


def _features_frame(frame: pd.DataFrame, spec, cut, complaint: bool) -> pd.DataFrame:
    from sqresearch.stats.behaviour_features import customer_features

    rows = frame.loc[frame["created"] <= cut].sort_values(
        ["customer_id", "created", "ticket_id"], kind="mergesort")
    if isinstance(spec.self_service, str):
        rows = rows.assign(**{spec.self_service: _flag_text(rows[spec.self_service])})
    return customer_features(rows, "customer_id", "created", spec.channel,
                             self_service=spec.self_service,
                             complaint="complaint" if complaint else None, cut=cut)


def _segmentation(features: pd.DataFrame, params, source: str):
    """The segmentation and its words; a DataError naming the keys when it cannot be done."""
    spec = params.behaviour
    cols = _feature_columns(spec, features, source)
    k_max = K_MAX if spec.k == "auto" else spec.k
    need = max(10, 3 * k_max)
    n = int((features["n_contacts"] >= spec.min_contacts).sum())
    if n < need:
        raise DataError(source, Problem(WHERE, f"{n} customers have at least "
                                        f"{spec.min_contacts} tickets; the behaviour segment "
                                        f"needs {need} to try up to {k_max} segments.",
                                        "use a longer stretch of data, lower "
                                        "behaviour.min_contacts or behaviour.k, or drop "
                                        "behaviour from segments."))
    seed = params.seed if spec.seed is None else spec.seed
    try:
        seg = segment_customers(features, k=spec.k, method=spec.method, seed=seed,
                                k_range=(2, K_MAX), n_boot=N_BOOT,
                                min_contacts=spec.min_contacts, columns=cols)
    except DataError as exc:  # the statistics' own checks, in the study's terms
        raise DataError(source, [Problem(WHERE, f"{p.where}: {p.what}".lstrip(": "), p.fix)
                                 for p in exc.problems]) from None
    return seg, describe_clusters(seg.profile), cols, seed


def customer_labels(features: pd.DataFrame, params, source: str):
    """Each customer's segment in words (Series by customer id) and the notes."""
    seg, words, cols, seed = _segmentation(features, params, source)
    names = dict(zip(words["cluster"], words["name"], strict=True))
    names[-1] = FEW
    labels = seg.labels.map(names)
    return labels, notes(seg, words, cols, params, seed, features.attrs.get("cut"))


def notes(seg, words: pd.DataFrame, cols: list[str], params, seed: int, cut) -> list[str]:
    """The report's data notes: the rule with k and why, each segment's size and description,
    the stability of the chosen k."""
    spec = params.behaviour
    used = [f for f in WORDS if f in cols or (f == "channel_mix" and
                                              any(c.startswith("channel_") for c in cols))]
    how = "k-means" if spec.method == "kmeans" else "a Gaussian mixture"
    chosen = seg.criteria.loc[seg.criteria["k"] == seg.k]
    drawn = ("the customers" if seg.stability_n >= seg.clustered_n else
             f"a subsample of {seg.stability_n:,} of the {seg.clustered_n:,} clustered customers, "
             "stratified by segment")
    ari = ("" if chosen.empty or seg.k == 1 else
           f" Stability of the {seg.k} segments: mean bootstrap adjusted Rand index "
           f"{chosen['mean_ari'].iloc[0]:.2f} (SD {chosen['sd_ari'].iloc[0]:.2f}, {N_BOOT} "
           f"resamples of {drawn}).")
    head = (f"Behaviour segments (segment {SEGMENT}): customers with at least "
            f"{spec.min_contacts} tickets are clustered by {how} on standardised features "
            f"({', '.join(WORDS[f] for f in used)}), seed {seed}. {seg.reason}{ari} The history "
            "is every valid ticket in the data, before the study's filters and wash-out, up to "
            f"{pd.Timestamp(cut):%Y-%m-%d %H:%M}. {FEATURE_RULE} {words.attrs['rule']} Tickets "
            f"without a customer id are '{UNKNOWN}'.")
    out = [head]
    for _, w in words.iterrows():
        out.append(f"Behaviour segment '{w['name']}': {w['size']:,} customers "
                   f"({100 * w['share']:.0f} %); {w['description']}.")
    return out


def derive(table, params, source: str) -> None:
    """Add ``behaviour`` to a validated ticket table (``io.data.LoadedTable`` frame, or a
    ``io.lazy.LazyTable`` expression: features by one aggregate query, labels joined back in
    the engine), with the rule, k and each segment in its notes; a DataError when the
    customer_id role is not mapped or too few customers have enough tickets."""
    if not getattr(params, "ticket_table", True):
        raise DataError(source, Problem(WHERE, "the behaviour segment is derived from a ticket "
                                        "table's history; this study reads ready values per "
                                        "unit.", "drop behaviour from segments."))
    from sqresearch.kpi.customers import name_free

    name_free(params, SEGMENT, "customers' ticket behaviour", source)
    lazy = not hasattr(table, "frame")
    cols = table.columns if lazy else table.frame.columns
    if "customer_id" not in cols:
        raise DataError(source, missing_customer_id(params.data.where))
    spec = params.behaviour
    if spec.channel not in cols:
        raise DataError(source, Problem("key 'behaviour.channel'", f"column {spec.channel!r} "
                                        f"is not in {params.data.where}.",
                                        "name the column holding each ticket's channel."))
    complaint = "complaint" in cols
    if lazy:
        cut = pd.Timestamp(params.data_cut if params.data_cut is not None
                           else table.expr.created.max().execute())
        from sqresearch.kpi.behaviour_pushdown import features_expr

        features = features_expr(table.expr, spec, cut, complaint, source)
    else:
        frame = table.frame
        cut = pd.Timestamp(params.data_cut if params.data_cut is not None
                           else frame["created"].max())
        try:
            features = _features_frame(frame, spec, cut, complaint)
        except DataError as exc:
            raise DataError(source, [Problem(WHERE, f"{p.where}: {p.what}".lstrip(": "), p.fix)
                                     for p in exc.problems]) from None
    features.attrs["cut"] = cut
    labels, texts = customer_labels(features, params, source)
    if lazy:
        from sqresearch.kpi.behaviour_pushdown import join_labels

        table.expr = join_labels(table.expr, labels)
        counts = table.expr.group_by(SEGMENT).aggregate(n=table.expr.count()).to_pandas()
        counts = dict(zip(counts[SEGMENT], counts["n"].astype(int), strict=True))
    else:
        table.frame[SEGMENT] = ticket_labels(table.frame["customer_id"], labels)
        counts = table.frame[SEGMENT].value_counts().to_dict()
    table.notes.extend(texts)
    table.notes.append("Behaviour segment tickets: " + ", ".join(
        f"{name} {n:,}" for name, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))) + ".")


def ticket_labels(ids: pd.Series, labels: pd.Series) -> pd.Series:
    """Each ticket's segment: its customer's, ``FEW`` for a customer not profiled, ``UNKNOWN``
    without a customer id."""
    known = ids.notna() & (ids.astype("string").str.strip() != "").fillna(False)
    out = ids.map(labels).astype(object)
    out[out.isna()] = FEW
    out[~known] = UNKNOWN
    return out
