"""Baseline-deviation alerts: each KPI × segment cell, this week against its own baseline weeks.

One table in, one row per cell out (``baseline_alerts``). The method fits the metric:

- **rate** (FCR, SLA, reopen …; columns ``successes``, ``n``): this week's count against the
  beta-binomial predictive distribution of its baseline weeks (p̄ = Σx/Σn with its
  uncertainty, Jeffreys' prior), the tails as Lancaster's mid-p — the p-chart with an exact
  tail instead of the normal one, which at small n and rates near 0 or 1 is far too thin — or
  Laney's p′ (Laney 2002) when the baseline weeks vary more than binomial: the exact normal
  score divided by σ_z = MR̄/1.128 of the baseline z-scores, referred to t with the Patnaik
  df of MR̄. Switch rule (``overdispersion``): ``"pooled"`` (default) — σ_z > 1 and the
  Pearson dispersion of the metric's cells together (Σ_cells Σ_weeks z², on Σ(k − 1) df)
  beyond its 95 % point; ``"excess"`` — σ_z > 1; ``"test"`` — σ_z > 1 and the cell's own
  Pearson dispersion beyond its 95 % point. One cell's 12 weeks cannot tell modest
  overdispersion from chance: "test" then alarms (2.0 false alerts a report at a logit-SD of
  0.1) and "excess" sends half the cells of binomial weeks to the wide Laney limits (0.29
  instead of 0.5); the pooled test sees a metric's overdispersion across its cells and holds
  both (``benchmarks/calibration_alerts.py``). ``stats.alerts_rate`` holds the details.
- **duration** (FRT, TTR; ``value`` = the week's mean of log durations, ``sd`` their SD, ``n``):
  a weighted prediction interval with a within-week term. Each week's mean varies by
  σ_w²/n_i (σ_w² pooled within weeks) plus a between-week τ² (DerSimonian–Laird, when
  Cochran's Q exceeds k − 1 — ``overdispersion`` as for scores); the centre is the
  1/(σ_w²/n_i + τ²)-weighted mean, the variance of this week's deviation
  σ_w²/n + τ² + 1/Σw_i, rescaled by q = Σw_i(m_i − centre)²/(k − 1) (Hartung & Knapp 2001)
  and referred to t(k − 1). With equal volumes this is the textbook prediction interval
  centre ± t(k − 1)·s·√(1 + 1/k) (s the SD of the weeks' means); the within-week term is what
  a week with few tickets needs — that unweighted interval says nothing about this week's
  volume and gave the demo's FRT cells 1.3× their false alerts, most in holiday weeks.
  Log scale: exp(centre) is the baseline geometric mean, exp(this_week − centre) the ratio.
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
q/m when it rejected none), so a point beyond a limit is an alert and nothing else is (rates:
half a ticket beyond the last alerting count). The statistic is the normal (or t) score of the
bad-side tail, so ``p_value`` is its tail whatever the kind.

Direction: ``direction`` is the KPI's good direction (``"lower"``/``"higher"``, as in
``kpi.engine.CATALOGUE``). p_value is one-sided in the bad direction; ``alert`` is True only
for 'worse'; 'better' (beyond the good-side limit) is good news. Cells with this week's volume
below ``min_volume`` or fewer than ``min_weeks`` baseline weeks are not judged (``reason``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.io.errors import DataError, Problem
from sqresearch.stats.alerts_rate import betabinom_tails, mr_df, rate_check  # noqa: F401

KINDS = ("rate", "duration", "score")
COLUMNS = ["kpi", "cell", "kind", "method", "baseline", "this_week", "expected_se", "statistic",
           "df", "lower", "upper", "direction", "alert", "p_value", "judged", "reason", "n",
           "baseline_weeks"]
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class AlertInputError(DataError):
    """A weekly table the alert functions cannot use."""


def _fail(what: str, fix: str, where: str = "") -> AlertInputError:
    return AlertInputError("baseline alerts", Problem(where, what, fix))


def per_cell_level(n_cells: int, expected_false: float = 0.5) -> float:
    """One-sided per-cell level so that ``n_cells`` null cells give ``expected_false`` false
    alerts on average: expected_false / n_cells (capped at 0.5)."""
    return min(0.5, expected_false / max(int(n_cells), 1))


def _count(a):
    return (~np.isnan(a)).sum(axis=1)


def log_duration_check(v_base, sd_base, n_base, v_now, sd_now, n_now,
                       overdispersion: str = "excess") -> dict:
    """This week's mean log duration against the baseline weeks' weighted mean: a weighted
    prediction interval with a within-week term (see the module notes). σ_w² is pooled within
    weeks over the baseline and this week, Σ(n_i − 1)·sd_i²/Σ(n_i − 1); weights
    w_i = 1/(σ_w²/n_i + τ²)
    with the DerSimonian–Laird τ² when Cochran's Q exceeds k − 1 ("excess") or its χ²(k − 1)
    95 % point ("test"), else 0 ("random": always DL); the variance is rescaled by
    q = Σw_i(m_i − μ̂)²/(k − 1) (Hartung–Knapp) and referred to t(k − 1). "z": no between-week
    term, z with σ_w² as known."""
    m, sd, n = (np.asarray(v, float) for v in (v_base, sd_base, n_base))
    sd_now, n_now = np.asarray(sd_now, float), np.asarray(n_now, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        use = (n > 1) & (sd > 0) & np.isfinite(m)
        dof = np.where(use, n - 1, 0.0)
        now_dof = np.where((n_now > 1) & (sd_now > 0), n_now - 1, 0.0)
        var = ((np.where(use, dof * sd ** 2, 0.0).sum(axis=1)
                + np.where(now_dof > 0, now_dof * np.nan_to_num(sd_now) ** 2, 0.0))
               / (dof.sum(axis=1) + now_dof))
        v = np.where(use, var[:, None] / n, np.nan)  # within-week variance of each week's mean
        m = np.where(use, m, np.nan)
        k = _count(m)
        tau2, _ = _between_weeks(1 / v, m, k, overdispersion)
        wr = 1 / (v + tau2[:, None])
        centre = np.nansum(wr * m, axis=1) / np.nansum(wr, axis=1)
        scale = np.nansum(wr * (m - centre[:, None]) ** 2, axis=1) / (k - 1)
        plain = overdispersion == "z"
        se = np.sqrt((var / n_now + tau2 + 1 / np.nansum(wr, axis=1))
                     * (1.0 if plain else scale))
    return {"baseline": centre, "this_week": np.asarray(v_now, float), "expected_se": se,
            "df": np.full(k.size, np.inf) if plain else (k - 1).astype(float),
            "method": np.full(k.size, "log-mean z" if plain else "log-mean t"), "weeks": k,
            "degenerate": ~(se > 0)}


def _between_weeks(w, m, k, overdispersion: str):
    """(DerSimonian–Laird τ² where the switch rule adds it, else 0; the rule's flags) of weeks
    with means ``m`` and weights ``w`` (cells × weeks), Cochran's Q against k − 1 ("excess") or
    its χ²(k − 1) 95 % point ("test"); "z" never, "random" always."""
    sw = np.nansum(w, axis=1)
    fixed = np.nansum(w * m, axis=1) / sw
    q = np.nansum(w * (m - fixed[:, None]) ** 2, axis=1)
    tau2 = np.maximum(0.0, (q - (k - 1)) / (sw - np.nansum(w ** 2, axis=1) / sw))
    rule = {"excess": q > k - 1, "test": q > stats.chi2.ppf(0.95, np.maximum(k - 1, 1)),
            "z": np.zeros(k.size, bool), "random": np.ones(k.size, bool)}
    if overdispersion not in rule:
        raise ValueError(f"unknown overdispersion rule {overdispersion!r}")
    return np.where(rule[overdispersion], tau2, 0.0), rule[overdispersion]


def score_check(m_base, sd_base, n_base, m_now, sd_now, n_now,
                overdispersion: str = "excess") -> dict:
    """This week's mean ± SE against the precision-weighted baseline mean, with the
    DerSimonian–Laird between-week variance added when Cochran's Q shows it."""
    m, sd, n = (np.asarray(a, float) for a in (m_base, sd_base, n_base))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where((n > 0) & (sd > 0), n / sd ** 2, np.nan)
        m = np.where(np.isnan(w), np.nan, m)
        k = _count(m)
        tau2, het = _between_weeks(w, m, k, overdispersion)
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


def pool(cores: list[dict]) -> dict:
    """One ``judge`` core from several (cells stacked in order); the normal scores of cores
    without exact tails are (this − baseline)/se, and ``limits`` is asked of each core."""
    arrays = ["baseline", "this_week", "expected_se", "df", "method", "weeks", "degenerate"]
    out = {f: np.concatenate([c[f] for c in cores]) for f in arrays}
    with np.errstate(divide="ignore", invalid="ignore"):
        z = [(c["this_week"] - c["baseline"]) / c["expected_se"] for c in cores]
    for f in ("z_le", "z_ge"):
        out[f] = np.concatenate([c.get(f, zc) for c, zc in zip(cores, z, strict=True)])
    bounds = np.cumsum([0] + [c["baseline"].size for c in cores])

    def limits(q_lo, q_hi):
        q_lo, q_hi = (np.broadcast_to(np.asarray(v, float), bounds[-1:]) for v in (q_lo, q_hi))
        lo, hi = [], []
        for c, a, b in zip(cores, bounds[:-1], bounds[1:], strict=True):
            ql, qh = q_lo[a:b], q_hi[a:b]
            pair = c["limits"](ql, qh) if "limits" in c else (
                c["baseline"] - ql * c["expected_se"], c["baseline"] + qh * c["expected_se"])
            lo.append(pair[0])
            hi.append(pair[1])
        return np.concatenate(lo), np.concatenate(hi)

    out["limits"] = limits
    return out


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
        z = (core["this_week"] - core["baseline"]) / core["expected_se"]
    z_le, z_ge = core.get("z_le", z), core.get("z_ge", z)
    stat = np.where(bad > 0, z_ge, z_le)  # the score of the bad-side tail
    df = core["df"]
    dfx = np.where(np.isinf(df), 1.0, df)

    def sf(x):
        return np.where(np.isinf(df), stats.norm.sf(x), stats.t.sf(x, dfx))

    p_bad, p_good = sf(bad * stat), sf(-bad * np.where(bad > 0, z_le, z_ge))
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
    q_hi, q_lo = np.where(bad > 0, qb, qg), np.where(bad > 0, qg, qb)
    lower, upper = core["limits"](q_lo, q_hi) if "limits" in core else (c - q_lo * se,
                                                                         c + q_hi * se)
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
                    min_volume: int = 30, min_weeks: int = 4, overdispersion: str = "pooled",
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
    mean_rule = {"p": "z", "laney": "random", "pooled": "excess"}.get(overdispersion,
                                                                       overdispersion)
    parts = []
    for k in KINDS:
        sub = w[w[kind] == k]
        if sub.empty:
            continue
        need = {"rate": [successes], "duration": [value, sd], "score": [value, sd]}[k]
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
                              overdispersion, groups=keys.index.get_level_values(0))
        elif k == "duration":
            core = log_duration_check(
                _arrays(sub, cols, labels, value), _arrays(sub, cols, labels, sd), nb,
                _arrays(sub, cols, [this_week], value)[:, 0],
                _arrays(sub, cols, [this_week], sd)[:, 0], nn, mean_rule)
        else:
            core = score_check(_arrays(sub, cols, labels, value), _arrays(sub, cols, labels, sd),
                               nb, _arrays(sub, cols, [this_week], value)[:, 0],
                               _arrays(sub, cols, [this_week], sd)[:, 0], nn, mean_rule)
        parts.append((keys, k, core, nn))
    # one control across all kinds: pool, then judge
    core = pool([c for _, _, c, _ in parts])
    dirs = np.concatenate([kk.to_numpy() for kk, _, _, _ in parts])
    table, info = judge(core, dirs, np.concatenate([nn for *_, nn in parts]), control,
                        expected_false, q, min_volume, min_weeks)
    idx = pd.concat([kk.reset_index()[[kpi, cell]] for kk, _, _, _ in parts], ignore_index=True)
    table.insert(0, "kind", np.concatenate([[k] * len(kk) for kk, k, _, _ in parts]))
    table.insert(0, "cell", idx[cell].to_numpy())
    table.insert(0, "kpi", idx[kpi].to_numpy())
    return Alerts(table[COLUMNS], control, info["level"], info["expected_false"], len(table),
                  info["n_judged"])
