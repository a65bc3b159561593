"""KPIs aggregated where the tickets are: ``kpi_table`` on an Ibis table (DuckDB, PostgreSQL,
Spark), so that millions of tickets never come to pandas.

``kpi_table_expr(t, ctx, by, only)`` returns what ``engine.kpi_table`` returns for the same
prepared tickets (the columns ``engine.prepare`` adds, the role columns and the grouping
column; missing values are SQL NULLs): the same columns, rows in the same order and the same
values up to floating-point rounding. The engine computes small aggregates only, in three
queries of portable Ibis expressions; the intervals are then the ``stats`` functions' own
formulas applied to those aggregates:

- counts, shares (Wilson), the complaint rate (exact Poisson) and NPS: counts per group;
- means (t interval): n, mean and the engine's sample variance (``var_samp``: Welford's
  update in DuckDB, Youngs–Cramer in PostgreSQL, the central-moment update in Spark, all
  numerically stable; a test keeps 1e-9 on values around 10^7);
- quantiles (type 7 and the order-statistic interval): n per group first, then only the few
  order statistics ``describe.quantile_ranks`` names, numbered by ``row_number()`` over the
  group ordered by the value; exact, as no engine's approximate quantile is used;
- the Kaplan–Meier median with its log-Greenwood interval: events and totals per group and
  distinct time, numbers at risk, S(t) = exp(Σ log(1 − d/n)) (0 from the first time with
  d = n), Greenwood's sum and the bands by cumulative window sums; then, per curve, the few
  points ``survival.crossing_time`` reads (``survival.Crossing``), found by window functions.
  The per-time table never leaves the engine. S(t) as a sum of logarithms differs from
  numpy's product in the last bits; the median is a time of the data (or the midpoint of two),
  so it is the same unless one of ``crossing_time``'s comparisons falls within that rounding:
  a curve point within 1e-9 of 0.5 ± sqrt(eps) (R's tolerance) or a curve ending within 1e-9
  of 0.5. Such a group (rare in large groups, common in tiny ones: a curve ending at exactly
  0.5) is fitted by ``survival.kaplan_meier`` on its rows, fetched from the engine.
"""

from __future__ import annotations

import math
from collections import defaultdict

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.kpi.engine import Context, tidy_kpis
from sqresearch.stats import describe
from sqresearch.stats.nps import nps_ci_from_counts
from sqresearch.stats.survival import _TOL, Crossing, crossing_time, kaplan_meier

G = "_sqr_group"
MEANS = {"frt_mean": "frt_min", "csat_mean": "csat", "ces_mean": "ces"}
QUANTILES = {"frt_median": 0.5, "frt_p90": 0.9}
QUANTILE_COLUMN = "frt_min"
MEDIANS = {"ttr_median": "ttr_h", "ttr_median_bh": "ttr_bh_h"}
SHARES = {"resolution_rate": "solved", "fcr": "fcr", "reopen_rate": "reopen"}  # and sla_*
_LEVEL = 0.5  # the Kaplan–Meier median: where S(t) reaches 0.5
#: how far the engine's curves (sums of logarithms) may be from numpy's (products): a group
#: whose curve has a point this close to 0.5 ± sqrt(eps), or ends this close to 0.5 (the
#: comparisons ``crossing_time`` makes without tolerance), is fitted by ``kaplan_meier`` itself
_NEAR = 1e-9


