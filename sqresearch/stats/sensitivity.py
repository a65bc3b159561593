"""How much the parallel-trends assumption carries a DiD verdict: the joint pre-trend Wald test
and bounds under Rambachan & Roth's (2023) relative-magnitudes restriction Δ^RM(M̄).

Both take event-study coefficients and their covariance (e.g. from ``did.design_event`` fitted
with ``did.cluster_ols``): pre-period coefficients in time order ending with the period just
before the omitted reference period, and post-period coefficients from the first treated period
on, the reference period (normalised to 0) lying between the two.

The bounds' confidence intervals are *not* the HonestDiD package's: that package inverts the
Andrews–Roth–Pakes conditional (or hybrid) test. Here the interval is a Bonferroni union —
simple, valid whatever the correlation of the coefficients, and conservative (wider than ARP's,
and wider than needed when the pre-trend is precisely estimated). Reports should call it
"relative-magnitude bounds (Bonferroni, conservative)", as ``RMBounds.method`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def _select(coef, vcov, names) -> tuple[np.ndarray, np.ndarray]:
    """The named coefficients and their covariance block (labelled Series/DataFrame), or the
    arrays as given when they are not labelled."""
    names = list(names)
    if isinstance(coef, pd.Series | dict):
        coef = pd.Series(coef)
        missing = [n for n in names if n not in coef.index]
        if missing:
            raise ValueError(f"coefficients {missing} are not among {list(coef.index)}")
        b = coef.loc[names].to_numpy(dtype=float)
        v = (vcov.loc[names, names].to_numpy(dtype=float) if isinstance(vcov, pd.DataFrame)
             else np.asarray(vcov, dtype=float)[np.ix_(coef.index.get_indexer(names),
                                                        coef.index.get_indexer(names))])
    else:
        b, v = np.asarray(coef, dtype=float).ravel(), np.asarray(vcov, dtype=float)
        if b.size != len(names):
            raise ValueError(f"{b.size} coefficients for {len(names)} names")
    if v.shape != (b.size, b.size):
        raise ValueError(f"the covariance is {v.shape} for {b.size} coefficients")
    return b, v


@dataclass(frozen=True)
class PretrendTest:
    """Joint Wald test that every pre-period coefficient is zero."""

    names: tuple[str, ...]
    wald: float  # W = β'V⁻¹β
    q: int
    chi2_p: float  # P(χ²_q > W)
    df_denom: float | None
    f: float  # W / q
    f_p: float  # P(F(q, df_denom) > W/q); NaN without df_denom

    @property
    def p_value(self) -> float:
        """The F p-value when a denominator df was given (clustered errors), else χ²."""
        return self.f_p if self.df_denom is not None else self.chi2_p

    def summary(self) -> pd.DataFrame:
        """One row per test: test ("chi2", "F"), statistic, df_num, df_denom, p_value."""
        rows = [{"test": "chi2", "statistic": self.wald, "df_num": self.q,
                 "df_denom": math.inf, "p_value": self.chi2_p}]
        if self.df_denom is not None:
            rows.append({"test": "F", "statistic": self.f, "df_num": self.q,
                         "df_denom": self.df_denom, "p_value": self.f_p})
        return pd.DataFrame(rows)


def pretrend_wald(coef, vcov, names, df_denom: float | None = None) -> PretrendTest:
    """Joint Wald test of all pre-period event-study coefficients (not only a linear trend).

    Parameters
    ----------
    coef : Series (or dict) of coefficients by name, or an array holding just ``names``
    vcov : their covariance, a DataFrame labelled like ``coef`` (or an array)
    names : the pre-period coefficients tested
    df_denom : denominator df of the F version; with cluster-robust errors pass G − 1 (the
        number of clusters less one), as ``wald.wald_test(test="F")`` does — the χ² version
        over-rejects with few clusters.

    Returns
    -------
    PretrendTest
        wald, q, chi2_p, f = W/q, f_p; ``p_value`` is f_p when df_denom is given.

    Notes
    -----
    W = β'V⁻¹β ~ χ²_q; F = W/q ~ F(q, G − 1). R: ``car::linearHypothesis(fit, names, vcov. =
    V, test = "Chisq")`` / ``test = "F"`` with the residual df set to G − 1 (as
    ``clubSandwich::Wald_test(..., test = "Naive-F")`` does).
    """
    b, v = _select(coef, vcov, names)
    try:
        wald = float(np.sum(np.linalg.solve(np.linalg.cholesky(v), b) ** 2))
    except np.linalg.LinAlgError as exc:
        raise ValueError("the pre-period covariance is not positive definite; drop a "
                         "redundant coefficient") from exc
    q = b.size
    f = wald / q
    f_p = float(stats.f.sf(f, q, df_denom)) if df_denom is not None else math.nan
    return PretrendTest(tuple(names), wald, q, float(stats.chi2.sf(wald, q)), df_denom, f, f_p)


@dataclass(frozen=True)
class RMBounds:
    """Bounds on θ = l'τ_post under Δ^RM(M̄), per M̄.

    ``table``: mbar, id_low, id_high (the identified set at the estimated pre-trend), ci_low,
    ci_high, excludes_zero.
    """

    estimate: float  # l'β̂_post
    se: float
    max_pre_change: float  # m̂ = max_s |δ̂_{s+1} − δ̂_s| over the pre-periods
    max_pre_change_upper: float  # its upper confidence bound (Bonferroni)
    slope_factor: float  # S = Σ_k |Σ_{t ≥ k} l_t|
    table: pd.DataFrame
    breakdown: float  # the largest M̄ whose CI excludes 0 (NaN: not even at M̄ = 0)
    alpha: float
    method: str = ("relative-magnitude bounds Δ^RM (Rambachan & Roth 2023), Bonferroni CI "
                   "(conservative; not the HonestDiD ARP conditional test)")

    def summary(self) -> pd.DataFrame:
        """The table with estimate, se, breakdown and method on every row."""
        return self.table.assign(estimate=self.estimate, se=self.se,
                                 breakdown=self.breakdown, method=self.method)


def rm_bounds(coef, vcov, pre, post, weights=None, mbar=(0, 0.5, 1, 2),
              alpha: float = 0.05) -> RMBounds:
    """Relative-magnitude sensitivity bounds for an event-study target.

    Parameters
    ----------
    coef, vcov : event-study coefficients and covariance (labelled, or arrays in the order
        ``pre + post``)
    pre : names of the pre-period coefficients, earliest first, the last one just before the
        reference period
    post : names of the post-period coefficients, first treated period first
    weights : l, the weights of the target θ = Σ l_t τ_t (default: the average of the
        post coefficients)
    mbar : the M̄ values reported
    alpha : 1 − confidence level

    Returns
    -------
    RMBounds
        estimate, se, the identified set and CI per M̄, and the breakdown value of M̄.

    Notes
    -----
    β = τ + δ with τ_pre = 0 and δ_0 = 0 at the reference period. Δ^RM(M̄): every post-period
    change |δ_t − δ_{t−1}| (t = 1 … T̄) is at most M̄·m, m = max_s |δ_{s+1} − δ_s| over the T_pre
    pre-period changes (the last one to δ_0 = 0). Writing δ_t = Σ_{k ≤ t} d_k, l'δ_post =
    Σ_k d_k L_k with L_k = Σ_{t ≥ k} l_t, so over the box |d_k| ≤ M̄ m it ranges over
    ±M̄ m S, S = Σ_k |L_k| (the linear programme's solution in closed form). Identified set at
    the estimated pre-trend: l'β̂_post ± M̄ m̂ S.

    CI (Bonferroni, α split in half when M̄ > 0): with probability ≥ 1 − α/2 every pre-period
    change lies within z_{1 − α/(4 T_pre)}·se of its estimate, so m ≤ m_up = max_s(|Δ̂_s| +
    z·se_s); with probability ≥ 1 − α/2, |l'β̂_post − l'β_post| ≤ z_{1 − α/4}·se. On both
    events θ ∈ l'β̂_post ± (z_{1 − α/4}·se + M̄ m_up S), so the interval covers θ with
    probability ≥ 1 − α whatever the correlations. At M̄ = 0 (parallel trends) the pre-period
    plays no part and the CI is the usual l'β̂_post ± z_{1 − α/2}·se. Breakdown:
    M̄* = (|l'β̂_post| − z_{1 − α/4}·se) / (m_up S), 0 when that is negative but the M̄ = 0 CI
    excludes 0, NaN when even that one does not.
    """
    pre, post = list(pre), list(post)
    b, v = _select(coef, vcov, pre + post)
    n_pre = len(pre)
    if n_pre < 1 or not post:
        raise ValueError("give at least one pre-period and one post-period coefficient")
    lw = (np.full(len(post), 1 / len(post)) if weights is None
          else np.asarray(weights, dtype=float))
    if lw.size != len(post):
        raise ValueError(f"{lw.size} weights for {len(post)} post-period coefficients")
    lfull = np.r_[np.zeros(n_pre), lw]
    est = float(lfull @ b)
    se = math.sqrt(float(lfull @ v @ lfull))
    # pre-period changes: δ_{s+1} − δ_s for the pre coefficients followed by δ_0 = 0
    diff = np.zeros((n_pre, b.size))
    for s in range(n_pre):
        diff[s, s] = -1.0
        if s + 1 < n_pre:
            diff[s, s + 1] = 1.0
    changes = diff @ b
    se_changes = np.sqrt(np.diag(diff @ v @ diff.T))
    m_hat = float(np.max(np.abs(changes)))
    m_up = float(np.max(np.abs(changes) + stats.norm.ppf(1 - alpha / (4 * n_pre)) * se_changes))
    slope = float(np.sum(np.abs(np.cumsum(lw[::-1])[::-1])))
    z0, z1 = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(1 - alpha / 4)
    rows = []
    for m in mbar:
        half = z0 * se if m == 0 else z1 * se + m * m_up * slope
        rows.append({"mbar": float(m), "id_low": est - m * m_hat * slope,
                     "id_high": est + m * m_hat * slope, "ci_low": est - half,
                     "ci_high": est + half, "excludes_zero": abs(est) > half})
    breakdown = (math.nan if abs(est) <= z0 * se
                 else max(0.0, (abs(est) - z1 * se) / (m_up * slope)))
    return RMBounds(est, se, m_hat, m_up, slope, pd.DataFrame(rows), breakdown, alpha)
