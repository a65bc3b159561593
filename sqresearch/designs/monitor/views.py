"""The weekly monitor's figures: where the load and the waits sit (hour × weekday), which cells
left their baseline (cell × week), each problem's last twelve weeks, the funnel plot and rank
intervals of teams, and a mix-versus-rate decomposition.

Every function takes tidy frames (or a ``stats`` result) and returns a
``matplotlib.figure.Figure`` built without pyplot, so nothing is registered in pyplot's global
figure list and no style state leaks: the caller displays or saves the figure and drops it.
Colour maps are sequential viridis / cividis or the diverging RdBu_r (ColorBrewer: colour-blind
safe); point colours are Okabe–Ito. Cells without a value are drawn hatched grey and every
title says so. matplotlib is imported inside the functions (importing the package stays cheap).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqresearch.io.errors import DataError, Problem

#: a first-response slot needs this many replies before its median is shown
MIN_SLOT = 5
#: the deviation heatmap's colour scale ends here (SE units); values beyond are drawn at it
CLIP = 6.0
#: at most this many problems get a sparkline, and each shows this many weeks
MAX_PROBLEMS, SPARK_WEEKS = 10, 12
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Okabe–Ito colours
BLUE, ORANGE, VERMILLION, SKY, GREY = "#0072B2", "#E69F00", "#D55E00", "#56B4E9", "#7f7f7f"
BLANK = "#d9d9d9"  # the hatched background shown through cells without a value


class ViewDataError(DataError):
    """A table a monitor figure cannot draw."""


def _fail(what: str, fix: str, where: str = "") -> ViewDataError:
    return ViewDataError("monitor figure", Problem(where, what, fix))


def _need(frame: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise _fail(f"no column(s) {missing}; the table has {list(frame.columns)}",
                    f"pass the names of the {what} columns", "columns")


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _cmap(name: str):
    import matplotlib as mpl

    return mpl.colormaps[name].with_extremes(bad=(0, 0, 0, 0))  # NaN: the hatch shows through


def _hatched(ax, nrows: int, ncols: int) -> None:
    """A hatched grey rectangle under an image's cells: a masked cell shows it."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((-0.5, -0.5), ncols, nrows, facecolor=BLANK, edgecolor="#a6a6a6",
                           hatch="///", lw=0, zorder=0))


def _short(week: str) -> str:
    """'2026-W47' → 'W47 ’26' (week labels that fit under a narrow cell)."""
    s = str(week)
    return f"{s[5:]} ’{s[2:4]}" if len(s) == 8 and s[4:6] == "-W" else s


def _scale(unit: str) -> tuple[float, str]:
    from sqresearch.report.plots import axis_label

    return (100.0, "%") if unit == "share" else (1.0, axis_label(unit))


# --- 1. hour of day × weekday ----------------------------------------------------------------

