"""The stability check of the behaviour segments, made fast (stats.behaviour): run only for the k
the rule reaches (the same chosen k, decisions and ARIs as checking every k), on a stratified
subsample of at most ``boot_max`` customers (sizes by the largest remainder, computed here by
hand; ARIs equal to sklearn's recomputed on that subsample), and on one OpenMP thread even when
scikit-learn was not imported before (the cause of the 194 s on the weekly-monitor demo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqresearch.io.errors import DataError
from sqresearch.simulate.behaviour import behaviour_tickets
from sqresearch.stats.behaviour import (
    canonical,
    customer_features,
    segment_customers,
    stability,
    stability_sample,
    standardise,
)

ROOT = Path(__file__).resolve().parents[1]
THREE = {"frequent callers": 150, "self-service users": 150, "complainers": 150}


def features(sizes, seed):
    tickets, _ = behaviour_tickets(seed=seed, sizes=sizes)
    return customer_features(tickets, "customer_id", "created", "channel",
                             self_service="self_service", complaint="complaint",
                             cut="2027-01-01")


@pytest.fixture(scope="module")
def planted():
    return features(THREE, 3)


# three planted groups split into 4..7 (over-split on purpose, so that the ARIs differ):
# silhouette order 4, 5, 7, 6 with mean ARIs .757, .849, .869, .873 (seed 1, 6 resamples):
# ari_min 0.6 stops at 4; 0.86 refuses 4 and 5 and stops at 7 (6 never bootstrapped); 0.9
# walks through every k and refuses them all
@pytest.mark.parametrize(("ari_min", "k", "checked"), [(0.6, 4, [4]), (0.86, 7, [4, 5, 7]),
                                                      (0.9, 1, [4, 5, 6, 7])])
def test_checking_only_the_needed_k_gives_the_full_rule(planted, ari_min, k, checked):
    kw = {"seed": 1, "n_boot": 6, "k_range": (4, 7), "ari_min": ari_min}
    lazy = segment_customers(planted, **kw)
    full = segment_customers(planted, stability_checks="all", **kw)
    assert lazy.k == full.k == k and lazy.reason == full.reason
    pd.testing.assert_series_equal(lazy.labels, full.labels)
    cols = ["k", "criterion", "value", "silhouette", "decision"]
    pd.testing.assert_frame_equal(lazy.criteria[cols], full.criteria[cols])
    done = lazy.criteria["mean_ari"].notna()
    assert lazy.criteria.loc[done, "k"].tolist() == checked
    pd.testing.assert_frame_equal(lazy.criteria[done], full.criteria[done])
    assert full.criteria["mean_ari"].notna().all()


def test_homogeneous_customers_need_no_bootstrap():
    """Every silhouette below the gate: every k refused, none bootstrapped, same answer (the
    full table adds the ARI flaw to a decision; the rule does not need it)."""
    f = features({"occasional": 300}, 4)
    lazy = segment_customers(f, seed=2, n_boot=5, k_range=(2, 5))
    full = segment_customers(f, seed=2, n_boot=5, k_range=(2, 5), stability_checks="all")
    assert lazy.k == full.k == 1 and lazy.criteria["mean_ari"].isna().all()
    for short, long in zip(lazy.criteria["decision"], full.criteria["decision"], strict=True):
        assert short.startswith("refused: silhouette ") and long.startswith(short)
    pd.testing.assert_series_equal(lazy.labels, full.labels)


def test_gmm_walks_bic_order_and_checks_only_what_it_needs(planted):
    kw = {"method": "gmm", "seed": 1, "n_boot": 4, "k_range": (2, 4)}
    lazy = segment_customers(planted, **kw)
    full = segment_customers(planted, stability_checks="all", **kw)
    assert lazy.k == full.k == 3
    assert lazy.criteria["decision"].tolist() == full.criteria["decision"].tolist()
    # k = 1 has no bootstrap (ARI 1 by definition); BIC ranks 3 first: only 3 is checked
    assert lazy.criteria.set_index("k")["mean_ari"].notna().to_dict() == {
        1: True, 2: False, 3: True, 4: False}


def test_stratified_sample_sizes_by_largest_remainder():
    labels = np.repeat([0, 1, 2, 3], [600, 300, 97, 3])
    sub = stability_sample(labels, 100, seed=5, k=4)
    # quotas 60, 30, 9.7, 0.3 → floors 60, 30, 9, 0 (99); the one left goes to the largest
    # remainder (cluster 2: 10); cluster 3 gets one customer, taken from the largest (59)
    assert np.bincount(labels[sub]).tolist() == [59, 30, 10, 1]
    assert len(np.unique(sub)) == 100 and np.all(np.diff(sub) > 0)
    np.testing.assert_array_equal(sub, stability_sample(labels, 100, seed=5, k=4))
    assert not np.array_equal(sub, stability_sample(labels, 100, seed=6, k=4))
    # an exact split: 1 000 × (0.5, 0.3, 0.2) of 10 → 5, 3, 2
    labels = np.repeat([0, 1, 2], [500, 300, 200])
    assert np.bincount(labels[stability_sample(labels, 10, 1, 3)]).tolist() == [5, 3, 2]
    np.testing.assert_array_equal(stability_sample(labels, 1000, 1, 3), np.arange(1000))


def test_subsampled_check_is_the_bootstrap_of_the_subsample(planted):
    """boot_max 200 of 450: the ARIs are ``stability`` on the stratified subsample with the
    full-data labels, and the planted k is still chosen."""
    seg = segment_customers(planted, k=3, seed=1, n_boot=4, boot_max=200)
    x, _ = standardise(planted[planted["n_contacts"] >= 3], seg.scaling["feature"].tolist())
    from sklearn.cluster import KMeans

    labels = canonical(KMeans(3, n_init=10, random_state=1).fit_predict(x), x)
    sub = stability_sample(labels, 200, 1, 3)
    aris = stability(x[sub], 3, "kmeans", 1, labels[sub], n_boot=4)
    row = seg.criteria.iloc[0]
    assert row["mean_ari"] == pytest.approx(aris.mean(), abs=1e-15)
    assert row["sd_ari"] == pytest.approx(aris.std(ddof=1), abs=1e-15)
    assert (seg.stability_n, seg.clustered_n) == (200, len(x)) and len(x) > 400
    auto = segment_customers(planted, seed=1, n_boot=6, boot_max=200)
    assert auto.k == 3 and auto.stability_n == 200


def test_stability_options_are_checked(planted):
    with pytest.raises(DataError, match="boot_max 20 is too small to check up to 8 clusters"):
        segment_customers(planted, boot_max=20)
    with pytest.raises(DataError, match="use 'needed' or 'all'"):
        segment_customers(planted, stability_checks="some")


SPY = """
import numpy as np, pandas as pd
from threadpoolctl import threadpool_info
import sqresearch.stats.behaviour as b
seen, fit = [], b._fit
def spy(*args):
    out = fit(*args)
    if not seen:
        seen.append(sorted({(d["internal_api"], d["num_threads"]) for d in threadpool_info()}))
    return out
