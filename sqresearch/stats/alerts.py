"""Baseline-deviation alerts: each KPI × segment cell, this week against its own baseline weeks.

One table in, one row per cell out (``baseline_alerts``). The method fits the metric:

- **rate** (FCR, SLA, reopen …; columns ``successes``, ``n``): the p-chart of ``control`` —
  centre p̄ = Σx/Σn over the baseline weeks, σ = √(p̄(1 − p̄)/n) with *this week's* n — or
  Laney's p′ (Laney 2002) when the baseline weeks vary more than binomial: the baseline
  z-scores z_i = (p_i − p̄)/√(p̄(1 − p̄)/n_i) give σ_z = MR̄/1.128 and σ becomes σ_z·σ.
  Switch rule (``overdispersion``): ``"excess"`` (default) — σ_z > 1; ``"test"`` — σ_z > 1 and
  the Pearson dispersion Σz_i² beyond the 95 % point of χ²(k − 1). The benchmark shows why the
  default is the permissive one: at a per-cell level of 0.25 % a missed overdispersion costs
  more than a needless widening. The Laney statistic is referred to t with the Patnaik
  degrees of freedom of MR̄ (ν = E(MR̄)²/(2·Var(MR̄)), ≈ 0.62(k − 1); Cryer & Ryan 1990).
- **duration** (FRT, TTR; ``value`` = the week's mean of log durations): prediction limits
  from the baseline weeks' mean logs, centre ± t(k − 1)·s·√(1 + 1/k) with s their SD. The
  between-week SD carries the week-level shocks that ticket-level SEs miss (domain.md §7), so
  no binomial or within-week assumption is needed. Results are on the log scale: exp(centre)
  is the baseline geometric mean and exp(this_week − centre) the ratio.
- **score** (CSAT, NPS coded +100/0/−100, CES; ``value`` = mean, ``sd``, ``n``): the week's
  mean with its SE against the precision-weighted baseline mean. Between-week check: Cochran's
  Q = Σw_i(m_i − m̄)², w_i = n_i/sd_i²; when it exceeds k − 1 (``"excess"``) or its χ²(k − 1)
  95 % point (``"test"``) the DerSimonian–Laird τ² joins the variance and the statistic is
  referred to t(k − 1); otherwise z.

All three include the uncertainty of the baseline centre in ``expected_se`` (the textbook
chart treats p̄ as known; with 12 weeks that alone raises a 0.25 % level to ≈ 0.35 %).
``seasonal=True`` takes the same ISO week last year as the centre, shifted by the baseline
weeks' mean year-over-year change (otherwise a level change since last year would alarm every
week); the variance is that of the baseline weeks' year-over-year differences d_j,
s_d²·(1 + 1/k), referred to t(k − 1), whatever the metric (rates on the proportion scale).

**False alarms.** ``control="per_cell"``: level α = expected_false / n_judged one-sided
(``per_cell_level``), so a report where nothing changed holds ``expected_false`` false alerts
on average (Bonferroni's expectation, exact for any dependence). ``control="bh"``:
Benjamini–Hochberg at ``q`` across judged cells (``scipy.stats.false_discovery_control``,
= R ``p.adjust(p, "BH")``); when nothing changed the chance of any false alert is q. The
limits shown are at the level the decision used (for BH, the largest p-value it rejected, or
q/m when it rejected none), so a point beyond a limit is an alert and nothing else is.

Direction: ``direction`` is the KPI's good direction (``"lower"``/``"higher"``, as in
``kpi.engine.CATALOGUE``). p_value is one-sided in the bad direction; ``alert`` is True only
for 'worse'; 'better' (beyond the good-side limit) is good news. Cells with this week's volume
below ``min_volume`` or fewer than ``min_weeks`` baseline weeks are not judged (``reason``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.io.errors import DataError, Problem

KINDS = ("rate", "duration", "score")
COLUMNS = ["kpi", "cell", "kind", "method", "baseline", "this_week", "expected_se", "statistic",
           "df", "lower", "upper", "direction", "alert", "p_value", "judged", "reason", "n",
           "baseline_weeks"]
D2 = 1.128  # E|X1 − X2| / σ for normal data
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class AlertInputError(DataError):
    """A weekly table the alert functions cannot use."""


def _fail(what: str, fix: str, where: str = "") -> AlertInputError:
    return AlertInputError("baseline alerts", Problem(where, what, fix))


def per_cell_level(n_cells: int, expected_false: float = 0.5) -> float:
    """One-sided per-cell level so that ``n_cells`` null cells give ``expected_false`` false
    alerts on average: expected_false / n_cells (capped at 0.5)."""
    return min(0.5, expected_false / max(int(n_cells), 1))


def mr_df(m: int) -> float:
    """Patnaik degrees of freedom of σ̂ = MR̄/1.128 from ``m`` moving ranges of normal data:
    ν = E(MR̄)²/(2 Var MR̄), with Var|X1 − X2| = 2σ²(1 − 2/π) and the lag-one correlation of
    adjacent ranges ρ = (2/π)(r·asin r + √(1 − r²) − 1)/(1 − 2/π) at r = −½ (≈ 0.2239)."""
    if m < 1:
        return math.nan
    r = -0.5
    rho = (2 / math.pi) * (r * math.asin(r) + math.sqrt(1 - r * r) - 1) / (1 - 2 / math.pi)
    var = 2 * (1 - 2 / math.pi) * (m + 2 * (m - 1) * rho) / m ** 2
    return (4 / math.pi) / (2 * var)


def _count(a):
    return (~np.isnan(a)).sum(axis=1)


def rate_check(x_base, n_base, x_now, n_now, overdispersion: str = "excess") -> dict:
    """p-chart or Laney p′ for cells × weeks arrays (NaN = no data that week).

    ``overdispersion``: "excess", "test" (switch rules, see the module notes), "p" or "laney"
    (force one chart)."""
    x_b, n_b = np.asarray(x_base, float), np.asarray(n_base, float)
    x_b = np.where(n_b > 0, x_b, np.nan)
    n_b = np.where(n_b > 0, n_b, np.nan)
    n_now = np.asarray(n_now, float)
    big_n = np.nansum(n_b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar = np.nansum(x_b, axis=1) / big_n
        pq = pbar * (1 - pbar)
        z = (x_b / n_b - pbar[:, None]) / np.sqrt(pq[:, None] / n_b)
        mr = np.abs(np.diff(z, axis=1))
        m = _count(mr)
        sigma_z = np.nanmean(np.where(np.isfinite(mr), mr, np.nan), axis=1) / D2
        chi2 = np.nansum(z ** 2, axis=1)
        k = _count(z)
        p_disp = stats.chi2.sf(chi2, np.maximum(k - 1, 1))
        rule = {"excess": sigma_z > 1, "test": (sigma_z > 1) & (p_disp < 0.05),
                "p": np.zeros(pbar.size, bool), "laney": np.ones(pbar.size, bool)}
        if overdispersion not in rule:
            raise ValueError(f"unknown overdispersion rule {overdispersion!r}")
        laney = rule[overdispersion] & np.isfinite(sigma_z)
        se = np.sqrt(pq / n_now * (1 + n_now / big_n)) * np.where(laney, sigma_z, 1.0)
        this = np.asarray(x_now, float) / n_now
    df = np.where(laney, np.array([mr_df(int(v)) for v in m]), np.inf)
    return {"baseline": pbar, "this_week": this, "expected_se": se, "df": df,
            "method": np.where(laney, "Laney p'", "p-chart"), "weeks": k,
            "degenerate": ~(pq > 0)}


def log_duration_check(v_base, v_now) -> dict:
    """Prediction limits for this week's mean log duration from the baseline weeks' mean logs:
    centre ± t(k − 1)·s·√(1 + 1/k)."""
    v = np.asarray(v_base, float)
    k = _count(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.nanmean(v, axis=1)
        s = np.nanstd(v, axis=1, ddof=1)
        se = s * np.sqrt(1 + 1 / k)
    return {"baseline": centre, "this_week": np.asarray(v_now, float), "expected_se": se,
            "df": (k - 1).astype(float), "method": np.full(k.size, "log-mean t"),
            "weeks": k, "degenerate": ~(s > 0)}


def score_check(m_base, sd_base, n_base, m_now, sd_now, n_now,
                overdispersion: str = "excess") -> dict:
    """This week's mean ± SE against the precision-weighted baseline mean, with the
    DerSimonian–Laird between-week variance added when Cochran's Q shows it."""
    m, sd, n = (np.asarray(a, float) for a in (m_base, sd_base, n_base))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where((n > 0) & (sd > 0), n / sd ** 2, np.nan)
        m = np.where(np.isnan(w), np.nan, m)
        k = _count(m)
        sw = np.nansum(w, axis=1)
        fixed = np.nansum(w * m, axis=1) / sw
        q = np.nansum(w * (m - fixed[:, None]) ** 2, axis=1)
        tau2 = np.maximum(0.0, (q - (k - 1)) / (sw - np.nansum(w ** 2, axis=1) / sw))
        rule = {"excess": q > k - 1,
                "test": q > stats.chi2.ppf(0.95, np.maximum(k - 1, 1)),
                "z": np.zeros(k.size, bool), "random": np.ones(k.size, bool)}
        if overdispersion not in rule:
            raise ValueError(f"unknown overdispersion rule {overdispersion!r}")
        het = rule[overdispersion]
        tau2 = np.where(het, tau2, 0.0)
        wr = 1 / (1 / w + tau2[:, None])
        centre = np.nansum(wr * m, axis=1) / np.nansum(wr, axis=1)
        se = np.sqrt(np.asarray(sd_now, float) ** 2 / np.asarray(n_now, float) + tau2
                     + 1 / np.nansum(wr, axis=1))
    return {"baseline": centre, "this_week": np.asarray(m_now, float), "expected_se": se,
            "df": np.where(het, (k - 1).astype(float), np.inf),
            "method": np.where(het, "mean-SE + between-week", "mean-SE z"), "weeks": k,
            "degenerate": ~(se > 0)}


