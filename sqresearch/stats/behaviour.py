"""Customer behaviour segments: k-means or a Gaussian mixture on standardised per-customer
features (``behaviour_features.customer_features``), k chosen by a stated criterion and kept only
when it is stable under bootstrap resampling.

The method
----------
1. **Who is clustered**: customers with at least ``min_contacts`` tickets (default 3). A share
   of one or two tickets is 0, ½ or 1 by construction, which k-means would take for structure;
   the others get label −1 ("too few contacts to profile") and their own profile row.
2. **Standardisation**: contacts a month → log1p (a count rate with a long right tail), then
   every feature → z-score (mean, population SD) over the clustered customers. Not the robust
   median/IQR: the shares that matter most are sparse (most customers never complain or never
   use the app), so their IQR is 0 and the robust scale is undefined, while the heavy tail of
   the contact rate is handled by the log. Constant features are left out (stated).
3. **Fits**: ``sklearn.cluster.KMeans(n_clusters=k, n_init=10, random_state=seed)`` or
   ``sklearn.mixture.GaussianMixture(k, covariance_type="full", n_init=3, reg_covar=0.05,
   random_state=seed)``. The variance floor of 5 % of each standardised feature's variance keeps
   point masses (a share of exactly 0 for most customers) from becoming components of their own:
   with sklearn's default 1e-6 BIC picks 6 components on the four planted groups. The fits see
   the customers sorted by their standardised features (``np.lexsort``), so the result depends
   on neither the ids nor their pseudonyms (a random key per run when none is set: sorted by
   pseudonym, the demo's silhouettes moved by up to 0.004 from run to run).
4. **Criterion**: k-means, the average silhouette (Rousseeuw 1987), largest first, over
   ``k_range``; Gaussian mixture, BIC (smallest first) over {1} ∪ ``k_range``. Whatever the
   method, a partition must be separated: average silhouette ≥ 0.25, below which Kaufman &
   Rousseeuw (1990, ch. 2) find "no substantial structure". BIC alone is not enough: it adds
   components to fit a skewed or discrete single group (on one simulated homogeneous group it
   picks 3–5), which are shapes, not segments. Even with the gate the mixture splits a single
   group of complainers in 12 of 20 simulated runs (benchmarks/calibration_behaviour.py;
   k-means: 0 of 20), so k-means is the default.
5. **Stability** (Hennig 2007, "Cluster-wise assessment of cluster stability", CSDA 52: 258–271):
   B bootstrap samples of the customers (``default_rng([seed, k])``), reclustered with the same
   k and the same fit (k-means: 10 starts); the adjusted Rand index
   (``sklearn.metrics.adjusted_rand_score``, Hubert & Arabie 1985) between the bootstrap
   clustering and the original on the distinct customers drawn. A k with mean ARI below 0.6 is
   refused and the next k in criterion order is tried (Hennig reads a cluster-wise Jaccard of
   0.6–0.75 as "patterns" and below 0.5 as "dissolved"; the same threshold idea is applied to the
   whole partition). No stable k: one group, "no stable segments" — a valid answer, not an error.

   *Only where the rule needs it*: the k are walked in criterion order and the first one that
   is separated and stable is chosen, so the bootstrap is run for a k only when the walk reaches
   it and its silhouette passes the gate (a k refused for its silhouette is refused whatever its
   ARI; the k after the chosen one are never read). The chosen k is the one the full table
   gives, by construction; the k not checked show no ARI (``stability_checks="all"`` fills every
   row). *More than* ``boot_max`` *customers* (default 5,000): the bootstrap is drawn from a
   stratified subsample of ``boot_max`` of them (proportional to the full-data clusters, at least
   one per cluster, ``default_rng([seed, k, 15])``), still compared with the full-data labels —
   Hennig's clusterboot resamples subsets too (``bootmethod="subset"``). Fits on fewer customers
   vary more, so the check errs on the side of "unstable"; the size is in ``stability_n``.
   The bootstrap refits keep 10 starts: with one start the mean ARI on the weekly-monitor demo
   drops from 0.975 to 0.761 at k = 4 (0.873 with three), a bias towards "unstable" that would
   move the chosen k (benchmarks/behaviour_speed.py).
6. **Canonical labels**: clusters numbered 0, 1, … by size (largest first), ties by the
   standardised centroid (lexicographic), so the numbering does not depend on sklearn's order.

``describe_clusters`` (``behaviour_words``) names each cluster from its profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sqresearch.io.errors import DataError, Problem
from sqresearch.stats.behaviour_features import customer_features, feature_columns
from sqresearch.stats.behaviour_words import describe_clusters

__all__ = ["Segmentation", "customer_features", "describe_clusters", "segment_customers",
           "standardise", "stability", "stability_sample", "canonical"]

ARI_MIN = 0.6
SILHOUETTE_MIN = 0.25
BOOT_MAX = 5000
LOG_FEATURES = ("contacts_per_month",)
SOURCE = "customer behaviour segments"


@dataclass(frozen=True)
class Segmentation:
    """The segments.

    labels : Series by customer: 0, 1, … (canonical) or −1 (too few contacts, not clustered)
    profile : one row per cluster, then the −1 row (when any), then "all" (every clustered
        customer): cluster, size, share (of all customers), the mean of each feature in original
        units, ``z_<feature>`` = the cluster's mean standardised value (0 for "all")
    k : the chosen number of clusters (1: no segments)
    criteria : k, criterion, value, silhouette, mean_ari, sd_ari (NaN for a k the rule did not
        need to check), decision
    scaling : feature, transform, center, scale, used
    method, reason : the method and the decision in words
    stability_n : customers the bootstrap resamples (all clustered ones, or ``boot_max``)
    clustered_n : customers clustered (at least ``min_contacts`` tickets)
    """

    labels: pd.Series
    profile: pd.DataFrame
    k: int
    criteria: pd.DataFrame
    scaling: pd.DataFrame
    method: str
    reason: str
    stability_n: int = 0
    clustered_n: int = 0

    def summary(self) -> pd.DataFrame:
        return self.criteria


def _fail(what: str, fix: str, where: str = "") -> DataError:
    return DataError(SOURCE, Problem(where, what, fix))


def standardise(features: pd.DataFrame, columns) -> tuple[np.ndarray, pd.DataFrame]:
    """log1p of ``LOG_FEATURES``, then z-scores (population SD); constant columns left out.

    Returns (X, scaling) with one scaling row per column: feature, transform, center, scale,
    used (False for a constant column)."""
    rows, mats = [], []
    for col in columns:
        x = features[col].to_numpy(dtype=float)
        transform = "log1p" if col in LOG_FEATURES else "none"
        if transform == "log1p":
            x = np.log1p(x)
        center, scale = float(x.mean()), float(x.std())
        used = scale > 1e-12 * max(1.0, abs(center))
        rows.append((col, transform, center, scale, used))
        if used:
            mats.append((x - center) / scale)
    scaling = pd.DataFrame(rows, columns=["feature", "transform", "center", "scale", "used"])
    if not mats:
        raise _fail("every feature is constant across the customers.",
                    "segments need features that vary; check the ticket table.")
    return np.column_stack(mats), scaling


def _fit(x: np.ndarray, k: int, method: str, seed: int) -> tuple[np.ndarray, float]:
    """Labels of one fit, and its BIC for the Gaussian mixture (NaN for k-means)."""
    if method == "kmeans":
        if k == 1:
            return np.zeros(len(x), dtype=int), np.nan
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x), np.nan
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(k, covariance_type="full", n_init=3, reg_covar=0.05,
                            random_state=seed).fit(x)
    return model.predict(x), float(model.bic(x))


def canonical(labels: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Relabel 0, 1, … by cluster size (largest first), ties by the centroid of ``x``
    (lexicographic, rounded to 9 decimals)."""
    ids = np.unique(labels)
    keys = [(-int((labels == g).sum()), *np.round(x[labels == g].mean(axis=0), 9)) for g in ids]
    order = sorted(range(len(ids)), key=lambda i: keys[i])
    mapping = {ids[i]: new for new, i in enumerate(order)}
    return np.array([mapping[g] for g in labels], dtype=int)


