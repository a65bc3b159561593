"""The control-group effect each verdict rests on: an inference that holds for the number of
treated and control clusters at hand.

The estimate is the study's primary DiD (two-way fixed effects with more than two periods, the
2 × 2 otherwise) on the unit × period panel, or the ANCOVA of a randomized pre/post trial (units
independent, HC2 errors). Its p-value and CI come from the inference
:func:`fewclusters.choose_inference` picks for the counts: the cluster-robust t (≥ 30 clusters,
≥ 10 of each arm), the wild cluster bootstrap with the null imposed and a test-inversion CI
(fewer), or randomization inference (fewer than 5 treated or control units). Every CI is the set
of effects the same test does not reject, so it agrees with the p-value at every level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqresearch.stats import did, fewclusters
from sqresearch.stats.verdicts import Inference, wald


@dataclass(frozen=True)
class ClusterCounts:
    total: int
    treated: int
    control: int

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, "treated": self.treated, "control": self.control}


def counts(panel: pd.DataFrame) -> ClusterCounts:
    arms = panel.groupby("_unit")["treated"].first()
    return ClusterCounts(len(arms), int((arms == 1).sum()), int((arms == 0).sum()))


def _cached(fn):
    memo: dict[float, tuple[float, float]] = {}

    def ci(level: float) -> tuple[float, float]:
        key = round(level, 12)
        if key not in memo:
            memo[key] = fn(level)
        return memo[key]

    return ci


def did_inference(panel: pd.DataFrame, twfe: bool, alpha: float, seed: int, resamples: int,
                  weights: str = "auto", force: str | None = None
                  ) -> tuple[Inference, ClusterCounts, str]:
    """(inference, cluster counts, the reason for the choice) for the DiD on ``panel``
    (columns _unit, period, treated, post, value)."""
    c = counts(panel)
    rule, reason = fewclusters.choose_inference(c.total, c.treated, c.control)
    rule = force or rule
    x = did.design_twfe(panel, "_unit", "period") if twfe else did.design_2x2(panel)
    y, g = panel["value"].to_numpy(dtype=float), panel["_unit"].to_numpy()
    name = "two-way fixed effects DiD" if twfe else "2 × 2 DiD"
    n = len(panel)
    if rule == "cluster_robust_t":
        t = did.cluster_ols(y, x, g).term("treated:post", alpha)
        return wald(t["estimate"], t["se"], t["df"], rule, f"{name}, cluster-robust (CR1) t "
                    f"with {t['df']} df", n=n), c, reason
    if rule == "wild_cluster_bootstrap_wcr":
        res = fewclusters.wild_cluster_restricted(y, x, g, "treated:post", weights=weights,
                                                  resamples=resamples, seed=seed, alpha=alpha,
                                                  ci=False)
        return Inference(res.estimate, res.p_value, _cached(res.interval), rule,
                         f"{name}; {res.method}", se=res.se, df=c.total - 1, n=n), c, reason
    balanced = panel.groupby("_unit")["period"].nunique().nunique() == 1 and \
        panel.groupby(["_unit", "period"]).size().max() == 1
    if twfe and not balanced:
        def estimator(frame: pd.DataFrame) -> float:
            xx = did.design_twfe(frame, "_unit", "period")
            beta = np.linalg.lstsq(xx.to_numpy(dtype=float), frame["value"].to_numpy(float),
                                   rcond=None)[0]
            return float(beta[0])
    else:
        estimator = "did_2x2"
    res = fewclusters.randomization_inference(panel, unit="_unit", estimator=estimator,
                                              resamples=resamples, seed=seed, alpha=alpha,
                                              ci=True)
    return Inference(res.estimate, res.p_value, _cached(res.interval), rule,
                     f"{name}; {res.method}. {res.note}", n=n), c, reason


def ancova_inference(a: dict) -> Inference:
    """The randomized trial's ANCOVA effect (units independent) as an inference."""
    vcov = a.get("vcov") if isinstance(a.get("vcov"), str) else "HC2"  # ancova's default
    return wald(a["estimate"], a["se"], a["df"], f"ancova_{vcov.lower()}_t",
                f"ANCOVA post ~ arm + pre (+ covariates), {vcov} standard errors, t with "
                f"{a['df']:g} df", n=a["n"])


def unit_counts_text(c: ClusterCounts) -> str:
    return f"{c.total} units ({c.treated} treated, {c.control} control)"