def seasonal_check(v_base, v_base_ly, v_now, v_now_ly) -> dict:
    """Same week last year as the centre, shifted by the mean year-over-year change d̄ of the
    baseline weeks: centre = y_{t−52} + d̄, se = s_d·√(1 + 1/k), t(k − 1)."""
    d = np.asarray(v_base, float) - np.asarray(v_base_ly, float)
    k = _count(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.asarray(v_now_ly, float) + np.nanmean(d, axis=1)
        s = np.nanstd(d, axis=1, ddof=1)
        se = s * np.sqrt(1 + 1 / k)
    return {"baseline": centre, "this_week": np.asarray(v_now, float), "expected_se": se,
            "df": (k - 1).astype(float), "method": np.full(k.size, "seasonal t"), "weeks": k,
            "degenerate": ~(s > 0) | np.isnan(centre)}


def _quantile(level, df):
    return np.where(np.isinf(df), stats.norm.isf(level), stats.t.isf(level, np.where(
        np.isinf(df), 1.0, df)))


def judge(core: dict, direction, n_now, control: str = "per_cell", expected_false: float = 0.5,
          q: float = 0.05, min_volume: int = 30, min_weeks: int = 4) -> tuple[pd.DataFrame, dict]:
    """Limits, direction, alert and one-sided p-value for the cells of one ``*_check`` result.

    ``direction`` per cell: the KPI's good direction, "lower" or "higher"."""
    direction = np.broadcast_to(np.asarray(direction, dtype=object), core["baseline"].shape)
    bad = np.where(direction == "lower", 1.0, -1.0)
    n_now = np.asarray(n_now, float)
    reason = np.full(bad.size, "", dtype=object)
    reason[core["weeks"] < min_weeks] = f"fewer than {min_weeks} baseline weeks"
    reason[core["degenerate"] & (reason == "")] = "baseline without variation"
    reason[~(n_now >= min_volume)] = f"volume below {min_volume}"
    reason[np.isnan(core["this_week"]) & (reason == "")] = "no value this week"
    judged = reason == ""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (core["this_week"] - core["baseline"]) / core["expected_se"]
    df = core["df"]
    dfx = np.where(np.isinf(df), 1.0, df)

    def sf(x):
        return np.where(np.isinf(df), stats.norm.sf(x), stats.t.sf(x, dfx))

    p_bad, p_good = sf(bad * stat), sf(-bad * stat)
    m = int(judged.sum())
    if control == "per_cell":
        lvl_bad = lvl_good = per_cell_level(m, expected_false)
        expected = expected_false if m else 0.0
    elif control == "bh":
        lvl_bad, lvl_good = (_bh_level(p[judged], q) for p in (p_bad, p_good))
        expected = q if m else 0.0
    else:
        raise ValueError(f"unknown control {control!r}: use 'per_cell' or 'bh'")
    qb, qg = _quantile(lvl_bad, df), _quantile(lvl_good, df)
    se, c = core["expected_se"], core["baseline"]
    upper = c + np.where(bad > 0, qb, qg) * se
    lower = c - np.where(bad > 0, qg, qb) * se
    worse = judged & (p_bad <= lvl_bad)
    better = judged & (p_good <= lvl_good)
    out = pd.DataFrame({
        "method": core["method"], "baseline": c, "this_week": core["this_week"],
        "expected_se": se, "statistic": stat, "df": df, "lower": lower, "upper": upper,
        "direction": np.where(worse, "worse", np.where(better, "better", "none")),
        "alert": worse, "p_value": p_bad, "judged": judged, "reason": reason, "n": n_now,
        "baseline_weeks": core["weeks"]})
    for col in ("lower", "upper", "statistic", "p_value"):
        out.loc[~judged, col] = np.nan
    return out, {"level": lvl_bad, "expected_false": expected, "n_judged": m}


def _bh_level(p, q: float) -> float:
    """The per-cell level Benjamini–Hochberg used: the largest p it rejects, else q/m."""
    p = p[~np.isnan(p)]
    if p.size == 0:
        return q
    adj = stats.false_discovery_control(p, method="bh")
    rejected = p[adj <= q]
    return float(rejected.max()) if rejected.size else q / p.size


@dataclass(frozen=True)
class Alerts:
    """One row per cell (``table``, columns ``COLUMNS``) and how false alarms were controlled:
    ``control``, the bad-side per-cell ``level`` it used, ``expected_false`` (mean false alerts
    per report when nothing changed for "per_cell"; the chance of any false alert for "bh")."""

    table: pd.DataFrame
    control: str
    level: float
    expected_false: float
    n_cells: int
    n_judged: int

    def summary(self) -> pd.DataFrame:
        t = self.table
        return pd.DataFrame([{
            "cells": self.n_cells, "judged": self.n_judged, "control": self.control,
            "per_cell_level": self.level, "expected_false_alerts": self.expected_false,
            "alerts": int(t["alert"].sum()), "better": int((t["direction"] == "better").sum()),
            "not_judged": int((~t["judged"]).sum())}])



def iso_last_year(label: str) -> str:
    """'2026-W05' → '2025-W05' (week 53 maps to week 52)."""
    y, w = _WEEK.match(label).groups()
    return f"{int(y) - 1}-W{min(int(w), 52):02d}"


def _check_frame(weeks: pd.DataFrame, cols: dict, this_week: str) -> None:
    need = [cols[c] for c in ("kpi", "cell", "week", "kind", "direction", "n")]
    missing = [c for c in need if c not in weeks.columns]
    if missing:
        raise _fail(f"columns {missing} are missing.", "give one row per KPI × cell × week "
                    "with kpi, cell, week, kind, direction and n.", "the weekly table")
    bad_kind = sorted(set(weeks[cols["kind"]].dropna()) - set(KINDS))
    if bad_kind:
        raise _fail(f"kinds {bad_kind[:5]} are not known.", f"use one of {list(KINDS)}.",
                    f"column '{cols['kind']}'")
    bad_dir = sorted(set(weeks[cols["direction"]].dropna()) - {"lower", "higher"})
    if bad_dir:
        raise _fail(f"directions {bad_dir[:5]} are not known.", "use 'lower' or 'higher' "
                    "(the KPI's good direction).", f"column '{cols['direction']}'")
    labels = weeks[cols["week"]].astype(str)
    odd = sorted(set(labels[~labels.str.match(_WEEK.pattern)]))
    if odd or not _WEEK.match(str(this_week)):
        raise _fail(f"week labels {(odd or [this_week])[:5]} are not ISO weeks.",
                    "write weeks as 'YYYY-Www', e.g. '2026-W07'.", f"column '{cols['week']}'")
    dup = weeks.duplicated([cols["kpi"], cols["cell"], cols["week"]])
    if dup.any():
        first = weeks.loc[dup, [cols["kpi"], cols["cell"], cols["week"]]].iloc[0].tolist()
        raise _fail(f"{int(dup.sum())} KPI × cell × week rows are repeated (first: {first}).",
                    "aggregate to one row per KPI, cell and week.", "the weekly table")
    if str(this_week) not in set(labels):
        raise _fail(f"week {this_week} is not in the data (last: {labels.max()}).",
                    "choose a week the data covers.", "this_week")


def _arrays(sub: pd.DataFrame, cols: dict, labels: list[str], name: str) -> np.ndarray:
    wide = sub.pivot(index=[cols["kpi"], cols["cell"]], columns=cols["week"], values=name)
    return wide.reindex(columns=labels).to_numpy(dtype=float)


def baseline_alerts(weeks: pd.DataFrame, this_week: str, *, baseline_weeks: int = 12,
                    baseline: tuple[str, str] | None = None, seasonal: bool = False,
                    control: str = "per_cell", expected_false: float = 0.5, q: float = 0.05,
                    min_volume: int = 30, min_weeks: int = 4, overdispersion: str = "excess",
                    kpi: str = "kpi", cell: str = "cell", week: str = "week",
                    kind: str = "kind", direction: str = "direction", n: str = "n",
                    successes: str = "successes", value: str = "value", sd: str = "sd"
                    ) -> Alerts:
    """Every KPI × cell of ``weeks`` (one row per KPI, cell and ISO week) judged for
    ``this_week`` against its baseline: the ``baseline_weeks`` weeks before it, or the fixed
    inclusive range ``baseline`` = (first, last). Per kind the row needs ``n`` and:
    rate → ``successes``; duration → ``value`` (mean log duration); score → ``value`` (mean)
    and ``sd``. ``overdispersion`` "p" / "laney" force the rate chart (and, for scores, z /
    always the between-week variance). Returns ``Alerts`` (``table`` has ``COLUMNS``; see
    the module notes)."""
    cols = dict(kpi=kpi, cell=cell, week=week, kind=kind, direction=direction, n=n)
    _check_frame(weeks, cols, this_week)
    this_week = str(this_week)
    w = weeks.assign(**{week: weeks[week].astype(str)})
    before = sorted(x for x in w[week].unique() if x < this_week)
    labels = ([x for x in before if baseline[0] <= x <= baseline[1]] if baseline
              else before[-baseline_weeks:])
    parts = []
    for k in KINDS:
        sub = w[w[kind] == k]
        if sub.empty:
            continue
        need = {"rate": [successes], "duration": [value], "score": [value, sd]}[k]
        missing = [c for c in need if c not in sub.columns]
        if missing:
            raise _fail(f"{k} KPIs need columns {missing}.", "add them to the weekly table.",
                        "the weekly table")
        keys = sub.groupby([kpi, cell], sort=True)[direction].first()
        nb, nn = _arrays(sub, cols, labels, n), _arrays(sub, cols, [this_week], n)[:, 0]
        if seasonal:
            ly = [iso_last_year(x) for x in labels + [this_week]]
            if k == "rate":
                sub = sub.assign(_v=sub[successes] / sub[n].where(sub[n] > 0))
            else:
                sub = sub.assign(_v=sub[value])
            now, past = _arrays(sub, cols, labels + [this_week], "_v"), _arrays(sub, cols, ly,
                                                                               "_v")
            core = seasonal_check(now[:, :-1], past[:, :-1], now[:, -1], past[:, -1])
        elif k == "rate":
            core = rate_check(_arrays(sub, cols, labels, successes), nb,
                              _arrays(sub, cols, [this_week], successes)[:, 0], nn,
                              overdispersion)
        elif k == "duration":
            core = log_duration_check(_arrays(sub, cols, labels, value),
                                      _arrays(sub, cols, [this_week], value)[:, 0])
        else:
            core = score_check(_arrays(sub, cols, labels, value), _arrays(sub, cols, labels, sd),
                               nb, _arrays(sub, cols, [this_week], value)[:, 0],
                               _arrays(sub, cols, [this_week], sd)[:, 0], nn,
                               {"excess": "excess", "test": "test", "p": "z",
                                "laney": "random"}.get(overdispersion, overdispersion))
        parts.append((keys, k, core, nn))
    # one control across all kinds: pool, then judge
    core = {f: np.concatenate([c[f] for _, _, c, _ in parts]) for f in parts[0][2]}
    dirs = np.concatenate([kk.to_numpy() for kk, _, _, _ in parts])
    table, info = judge(core, dirs, np.concatenate([nn for *_, nn in parts]), control,
                        expected_false, q, min_volume, min_weeks)
    idx = pd.concat([kk.reset_index()[[kpi, cell]] for kk, _, _, _ in parts], ignore_index=True)
    table.insert(0, "kind", np.concatenate([[k] * len(kk) for kk, k, _, _ in parts]))
    table.insert(0, "cell", idx[cell].to_numpy())
    table.insert(0, "kpi", idx[kpi].to_numpy())
    return Alerts(table[COLUMNS], control, info["level"], info["expected_false"], len(table),
                  info["n_judged"])
