"""How often the behaviour segmentation picks the right number of segments — a Monte Carlo
calibration of ``stats.behaviour.segment_customers``.

    .venv/bin/python benchmarks/calibration_behaviour.py [--reps 20] [--boot 10]

Scenarios from ``simulate.behaviour.behaviour_tickets`` (one year, customers starting in the
first half): one homogeneous group (complainers; occasional), three planted groups (frequent
callers, self-service users, complainers; 150 each) and all four groups (150 each). For each
scenario and method (k-means by silhouette, Gaussian mixture by BIC; both with the silhouette ≥
0.25 and mean bootstrap ARI ≥ 0.6 gates, k_range 2–6, ``--boot`` bootstrap samples): the share of
replications choosing each k, and the mean ARI of the chosen labels with the planted groups on
the clustered customers (for one group: the share choosing k = 1 is the "no segments" rate).
Seeded: replication r uses simulator seed 1000 + r and method seed r.

Printed by the defaults (2026-12-01, after the fits were made independent of the customers'
order: took 6.4 min on a shared 2-core machine; k=… columns in % of the 20
replications)::

                   scenario  planted method   k=1  k=2   k=3  k=4  k=5  k=6  mean_ari_truth
    one group (complainers)        1 kmeans 100.0  0.0   0.0  0.0  0.0  0.0             NaN
    one group (complainers)        1    gmm  40.0 60.0   0.0  0.0  0.0  0.0             NaN
     one group (occasional)        1 kmeans 100.0  0.0   0.0  0.0  0.0  0.0             NaN
     one group (occasional)        1    gmm 100.0  0.0   0.0  0.0  0.0  0.0             NaN
               three groups        3 kmeans   0.0  0.0 100.0  0.0  0.0  0.0           0.997
               three groups        3    gmm   0.0  0.0 100.0  0.0  0.0  0.0           1.000
                four groups        4 kmeans   0.0  0.0   5.0 95.0  0.0  0.0           0.929
                four groups        4    gmm   0.0  0.0   0.0 100.0  0.0  0.0           0.975

k-means never reports segments in a single group and finds the planted ones (ARI with the truth
0.93–1.00; 1 of 20 four-group runs stops at k = 3; the mixture finds all four groups
in every run). The Gaussian mixture splits one group of
complainers (1.2 contacts a month, 60 % complaints) in 12 of 20 runs: BIC adds a component for
the group's shape, the split's silhouette sits near the 0.25 gate (one run checked by hand,
simulator seed 3: 0.243, refused) and its bootstrap ARI is high (0.94 there) — stability alone
does not tell shape from segments. Hence k-means is the default; use the mixture when clusters
of different spread are expected, and read its silhouette column.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from sqresearch.simulate.behaviour import behaviour_tickets
from sqresearch.stats.behaviour import customer_features, segment_customers

SCENARIOS = {
    "one group (complainers)": {"complainers": 450},
    "one group (occasional)": {"occasional": 450},
    "three groups": {"frequent callers": 150, "self-service users": 150, "complainers": 150},
    "four groups": {"frequent callers": 150, "self-service users": 150, "complainers": 150,
                    "occasional": 150},
}


def run(reps: int, boot: int) -> pd.DataFrame:
    rows = []
    for name, sizes in SCENARIOS.items():
        for method in ("kmeans", "gmm"):
            ks, aris = [], []
            for r in range(reps):
                tickets, truth = behaviour_tickets(seed=1000 + r, sizes=sizes)
                f = customer_features(tickets, "customer_id", "created", "channel",
                                      self_service="self_service", complaint="complaint",
                                      cut="2027-01-01")
                seg = segment_customers(f, method=method, seed=r, n_boot=boot, k_range=(2, 6))
                kept = seg.labels >= 0
                group = truth.set_index("customer_id")["group"]
                ks.append(seg.k)
                aris.append(adjusted_rand_score(group[seg.labels.index[kept]],
                                                seg.labels[kept]) if len(sizes) > 1 else np.nan)
            counts = pd.Series(ks).value_counts(normalize=True)
            rows.append({"scenario": name, "planted": len(sizes), "method": method,
                         **{f"k={k}": round(100 * counts.get(k, 0.0), 1) for k in range(1, 7)},
                         "mean_ari_truth": float(np.nanmean(aris)) if len(sizes) > 1
                         else np.nan})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--boot", type=int, default=10)
    args = parser.parse_args()
    start = time.time()
    table = run(args.reps, args.boot)
    print(table.round({"mean_ari_truth": 3}).to_string(index=False))
    print(f"({(time.time() - start) / 60:.1f} min)")


if __name__ == "__main__":
    main()