def stability(x: np.ndarray, k: int, method: str, seed: int, labels: np.ndarray,
              n_boot: int = 20) -> np.ndarray:
    """Adjusted Rand index of each of ``n_boot`` bootstrap reclusterings with the original
    ``labels``, on the distinct customers of each bootstrap sample (Hennig 2007)."""
    from sklearn.metrics import adjusted_rand_score

    if k == 1:
        return np.ones(n_boot)
    rng = np.random.default_rng([seed, k])
    out = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        boot = _fit(x[idx], k, method, int(rng.integers(2**31 - 1)))[0]
        distinct, first = np.unique(idx, return_index=True)
        out[b] = adjusted_rand_score(labels[distinct], boot[first])
    return out


def stability_sample(labels: np.ndarray, size: int, seed: int, k: int) -> np.ndarray:
    """Positions of a stratified subsample of ``size`` customers (all of them when there are no
    more): each cluster of ``labels`` gets its share of ``size`` by the largest remainder
    (Hamilton's method; ties by cluster number), at least one customer, drawn without replacement
    by ``default_rng([seed, k, 15])``; sorted."""
    n = len(labels)
    if n <= size:
        return np.arange(n)
    ids, counts = np.unique(labels, return_counts=True)
    quota = size * counts / n
    take = np.floor(quota).astype(int)
    order = sorted(range(len(ids)), key=lambda i: (-(quota[i] - take[i]), ids[i]))
    for i in order[:size - int(take.sum())]:
        take[i] += 1
    for i in np.flatnonzero(take == 0):  # a cluster smaller than n / size: one customer
        take[int(np.argmax(take))] -= 1
        take[i] = 1
    rng = np.random.default_rng([seed, k, 15])
    picked = [rng.choice(np.flatnonzero(labels == g), t, replace=False)
              for g, t in zip(ids, take, strict=True)]
    return np.sort(np.concatenate(picked))


