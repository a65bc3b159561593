"""Slow drifts: one-sided EWMA and CUSUM on standardised weekly scores, with the in-control ARL.

A drift of a few tenths of a standard deviation a week never crosses a one-week limit; the
charts accumulate it. Both run on normal scores ``z_t`` of the weeks after a *fixed* baseline
(``alerts.weekly_scores`` gives them, the bad direction positive), so one chart design serves
every metric:

- EWMA with a reflecting barrier at ``zr`` (default 0): ``E_t = max(zr, (1 − λ)E_{t−1} + λz_t)``,
  ``E_0 = 0``, signal when ``E_t > c·√(λ/(2 − λ))`` (fixed, asymptotic-width limit) — R
  ``spc::xewma.arl(l, c, mu, zr, sided = "one")``.
- CUSUM: ``C_t = max(0, C_{t−1} + z_t − k)``, ``C_0 = 0``, signal when ``C_t > h`` — R
  ``spc::xcusum.arl(k, h, mu, sided = "one")``.

Only the bad side is charted, so the in-control average run length (ARL0) is the mean number of
weeks to a *false alarm* — the figure the report states. It is the solution of the run-length
integral equation (Crowder 1987 for the EWMA; Page 1954, Brook & Evans 1972 for the CUSUM)

    L(z) = 1 + L(b)·P(next state = b | z) + ∫_b^h L(y) f(y | z) dy,

with ``b`` the barrier (``zr`` / 0), solved by the Nyström method on ``r`` Gauss–Legendre nodes
plus the barrier atom (the method of ``spc``, Knoth's package). ``tests/reference_alerts.R``
checks it against spc 0.6.7 to 1e-6 relative. ``limit_for_arl`` inverts it: the per-cell ARL0
that keeps a report of ``n_cells`` charts at ``expected_false`` false alarms a week is
``n_cells / expected_false`` weeks (the steady-state alarm rate of a chart is ≈ 1/ARL0).

The ARL assumes the baseline centre and spread are known; estimated from 12–26 weeks they make
run lengths shorter and more variable (Jones, Champ & Rigdon 2001), which
``benchmarks/calibration_alerts.py`` measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats


def _nystrom(lo: float, hi: float, r: int, trans, atom) -> float:
    """ARL from 0 for a chart on [lo, hi] with an atom at ``lo``: ``trans(y, z)`` is the density
    of the next state y given z, ``atom(z)`` the probability of landing on the barrier."""
    x, w = np.polynomial.legendre.leggauss(r)
    y = lo + (hi - lo) * (x + 1) / 2
    w = w * (hi - lo) / 2
    pts = np.concatenate([[lo], y])          # unknowns: L(barrier), L(node_1..r)
    a = np.eye(r + 1)
    a[:, 0] -= atom(pts)
    a[:, 1:] -= trans(y[None, :], pts[:, None]) * w[None, :]
    arl = np.linalg.solve(a, np.ones(r + 1))
    return float(arl[0])                     # the chart starts at the barrier (0)


def ewma_arl(lam: float, c: float, mu: float = 0.0, zr: float = 0.0, r: int = 80) -> float:
    """ARL of the one-sided (upper) EWMA with reflection at ``zr`` and limit c·√(λ/(2 − λ)),
    for N(mu, 1) scores, started at 0 — R ``spc::xewma.arl(lam, c, mu, zr = zr, sided = "one",
    r = r)``."""
    h = c * math.sqrt(lam / (2 - lam))
    if not (0 < lam <= 1) or h <= zr:
        raise ValueError("need 0 < lam <= 1 and a limit above the barrier zr")

    def trans(y, z):
        return stats.norm.pdf((y - (1 - lam) * z) / lam - mu) / lam

    def atom(z):
        return stats.norm.cdf((zr - (1 - lam) * z) / lam - mu)

    return _nystrom(zr, h, r, trans, atom)


def cusum_arl(k: float, h: float, mu: float = 0.0, r: int = 80) -> float:
    """ARL of the one-sided (upper) CUSUM with reference value k and decision interval h, for
    N(mu, 1) scores, started at 0 — R ``spc::xcusum.arl(k, h, mu, sided = "one", r = r)``."""
    if h <= 0:
        raise ValueError("need h > 0")

    def trans(y, z):
        return stats.norm.pdf(y - z + k - mu)

    def atom(z):
        return stats.norm.cdf(k - z - mu)

    return _nystrom(0.0, h, r, trans, atom)


def limit_for_arl(method: str, arl0: float, lam: float = 0.2, k: float = 0.5) -> float:
    """The EWMA ``c`` or CUSUM ``h`` whose in-control ARL is ``arl0`` (root of log ARL)."""
    if arl0 <= 1:
        raise ValueError("arl0 must exceed 1 week")
    if method == "ewma":
        def f(c):
            return math.log(ewma_arl(lam, c)) - math.log(arl0)
    elif method == "cusum":
        def f(c):
            return math.log(cusum_arl(k, c)) - math.log(arl0)
    else:
        raise ValueError(f"unknown drift method {method!r}: use 'ewma' or 'cusum'")
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return float(optimize.brentq(f, 1e-3, hi, xtol=1e-10))


@dataclass(frozen=True)
class DriftChart:
    """One chart design: ``method`` (ewma/cusum), its parameters, ``limit`` (on the statistic's
    scale) and ``arl0`` (in-control weeks to a false alarm)."""

    method: str
    lam: float
    c: float
    k: float
    h: float
    limit: float
    arl0: float

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


def design(method: str = "ewma", n_cells: int = 1, expected_false: float = 0.5,
           lam: float = 0.2, k: float = 0.5, arl0: float | None = None) -> DriftChart:
    """The chart whose ARL0 is ``arl0`` weeks (default ``n_cells / expected_false``)."""
    target = arl0 if arl0 is not None else n_cells / expected_false
    target = max(target, 2.0)
    if method == "ewma":
        c = limit_for_arl("ewma", target, lam=lam)
        return DriftChart("ewma", lam, c, math.nan, math.nan, c * math.sqrt(lam / (2 - lam)),
                          ewma_arl(lam, c))
    if method == "cusum":
        h = limit_for_arl("cusum", target, k=k)
        return DriftChart("cusum", math.nan, math.nan, k, h, h, cusum_arl(k, h))
    raise ValueError(f"unknown drift method {method!r}: use 'ewma' or 'cusum'")


def run_chart(z, chart: DriftChart) -> tuple[np.ndarray, np.ndarray]:
    """Run the chart over the columns of ``z`` (cells × weeks, bad direction positive; NaN weeks
    carry the statistic over). Returns the statistic (cells × weeks) and the first week index
    with a signal per cell (−1: none)."""
    z = np.atleast_2d(np.asarray(z, dtype=float))
    stat = np.zeros_like(z)
    s = np.zeros(z.shape[0])
    for t in range(z.shape[1]):
        zt = z[:, t]
        ok = ~np.isnan(zt)
        if chart.method == "ewma":
            nxt = np.maximum(0.0, (1 - chart.lam) * s + chart.lam * np.where(ok, zt, 0.0))
        else:
            nxt = np.maximum(0.0, s + np.where(ok, zt, 0.0) - chart.k)
        s = np.where(ok, nxt, s)
        stat[:, t] = s
    beyond = stat > chart.limit
    first = np.where(beyond.any(axis=1), beyond.argmax(axis=1), -1)
    return stat, first


def weekly_scores(weeks: pd.DataFrame, baseline: tuple[str, str], through: str,
                  **kw) -> tuple[pd.DataFrame, list[str]]:
    """Normal scores z (bad direction positive) of every week after the fixed ``baseline``
    (inclusive ISO-week range) up to ``through``, each judged by ``alerts.baseline_alerts``
    against that same baseline: z = Φ⁻¹(1 − p_bad). Returns (kpi, cell, one column per week)
    and the week labels; unjudged weeks are NaN."""
    from sqresearch.stats.alerts import baseline_alerts

    labels = sorted(x for x in weeks[kw.get("week", "week")].astype(str).unique()
                    if baseline[1] < x <= through)
    out = None
    for lab in labels:
        t = baseline_alerts(weeks, lab, baseline=baseline, **kw).table
        z = stats.norm.isf(t["p_value"].to_numpy(float))
        col = t[["kpi", "cell"]].assign(**{lab: z})
        out = col if out is None else out.merge(col, on=["kpi", "cell"], how="outer")
    return out, labels


def drift_alerts(weeks: pd.DataFrame, baseline: tuple[str, str], through: str,
                 method: str = "ewma", expected_false: float = 0.5, lam: float = 0.2,
                 k: float = 0.5, arl0: float | None = None, **kw) -> pd.DataFrame:
    """EWMA or CUSUM of every cell's weekly normal scores since the fixed ``baseline``, up to
    ``through``. The chart's ARL0 is ``n_cells / expected_false`` weeks unless given, so the
    report expects ≈ ``expected_false`` false drift alarms a week in steady state.

    Returns one row per cell: kpi, cell, method, statistic (at ``through``), limit, arl0,
    alert, first_signal (ISO week of the first crossing, "" if none), weeks (monitored)."""
    scores, labels = weekly_scores(weeks, baseline, through, **kw)
    chart = design(method, len(scores), expected_false, lam=lam, k=k, arl0=arl0)
    z = scores[labels].to_numpy(float)
    stat, first = run_chart(z, chart)
    return pd.DataFrame({
        "kpi": scores["kpi"], "cell": scores["cell"], "method": chart.method,
        "statistic": stat[:, -1], "limit": chart.limit, "arl0": chart.arl0,
        "alert": stat[:, -1] > chart.limit,
        "first_signal": [labels[i] if i >= 0 else "" for i in first],
        "weeks": (~np.isnan(z)).sum(axis=1)})
