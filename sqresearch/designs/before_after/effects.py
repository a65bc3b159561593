"""The before/after effect each verdict rests on: the right unit of analysis and case mix.

Tickets of one week (or one agent, one customer) share shocks, so treating them as independent
makes standard errors too small. Every metric's verdict effect is a regression of the
ticket-level outcome on the after-period indicator,

    y ~ after [+ case-mix dummies]

with cluster-robust standard errors on the declared (or default: calendar-week) clusters — CR2
with Bell–McCaffrey degrees of freedom for one clustering dimension, CR1 with min(G) − 1 df for
two — on the scale the metric is read on: log values for durations (a ratio of geometric means),
0/1 for shares (a risk difference), 100·(promoter − detractor) for NPS (its difference), the score
itself for scores. Without clusters the unadjusted effect is Welch's t (its variance is the HC2
variance of the two-group regression) and an adjusted one uses HC2 with n − k df. Resolution times
(censored) compare restricted mean times (RMST) at a common horizon; with clusters their standard
error comes from a cluster bootstrap (weeks resampled within each period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.designs.before_after.comparisons import MetricSpec
from sqresearch.stats import robust
from sqresearch.stats.verdicts import Inference, not_estimable, wald

MIN_WEEKS_AUTO = 8  # 'cluster: auto' clusters by week when each period spans this many weeks


@dataclass(frozen=True)
class Clustering:
    """What tickets are clustered on, and why."""

    columns: tuple[str, ...]  # frame columns holding the cluster ids; () = independent rows
    reason: str

    @property
    def label(self) -> str:
        return " × ".join(self.columns).replace("_week", "calendar week") or "none"


def week_of(created: pd.Series) -> pd.Series:
    """The Monday of each timestamp's calendar week, as a label."""
    from sqresearch.kpi.engine import stamp_labels

    day = created.dt.floor("D")
    return stamp_labels(day - pd.to_timedelta(day.dt.weekday, unit="D"),
                        lambda d: d.strftime("%Y-%m-%d"))


def clustering(frame: pd.DataFrame, setting, tickets: bool) -> Clustering:
    """Resolve ``cluster:`` against the frame (which has ``_week`` for ticket tables)."""
    if setting == "none":
        return Clustering((), "cluster: none — rows treated as independent")
    if setting == "auto":
        if not tickets:
            return Clustering((), "unit table: one row per unit and period, no clustering")
        weeks = frame.groupby("period")["_week"].nunique()
        if weeks.min() >= MIN_WEEKS_AUTO:
            return Clustering(("_week",), f"default: calendar week (each period spans at least "
                              f"{MIN_WEEKS_AUTO} weeks: {weeks.get('before', 0)} before, "
                              f"{weeks.get('after', 0)} after)")
        return Clustering((), f"default: no clustering — a period spans fewer than "
                          f"{MIN_WEEKS_AUTO} weeks ({int(weeks.min())}), too few clusters")
    cols = [setting] if isinstance(setting, str) else list(setting)
    cols = ["_week" if c == "week" and "week" not in frame else c for c in cols]
    return Clustering(tuple(cols), f"declared: {', '.join(map(str, cols))}".replace(
        "_week", "calendar week"))


def outcome(df: pd.DataFrame, spec: MetricSpec) -> pd.Series:
    """The ticket-level outcome on the verdict's scale (NaN where it does not apply)."""
    v = df[spec.column].astype(float)
    if spec.type == "duration":
        return np.log(v.where(v > 0))
    if spec.type == "nps":
        return 100.0 * ((v >= 9).astype(float) - (v <= 6).astype(float)).where(v.notna())
    return v


#: a numeric case-mix column with at most this many distinct whole values (priority 1–4, a
#: 0/1 flag) is a set of categories, not a straight line
MAX_CODED_LEVELS = 10


def coded(col: pd.Series) -> bool:
    """Whether a numeric column is a code (few distinct whole numbers) rather than a quantity."""
    v = col.dropna()
    return bool(len(v)) and v.nunique() <= MAX_CODED_LEVELS and bool(
        np.all(np.mod(v.to_numpy(float), 1) == 0))


def design(df: pd.DataFrame, adjust_for: list[str]) -> pd.DataFrame:
    """const, after, and the case-mix terms: dummies for text columns and for numeric codes
    (few distinct whole numbers), other numbers as they are; terms that do not vary are
    dropped."""
    x = pd.DataFrame({"const": 1.0, "after": (df["period"] == "after").astype(float)},
                     index=df.index)
    for c in adjust_for:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not coded(col):
            if col.std() > 0:
                x[c] = col.astype(float)
        else:
            d = pd.get_dummies(col.astype("string"), prefix=c, drop_first=True, dtype=float)
            x = pd.concat([x, d.loc[:, d.std() > 0]], axis=1)
    return x