def _one_thread():
    """One BLAS/OpenMP thread for the many small fits: on a shared machine they run 10–60×
    faster than with oversubscribed threads, and the results do not depend on the thread count.
    scikit-learn's modules are imported first: threadpoolctl limits only the libraries already
    loaded, and OpenMP comes in with ``sklearn.cluster`` — imported inside the limit, k-means ran
    on every core (the 194 s of the weekly-monitor demo)."""
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401

    return threadpool_limits(1)


def _silhouette(x: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    if len(x) > 3000:
        return float(silhouette_score(x, labels, sample_size=3000, random_state=seed))
    return float(silhouette_score(x, labels))


def segment_customers(features: pd.DataFrame, k="auto", method: str = "kmeans", seed: int = 15,
                      k_range=(2, 8), n_boot: int = 20, min_contacts: int = 3,
                      columns=None, ari_min: float = ARI_MIN, boot_max: int = BOOT_MAX,
                      stability_checks: str = "needed") -> Segmentation:
    """Behaviour segments of customers (method in the module docstring).

    Parameters
    ----------
    features : ``customer_features`` output (one row per customer; ``n_contacts`` used for
        ``min_contacts`` when present)
    k : "auto" (criterion + stability) or a number of clusters (kept even when unstable; the
        reason says so)
    method : "kmeans" (silhouette) or "gmm" (BIC)
    seed : seeds every fit and the bootstrap
    k_range : smallest and largest k tried (inclusive)
    n_boot : bootstrap samples per k for the stability check
    min_contacts : customers with fewer tickets get label −1 and are not clustered
    columns : features to use (default ``feature_columns(features)``)
    ari_min : the stability threshold on the mean ARI
    boot_max : at most this many customers (a stratified subsample) in the stability check
    stability_checks : "needed" (the bootstrap only for the k the rule reaches; the same chosen
        k) or "all" (every k, for a full ARI table)
    """
    if method not in ("kmeans", "gmm"):
        raise _fail(f"method '{method}' is not known.", "use 'kmeans' or 'gmm'.", "method")
    columns = feature_columns(features) if columns is None else list(columns)
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise _fail(f"feature columns {missing} are not in the table.",
                    "use the columns of customer_features.", "columns")
    if features[columns].isna().any().any():
        raise _fail("some features are missing.", "drop or fill those customers first.")
    keep = (features["n_contacts"] >= min_contacts).to_numpy() if "n_contacts" in features \
        else np.ones(len(features), dtype=bool)
    used = features.loc[keep]
    lo, hi = int(k_range[0]), int(k_range[1])
    if k != "auto":
        lo = hi = int(k)
    if lo < 2 and k == "auto" or hi < lo:
        raise _fail(f"k_range {k_range} is not a range of at least 2 clusters.",
                    "give (low, high) with 2 ≤ low ≤ high.", "k_range")
    if len(used) < max(10, 3 * hi):
        raise _fail(f"{len(used)} customers have at least {min_contacts} contacts; "
                    f"{max(10, 3 * hi)} are needed to try up to {hi} clusters.",
                    "use a longer period, lower min_contacts or a smaller k_range.")
    if int(boot_max) < max(10, 3 * hi):
        raise _fail(f"boot_max {boot_max} is too small to check up to {hi} clusters.",
                    f"give at least {max(10, 3 * hi)}.", "boot_max")
    if stability_checks not in ("needed", "all"):
        raise _fail(f"stability_checks '{stability_checks}' is not known.",
                    "use 'needed' or 'all'.", "stability_checks")
    x, scaling = standardise(used, columns)
    # the fits see the customers in the order of their feature values, not of their ids: a
    # pseudonymised id (a random key per run when none is set) must not move k-means' start
    order = np.lexsort(x.T[::-1])
    xs = x[order]
    ks = ([1] if method == "gmm" and k == "auto" else []) + list(range(lo, hi + 1))
    n_check = min(len(x), int(boot_max))
    rows, fits = [], {}
    with _one_thread():
        for kk in ks:
            got, bic = _fit(xs, kk, method, seed)
            fits[kk] = canonical(got, xs)
            sil = _silhouette(xs, fits[kk], seed) if kk > 1 else np.nan
            rows.append({"k": kk, "criterion": "BIC" if method == "gmm" else "silhouette",
                         "value": bic if method == "gmm" else sil, "silhouette": sil,
                         "mean_ari": 1.0 if kk == 1 else np.nan,
                         "sd_ari": 0.0 if kk == 1 else np.nan})
        table = pd.DataFrame(rows, index=ks)

        def check(kk: int) -> pd.Series:
            """The row of ``kk`` with its bootstrap ARI (computed once)."""
            if kk > 1 and np.isnan(table.at[kk, "mean_ari"]):
                sub = stability_sample(fits[kk], n_check, seed, kk)
                aris = stability(xs[sub], kk, method, seed, fits[kk][sub], n_boot)
                table.loc[kk, ["mean_ari", "sd_ari"]] = [float(aris.mean()),
                                                         float(aris.std(ddof=1))]
            return table.loc[kk]

        if stability_checks == "all":
            for kk in ks:
                check(kk)
        chosen, reason, decisions = _choose(table, method, k, ari_min, check)
    table = table.reset_index(drop=True)
    table["decision"] = [decisions.get(kk, "") for kk in table["k"]]
    labels = np.full(len(features), -1, dtype=int)
    labels[np.flatnonzero(keep)[order]] = fits.get(chosen, np.zeros(len(x), dtype=int))
    excluded = int((~keep).sum())
    if excluded:
        reason += (f" {excluded} customers with fewer than {min_contacts} contacts are not "
                   "clustered (label −1).")
    dropped = scaling.loc[~scaling["used"], "feature"].tolist()
    if dropped:
        reason += f" Constant features left out: {', '.join(dropped)}."
    profile = _profile(features, labels, x, keep, scaling)
    return Segmentation(pd.Series(labels, index=features.index, name="segment"), profile,
                        chosen, table, scaling, method, reason, n_check, len(x))


def _choose(table: pd.DataFrame, method: str, k, ari_min: float, check):
    """The chosen k, the reason in words and a decision per k: the best k by the criterion that
    is separated (silhouette ≥ SILHOUETTE_MIN) and stable (mean ARI ≥ ari_min). ``check(k)``
    gives the row of k with its ARI; it is called only for a k the walk reaches whose silhouette
    passes (the decision of any other k does not depend on its ARI)."""
    name = table["criterion"].iloc[0]
    if k != "auto":
        row = check(int(table["k"].iloc[0]))
        flaws = _flaws(row, ari_min)
        return int(row["k"]), (f"k = {int(row['k'])} as asked; silhouette "
                               f"{row['silhouette']:.2f}, mean bootstrap ARI "
                               f"{row['mean_ari']:.2f}" + (f" — WARNING: {'; '.join(flaws)}"
                                                           if flaws else "") + "."), \
            {int(row["k"]): "asked"}
    ranked = table.sort_values(["value", "k"], ascending=[method == "gmm", True])
    decisions, refused = {}, []
    for _, row in ranked.iterrows():
        kk = int(row["k"])
        if kk > 1 and not row["silhouette"] < SILHOUETTE_MIN:
            row = check(kk)
        flaws = _flaws(row, ari_min) if kk > 1 else []
        if not flaws:
            decisions[kk] = "chosen"
            text = (f"k = {kk}: best {name} among the separated and stable k" if kk > 1 else
                    "One group: BIC prefers no split" if not refused else
                    "One group: no split with a better BIC is separated and stable")
            if refused:
                text += " (refused: " + "; ".join(refused) + ")"
            return kk, text + (f". Thresholds: silhouette ≥ {SILHOUETTE_MIN} (Kaufman & "
                               f"Rousseeuw 1990), mean bootstrap ARI ≥ {ari_min} "
                               "(Hennig 2007)."), decisions
        decisions[kk] = "refused: " + "; ".join(flaws)
        refused.append(f"k = {kk}, " + "; ".join(flaws))
    return 1, ("No stable segments: no k in the range is both separated (silhouette ≥ "
               f"{SILHOUETTE_MIN}, Kaufman & Rousseeuw 1990) and stable (mean bootstrap ARI ≥ "
               f"{ari_min}, Hennig 2007): " + "; ".join(refused) + ". One group."), decisions


def _flaws(row, ari_min: float) -> list[str]:
    flaws = []
    if row["silhouette"] < SILHOUETTE_MIN:
        flaws.append(f"silhouette {row['silhouette']:.3f} < {SILHOUETTE_MIN}")
    if row["mean_ari"] < ari_min:  # NaN (not checked) compares False
        flaws.append(f"mean ARI {row['mean_ari']:.3f} < {ari_min}")
    return flaws


def _profile(features, labels, x, keep, scaling) -> pd.DataFrame:
    cols = scaling["feature"].tolist()
    z_cols = scaling.loc[scaling["used"], "feature"].tolist()
    n = len(features)
    rows = []
    groups = sorted(set(labels[keep].tolist())) + ([-1] if (~keep).any() else [])
    clustered = labels[keep]
    for g in groups:
        mask = labels == g
        row = {"cluster": g, "size": int(mask.sum()), "share": mask.sum() / n}
        row.update(features.loc[mask, cols].mean().to_dict())
        zs = x[clustered == g].mean(axis=0) if g >= 0 else np.full(len(z_cols), np.nan)
        row.update({f"z_{c}": float(v) for c, v in zip(z_cols, zs, strict=True)})
        rows.append(row)
    overall = {"cluster": "all", "size": int(keep.sum()), "share": keep.sum() / n}
    overall.update(features.loc[keep, cols].mean().to_dict())
    overall.update({f"z_{c}": 0.0 for c in z_cols})
    rows.append(overall)
    return pd.DataFrame(rows)
