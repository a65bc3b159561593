"""From an estimate to a verdict word, the same way in every study type.

A verdict needs three things: an :class:`Inference` (the estimate on its analysis scale, the
two-sided p-value of "no effect" and a confidence interval at *any* level, all from one method, so
the interval shown always agrees with the p-value that decided), the metric's direction, and its
smallest effect of interest (SESOI, a positive margin on the analysis scale).

The words (``shared/domain.md`` §7):

- **improved** / **worsened** — the (1 − α) CI excludes 0; the sign and the metric's direction
  say which;
- **equivalent** — the (1 − 2α) CI lies inside ± SESOI (two one-sided tests at α, TOST);
- **not worse** — for guardrail metrics: the (1 − 2α) CI's bad-side bound is better than
  −SESOI (one-sided non-inferiority test at α);
- **inconclusive** — everything else: the CI holds both no effect and an effect of practical
  size. "No change" is never claimed without an equivalence test.

Multiplicity: the primary metrics form the confirmatory family, tested with Holm's step-down
procedure. Each primary metric's CI is shown at the level of its Holm step (rejected hypotheses at
their own step α/(m − i + 1), the others at the step where the procedure stopped), so a CI
excludes 0 exactly when the Holm-adjusted p is below α. Segments and secondary metrics are
exploratory: unadjusted α, labelled as such, never changing a primary verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

WORDS = ("improved", "worsened", "equivalent", "not worse", "inconclusive")

#: Default smallest effects of interest, in the unit the report shows the effect in:
#: % change for durations (ratios), percentage points for shares, points for NPS, score points.
DEFAULT_SESOI = {"duration": 5.0, "censored": 5.0, "share": 2.0, "nps": 3.0, "score": 0.1}
SESOI_UNITS = {"duration": "%", "censored": "%", "share": "percentage points", "nps": "points",
               "score": "points"}


def sesoi_unit(kind: str, unit: str = "") -> str:
    """The unit a SESOI is stated in: % for ratios, percentage points for shares, NPS points,
    and for scores the metric's own unit ("score points" when it has none)."""
    if kind == "score":
        return "score points" if unit in ("", "score") else unit
    return SESOI_UNITS[kind]


def sd_sesoi(before: pd.Series) -> tuple[float, str]:
    """The default SESOI of a custom score: 0.1 standard deviations of the before period; NaN
    (equivalence not tested, stated) when the before period has no spread."""
    sd = float(pd.Series(before, dtype=float).std(ddof=1))
    if not (np.isfinite(sd) and sd > 0):
        return math.nan, ("no default: the before period has no spread (declare sesoi: for this "
                          "metric to test equivalence)")
    return 0.1 * sd, "default: 0.1 standard deviations of the before period"


def fmt_sesoi(sesoi: float, unit: str) -> str:
    """'± 5 %', '± 2 percentage points'; 'none' when there is no SESOI. For ratios the margin is
    symmetric on the log scale: ± 5 % means a ratio between 1/1.05 (−4.8 %) and 1.05."""
    if not np.isfinite(sesoi):
        return "none"
    return f"± {sesoi:.3g} {unit}"


def kind_of(name: str, unit: str, log: bool, nps_names=("nps",)) -> str:
    """The verdict kind of a metric: duration (compared as a ratio), share, nps or score. Only
    the NPS metric itself is "nps" — a custom score in "points" is a score."""
    if log:
        return "duration"
    if unit == "share":
        return "share"
    return "nps" if name in nps_names else "score"


@dataclass(frozen=True)
class Inference:
    """One effect estimate with its p-value and a CI at any level, from one method.

    ``scale`` is "log" when the estimate is a log ratio (durations), else "linear".
    ``method`` is a short code (``cluster_robust_t``, ``wild_cluster_bootstrap_wcr``,
    ``randomization_inference``, ``welch_t`` …); ``description`` says it in words.
    """

    estimate: float
    p_value: float
    ci: Callable[[float], tuple[float, float]]  # confidence level -> (low, high)
    method: str
    description: str
    scale: str = "linear"
    se: float = math.nan
    df: float = math.nan
    n: int | None = None

    def interval(self, level: float) -> tuple[float, float]:
        lo, hi = self.ci(level)
        return float(lo), float(hi)


def not_estimable(reason: str, scale: str = "linear", n: int | None = None) -> Inference:
    """An effect that cannot be estimated here (a period without data, a single cluster …):
    its verdict is *inconclusive*, with ``reason`` as the note."""
    return Inference(math.nan, math.nan, lambda level: (math.nan, math.nan), "not_estimable",
                     reason, scale, math.nan, math.nan, n)


def wald(estimate: float, se: float, df: float, method: str, description: str,
         scale: str = "linear", n: int | None = None) -> Inference:
    """An :class:`Inference` from an estimate and its standard error, with t(df) (normal when
    ``df`` is infinite) for both the p-value and the interval."""
    dist = stats.norm if not np.isfinite(df) else stats.t(df)
    if not (se > 0 and np.isfinite(se)):
        return Inference(estimate, math.nan, lambda level: (math.nan, math.nan), method,
                         description, scale, se, df, n)
    p = float(2 * dist.sf(abs(estimate / se)))

    def ci(level: float) -> tuple[float, float]:
        q = float(dist.ppf(0.5 + level / 2))
        return estimate - q * se, estimate + q * se

    return Inference(float(estimate), p, ci, method, description, scale, float(se), float(df), n)