def _usable(df: pd.DataFrame, y: pd.Series, clus: Clustering) -> str:
    """Why the after-period effect cannot be estimated on these rows, or ''."""
    counts = df["period"].value_counts()
    for name in ("before", "after"):
        if counts.get(name, 0) < 2:
            return (f"not estimable: {counts.get(name, 0)} row(s) with a value in the {name} "
                    "period")
    for c in clus.columns:
        per = df.groupby("period")[c].nunique()
        if df[c].nunique() < 3 or per.min() < 1:
            return (f"not estimable with clusters by {clus.label}: only {df[c].nunique()} "
                    "cluster(s) hold values")
    if y.nunique() < 2:
        return "not estimable: the outcome takes a single value in both periods"
    return ""


def regression_effect(df: pd.DataFrame, spec: MetricSpec, clus: Clustering,
                      adjust_for: list[str]) -> Inference:
    """The effect of the after period on ``spec``'s outcome, clustered and adjusted as asked.
    Rows missing the outcome, a cluster id or a case-mix value are left out; an effect that
    cannot be estimated (a period without data, fewer than 3 clusters, no variation) is
    :func:`verdicts.not_estimable` — an *inconclusive* verdict with the reason."""
    y = outcome(df, spec)
    keep = y.notna().to_numpy()
    for c in (*clus.columns, *adjust_for):
        keep &= df[c].notna().to_numpy()
    # the columns the model uses, not a copy of every column of the frame
    d, y = df.loc[keep, list(dict.fromkeys(["period", *clus.columns, *adjust_for]))], y[keep]
    scale = "log" if spec.type == "duration" else "linear"
    why = _usable(d, y, clus)
    if why:
        return not_estimable(why, scale, len(y))
    x = design(d, adjust_for)
    adj = f", adjusted for {', '.join(adjust_for)}" if adjust_for else ""
    if not clus.columns:
        if not adjust_for:
            a, b = y[d["period"] == "after"], y[d["period"] == "before"]
            va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
            se = math.sqrt(va + vb)
            df_w = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
            return wald(a.mean() - b.mean(), se, df_w, "welch_t", "Welch t (rows independent)",
                        scale, len(y))
        import statsmodels.api as sm

        fit = sm.OLS(y.to_numpy(), x.to_numpy()).fit(cov_type="HC2")
        return wald(fit.params[1], fit.bse[1], fit.df_resid, "hc2_t",
                    f"regression with HC2 errors, t with n − k df{adj}", scale, len(y))
    groups = d[list(clus.columns)]
    if len(clus.columns) == 1:
        fit = robust.cluster_fit(y.to_numpy(), x, groups.iloc[:, 0].to_numpy(), vcov="CR2")
        t = fit.term("after")
        desc = (f"regression clustered by {clus.label} ({fit.clusters} clusters): CR2 errors, "
                f"Bell–McCaffrey df{adj}")
        return wald(t["estimate"], t["se"], t["df"], "cluster_robust_cr2", desc, scale, len(y))
    fit = robust.cluster_fit(y.to_numpy(), x, groups.to_numpy(), vcov="CR1")
    t = fit.term("after")
    desc = f"regression clustered two-way by {clus.label}: CR1 errors{adj}"
    return wald(t["estimate"], t["se"], t["df"], "cluster_robust_cr1_twoway", desc, scale,
                len(y))


def rmst_effect(df: pd.DataFrame, spec: MetricSpec, clus: Clustering, seed: int,
                resamples: int, adjust_for: list[str] = ()) -> tuple[Inference, float]:
    """The ratio of restricted mean times to resolution (after / before, on the log scale) at the
    common horizon τ — the smaller of the two periods' longest observed times — with its CI;
    returns (inference, τ). The SE is the delta method on the Kaplan–Meier variances, or, when
    tickets are clustered, a cluster bootstrap: the clusters of the first clustering column are
    resampled within each period, each period's bootstrap variance is scaled by G/(G − 1) (the
    small-sample factor that makes it unbiased for a mean) and the interval uses t with
    G_before + G_after − 2 df. There is no case-mix adjustment for RMST; ``adjust_for`` only
    puts that in the description."""
    from sqresearch.stats.survival import rmst

    cols = list(clus.columns[:1])
    df = df[df[spec.column].notna() & df[spec.event].notna()]
    if cols:
        df = df[df[cols[0]].notna()]
    parts = [df[df["period"] == name] for name in ("before", "after")]
    for name, part in zip(("before", "after"), parts, strict=True):
        if len(part) < 2 or not (part[spec.event] == 1).any():
            return not_estimable(f"not estimable: {len(part)} ticket(s) and no resolved one in "
                                 f"the {name} period" if len(part) >= 2 else
                                 f"not estimable: {len(part)} ticket(s) in the {name} period",
                                 "log", len(df)), math.nan
    tau = float(min(part[spec.column].max() for part in parts))
    fits = [rmst(part[spec.column].to_numpy(), part[spec.event].to_numpy() == 1, tau)
            for part in parts]
    est = math.log(fits[1].estimate / fits[0].estimate)
    what = (f"ratio of restricted mean times to resolution at τ = {tau:.4g} {spec.unit} "
            "(log scale)")
    if adjust_for:
        what += f"; not adjusted for {', '.join(adjust_for)} (no case-mix model for RMST)"
    if not cols:
        se = math.hypot(fits[0].se / fits[0].estimate, fits[1].se / fits[1].estimate)
        return wald(est, se, math.inf, "rmst_ratio_z", f"{what}; Kaplan–Meier variance, delta "
                    "method", "log", len(df)), tau
    sizes = [part[cols[0]].nunique() for part in parts]
    if min(sizes) < 2:
        return not_estimable(f"not estimable with clusters by {clus.label}: a period holds "
                             f"{min(sizes)} cluster", "log", len(df)), tau
    rng = np.random.default_rng(seed)
    var = 0.0
    for part, g in zip(parts, sizes, strict=True):
        codes = pd.factorize(part[cols[0]].astype(str))[0]
        draws = np.empty(resamples)
        for start in range(0, resamples, 256):  # bounded memory: 256 resamples at a time
            b = min(256, resamples - start)
            picks = rng.integers(0, g, (b, g))
            counts = np.zeros((b, g))
            np.add.at(counts, (np.repeat(np.arange(b), g), picks.ravel()), 1.0)
            draws[start:start + b] = rmst_weighted(part[spec.column].to_numpy(float),
                                                   part[spec.event].to_numpy() == 1,
                                                   counts[:, codes], tau)
        var += float(np.var(np.log(draws), ddof=1)) * g / (g - 1)
    dof = sum(sizes) - 2
    first = "" if len(clus.columns) == 1 else f" (the first of {clus.label})"
    return wald(est, math.sqrt(var), dof, "rmst_ratio_cluster_bootstrap", f"{what}; SE from a "
                f"cluster bootstrap ({resamples:,} resamples of {clus.columns[0]}{first} "
                f"within period, seed {seed}, G/(G − 1) factor), t with {dof} df".replace(
                    "_week", "calendar week"), "log", len(df)), tau


