"""Slow drifts: one-sided EWMA and CUSUM on standardised weekly scores, with the in-control ARL.

A drift of a few tenths of a standard deviation a week never crosses a one-week limit; the
charts accumulate it. Both run on normal scores ``z_t`` of the weeks after a *fixed* baseline
(``weekly_scores`` gives them, the bad direction positive), so one chart design serves
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
checks it against spc 0.6.7 to 1e-6 relative.

**The baseline is estimated** (Jones, Champ & Rigdon 2001; Saleh et al. 2015). Every z_t of a
cell is judged against the same baseline estimate, so its scores share that estimate's error:
for a centre estimated from volume N_b and a week of volume n_t, z_t = (x_t − x̂)/σ_pred with
Var(x̂)/σ_pred² = ρ = n_t/(N_b + n_t) (1/(k + 1) for k equal weeks), so the scores are
equicorrelated with ρ and, given the shared error B ~ N(0, 1), iid N(√ρ·B, 1 − ρ). Where the
method also estimates the scale (t with ``df``: Hartung–Knapp for durations, Laney's σ_z for
rates, DerSimonian–Laird for scores) the weeks share it too: T_t ~ N(√ρ·B/√W, (1 − ρ)/W) with
W ~ χ²(df)/df and z_t = Φ⁻¹(F_df(T_t)). An EWMA averages the shared error instead of averaging
it away: with 12 baseline weeks the textbook ARL0 of 400 weeks gives 1/180 false alarms a week,
not 1/400 (``alarm_rate``). After a signal the chart restarts at 0, so a cell's signals form a
renewal process whose long-run rate given (B, W) is 1/ARL(B, W); the unconditional rate is

    E_{B,W}[1/ARL(limit | B, W)]

(``alarm_rate``: Gauss–Hermite over B, Gauss–Legendre over log W, each conditional ARL by the
same Nyström solution with the innovation density of z given (B, W) — ``conditional_arl``).
``design`` puts the limit where this rate is expected_false / n_cells, so a report of
n_cells charts expects ``expected_false`` false drift signals a week in steady state (fewer
in the first ≈ 10 weeks after the baseline, as each chart starts at 0). Tested against
scipy's quad and a product Gauss–Legendre rule, the rescaled spc ARLs, and simulated run
lengths and long runs (``tests/test_alerts_drift.py``); through ``baseline_alerts``,
``benchmarks/calibration_drift.py`` measures it. Counting cells above the limit at the report
week (the old count) measures the stationary exceedance probability, not an alarm rate: an
excursion lasts several weeks.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats


def _grid(method: str, limit: float, lam: float, k: float, zr: float, r: int):
    """The run-length equation on r Gauss–Legendre nodes plus the barrier atom: the innovations
    u at which it reads the density (rows: from-states barrier, node_1..r; columns: to-nodes),
    the innovations at which it reads the barrier's cdf, and the node weights × Jacobian."""
    lo = zr if method == "ewma" else 0.0
    x, w = np.polynomial.legendre.leggauss(r)
    y = lo + (limit - lo) * (x + 1) / 2
    w = w * (limit - lo) / 2
    pts = np.concatenate([[lo], y])
    if method == "ewma":
        return ((y[None, :] - (1 - lam) * pts[:, None]) / lam, (zr - (1 - lam) * pts) / lam,
                w / lam)
    return y[None, :] - pts[:, None] + k, k - pts, w