def margin_on_scale(sesoi: float, kind: str) -> float:
    """The SESOI on the analysis scale: a % change becomes log(1 + %/100) for ratio metrics,
    percentage points become a share difference; points stay points."""
    if kind in ("duration", "censored"):
        return math.log1p(sesoi / 100)
    if kind == "share":
        return sesoi / 100
    return sesoi


def decide(inf: Inference, alpha: float, direction: str, margin: float,
           guardrail: bool = False) -> dict:
    """The verdict of one effect at level ``alpha`` (already multiplicity-adjusted when the
    metric is in a confirmatory family).

    Returns a dict: verdict, ci_low, ci_high (the (1 − α) CI), eq_low, eq_high (the (1 − 2α)
    CI used for equivalence and non-inferiority), margin, note.
    """
    if margin <= 0:
        raise ValueError("the smallest effect of interest must be a positive number")
    lo, hi = inf.interval(1 - alpha)
    elo, ehi = inf.interval(1 - 2 * alpha)
    out = {"ci_low": lo, "ci_high": hi, "eq_low": elo, "eq_high": ehi, "margin": margin,
           "note": ""}
    if any(math.isnan(v) for v in (lo, hi, elo, ehi)):
        why = (inf.description if inf.method == "not_estimable"
               else "no interval could be computed (no variation in the outcome?)")
        return {**out, "verdict": "inconclusive", "note": why}
    good_up = direction == "higher"
    if math.isnan(margin):  # no smallest effect of interest: equivalence cannot be shown
        out["note"] = ("no smallest effect of interest, so equivalence and non-inferiority "
                       "were not tested")
        if lo > 0 or hi < 0:
            return {**out, "verdict": "improved" if (lo > 0) == good_up else "worsened"}
        return {**out, "verdict": "inconclusive"}
    if lo > 0 or hi < 0:
        out["verdict"] = "improved" if (lo > 0) == good_up else "worsened"
        if -margin < elo and ehi < margin:
            out["note"] = "the change is smaller than the smallest effect of interest"
        return out
    if -margin < elo and ehi < margin:
        return {**out, "verdict": "equivalent"}
    if guardrail and ((good_up and elo > -margin) or (not good_up and ehi < margin)):
        return {**out, "verdict": "not worse"}
    return {**out, "verdict": "inconclusive"}


def holm_levels(p_values, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Holm-adjusted p-values (R ``p.adjust(p, "holm")``: ``compare.holm``) and, per hypothesis,
    the α at which its CI is shown so that the CI excludes 0 exactly when the adjusted p is below
    α (see the module notes). A missing p-value (an effect that could not be estimated) stays
    NaN and leaves the family, as in R."""
    from sqresearch.stats.compare import holm

    p = np.asarray(p_values, dtype=float)
    p_adj, levels = holm(p), np.full(p.size, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return p_adj, np.full(p.size, alpha)
    q = p[ok]
    order = np.argsort(q, kind="mergesort")
    steps = alpha / (m - np.arange(m))  # α/m, α/(m−1), …, α
    ranked = q[order]
    stop = int(np.argmax(ranked > steps)) if (ranked > steps).any() else m
    level = np.where(np.arange(m) < stop, steps, steps[min(stop, m - 1)])
    sub = np.empty(m)
    sub[order] = level
    levels[ok] = sub
    levels[~ok] = alpha
    return p_adj, levels


def judge_family(rows: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Verdicts for a table of effects.

    ``rows`` needs columns ``inference`` (:class:`Inference`), ``direction``, ``margin``
    (analysis scale), ``guardrail`` (bool) and ``family`` ("confirmatory" or "exploratory").
    Adds p_adjusted, alpha_used, ci_level, ci_low, ci_high, eq_low, eq_high, verdict, note.
    """
    out = rows.copy()
    out["p_value"] = [i.p_value for i in out["inference"]]
    out["p_adjusted"] = out["p_value"]
    out["alpha_used"] = alpha
    conf = (out["family"] == "confirmatory").to_numpy()
    if conf.any():
        p_adj, levels = holm_levels(out.loc[conf, "p_value"], alpha)
        out.loc[conf, "p_adjusted"] = p_adj
        out.loc[conf, "alpha_used"] = levels
    decided = [decide(r.inference, r.alpha_used, r.direction, r.margin, bool(r.guardrail))
               for r in out.itertuples()]
    for key in ("verdict", "ci_low", "ci_high", "eq_low", "eq_high", "note"):
        out[key] = [d[key] for d in decided]
    out["ci_level"] = 1 - out["alpha_used"]
    return out


def explain(verdict: str, margin_text: str, ci_text: str, guardrail: bool = False) -> str:
    """One sentence saying why a verdict was reached."""
    return {
        "improved": f"the {ci_text} excludes no change, on the good side",
        "worsened": f"the {ci_text} excludes no change, on the bad side",
        "equivalent": f"the two one-sided tests place the change within ± {margin_text}",
        "not worse": f"the change is not worse than − {margin_text} (non-inferiority, "
                     "guardrail metric)",
        "inconclusive": f"the {ci_text} holds both no change and changes larger than "
                        f"{margin_text}" + ("; non-inferiority not shown" if guardrail else ""),
    }[verdict]