def kpi_table_expr(t: ibis.Table, ctx: Context, by: str | None = None,
                   only: set[str] | None = None, ordered=None, cells=None) -> pd.DataFrame:
    """``engine.kpi_table(frame, ctx, by, only)`` computed in ``t``'s engine.

    ``t`` holds prepared tickets: the role columns (which KPIs are available is decided by
    their presence, as in pandas), the per-ticket columns of ``engine.prepare`` and ``by``.
    Missing values are NULL or, in floating columns, NaN; tickets whose ``by`` is missing are
    left out, as pandas' ``groupby`` does. ``ordered`` (a ``pushdown_sorted.SortedValues`` of
    ``t``) answers the quantiles and Kaplan–Meier medians of the columns and groupings it holds
    from values fetched once; the others are window functions in the engine. ``cells`` (a
    ``Cells`` of ``t``) answers the counts, sums, means and variances of the groupings it holds
    without a query.

    Returns
    -------
    The ``kpi_table`` frame: ``group_by``, ``group``, ``kpi``, ``label``, ``estimate``,
    ``ci_low``, ``ci_high``, ``n``, ``unit``, ``direction``, ``method``.
    """
    defs = {k.name: k for k in ctx.available(set(t.columns))}
    names = [n for n in defs if only is None or n in only]
    if by is None:
        base, keys = t, []
    else:
        base, keys = t.filter(_present(t[by])).mutate(**{G: t[by]}), [G]
    aggs = cells.combine(by) if cells is not None and cells.has(by) else \
        _aggregates(base, keys, names, ctx)
    if keys:
        aggs = aggs.sort_values(G, kind="mergesort")  # the order of pandas' groupby
    groups = aggs[G].tolist() if keys else ["all"]
    order_stats = {}
    if any(n in QUANTILES for n in names):
        ps = [QUANTILES[n] for n in names if n in QUANTILES]
        if ordered is not None and ordered.has(QUANTILE_COLUMN, by):
            order_stats = ordered.order_statistics(QUANTILE_COLUMN, by, ps, ctx.alpha)
        else:
            sizes = dict(zip(groups, aggs[f"n__{QUANTILE_COLUMN}"].map(_int), strict=True))
            order_stats = _order_statistics(base, keys, QUANTILE_COLUMN, sizes, ps, ctx.alpha)
    medians = {col: ordered.km_medians(col, by, ctx.alpha)
               if ordered is not None and ordered.has(col, by) else
               _km_medians(base, keys, col, ctx.alpha)
               for n, col in MEDIANS.items() if n in names}
    rows = []
    for g, agg in zip(groups, aggs.to_dict("records"), strict=True):
        rows.append((g, [_estimate(n, agg, order_stats.get(g, {}), medians, g, ctx)
                         for n in names]))
    return tidy_kpis(rows, defs, by)


def _int(v) -> int:
    return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def _float(v) -> float:
    return math.nan if v is None else float(v)


def _share_column(name: str) -> str:
    return SHARES.get(name, name)


def _present(col: ibis.Value) -> ibis.Value:
    """Not missing: not NULL and, in a floating column, not NaN (pandas' missing value, which
    Spark and PostgreSQL keep as a value)."""
    return col.notnull() & ~col.isnan() if col.type().is_floating() else col.notnull()


def _number(col: ibis.Value) -> ibis.Value:
    """A column's values as float64, NULL where missing (booleans as 1.0/0.0)."""
    if col.type().is_boolean():
        return col.ifelse(1.0, 0.0)
    if col.type().is_floating():
        return _present(col).ifelse(col.cast("float64"), ibis.null("float64"))
    return col.cast("float64")


def _aggregate(table: ibis.Table, keys: list[str], metrics: dict) -> ibis.Table:
    return table.aggregate(by=keys, **metrics) if keys else table.aggregate(**metrics)


class Cells:
    """The aggregates ``_aggregates`` makes, for every KPI, of each cell of the study's
    groupings (period × segments, missing values a cell of their own), fetched in one query.
    A grouping's aggregates, or all tickets', are then combined from the cells without a query:
    counts and sums add up; means and sample variances combine exactly in arithmetic by the
    pairwise formula of Chan, Golub & LeVeque (1979): with N = Σ n_i and mean = Σ n_i m_i / N,
    (N − 1) s² = Σ (n_i − 1) s_i² + Σ n_i (m_i − mean)², stable for values far from zero.
    """

    #: cells above which the per-grouping queries are used (a segment nearly unique per ticket)
    MAX = 200_000

    def __init__(self, frame: pd.DataFrame, keys: list[str], dtypes: dict[str, str]):
        self.frame = frame
        self.keys = keys
        self.dtypes = dtypes  # integer and boolean keys: their type once missing values go

    @classmethod
    def fetch(cls, t: ibis.Table, ctx: Context, keys: list[str]) -> Cells | None:
        """The cells of ``keys`` in ``t``, or None when there are more than ``MAX``."""
        names = [k.name for k in ctx.available(set(t.columns))]
        got = _aggregates(t, list(keys), names, ctx, limit=cls.MAX + 1)
        dtypes = {k: "int64" if t[k].type().is_integer() else "bool" for k in keys
                  if t[k].type().is_integer() or t[k].type().is_boolean()}
        return None if len(got) > cls.MAX else cls(got, list(keys), dtypes)

    def has(self, by: str | None) -> bool:
        return by is None or by in self.keys

    def combine(self, by: str | None) -> pd.DataFrame:
        """What ``_aggregates`` returns for ``by`` (its groups under ``G``, tickets whose
        ``by`` is missing left out), or for all tickets."""
        f = self.frame
        if by is not None:
            f = f[f[by].notna()]
        key = f[by].astype(self.dtypes.get(by, f[by].dtype)).rename(G) if by is not None \
            else pd.Series(0, index=f.index, name=G)
        moments = [c.removeprefix("mean__") for c in f.columns if c.startswith("mean__")]
        parts = {}
        for c in f.columns:
            if c in self.keys or c.startswith(("mean__", "var__")):
                continue
            parts[c] = f[c].astype(float).fillna(0)
        for c in moments:
            n = f[f"n__{c}"].astype(float)
            m = f[f"mean__{c}"].astype(float).where(n > 0, 0.0)
            n_g = n.groupby(key).transform("sum")
            mean_g = (n * m).groupby(key).transform("sum") / n_g
            inner = ((n - 1) * f[f"var__{c}"].astype(float)).where(n > 1, 0.0)
            parts[f"_w__{c}"] = n * m
            parts[f"_m2__{c}"] = inner + (n * (m - mean_g) ** 2).where(n > 0, 0.0)
        summed = pd.DataFrame(parts, index=f.index).groupby(key, sort=True).sum()
        if by is None and summed.empty:  # no tickets: one row of zeros, as the query gives
            summed = pd.DataFrame(0.0, index=pd.Index([0], name=G), columns=list(parts))
        out = summed[[c for c in parts if not c.startswith(("_w__", "_m2__"))]].copy()
        for c in moments:
            n = summed[f"n__{c}"]
            out[f"mean__{c}"] = (summed[f"_w__{c}"] / n).where(n > 0)
            out[f"var__{c}"] = (summed[f"_m2__{c}"] / (n - 1)).where(n > 1)
        out = out.reset_index()
        return out.drop(columns=G) if by is None else out