b._fit = spy
f = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 2)), columns=["a", "b"])
b.segment_customers(f, k=2, n_boot=2, columns=["a", "b"])
print(seen[0])
"""


def test_fits_run_on_one_openmp_thread_in_a_fresh_interpreter():
    """threadpoolctl limits only libraries already loaded; OpenMP comes with sklearn.cluster.
    Before the fix, the first segmentation of a process (sklearn not yet imported) ran k-means
    on every core — this check printed ('openmp', 2) on the old code."""
    out = subprocess.run([sys.executable, "-c", SPY], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin",
                                                    "OMP_NUM_THREADS": "2"}).stdout
    assert "('openmp', 1)" in out, out
    assert "('openmp', 2)" not in out and "('openblas', 2)" not in out, out


def test_segments_do_not_depend_on_customer_ids(planted):
    """Pseudonyms under a fresh random key sort the customers differently on every run: the fits
    see the customers by feature values, so the criteria and each customer's label stay."""
    rng = np.random.default_rng(8)
    names = pd.Series([f"p_{v:016x}" for v in rng.integers(0, 2**62, len(planted))],
                      index=planted.index)
    renamed = planted.set_axis(names.to_numpy()).sort_index()
    assert (renamed["n_contacts"].to_numpy() != planted["n_contacts"].to_numpy()).any()
    a = segment_customers(planted, seed=4, n_boot=4, k_range=(2, 5))
    b = segment_customers(renamed, seed=4, n_boot=4, k_range=(2, 5))
    pd.testing.assert_frame_equal(a.criteria, b.criteria)
    back = b.labels.rename(index=dict(zip(names, names.index, strict=True)))
    pd.testing.assert_series_equal(back.reindex(a.labels.index), a.labels)


def test_the_note_states_the_subsample(planted):
    """The report's note says how many customers the stability check resampled."""
    from types import SimpleNamespace

    from sqresearch.io.schema_parts import Behaviour
    from sqresearch.kpi import behaviour_segment as bs
    from sqresearch.stats.behaviour import describe_clusters

    cols = ["contacts_per_month", "complaint_share", "self_service_share"]
    p = SimpleNamespace(behaviour=Behaviour())
    for cap, said in ((100, "20 resamples of a subsample of 100 of the 449 clustered customers, "
                             "stratified by segment)."), (5000, "20 resamples of the customers).")):
        seg = segment_customers(planted, k=3, seed=1, n_boot=3, boot_max=cap, columns=cols)
        head = bs.notes(seg, describe_clusters(seg.profile), cols, p, 1, "2027-01-01")[0]
        assert said in head, head