def hour_weekday_grids(frame: pd.DataFrame, weeks: list[str], *, created: str = "created",
                       frt: str = "frt_min", week: str = "week"
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two grids the heatmaps draw, weekday (Mon … Sun, rows) × hour 0–23 (columns):
    tickets per slot divided by the number of ``weeks`` (a week with no ticket in a slot counts
    as 0), and the median of ``frt`` over the slot's tickets that have one (NaN where fewer
    than ``MIN_SLOT``)."""
    _need(frame, [created, frt, week], "created time, first-response minutes and ISO week")
    weeks = list(dict.fromkeys(map(str, weeks)))
    if not weeks:
        raise _fail("no weeks were given", "name at least one ISO week, e.g. '2026-W47'")
    rows = frame[frame[week].astype(str).isin(weeks)]
    absent = sorted(set(weeks) - set(rows[week].astype(str)))
    if absent:
        raise _fail(f"weeks {absent[:5]} have no tickets in the table",
                    "choose weeks inside the data", f"column '{week}'")
    stamp = pd.to_datetime(rows[created])
    slot = pd.DataFrame({"day": stamp.dt.dayofweek.to_numpy(), "hour": stamp.dt.hour.to_numpy(),
                         "frt": pd.to_numeric(rows[frt], errors="coerce").to_numpy()})
    full = pd.MultiIndex.from_product([range(7), range(24)], names=["day", "hour"])
    g = slot.groupby(["day", "hour"])
    volume = (g.size().reindex(full, fill_value=0) / len(weeks)).unstack("hour")
    median = g["frt"].median().where(g["frt"].count() >= MIN_SLOT).reindex(full).unstack("hour")
    volume.index = median.index = pd.Index(WEEKDAYS, name="weekday")
    return volume, median


def hour_weekday_heatmaps(frame: pd.DataFrame, weeks: list[str], *, created: str = "created",
                          frt: str = "frt_min", week: str = "week"):
    """Two panels over the given ISO ``weeks`` of a ticket table (one row per ticket): tickets
    per hour-of-day × weekday slot as the mean per week (viridis), and the median
    first-response time in minutes per slot (cividis; slots with fewer than ``MIN_SLOT``
    replies hatched grey; a log colour scale, as waits are skewed, unless a median is 0).
    Hours are those of ``created`` as given (the study's time zone)."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    volume, median = hour_weekday_grids(frame, weeks, created=created, frt=frt, week=week)
    names = sorted(dict.fromkeys(map(str, weeks)))
    span = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
    fig = _figure((13, 3.9))
    panels = fig.subplots(1, 2)
    specs = ((volume, "viridis", "tickets per week (mean)",
              "Tickets per week (mean of the weeks)"),
             (median, "cividis", "median first response (minutes)",
              f"Median first response; hatched grey: fewer than {MIN_SLOT} replies"))
    for ax, (grid, cmap, bar, title) in zip(panels, specs, strict=True):
        _hatched(ax, 7, 24)
        values = np.ma.masked_invalid(grid.to_numpy(dtype=float))
        log = grid is median and values.count() > 0 and values.min() > 0
        norm = LogNorm(values.min(), values.max()) if log else None
        img = ax.imshow(values, cmap=_cmap(cmap), norm=norm, aspect="auto",
                        interpolation="nearest", zorder=1)
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_yticks(range(7), WEEKDAYS)
        ax.set_xlabel("hour of day (ticket created, study time zone)")
        ax.set_ylabel("weekday")
        ax.set_title(title, loc="left", fontsize=10)
        cb = fig.colorbar(img, ax=ax, label=bar + (", log colour scale" if norm else ""),
                          shrink=0.9)
        if norm:  # plain minutes on the log colour bar (1, 2, 5, 10 — not 10⁰)
            cb.ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            cb.ax.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"Where load and waits sit: hour × weekday, {span} ({len(names)} week"
                 f"{'s' if len(names) != 1 else ''})", x=0.01, ha="left", fontsize=11)
    return fig


# --- 2. cell × week deviation ----------------------------------------------------------------

def deviation_grid(table: pd.DataFrame, *, row: str = "cell", week: str = "week",
                   z: str = "statistic") -> pd.DataFrame:
    """Rows (in order of first appearance) × weeks (sorted) of ``z``; NaN where not judged or
    absent. One row per row × week is required (filter the table to one KPI first)."""
    _need(table, [row, week, z], "row, week and deviation")
    if table.empty:
        raise _fail("the table has no rows", "pass the alert rows of at least one week")
    dup = table.duplicated([row, week])
    if dup.any():
        pairs = table.loc[dup, [row, week]].astype(str).head(5).agg(" × ".join, axis=1)
        raise _fail(f"{int(dup.sum())} row × week pairs appear twice, e.g. {pairs.tolist()}",
                    "filter the table to one KPI (one row per cell and week)",
                    f"columns '{row}', '{week}'")
    values = pd.to_numeric(table[z], errors="coerce")
    grid = table.assign(**{z: values}).pivot(index=row, columns=week, values=z)
    return grid.reindex(index=list(dict.fromkeys(table[row])), columns=sorted(grid.columns))