def _aggregates(base: ibis.Table, keys: list[str], names: list[str], ctx: Context,
                limit: int | None = None) -> pd.DataFrame:
    """One row per group: rows, and the counts, sums, means and sample variances the KPIs in
    ``names`` need (``n__c``, ``sum__c``, ``mean__c``, ``var__c`` for column c); at most
    ``limit`` groups."""
    metrics = {"rows": base.count()}
    means = sorted({MEANS[n] for n in names if n in MEANS})
    counted = set(means)
    if any(n in QUANTILES for n in names):
        counted.add(QUANTILE_COLUMN)
    for name in names:
        if name in MEANS or name in QUANTILES or name in MEDIANS or name == "contacts":
            continue
        if name == "csat_top2":
            top = (_number(base["csat"]) >= ctx.csat_scale[1] - 1).fill_null(False)
            metrics["sum__csat_top2"] = top.ifelse(1, 0).sum()
            counted.add("csat")
        elif name == "nps":
            score = _number(base["nps"])
            for label, cond in [("pro", score >= 9), ("det", score <= 6)]:
                metrics[f"{label}__nps"] = cond.fill_null(False).ifelse(1, 0).sum()
            counted.add("nps")
        else:
            col = "complaint" if name == "complaints_per_1000" else _share_column(name)
            metrics[f"sum__{col}"] = _number(base[col]).sum()
            counted.add(col)
    for col in sorted(counted):
        metrics[f"n__{col}"] = _number(base[col]).count()
    for col in means:
        x = _number(base[col])
        metrics |= {f"mean__{col}": x.mean(), f"var__{col}": x.var(how="sample")}
    expr = _aggregate(base, keys, metrics)
    return (expr if limit is None else expr.limit(limit)).execute()


def _estimate(name: str, agg: dict, order_stats: dict, medians: dict, g, ctx: Context) -> dict:
    """One KPI of one group from its aggregates: the row ``engine.group_kpis`` makes."""
    a = ctx.alpha
    if name == "contacts":
        n = _int(agg["rows"])
        est, lo, hi = n, math.nan, math.nan
    elif name in MEANS:
        col = MEANS[name]
        n = _int(agg[f"n__{col}"])
        sd = math.sqrt(_float(agg[f"var__{col}"])) if n > 1 else math.nan
        est, lo, hi, n = describe.mean_ci_from_moments(n, _float(agg[f"mean__{col}"]), sd, a)
    elif name in QUANTILES:
        est, lo, hi, n = describe.quantile_from_order_stats(
            order_stats.__getitem__, _int(agg[f"n__{QUANTILE_COLUMN}"]), QUANTILES[name], a)
    elif name in MEDIANS:
        n, (est, lo, hi) = medians[MEDIANS[name]].get(g, (0, (math.nan,) * 3))
    elif name == "nps":
        n = _int(agg["n__nps"])
        r = nps_ci_from_counts(_int(agg["pro__nps"]), _int(agg["det__nps"]), n, a)
        est, lo, hi = r.value, r.low, r.high
    elif name == "complaints_per_1000":
        n = _int(agg["n__complaint"])
        est, lo, hi = describe.poisson_rate_ci(_int(agg["sum__complaint"]), n, 1000, a)
    else:
        col, total = ("csat", "csat_top2") if name == "csat_top2" else (_share_column(name),) * 2
        n = _int(agg[f"n__{col}"])
        est, lo, hi = describe.wilson_ci(_int(agg[f"sum__{total}"]), n, a)
    return {"kpi": name, "estimate": est, "ci_low": lo, "ci_high": hi, "n": int(n)}