def _solve(dens: np.ndarray, atom: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ARL from the barrier (0) for stacked (…, r + 1, r) densities and (…, r + 1) atoms."""
    n = atom.shape[-1]
    a = np.broadcast_to(np.eye(n), atom.shape[:-1] + (n, n)).copy()
    a[..., :, 0] -= atom
    a[..., :, 1:] -= dens * w
    return np.linalg.solve(a, np.ones(atom.shape)[..., None])[..., 0, 0]


def ewma_arl(lam: float, c: float, mu: float = 0.0, zr: float = 0.0, r: int = 80) -> float:
    """ARL of the one-sided (upper) EWMA with reflection at ``zr`` and limit c·√(λ/(2 − λ)),
    for N(mu, 1) scores, started at 0 — R ``spc::xewma.arl(lam, c, mu, zr = zr, sided = "one",
    r = r)``."""
    h = c * math.sqrt(lam / (2 - lam))
    if not (0 < lam <= 1) or h <= zr:
        raise ValueError("need 0 < lam <= 1 and a limit above the barrier zr")
    u, ua, w = _grid("ewma", h, lam, math.nan, zr, r)
    return float(_solve(stats.norm.pdf(u - mu), stats.norm.cdf(ua - mu), w))


def cusum_arl(k: float, h: float, mu: float = 0.0, r: int = 80) -> float:
    """ARL of the one-sided (upper) CUSUM with reference value k and decision interval h, for
    N(mu, 1) scores, started at 0 — R ``spc::xcusum.arl(k, h, mu, sided = "one", r = r)``."""
    if h <= 0:
        raise ValueError("need h > 0")
    u, ua, w = _grid("cusum", h, math.nan, k, 0.0, r)
    return float(_solve(stats.norm.pdf(u - mu), stats.norm.cdf(ua - mu), w))


def _t_scale(u: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """For a score u = Φ⁻¹(F_df(T)): T = q(u) and the Jacobian dq/du = φ(u)/f_df(q(u))
    (identity when df is infinite)."""
    if not np.isfinite(df):
        return u, np.ones_like(u)
    q = np.sign(u) * stats.t.isf(stats.norm.sf(np.abs(u)), df)
    return q, stats.norm.pdf(u) / stats.t.pdf(q, df)


def conditional_arl(method: str, limit: float, mean, sd, df: float = math.inf,
                    lam: float = 0.2, k: float = 0.5, r: int = 60) -> np.ndarray:
    """ARL of the chart (limit on the statistic's scale) when the scores are z = Φ⁻¹(F_df(T))
    with T ~ N(mean, sd²) independent across weeks — the scores of one cell given its baseline
    estimate (``mean``, ``sd`` broadcast). df = ∞: z ~ N(mean, sd²) and the ARL is
    ``ewma_arl(lam, c/sd, mean/sd)`` (the chart is linear and its barrier is 0)."""
    u, ua, w = _grid(method, limit, lam, k, 0.0, r)
    q, jac = _t_scale(u, df)
    qa, _ = _t_scale(ua, df)
    mean, sd = np.broadcast_arrays(np.asarray(mean, float), np.asarray(sd, float))
    m, s = mean[..., None, None], sd[..., None, None]
    dens = stats.norm.pdf((q - m) / s) / s * jac
    atom = stats.norm.cdf((qa - mean[..., None]) / sd[..., None])
    return _solve(dens, atom, w)


def _mixture_nodes(rho: float, df: float, nb: int, nw: int):
    """Gauss–Hermite nodes of the shared baseline error B ~ N(0, 1) and Gauss–Legendre nodes
    on log W of the shared scale W ~ χ²(df)/df between its 1e−9 quantiles (W = 1 when
    df = ∞): the conditional mean √ρ·B/√W and SD √((1 − ρ)/W) of a week's T, and weights."""
    b, wb = np.polynomial.hermite_e.hermegauss(nb if rho > 0 else 1)
    if np.isfinite(df):
        lo, hi = (math.log(q / df) for q in stats.chi2.ppf([1e-9, 1 - 1e-9], df))
        x, w = np.polynomial.legendre.leggauss(nw)
        scale = np.exp(lo + (hi - lo) * (x + 1) / 2)
        wg = w * scale * stats.chi2.pdf(scale * df, df)
    else:
        scale, wg = np.ones(1), np.ones(1)
    wt = np.outer(wb / wb.sum(), wg / wg.sum()).ravel()
    bb, ss = (a.ravel() for a in np.meshgrid(b, scale, indexing="ij"))
    return math.sqrt(rho) * bb / np.sqrt(ss), np.sqrt((1 - rho) / ss), wt


def alarm_rate(method: str, limit: float, rho: float = 0.0, df: float = math.inf,
               lam: float = 0.2, k: float = 0.5, r: int = 60, nb: int = 32,
               nw: int = 24) -> float:
    """Long-run false alarms per week of one cell whose baseline was estimated: E[1/ARL(B, W)]
    over the shared baseline error B and scale W (module notes). ρ = 0, df = ∞: 1/ARL0."""
    mean, sd, wt = _mixture_nodes(rho, df, nb, nw)
    return float(wt @ (1 / conditional_arl(method, limit, mean, sd, df, lam, k, r)))


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
    scale), ``arl0`` (weeks per false alarm of one cell, 1/``alarm_rate``: allowing for the
    baseline's estimation error when ``rho`` > 0 or ``df`` < ∞), ``arl0_known`` (the textbook
    ARL0 of the same limit, baseline known) and the ``rho``, ``df`` it was designed for."""

    method: str
    lam: float
    c: float
    k: float
    h: float
    limit: float
    arl0: float
    arl0_known: float = math.nan
    rho: float = 0.0
    df: float = math.inf

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


@functools.lru_cache(maxsize=512)
def _design(method: str, target: float, lam: float, k: float, rho: float,
            df: float) -> DriftChart:
    scale = math.sqrt(lam / (2 - lam)) if method == "ewma" else 1.0
    known = limit_for_arl(method, target, lam=lam, k=k)
    if rho == 0 and math.isinf(df):
        limit, arl0 = known * scale, target
    else:
        def f(x):
            return math.log(alarm_rate(method, x, rho, df, lam, k, r=40, nb=24, nw=24)
                            ) + math.log(target)
        lo, hi = known * scale, known * scale * 1.25
        while f(hi) > 0:
            lo, hi = hi, hi * 1.25
        limit = float(optimize.brentq(f, lo, hi, xtol=1e-9))
        arl0 = 1 / alarm_rate(method, limit, rho, df, lam, k, r=40, nb=24, nw=24)
    if method == "ewma":
        return DriftChart("ewma", lam, limit / scale, math.nan, math.nan, limit, arl0,
                          ewma_arl(lam, limit / scale), rho, df)
    return DriftChart("cusum", math.nan, math.nan, k, limit, limit, arl0, cusum_arl(k, limit),
                      rho, df)


def design(method: str = "ewma", n_cells: int = 1, expected_false: float = 0.5,
           lam: float = 0.2, k: float = 0.5, arl0: float | None = None, rho: float = 0.0,
           df: float = math.inf) -> DriftChart:
    """The chart whose false alarms come once in ``arl0`` weeks per cell (default
    ``n_cells / expected_false``): with ρ = 0 and df = ∞ the textbook ARL0 (R
    ``spc::xewma.crit(lam, arl0, zr = 0, sided = "one")``, ``spc::xcusum.crit(k, arl0,
    sided = "one")``); otherwise the limit where ``alarm_rate`` = 1/arl0."""
    if method not in ("ewma", "cusum"):
        raise ValueError(f"unknown drift method {method!r}: use 'ewma' or 'cusum'")
    if not 0 <= rho < 1 or not df > 0:
        raise ValueError("need 0 <= rho < 1 and df > 0")
    target = max(arl0 if arl0 is not None else n_cells / expected_false, 2.0)
    return _design(method, float(target), float(lam), float(k), float(rho), float(df))


def signals(z, chart: DriftChart, restart: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Run the chart over the columns of ``z`` (cells × weeks, bad direction positive; NaN weeks
    carry the statistic over). A signal is a week whose statistic exceeds the limit; with
    ``restart`` the chart starts again from 0 the week after (the renewal the ARL counts), so
    signals per week → 1/ARL. Returns the statistic and the signals (both cells × weeks)."""
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
        if restart:
            s = np.where(ok & (s > chart.limit), 0.0, s)
    return stat, (stat > chart.limit) & ~np.isnan(z)


def run_chart(z, chart: DriftChart, restart: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``signals`` reduced to the statistic and the first week index with a signal per cell
    (−1: none)."""
    stat, sig = signals(z, chart, restart)
    return stat, np.where(sig.any(axis=1), sig.argmax(axis=1), -1)


def weekly_scores(weeks: pd.DataFrame, baseline: tuple[str, str], through: str,
                  **kw) -> tuple[pd.DataFrame, list[str]]:
    """Normal scores z (bad direction positive) of every week after the fixed ``baseline``
    (inclusive ISO-week range) up to ``through``, each judged by ``alerts.baseline_alerts``
    against that same baseline: z = Φ⁻¹(1 − p_bad). Returns (kpi, cell, rho, df, one column
    per week) and the week labels; unjudged weeks are NaN. ``rho``: the share of a week's
    prediction variance that is the baseline centre's, n_t/(N_b + n_t) averaged over the judged
    weeks (N_b the baseline's volume); ``df``: the degrees of freedom the cell's weeks are
    referred to (∞ for z)."""
    from sqresearch.stats.alerts import baseline_alerts

    kpi, cell, week, n = (kw.get(c, c) for c in ("kpi", "cell", "week", "n"))
    wk = weeks[week].astype(str)
    labels = sorted(x for x in wk.unique() if baseline[1] < x <= through)
    inside = (wk >= baseline[0]) & (wk <= baseline[1])
    out, dfs = None, []
    for lab in labels:
        rows = weeks if kw.get("seasonal") else weeks[inside | (wk == lab)]
        t = baseline_alerts(rows, lab, baseline=baseline, **kw).table
        z = stats.norm.isf(t["p_value"].to_numpy(float))
        col = t[["kpi", "cell"]].assign(**{lab: z})
        dfs.append(t.loc[t["judged"], ["kpi", "cell", "df"]])
        out = col if out is None else out.merge(col, on=["kpi", "cell"], how="outer")
    now = pd.DataFrame({"kpi": weeks[kpi], "cell": weeks[cell], "week": wk, "n": weeks[n]})
    base = now[inside].groupby(["kpi", "cell"])["n"].sum(
        ).rename("n_b")
    long = out.melt(["kpi", "cell"], labels, "week", "z").dropna(subset=["z"]).merge(
        now, on=["kpi", "cell", "week"]).join(base, on=["kpi", "cell"])
    rho = (long["n"] / (long["n_b"] + long["n"])).groupby([long["kpi"], long["cell"]]).mean()
    df = pd.concat(dfs).groupby(["kpi", "cell"])["df"].median()
    info = pd.DataFrame({"rho": rho, "df": df}).reset_index()
    out = info.merge(out, on=["kpi", "cell"], how="right")[["kpi", "cell", "rho", "df"] + labels]
    return out, labels


def _grid_rho(rho: np.ndarray) -> np.ndarray:
    """ρ on a 5 % geometric grid (cells share designs; the alarm rate moves ≈ 1 % per 1 % of
    ρ near 1/13, so the grid costs at most ≈ ±2.5 % of the stated rate)."""
    with np.errstate(divide="ignore"):
        g = np.round(np.power(1.05, np.round(np.log(rho) / math.log(1.05))), 6)
    return np.where(rho > 0, g, 0.0)


def drift_alerts(weeks: pd.DataFrame, baseline: tuple[str, str], through: str,
                 method: str = "ewma", expected_false: float = 0.5, lam: float = 0.2,
                 k: float = 0.5, arl0: float | None = None, estimated: bool = True,
                 **kw) -> pd.DataFrame:
    """EWMA or CUSUM of every cell's weekly normal scores since the fixed ``baseline``, up to
    ``through`` (``weekly_scores``, then ``chart_scores``: see there for the columns)."""
    scores, labels = weekly_scores(weeks, baseline, through, **kw)
    return chart_scores(scores, labels, method, expected_false, lam, k, arl0, estimated)


def chart_scores(scores: pd.DataFrame, labels: list[str], method: str = "ewma",
                 expected_false: float = 0.5, lam: float = 0.2, k: float = 0.5,
                 arl0: float | None = None, estimated: bool = True) -> pd.DataFrame:
    """The chart of every row of ``scores`` (``weekly_scores``) over the week columns
    ``labels``, restarted from 0 after each signal. Each cell's limit is designed for its
    ``rho`` and ``df`` (``estimated=False``: as if the baseline were known, the textbook
    design) so that it raises a false alarm once in ``n_cells / expected_false`` weeks (or
    ``arl0``; n_cells: the cells with a judged week): ≈ ``expected_false`` false drift alarms a
    week across the report in steady state.

    Returns one row per cell: kpi, cell, method, statistic (at the last week), limit, arl0
    (weeks per false alarm of the cell), arl0_known (the limit's ARL0 were the baseline known),
    rho, df, alert (a signal in the last week: the alarm counted against the stated rate),
    signals (since the baseline), first_signal, signal_weeks (all, comma-separated),
    last_signal (ISO weeks, "" if none),
    weeks_since (weeks from the last signal to the last week; −1 none), weeks (monitored)."""
    z = scores[labels].to_numpy(float)
    watched = int((~np.isnan(z)).any(axis=1).sum())
    target = arl0 if arl0 is not None else max(watched, 1) / expected_false
    rho = (_grid_rho(scores["rho"].fillna(0.0).to_numpy()) if estimated
           else np.zeros(len(z)))
    df = (scores["df"].fillna(np.inf).to_numpy() if estimated else np.full(len(z), np.inf))
    df = np.where(np.isfinite(df), np.round(df * 2) / 2, np.inf)
    stat, sig = np.zeros_like(z), np.zeros(z.shape, bool)
    charts = {}
    for r_, d_ in set(zip(rho, df, strict=True)):
        rows = (rho == r_) & (df == d_)
        charts[r_, d_] = design(method, arl0=target, lam=lam, k=k, rho=r_, df=d_)
        stat[rows], sig[rows] = signals(z[rows], charts[r_, d_])
    ch = [charts[key] for key in zip(rho, df, strict=True)]
    any_ = sig.any(axis=1)
    first = np.where(any_, sig.argmax(axis=1), -1)
    last = np.where(any_, sig.shape[1] - 1 - sig[:, ::-1].argmax(axis=1), -1)
    return pd.DataFrame({
        "kpi": scores["kpi"], "cell": scores["cell"], "method": method,
        "statistic": stat[:, -1], "limit": [c.limit for c in ch],
        "arl0": [c.arl0 for c in ch], "arl0_known": [c.arl0_known for c in ch],
        "rho": rho, "df": df, "alert": sig[:, -1], "signals": sig.sum(axis=1),
        "first_signal": [labels[i] if i >= 0 else "" for i in first],
        "signal_weeks": [", ".join(np.asarray(labels)[row]) for row in sig],
        "last_signal": [labels[i] if i >= 0 else "" for i in last],
        "weeks_since": np.where(any_, len(labels) - 1 - last, -1),
        "weeks": (~np.isnan(z)).sum(axis=1)})
