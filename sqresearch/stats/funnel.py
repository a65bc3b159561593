"""Funnel plots for comparing units (teams, branches) against a target, with control limits by
volume and an overdispersion adjustment (Spiegelhalter 2005, "Funnel plots for comparing
institutional performance", Stat Med 24:1185–1202).

A unit i has an indicator y_i (a proportion, a rate per unit of exposure or a mean), a volume
n_i and, under the null "on target", a standard error s_i = g(θ0)/√n_i with g(θ0)² the variance
of one observation at the target θ0: θ0(1 − θ0) for a proportion, θ0 for a Poisson rate per
unit of exposure, σ² (the pooled within-unit variance) for a mean.

Limits at level 1 − 2p (95 % and 99.8 %, i.e. p = 0.025 and 0.001):

- normal: θ0 ± z_p s(n);
- exact (proportions and Poisson rates; Spiegelhalter 2005, appendix): with r_p the p-quantile
  of the count (smallest r with F(r) ≥ p) and α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), the
  limit is (r_p − α)/n, which interpolates between the integer steps. R:
  ``r <- qbinom(p, n, t0); (r - (pbinom(r, n, t0) - p) / dbinom(r, n, t0)) / n``.

Overdispersion (Spiegelhalter 2005 §3): z_i = (y_i − θ0)/s_i; the z-scores winsorised at their
10th and 90th percentiles (numpy's default quantile, R's ``quantile`` type 7); φ̂ = (1/I) Σ z_w²
over the I units. The adjustment applies when I φ̂ exceeds the upper 95 % point of χ²(I − 1)
(``screen=True``; otherwise whenever φ̂ > 1):

- multiplicative: limits θ0 ± z_p √φ̂ s(n), z_adj = z/√φ̂;
- additive (random effects, DerSimonian–Laird style): with w_i = 1/s_i²,
  τ̂² = max(0, (I φ̂ − (I − 1)) / (Σ w_i − Σ w_i² / Σ w_i)), limits θ0 ± z_p √(s(n)² + τ̂²),
  z_adj = (y_i − θ0)/√(s_i² + τ̂²).

Adjusted limits are normal-approximation limits (as in the paper); exact limits apply to the
unadjusted funnel only. Limits are not clipped (an exact lower limit with r_p = 0 is below 0);
plotting code may clip them to the indicator's range. The base-R version of every formula is
``tests/reference_funnel.R``.

Winsorising is a trade-off (``benchmarks/calibration_funnel.py``): it keeps a truly different
unit from inflating φ̂ and hiding itself (12 teams, one planted at 0.08 against 0.15: flagged in
~85 % of datasets with winsorising, 7 % without), but for normal z it shrinks φ̂ (E[z_w²] ≈ 0.68
at 10 %), so with overdispersion and no special unit the adjusted limits still over-flag (about
1.9 % of units outside 99.8 % limits against 13.5 % unadjusted and 0.2 % nominal; without
winsorising the additive adjustment is nominal). ``winsor=0`` chooses the other side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.io.errors import DataError, Problem

#: the two funnel levels (two-sided coverage) and their column suffixes
LEVELS = {"95": 0.95, "998": 0.998}
#: default winsorising share at each end of the z-scores before φ̂ (Spiegelhalter 2005: 10 %)
WINSOR = 0.10
#: level of the χ²(I − 1) screen that decides whether the overdispersion adjustment applies
SCREEN_LEVEL = 0.95
OVERDISPERSION = ("additive", "multiplicative", "none")


class FunnelDataError(DataError):
    """A table a funnel plot cannot use."""


def _fail(what: str, fix: str = "", where: str = "") -> FunnelDataError:
    return FunnelDataError("funnel plot", Problem(where, what, fix))


@dataclass(frozen=True)
class Funnel:
    """A funnel plot's units and limit curves.

    ``table``: unit, n, value, target, se, z, z_adj, lower_95, upper_95, lower_998, upper_998
    (the limits in force at the unit's volume), inside_95, inside_998, flag ("above" / "below"
    the 99.8 % limits, else "within"). ``limits``: n, level ("95" / "998"), lower, upper, kind
    ("unadjusted", and "adjusted" rows when the adjustment applies) — the curves to draw.
    """

    table: pd.DataFrame
    limits: pd.DataFrame
    indicator: str  # "proportion" | "rate" | "mean"
    target: float
    limits_method: str  # "exact" | "normal"
    overdispersion: str  # the adjustment asked for
    adjusted: bool  # whether it applies (after the χ² screen)
    phi: float
    tau2: float  # additive τ̂² (0 unless overdispersion="additive"), reported even if unused
    dispersion_stat: float  # I φ̂
    df: int  # I − 1
    critical: float  # upper SCREEN_LEVEL point of χ²(df)

    @property
    def method(self) -> str:
        lim = "exact (interpolated)" if self.limits_method == "exact" else "normal"
        adj = (f", {self.overdispersion} overdispersion adjustment" if self.adjusted
               else ", no overdispersion adjustment")
        return f"funnel plot ({self.indicator}; {lim} limits{adj}; Spiegelhalter 2005)"

    def summary(self) -> pd.DataFrame:
        """One row: indicator, target, units, above, below, phi, tau2, dispersion_stat, df,
        critical, adjusted, overdispersion, limits_method, method."""
        flag = self.table["flag"]
        return pd.DataFrame([{
            "indicator": self.indicator, "target": self.target, "units": len(self.table),
            "above": int((flag == "above").sum()), "below": int((flag == "below").sum()),
            "phi": self.phi, "tau2": self.tau2, "dispersion_stat": self.dispersion_stat,
            "df": self.df, "critical": self.critical, "adjusted": self.adjusted,
            "overdispersion": self.overdispersion, "limits_method": self.limits_method,
            "method": self.method}])


def exact_limit(n, target: float, p: float, family: str = "binomial") -> np.ndarray:
    """Spiegelhalter's interpolated exact p-quantile of y = count/n under the target.

    ``family`` "binomial" (n trials, probability ``target``) or "poisson" (exposure n, rate
    ``target``): r_p = smallest r with F(r) ≥ p, α = (F(r_p) − p)/P(R = r_p), limit
    (r_p − α)/n.
    """
    n = np.asarray(n, dtype=float)
    dist = stats.binom(n, target) if family == "binomial" else stats.poisson(n * target)
    r = dist.ppf(p)
    cdf = dist.cdf(r)
    low = cdf < p  # guard against ppf rounding
    r = np.where(low, r + 1, r)
    cdf = np.where(low, dist.cdf(r), cdf)
    pmf = dist.pmf(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(pmf > 0, (cdf - p) / pmf, 0.0)
    return (r - alpha) / n


def winsorised_phi(z, winsor: float = WINSOR) -> float:
    """φ̂ = mean of the z-scores squared after winsorising at the ``winsor`` and 1 − ``winsor``
    percentiles (0: no winsorising)."""
    z = np.asarray(z, dtype=float)
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


def additive_tau2(phi: float, se) -> float:
    """τ̂² = max(0, (I φ̂ − (I − 1)) / (Σw − Σw²/Σw)), w = 1/se² (Spiegelhalter 2005 §3.3)."""
    w = 1 / np.asarray(se, dtype=float) ** 2
    k = w.size
    return float(max(0.0, (k * phi - (k - 1)) / (w.sum() - (w ** 2).sum() / w.sum())))


def funnel_proportion(data: pd.DataFrame, unit: str, events: str, n: str, *,
                      target: float | None = None, limits: str = "exact",
                      overdispersion: str = "additive", screen: bool = True,
                      winsor: float = WINSOR, grid: int = 200) -> Funnel:
    """Funnel plot of proportions events/n per unit.

    Parameters
    ----------
    data : one row per unit; columns ``unit``, ``events`` (count), ``n`` (trials, > 0)
    target : θ0; default the pooled proportion Σ events / Σ n
    limits : "exact" (binomial, interpolated) or "normal"
    overdispersion : "additive" (default), "multiplicative" or "none"
    screen : apply the adjustment only when I φ̂ > χ²₀.₉₅(I − 1) (else whenever φ̂ > 1)
    winsor : share of z-scores winsorised at each end before φ̂ (Spiegelhalter: 0.10; 0: none)
    grid : number of volumes on the limit curves (log-spaced from min n / 2 to 1.1 × max n;
        whole numbers for proportions)
    """
    u, x, m = _columns(data, unit, [events, n])
    if (x < 0).any() or (x > m).any() or (x != np.round(x)).any():
        _bad(data, unit, (x < 0) | (x > m) | (x != np.round(x)), events,
             f"must be whole counts between 0 and '{n}'")
    t0 = x.sum() / m.sum() if target is None else _check_target(target, 0, 1)
    if not 0 < t0 < 1:
        raise _fail(f"the target proportion is {t0:g}; a funnel needs 0 < target < 1",
                    "compare units whose events are neither all nor none, or give a target")
    g2 = t0 * (1 - t0)
    return _funnel("proportion", u, m, x / m, t0, g2, limits, "binomial", overdispersion,
                   screen, winsor, _grid(m, grid, integer=True))


def funnel_rate(data: pd.DataFrame, unit: str, events: str, exposure: str, *,
                target: float | None = None, limits: str = "normal",
                overdispersion: str = "additive", screen: bool = True,
                winsor: float = WINSOR, grid: int = 200) -> Funnel:
    """Funnel plot of Poisson rates events/exposure per unit (e.g. complaints per 1,000
    tickets, with exposure in thousands). ``limits`` "normal" (default: θ0 ± z √(θ0/E)) or
    "exact" (Poisson, interpolated). Other parameters as :func:`funnel_proportion`."""
    u, x, e = _columns(data, unit, [events, exposure])
    if (x < 0).any():
        _bad(data, unit, x < 0, events, "must be counts ≥ 0")
    t0 = x.sum() / e.sum() if target is None else _check_target(target, 0, np.inf)
    if not t0 > 0:
        raise _fail("the target rate is 0; a funnel needs a positive target",
                    "give a positive target rate")
    return _funnel("rate", u, e, x / e, t0, t0, limits, "poisson", overdispersion, screen,
                   winsor, _grid(e, grid, integer=False))


def funnel_mean(data: pd.DataFrame, unit: str, mean: str, n: str, sd: str | float, *,
                target: float | None = None, overdispersion: str = "additive",
                screen: bool = True, winsor: float = WINSOR,
                grid: int = 200) -> Funnel:
    """Funnel plot of means (normal approximation) with a common within-unit SD σ.

    ``sd`` is σ itself, or a column of per-unit SDs pooled as √(Σ(n_i − 1)s_i² / Σ(n_i − 1)).
    Target default: the volume-weighted mean Σ n_i ȳ_i / Σ n_i. For durations compare log
    means (geometric means) with the SD of the log durations.
    """
    cols = [mean, n] + ([sd] if isinstance(sd, str) else [])
    u, y, m, *rest = _columns(data, unit, cols)
    if isinstance(sd, str):
        s = rest[0]
        if (m < 2).any():
            _bad(data, unit, m < 2, n, "must be ≥ 2 to pool within-unit SDs")
        sigma = float(np.sqrt(((m - 1) * s ** 2).sum() / (m - 1).sum()))
    else:
        sigma = float(sd)
    if not sigma > 0:
        raise _fail(f"the within-unit SD is {sigma:g}", "give a positive SD (or SD column)")
    t0 = (m * y).sum() / m.sum() if target is None else float(target)
    return _funnel("mean", u, m, y, t0, sigma ** 2, "normal", "", overdispersion, screen,
                   winsor, _grid(m, grid, integer=False))


def _funnel(indicator, units, n, value, t0, g2, limits, family, overdispersion, screen,
            winsor, n_grid) -> Funnel:
    if limits not in ("exact", "normal"):
        raise _fail(f"limits must be 'exact' or 'normal', not {limits!r}", "use one of the two")
    if limits == "exact" and not family:
        raise _fail("exact limits exist for proportions and rates only",
                    "use limits='normal' for means")
    if overdispersion not in OVERDISPERSION:
        raise _fail(f"overdispersion must be one of {OVERDISPERSION}, not {overdispersion!r}",
                    "use one of them")
    k = len(units)
    se = np.sqrt(g2 / n)
    z = (value - t0) / se
    if not 0 <= winsor < 0.5:
        raise _fail(f"winsor must lie in [0, 0.5), not {winsor!r}", "use 0.10 (or 0)")
    phi = winsorised_phi(z, winsor)
    stat, crit = k * phi, float(stats.chi2.ppf(SCREEN_LEVEL, k - 1))
    over = stat > crit if screen else phi > 1
    adjusted = bool(over and overdispersion != "none")
    tau2 = additive_tau2(phi, se) if overdispersion == "additive" else 0.0
    if not adjusted:
        z_adj, infl = z, lambda s: s
    elif overdispersion == "multiplicative":
        z_adj, infl = z / np.sqrt(phi), lambda s: s * np.sqrt(phi)
    else:
        z_adj, infl = (value - t0) / np.sqrt(se ** 2 + tau2), lambda s: np.sqrt(s ** 2 + tau2)

    def curve(vol, kind):
        out = {}
        for tag, level in LEVELS.items():
            p = (1 - level) / 2
            if kind == "unadjusted" and limits == "exact":
                lo = exact_limit(vol, t0, p, family)
                hi = exact_limit(vol, t0, 1 - p, family)
            else:
                half = stats.norm.ppf(1 - p) * (infl(np.sqrt(g2 / vol)) if kind == "adjusted"
                                                 else np.sqrt(g2 / vol))
                lo, hi = t0 - half, t0 + half
            out[tag] = (lo, hi)
        return out

    kind = "adjusted" if adjusted else "unadjusted"
    at_units = curve(n, kind)
    table = pd.DataFrame({"unit": units, "n": n, "value": value, "target": t0, "se": se,
                          "z": z, "z_adj": z_adj})
    for tag, (lo, hi) in at_units.items():
        table[f"lower_{tag}"], table[f"upper_{tag}"] = lo, hi
    for tag in LEVELS:
        table[f"inside_{tag}"] = ((table["value"] >= table[f"lower_{tag}"])
                                  & (table["value"] <= table[f"upper_{tag}"]))
    table["flag"] = np.where(table["value"] > table["upper_998"], "above",
                             np.where(table["value"] < table["lower_998"], "below", "within"))
    rows = []
    for kd in ("unadjusted", "adjusted") if adjusted else ("unadjusted",):
        for tag, (lo, hi) in curve(n_grid, kd).items():
            rows.append(pd.DataFrame({"n": n_grid, "level": tag, "lower": lo, "upper": hi,
                                      "kind": kd}))
    return Funnel(table, pd.concat(rows, ignore_index=True), indicator, float(t0), limits,
                  overdispersion, adjusted, phi, tau2, float(stat), k - 1, crit)


def _columns(data, unit, cols):
    missing = [c for c in [unit, *cols] if c not in data.columns]
    if missing:
        raise _fail(f"no column(s) {missing}; the table has {list(data.columns)}",
                    "name the unit, count and volume columns of the table", "columns")
    if data[unit].duplicated().any():
        dup = data.loc[data[unit].duplicated(), unit].astype(str).unique()[:5].tolist()
        raise _fail(f"units {dup} appear on more than one row", "aggregate to one row per unit",
                    f"column '{unit}'")
    if len(data) < 2:
        raise _fail(f"{len(data)} unit(s); a funnel compares at least 2",
                    "add units or drop the funnel", f"column '{unit}'")
    out = [data[unit].to_numpy()]
    for c in cols:
        v = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
        if np.isnan(v).any():
            _bad(data, unit, np.isnan(v), c, "must be numbers (missing or text found)")
        out.append(v)
    vol = out[2]
    if (vol <= 0).any():
        _bad(data, unit, vol <= 0, cols[1], "must be > 0 (a unit without volume has no rate)")
    return out


def _bad(data, unit, mask, col, what):
    units = data.loc[np.asarray(mask), unit].astype(str).tolist()
    raise _fail(f"{what}; units {units[:5]}{' …' if len(units) > 5 else ''}",
                "correct or drop those rows", f"column '{col}'")


def _check_target(target, lo, hi) -> float:
    t = float(target)
    if not lo <= t <= hi:
        raise _fail(f"the target {t:g} lies outside [{lo}, {hi}]", "give a valid target")
    return t


def _grid(n, size, integer):
    lo, hi = n.min() / 2, n.max() * 1.1
    if not integer:
        return np.geomspace(lo, hi, size)
    return np.unique(np.round(np.geomspace(max(1.0, np.floor(lo)), max(hi, 2.0), size)))