def _order_statistics(base: ibis.Table, keys: list[str], col: str, sizes: dict, ps: list,
                      alpha: float) -> dict:
    """{group: {rank: value}} for the ranks ``describe.quantile_ranks`` needs in each group.

    The engine counts each distinct value per group and cumulates the counts in value order;
    rank r is the value whose cumulative count first reaches r. Only those rows come back.
    """
    needed = {g: frozenset().union(*(describe.quantile_ranks(n, p, alpha).needed() for p in ps))
              for g, n in sizes.items() if n > 0}
    if not needed:
        return {}
    x = base[col].cast("float64")
    counts = _aggregate(base.filter(_present(base[col])).mutate(_v=x), [*keys, "_v"],
                        {"_c": ibis._.count()})
    upto = ibis.cumulative_window(group_by=keys or None, order_by="_v")
    h = counts.mutate(_cum=counts["_c"].sum().over(upto)).view()

    def holds(ranks) -> ibis.Value:
        return ibis.or_(*((h["_cum"] >= r) & (h["_cum"] - h["_c"] < r) for r in sorted(ranks)))

    if keys:
        by_ranks = defaultdict(list)
        for g, ranks in needed.items():
            by_ranks[ranks].append(g)
        cond = ibis.or_(*(h[G].isin(gs) & holds(r) for r, gs in by_ranks.items()))
    else:
        cond = holds(needed["all"])
    got = h.filter(cond).execute()
    out = defaultdict(dict)
    for g, v, cum, c in zip(got[G] if keys else ["all"] * len(got), got["_v"], got["_cum"],
                            got["_c"], strict=True):
        for r in needed[g]:
            if cum - c < r <= cum:
                out[g][r] = float(v)
    return out


def _km_medians(base: ibis.Table, keys: list[str], col: str, alpha: float) -> dict:
    """{group: (n, (Crossing of S, of the lower band, of the upper band))} of the Kaplan–Meier
    curve of ``col`` (event: ``solved`` == 1), as ``survival.kaplan_meier`` fits it.

    One query, a chain of window functions over the table of distinct times (each step reads
    the one before, so no engine computes a step twice). Per group and distinct time: events d
    and cases m; the number at risk n (cumulative counts), S = exp(Σ log(1 − d/n)), 0 where
    d = n (which only the last time can have), Greenwood's Σ d/(n(n − d)) and the bands. The
    curves, as y = 1 − curve, are then summarised as ``survival.crossing_points`` does: S and
    its lower band never rise (the lower band is NULL once S = 0, at the end), so the first time
    y + tol >= p holds is the first time of the smallest such y, and the value that first occurs
    latest is NULL if there is one, else the largest. The upper band can rise and fall: its
    smallest qualifying y comes from a window over the group, and each value's first time from a
    window over the group and value, both over the times with events (where the curve can
    change: at the others an engine's window sum may differ from the value before it in the
    last bit, which would make a tie of values look like a new smallest one).
    """
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = 1 - _LEVEL
    null = ibis.null("float64")
    time = base[col].cast("float64")
    event = (base["solved"] == 1).fill_null(False).ifelse(1.0, 0.0)
    k = _aggregate(base.filter(_present(base[col])).select(*keys, _t=time, _e=event),
                   [*keys, "_t"], {"_d": ibis._["_e"].sum(), "_m": ibis._.count()})
    group = ibis.window(group_by=keys or None)
    upto = ibis.cumulative_window(group_by=keys or None, order_by="_t")
    m = k["_m"].cast("float64")
    k = k.mutate(_n=m.sum().over(group) - m.sum().over(upto) + m).view()
    d, nr = k["_d"], k["_n"]
    k = k.mutate(_log=(d < nr).ifelse((1 - d / nr).ln(), 0.0).sum().over(upto),
                 _var=((d > 0) & (d < nr)).ifelse(d / (nr * (nr - d)), 0.0).sum().over(upto)
                 ).view()
    surv = (k["_d"] >= k["_n"]).ifelse(0.0, k["_log"].exp())
    se = k["_var"].sqrt()
    k = k.select(*keys, "_t", "_m", _ev=k["_d"] > 0, _y0=1 - surv,
                 _y1=1 - (surv > 0).ifelse(surv * (-z * se).exp(), null),
                 _y2=1 - (surv > 0).ifelse(ibis.least(1.0, surv * (z * se).exp()), null)).view()
    # the upper band's values are compared for equality (the first time of the smallest), so
    # only times with events count: a time with none repeats the value before it exactly in
    # numpy, but not always in the last bit of an engine's window sums (DuckDB adds a frame's
    # segments in an order of its own)
    y, ev = k["_y2"], k["_ev"]
    k = k.mutate(_s1=(ev & (y + _TOL >= p)).ifelse(y, null).min().over(group),
                 _s2=(ev & (y - _TOL >= p)).ifelse(y, null).min().over(group),
                 _tf=ev.ifelse(k["_t"], null).min().over(
                     ibis.window(group_by=[*keys, "_y2"]))).view()
    y, t = k["_y2"], k["_t"]
    first = (k["_tf"] == t) & (y.isnull() | (y != 0))  # y = 0 first occurs at (0, 0)
    k = k.mutate(_tl=first.ifelse(t, null).max().over(group)).view()
    y, t, ev = k["_y2"], k["_t"], k["_ev"]
    at_last = t == k["_tl"]
    metrics = {"n": k["_m"].sum(), "xmax": t.max(), "_y2_top": y.max(),
               "_y2_x1": (ev & (y == k["_s1"])).ifelse(t, null).min(),
               "_y2_x2": (ev & (y == k["_s2"])).ifelse(t, null).min(), "_y2_tl": k["_tl"].max(),
               "_y2_last": at_last.ifelse(y, null).max(),
               "_y2_lastnull": (at_last & y.isnull()).ifelse(1, 0).max()}
    for c in ("_y0", "_y1"):  # never rising
        y = k[c]
        metrics |= {f"{c}_top": y.max(), f"{c}_x1": (y + _TOL >= p).ifelse(t, null).min(),
                    f"{c}_x2": (y - _TOL >= p).ifelse(t, null).min(),
                    f"{c}_lastnull": y.isnull().ifelse(1, 0).max()}
    near = [((k[c] - (p + shift)).abs() < _NEAR) for c in ("_y0", "_y1", "_y2")
            for shift in (-_TOL, _TOL)]
    metrics["_near"] = ibis.or_(*near).ifelse(1, 0).max()
    result = {}
    for r in _aggregate(k, keys, metrics).execute().to_dict("records"):
        g = r[G] if keys else "all"
        if r["_near"] or any(abs(_top(r[f"{c}_top"]) - p) < _NEAR for c in ("_y0", "_y1", "_y2")):
            # a decision of ``crossing_time`` within rounding: take it as pandas does
            rows = (base.filter(base[G] == g) if keys else base).select(col, "solved").execute()
            fit = kaplan_meier(rows[col], rows["solved"] == 1, alpha)
            result[g] = (fit.n, fit.median())
            continue
        lasts = [math.nan if r[f"{c}_lastnull"] else _top(r[f"{c}_top"]) for c in ("_y0", "_y1")]
        lasts.append(0.0 if _missing(r["_y2_tl"]) else  # no value after (0, 0): y[-1] is 0
                     math.nan if r["_y2_lastnull"] else float(r["_y2_last"]))
        result[g] = (_int(r["n"]), tuple(crossing_time(_crossing(r, c, last, p), _LEVEL)
                                         for c, last in zip(("_y0", "_y1", "_y2"), lasts,
                                                            strict=True)))
    return result


def _top(v) -> float:
    """The largest y with the point (0, 0) in front."""
    return 0.0 if _missing(v) else max(0.0, float(v))


def _crossing(r: dict, c: str, last: float, p: float) -> Crossing:
    """The ``Crossing`` of one curve from the engine's columns, the point (0, 0) in front as
    in ``survival.crossing_points`` (it is the smallest y, so it is the answer if it qualifies).
    """
    def time_of(value, prepended_qualifies: bool):
        return 0.0 if prepended_qualifies else (None if _missing(value) else float(value))

    return Crossing(_top(r[f"{c}_top"]), time_of(r[f"{c}_x1"], p <= _TOL),
                    time_of(r[f"{c}_x2"], p <= -_TOL), last,
                    0.0 if _missing(r["xmax"]) else float(r["xmax"]))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v)) or v is pd.NA