def rmst_weighted(durations: np.ndarray, events: np.ndarray, weights: np.ndarray,
                  tau: float) -> np.ndarray:
    """Restricted mean times to ``tau`` of many weighted Kaplan–Meier curves at once.

    ``weights`` is resamples × rows (how often each row is drawn). Rows sorted by time with
    events before censorings at a tied time make the product of per-row factors
    (1 − w_i e_i / R_i), R_i the weight still at risk, equal the Kaplan–Meier product over
    distinct times, so one sort serves every resample. Equals ``survival.rmst`` on the
    data with each row repeated w_i times (tested)."""
    order = np.lexsort((~events, durations))
    t, e = durations[order], events[order].astype(float)
    w = np.atleast_2d(weights)[:, order]
    at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - w * e / at_risk, 1.0)
    surv = np.cumprod(factor, axis=1)
    inside = t <= tau
    edges = np.concatenate([[0.0], t[inside], [tau]])
    before = np.concatenate([np.ones((w.shape[0], 1)), surv[:, inside]], axis=1)
    return (before * np.diff(edges)).sum(axis=1)


def paired_effect(df: pd.DataFrame, spec: MetricSpec, unit: str) -> Inference:
    """Paired units: the mean over units of (after − before) of the unit's mean outcome on the
    verdict scale (logs for durations, 100·(promoter − detractor) for NPS), t with n − 1 df."""
    y = outcome(df, spec)
    d = pd.DataFrame({"unit": df[unit], "period": df["period"], "y": y}).dropna()
    wide = d.groupby(["unit", "period"])["y"].mean().unstack("period")
    scale = "log" if spec.type == "duration" else "linear"
    if not {"before", "after"} <= set(wide.columns):
        return not_estimable("not estimable: no unit has values in both periods", scale, 0)
    diff = (wide["after"] - wide["before"]).dropna().to_numpy()
    if diff.size < 2:
        return not_estimable(f"not estimable: {diff.size} unit(s) with values in both periods",
                             scale, int(diff.size))
    se = float(np.std(diff, ddof=1) / math.sqrt(diff.size))
    what = {"log": " of log values", "linear": ""}[scale] + (
        " of 100·(promoter − detractor)" if spec.type == "nps" else "")
    return wald(float(diff.mean()), se, diff.size - 1, "paired_t",
                f"paired t on the unit differences{what}", scale, int(diff.size))


def design_effect(df: pd.DataFrame, spec: MetricSpec, clus: Clustering) -> float:
    """1 + (m − 1)·ICC of the verdict outcome for the first clustering column (NaN if none)."""
    if not clus.columns or spec.type == "censored":
        return math.nan
    y = outcome(df, spec)
    y = y - y.groupby(df["period"]).transform("mean")  # the effect itself is not correlation
    ok = y.notna() & df[clus.columns[0]].notna()
    return float(robust.design_effect(y[ok].to_numpy(),
                                      df.loc[ok, clus.columns[0]].to_numpy())["design_effect"])


def mix_shift(df: pd.DataFrame, column: str) -> tuple[float, float]:
    """How much the case mix in ``column`` moved between periods: (total variation distance,
    chi-square p)."""
    tab = pd.crosstab(df[column].astype("string"), df["period"])
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        return 0.0, 1.0
    share = tab / tab.sum()
    tvd = 0.5 * float((share["after"] - share["before"]).abs().sum())
    return tvd, float(stats.chi2_contingency(tab, correction=False)[1])