def deviation_heatmap(table: pd.DataFrame, *, row: str = "cell", week: str = "week",
                      z: str = "statistic", title: str = "Deviation from baseline by cell and "
                      "week"):
    """Rows (e.g. teams) × weeks coloured by the standardised deviation from baseline (RdBu_r,
    centred on 0 by a TwoSlopeNorm, + is worse: the caller signs ``z``), clipped at ±``CLIP``;
    cells not judged (NaN or absent) hatched grey."""
    from matplotlib.colors import TwoSlopeNorm

    grid = deviation_grid(table, row=row, week=week, z=z)
    rows, cols = grid.shape
    fig = _figure((max(6.0, 0.32 * cols + 3.2), max(3.4, 0.32 * rows + 1.9)))
    ax = fig.subplots()
    _hatched(ax, rows, cols)
    values = np.ma.masked_invalid(grid.to_numpy(dtype=float).clip(-CLIP, CLIP))
    img = ax.imshow(values, cmap=_cmap("RdBu_r"), norm=TwoSlopeNorm(0.0, -CLIP, CLIP),
                    aspect="auto", interpolation="nearest", zorder=1)
    step = max(1, -(-cols // 26))
    ax.set_xticks(range(cols)[::step], [_short(w) for w in grid.columns[::step]],
                  rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(range(rows), [str(r) for r in grid.index], fontsize=8)
    ax.set_xlabel("ISO week")
    ax.set_ylabel(row)
    ax.set_title(f"{title}\nhatched grey: not judged (below minimum volume or no baseline); "
                 f"colours clipped at ±{CLIP:g}", loc="left", fontsize=10)
    bar = fig.colorbar(img, ax=ax, extend="both")  # the arrows: values beyond ±CLIP
    bar.set_label("deviation from baseline (SE units, + worse)", fontsize=8)
    return fig


# --- 3. sparklines ---------------------------------------------------------------------------

def sparklines(series: pd.DataFrame, *, problem: str = "problem", week: str = "week",
               value: str = "value", lower: str = "lower", upper: str = "upper",
               baseline: str = "in_baseline", unit: str = "unit"):
    """One small panel per problem (order of first appearance, at most ``MAX_PROBLEMS``): its
    metric over its last ``SPARK_WEEKS`` weeks, baseline weeks shaded, the report (last) week's
    control limits as a band at the last point (a NaN limit is left open), the last point
    marked (vermillion when outside its limits). Shares (unit "share") are drawn in %."""
    from matplotlib.patches import Patch

    _need(series, [problem, week, value, lower, upper, baseline, unit], "sparkline")
    names = list(dict.fromkeys(series[problem]))
    if not names:
        raise _fail("the table has no rows", "pass the weekly values of at least one problem")
    shown = names[:MAX_PROBLEMS]
    fig = _figure((8, 1.45 * len(shown) + 0.9))
    axes = np.atleast_1d(fig.subplots(len(shown), 1, squeeze=False)[:, 0])
    for ax, name in zip(axes, shown, strict=True):
        s = series[series[problem] == name].sort_values(week).tail(SPARK_WEEKS)
        k, label = _scale(str(s[unit].iloc[0]))
        x = np.arange(len(s))
        y = pd.to_numeric(s[value], errors="coerce").to_numpy(dtype=float) * k
        for i in x[s[baseline].eq(True).to_numpy()]:
            ax.axvspan(i - 0.5, i + 0.5, color=SKY, alpha=0.18, lw=0)
        ax.plot(x, y, "-", color=GREY, lw=1)
        ax.plot(x[:-1], y[:-1], "o", ms=2.5, color=BLUE)
        lo, hi = (float(pd.to_numeric(s[c], errors="coerce").iloc[-1]) * k
                  for c in (lower, upper))
        last = x[-1]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.fill_between([last - 0.4, last + 0.4], lo, hi, color=ORANGE, alpha=0.3, lw=0)
        for lim in (lo, hi):
            if np.isfinite(lim):
                ax.hlines(lim, last - 0.4, last + 0.4, color=ORANGE, lw=1.2)
        out = (np.isfinite(hi) and y[-1] > hi) or (np.isfinite(lo) and y[-1] < lo)
        ax.plot([last], [y[-1]], "D", ms=6, color=VERMILLION if out else BLUE, zorder=3)
        ax.set_xticks(x, [_short(w) for w in s[week]], fontsize=7)
        ax.set_xlim(-0.6, max(SPARK_WEEKS, len(s)) - 0.4)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"{name}: {y[-1]:.3g} {label} in {s[week].iloc[-1]}", loc="left",
                     fontsize=9)
    axes[-1].set_xlabel("ISO week")
    more = f" (first {MAX_PROBLEMS} of {len(names)} problems)" if len(names) > len(shown) else ""
    fig.suptitle(f"Last {SPARK_WEEKS} weeks of each problem's metric{more}", x=0.01, ha="left",
                 fontsize=10)
    fig.legend(handles=[Patch(color=SKY, alpha=0.35, label="baseline weeks"),
                        Patch(color=ORANGE, alpha=0.5, label="report week's control limits")],
               loc="outside lower right", ncols=2, fontsize=7, frameon=False)
    return fig


# --- 4. funnel plot --------------------------------------------------------------------------

_YLABEL = {"proportion": "proportion (%)", "rate": "rate per unit of exposure",
           "mean": "mean"}


def funnel_figure(funnel, *, title: str = "Funnel plot: units against the target",
                  ylabel: str | None = None, xlabel: str | None = None):
    """A ``stats.funnel.Funnel``: each unit at (volume, value) with its name, the 95 % and
    99.8 % limits in force (adjusted ones when the overdispersion adjustment applies), the
    target, and the units beyond the 99.8 % limits (the Funnel's ``flag``) highlighted.
    Proportions are drawn in % and their limits clipped to 0–100 %, rates at ≥ 0.
    ``ylabel`` / ``xlabel`` name the indicator and volume with their units."""
    from sqresearch.report.plots import plain_log_axis

    t, lim = funnel.table, funnel.limits
    k = 100.0 if funnel.indicator == "proportion" else 1.0
    top = 100.0 if funnel.indicator == "proportion" else np.inf
    low = -np.inf if funnel.indicator == "mean" else 0.0
    fig = _figure((8, 5))
    ax = fig.subplots()
    kind = "adjusted" if funnel.adjusted else "unadjusted"
    for level, style, name in (("95", "--", "95 %"), ("998", "-", "99.8 %")):
        c = lim[(lim["kind"] == kind) & (lim["level"] == level)].sort_values("n")
        for side in ("lower", "upper"):
            ax.plot(c["n"], (c[side] * k).clip(low, top), style, color=GREY, lw=1,
                    label=f"{name} limits" if side == "lower" else None)
    ax.axhline(funnel.target * k, color="#333333", lw=1, label=f"target {funnel.target * k:.3g}")
    groups = (("within", "o", BLUE, "within the 99.8 % limits"),
              ("above", "^", VERMILLION, "above the 99.8 % limits"),
              ("below", "v", ORANGE, "below the 99.8 % limits"))
    for flag, marker, colour, label in groups:
        part = t[t["flag"] == flag]
        if part.empty:
            continue
        ax.scatter(part["n"], part["value"] * k, marker=marker, s=30 if flag == "within" else 70,
                   color=colour, edgecolor="black" if flag != "within" else "none", lw=0.6,
                   zorder=3, label=label, gid=f"units_{flag}")
        for r in part.itertuples():
            ax.annotate(str(r.unit), (r.n, r.value * k), textcoords="offset points",
                        xytext=(5, 4), fontsize=8,
                        fontweight="normal" if flag == "within" else "bold")
    if t["n"].max() / t["n"].min() > 20:
        plain_log_axis(ax, "x")
    adj = (f"limits adjusted for overdispersion ({funnel.overdispersion}, φ = {funnel.phi:.2f})"
           if funnel.adjusted else "no overdispersion adjustment")
    ax.set_xlabel(xlabel or ("exposure" if funnel.indicator == "rate" else "volume (tickets)"))
    ax.set_ylabel(ylabel or _YLABEL[funnel.indicator])
    ax.set_title(f"{title}\n{adj}; highlighted: beyond the 99.8 % limits", loc="left",
                 fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return fig


# --- 5. rank intervals -----------------------------------------------------------------------

def rank_figure(ranks, *, title: str = "Rank intervals"):
    """A ``stats.ranks.RankIntervals``: each unit's rank (1 = best) with its interval, best at
    the top; units whose interval is a single rank drawn filled, the rest hollow."""
    from matplotlib.ticker import MaxNLocator

    t = ranks.table.sort_values(["rank", "mean_rank"], ignore_index=True)
    n = len(t)
    fig = _figure((8, 0.34 * n + 1.6))
    ax = fig.subplots()
    y = np.arange(n)
    ax.hlines(y, t["rank_low"], t["rank_high"], color=BLUE, lw=2.5, alpha=0.55,
              label=f"{ranks.level:.0%} rank interval")
    decided = (t["rank_low"] == t["rank_high"]).to_numpy()
    ax.plot(t["rank"][decided], y[decided], "o", color=BLUE, ms=6,
            label="rank (settled: interval of one rank)")
    ax.plot(t["rank"][~decided], y[~decided], "o", mfc="white", color=BLUE, ms=6,
            label="rank of the estimate (interval wider)")
    ax.set_yticks(y, t["unit"].astype(str).tolist())
    ax.invert_yaxis()
    ax.set_xlim(0.5, n + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"rank among {n} units (1 = best)")
    ax.set_ylabel("unit")
    ax.set_title(f"{title}\n{ranks.level:.0%} intervals from {ranks.resamples:,} draws "
                 f"(seed {ranks.seed})", loc="left", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


# --- 6. mix versus rate ----------------------------------------------------------------------

def decomposition_figure(table: pd.DataFrame, *, title: str = "What moved the KPI: rate or mix",
                         unit: str = "KPI units", log: bool = False):
    """The table of a ``stats.decompose.Decomposition``: per segment (largest |rate| + |mix|
    first) a bar for its rate part and one for its mix part either side of 0. Shares (unit
    "share") in percentage points; ``log=True`` (a log-scale decomposition) as % change of the
    geometric mean, 100·(exp(part) − 1)."""
    from sqresearch.report.plots import pct_change

    _need(table, ["segment", "rate_part", "mix_part"], "decomposition")
    if table.empty:
        raise _fail("the table has no rows", "pass a Decomposition's table")
    d = table.assign(_size=table["rate_part"].abs() + table["mix_part"].abs())
    d = d.sort_values("_size", ascending=False, kind="stable", ignore_index=True)
    if log:
        f, label = pct_change, "% change in the geometric mean"
    elif unit == "share":
        f, label = (lambda v: 100 * v), "percentage points"
    else:
        f, label = (lambda v: v), _scale(unit)[1]
    rate, mix = (f(d[c].to_numpy(dtype=float)) for c in ("rate_part", "mix_part"))
    fig = _figure((8, 0.55 * len(d) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(d))
    ax.barh(y - 0.2, rate, height=0.38, color=BLUE, label="rate part (same mix, new values)")
    ax.barh(y + 0.2, mix, height=0.38, color=ORANGE, label="mix part (volume moved)")
    ax.axvline(0, color="#333333", lw=1)
    ax.set_yticks(y, d["segment"].astype(str).tolist())
    ax.invert_yaxis()
    ax.set_xlabel(f"contribution to the change ({label})")
    ax.set_ylabel("segment")
    ax.set_title(f"{title}\nrate: {f(np.array([d['rate_part'].sum()]))[0]:+.3g}, mix: "
                 f"{f(np.array([d['mix_part'].sum()]))[0]:+.3g} {label}", loc="left",
                 fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig
