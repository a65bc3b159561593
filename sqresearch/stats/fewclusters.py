"""Inference that holds with few clusters, and with few *treated* clusters.

Analytic cluster-robust (CR1/HC1) t-tests over-reject when clusters are few and, worse, when
few of them are treated: with 2 treated of 12 units a DiD t-test rejects a true null about a
quarter of the time (MacKinnon & Webb 2017, 2018). Three tools:

- :func:`wild_cluster_restricted` — the wild cluster bootstrap-t with the null imposed (WCR;
  Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017) computed as in Roodman, MacKinnon,
  Nielsen & Webb (2019, "Fast and wild", Stata's ``boottest``): the cluster-level score
  contributions are precomputed once, so a bootstrap draw costs O(G·k) (or O(G²)), never a refit
  over the N rows; the CI is the set of β0 the same test does not reject (test inversion), so
  CI and p-value always agree.
- :func:`randomization_inference` — re-assign treatment across units (keeping the number
  treated), exact when all assignments can be listed; the CI inverts the test under a constant
  additive effect. This stays valid with 1–4 treated units, where WCR fails too, but its
  p-values are coarse (1 / number of assignments).
- :func:`choose_inference` — which of the three a design calls for, with the reason.

**Decision rule used everywhere here:** reject at level α when p < α; a CI is the set of β0 with
p(β0) ≥ α. So "the CI excludes β0" and "p(β0) < α" are the same statement.

The wild cluster bootstrap is in ``wildboot``, randomization inference in ``randomization``,
their shared test inversion in ``inversion``; this module keeps the choice rule and every
public name importable from here.
"""

from __future__ import annotations

from sqresearch.stats.inversion import TIE_RTOL
from sqresearch.stats.randomization import RIResult, did_2x2_stats, randomization_inference
from sqresearch.stats.wildboot import WEBB, WildResult, wild_cluster_restricted, wild_weights

__all__ = ["TIE_RTOL", "WEBB", "RIResult", "WildResult", "choose_inference", "did_2x2_stats",
           "randomization_inference", "wild_cluster_restricted", "wild_weights"]


def choose_inference(n_clusters: int, n_treated: int, n_control: int) -> tuple[str, str]:
    """The inference a clustered comparison calls for, and the reason in one sentence.

    - "cluster_robust_t": ≥ 30 clusters with ≥ 10 treated and ≥ 10 control — the analytic CR1
      t with G − 1 df is then close to its nominal level.
    - "wild_cluster_bootstrap_wcr": fewer clusters, or fewer than 10 treated or control, but at
      least 5 of each — WCR stays close to its level down to about 5 treated clusters
      (MacKinnon & Webb 2017, 2018), where analytic t-tests over-reject.
    - "randomization_inference": fewer than 5 treated or fewer than 5 control clusters — even
      WCR over- or under-rejects badly there (MacKinnon & Webb 2018); re-assigning treatment
      across units is exact when units are exchangeable (domain.md §7).
    """
    if min(n_clusters, n_treated, n_control) < 0 or n_treated + n_control != n_clusters:
        raise ValueError("n_treated + n_control must equal n_clusters")
    few = min(n_treated, n_control)
    side = "treated" if n_treated <= n_control else "control"
    if few < 5:
        return ("randomization_inference",
                f"Only {few} {side} cluster{'s' * (few != 1)} of {n_clusters}: analytic "
                f"cluster-robust p-values are far too small and even the wild cluster "
                f"bootstrap is unreliable below 5, so treatment is re-assigned across units "
                f"(randomization inference) — and the effect rests on very few units.")
    if n_clusters >= 30 and few >= 10:
        return ("cluster_robust_t",
                f"{n_clusters} clusters ({n_treated} treated, {n_control} control) are enough "
                f"for the cluster-robust t-test with {n_clusters - 1} degrees of freedom.")
    return ("wild_cluster_bootstrap_wcr",
            f"With {n_clusters} clusters ({n_treated} treated, {n_control} control) analytic "
            f"cluster-robust p-values are too small; the wild cluster bootstrap with the null "
            f"imposed (WCR) and its test-inversion CI hold their level down to about 5 "
            f"treated clusters.")
