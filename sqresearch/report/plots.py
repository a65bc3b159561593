"""Figures for reports. Each takes ``ax=None`` and returns the axes; matplotlib is imported
inside the functions so importing sqresearch stays cheap."""

from __future__ import annotations

import pandas as pd

from sqresearch.report.tables import OPS, fmt

_UNIT_AXIS = {"share": "%", "min": "minutes", "h": "hours", "business h": "business hours",
              "score": "score", "points": "NPS points", "per 1,000": "per 1,000 contacts",
              "contacts": "contacts"}


def _ax(ax, size=(8, 3.6)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _scale(unit: str) -> float:
    return 100.0 if unit == "share" else 1.0


def show() -> None:
    """Display the figures drawn so far (in a notebook: inline, in order)."""
    import matplotlib.pyplot as plt

    plt.show()


def plain_log_axis(ax, which: str = "y") -> None:
    """A log axis labelled with plain numbers (5, 6, 8, 10 — not 5 × 10⁰)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_formatter(fmt)
    axis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
    axis.set_minor_formatter(fmt)


def pct_change(values):
    """Log ratios as % changes: 100·(exp(x) − 1)."""
    import numpy as np

    return 100 * np.expm1(values)


def axis_label(unit: str) -> str:
    return _UNIT_AXIS.get(unit, unit)


def kpi_trend(table: pd.DataFrame, label: str, unit: str, target=None, ax=None):
    """Estimates with CI bars over periods (``kpi_table(by='period')`` rows of one KPI)."""
    ax = _ax(ax)
    k = _scale(unit)
    x = range(len(table))
    est = table["estimate"] * k
    lo = (table["estimate"] - table["ci_low"]).clip(lower=0) * k
    hi = (table["ci_high"] - table["estimate"]).clip(lower=0) * k
    ax.errorbar(list(x), est, yerr=[lo.fillna(0), hi.fillna(0)], fmt="o-", capsize=3,
                color="#1f5f8b", label=label)
    if target is not None:
        ax.axhline(target.value * k, color="#b03a2e", ls="--", lw=1,
                   label=f"target {OPS[target.op]} {fmt(target.value, unit)}")
        ax.legend(loc="best", fontsize=8, frameon=False)
    ax.set_xticks(list(x), table["group"].tolist())
    ax.set_ylabel(axis_label(unit))
    ax.set_xlabel("period")
    ax.set_title(label, loc="left", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return ax


def control_chart(chart, label: str, unit: str, ax=None):
    """Points with centre line and limits; baseline shaded, signals in red."""
    ax = _ax(ax)
    p = chart.points
    k = _scale(unit)
    ax.plot(p["date"], p["value"] * k, "-", color="#9aa5b1", lw=0.8)
    ax.plot(p["date"], p["value"] * k, "o", ms=2.5, color="#1f5f8b")
    sig = p[p["signal"]]
    ax.plot(sig["date"], sig["value"] * k, "o", ms=5, color="#c0392b", label="signal")
    ax.plot(p["date"], p["centre"] * k, color="#333", lw=1, label="centre (baseline)")
    ax.step(p["date"], p["ucl"] * k, where="mid", color="#b03a2e", lw=0.8, ls="--",
            label="control limits")
    ax.step(p["date"], p["lcl"] * k, where="mid", color="#b03a2e", lw=0.8, ls="--")
    base = p[p["baseline"]]
    if len(base):
        ax.axvspan(base["date"].min(), base["date"].max(), color="#d6eaf8", alpha=0.5,
                   label="baseline window")
    ax.set_ylabel(axis_label(unit))
    ax.set_xlabel("date (period start)")
    ax.set_title(f"{label} — {chart.kind} chart", loc="left", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def pareto(table: pd.DataFrame, title: str, ax=None):
    """Bars of counts (largest first) with the cumulative share on a second axis."""
    ax = _ax(ax)
    ax.bar(table["category"], table["count"], color="#1f5f8b")
    ax.set_ylabel("count")
    ax.tick_params(axis="x", rotation=30)
    ax2 = ax.twinx()
    ax2.plot(table["category"], table["cumulative_share"] * 100, "o-", color="#c0392b")
    ax2.set_ylim(0, 105)
    ax2.axhline(80, color="#999", ls=":", lw=1)
    ax2.set_ylabel("cumulative %")
    ax.set_title(title, loc="left", fontsize=10)
    return ax


def index_bars(scores: pd.DataFrame, title: str, ax=None):
    """Composite index per unit, best first."""
    ax = _ax(ax, (8, 0.45 * len(scores) + 1.2))
    s = scores.sort_values("index")
    ax.barh(s["unit"].astype(str), s["index"], color="#1f5f8b")
    for y, v in enumerate(s["index"]):
        ax.text(v + 1, y, f"{v:.0f}", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("composite index (0 = worst unit on every indicator, 100 = best)")
    ax.set_title(title, loc="left", fontsize=10)
    return ax


def segment_dots(table: pd.DataFrame, label: str, unit: str, ax=None):
    """One KPI across the levels of a segment: estimate with CI, sorted."""
    ax = _ax(ax, (8, 0.4 * len(table) + 1.3))
    t = table.sort_values("estimate")
    k = _scale(unit)
    y = range(len(t))
    ax.errorbar(t["estimate"] * k, list(y),
                xerr=[((t["estimate"] - t["ci_low"]) * k).clip(lower=0).fillna(0),
                      ((t["ci_high"] - t["estimate"]) * k).clip(lower=0).fillna(0)],
                fmt="o", capsize=3, color="#1f5f8b")
    ax.set_yticks(list(y), t["group"].tolist())
    ax.set_xlabel(axis_label(unit))
    ax.set_title(label, loc="left", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def segment_grid(table: pd.DataFrame, kpis: list[str], labels: dict[str, str], segment: str):
    """One small panel per KPI: its estimate with CI for each level of a segment."""
    import matplotlib.pyplot as plt

    ncols = 2 if len(kpis) > 1 else 1
    nrows = -(-len(kpis) // ncols)
    levels = table["group"].nunique()
    fig, axes = plt.subplots(nrows, ncols, figsize=(9, nrows * (0.3 * levels + 1.3)),
                             layout="constrained", squeeze=False)
    for ax, name in zip(axes.flat, kpis, strict=False):
        rows = table[table["kpi"] == name]
        segment_dots(rows, labels.get(name, name), rows["unit"].iloc[0], ax=ax)
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    fig.suptitle(f"KPIs with a target, by {segment} (95 % CI)", x=0.01, ha="left", fontsize=10)
    return axes


def period_ecdf(before, after, label: str, unit: str, log: bool = False, ax=None):
    """Empirical distribution of a metric in each period (log axis for durations)."""
    import numpy as np

    ax = _ax(ax, (8, 3.2))
    for values, name, colour in ((before, "before", "#9aa5b1"), (after, "after", "#1f5f8b")):
        v = np.sort(np.asarray(values, dtype=float))
        v = v[~np.isnan(v)]
        ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", color=colour,
                label=f"{name} (n = {v.size:,})")
    if log:
        plain_log_axis(ax, "x")
    ax.set_xlabel(axis_label(unit) + (" (log scale)" if log else ""))
    ax.set_ylabel("share of cases ≤ x")
    ax.set_title(f"{label}: distribution before and after", loc="left", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def km_curves(curves: dict, label: str, unit: str, ax=None):
    """Kaplan–Meier curves (share still open) per period, with their bands."""
    ax = _ax(ax, (8, 3.2))
    for (name, km), colour in zip(curves.items(), ("#9aa5b1", "#1f5f8b"), strict=False):
        t = km.table
        ax.step(t["time"], t["surv"], where="post", color=colour, label=f"{name} (n = {km.n:,})")
        ax.fill_between(t["time"], t["lower"], t["upper"], step="post", color=colour, alpha=0.2)
    ax.axhline(0.5, color="#999", ls=":", lw=1)
    ax.set_xlabel(axis_label(unit))
    ax.set_ylabel("share still open")
    ax.set_title(f"{label}: Kaplan–Meier curves (open cases censored)", loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return ax


def effect_panels(rows: list[tuple], ax=None):
    """One small panel per effect — rows of (label, estimate, ci_low, ci_high, unit) — each on
    its own axis in its own unit, with a line at no change. Returns the list of axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = list(ax) if hasattr(ax, "__len__") else [ax]
    else:
        _, axes = plt.subplots(len(rows), 1, figsize=(8, 0.9 * len(rows) + 0.4),
                               layout="constrained", squeeze=False)
        axes = list(axes[:, 0])
    for a, (label, est, lo, hi, unit) in zip(axes, rows, strict=True):
        a.errorbar([est], [0], xerr=[[max(est - lo, 0)], [max(hi - est, 0)]], fmt="o",
                   capsize=3, color="#1f5f8b")
        a.axvline(0, color="#b03a2e", ls="--", lw=1)
        a.set_yticks([])
        a.set_xlabel(unit, fontsize=8)
        a.set_title(label, loc="left", fontsize=9)
        a.grid(axis="x", alpha=0.3)
    return axes


def forest(effects: pd.DataFrame, label: str, null: float, xlabel: str, scale: float = 1.0,
           ax=None, transform=None):
    """Estimates with CIs per segment (rows of ``effects`` for one metric), a line at no change;
    ``scale`` multiplies the values (100 turns share differences into percentage points);
    ``transform`` (a function of an array) replaces it, e.g. log ratios to % changes."""
    ax = _ax(ax, (8, 0.38 * len(effects) + 1.2))
    e = effects.iloc[::-1].copy()
    f = transform or (lambda v: v * scale)
    for c in ("estimate", "ci_low", "ci_high"):
        e[c] = f(e[c].astype(float))
    y = range(len(e))
    ax.errorbar(e["estimate"], list(y), xerr=[(e["estimate"] - e["ci_low"]).clip(lower=0),
                                              (e["ci_high"] - e["estimate"]).clip(lower=0)],
                fmt="o", capsize=3, color="#1f5f8b")
    ax.axvline(null, color="#b03a2e", ls="--", lw=1)
    ax.set_yticks(list(y), [s.replace("=", ": ") if s != "all" else "all (overall)"
                            for s in e["segment"]])
    ax.set_xlabel(xlabel)
    ax.set_title(label, loc="left", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def its_plot(result, label: str, unit: str, intervention, ax=None):
    """Observed series, the fitted model, and the counterfactual with its prediction band (what
    the before trend and season terms forecast); wash-out periods hollow, gaps left open."""
    ax = _ax(ax, (8, 3.6))
    s = result.series
    k = _scale(unit)
    wash = s["washout"].astype(bool)
    ax.plot(s.loc[~wash, "date"], s.loc[~wash, "observed"] * k, "o", ms=3, color="#1f5f8b",
            label="observed")
    if wash.any():
        ax.plot(s.loc[wash, "date"], s.loc[wash, "observed"] * k, "o", ms=4, mfc="none",
                color="#777", label="wash-out (not fitted)")
    fitted = s[~wash & s["fitted"].notna()]
    for post, part in fitted.groupby("post"):
        ax.plot(part["date"], part["fitted"] * k, "-", color="#1f5f8b", lw=1.5,
                label=None if post else "fitted")
    after = s[s["post"]]
    level = round(100 * (1 - result.alpha))
    ax.fill_between(after["date"], after["pi_low"] * k, after["pi_high"] * k, color="#b03a2e",
                    alpha=0.15, lw=0, label=f"{level} % prediction band")
    ax.plot(after["date"], after["counterfactual"] * k, "--", color="#b03a2e",
            label="counterfactual (no intervention)")
    ax.axvline(pd.Timestamp(intervention), color="#333", lw=1, ls=":", label="intervention")
    ax.set_ylabel(axis_label(unit))
    ax.set_xlabel(f"{result.freq} (period start)")
    model = "segmented regression" if result.model == "segmented" else "structural model"
    ax.set_title(f"{label}: interrupted time series ({model})", loc="left", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.figure.autofmt_xdate()
    return ax


def event_study(event: pd.DataFrame, label: str, ylabel: str, scale: float = 1.0, ax=None,
                transform=None):
    """Event-time coefficients with CIs; the last pre period (k = −1) is the reference (0).
    ``scale`` multiplies the values (100 for share differences in percentage points);
    ``transform`` (a function of an array) replaces it, e.g. log ratios to % changes."""
    ax = _ax(ax, (8, 3.4))
    f = transform or (lambda v: v * scale)
    event = event.assign(**{c: f(event[c]) for c in ("estimate", "ci_low", "ci_high")})
    ax.errorbar(event["k"], event["estimate"], yerr=[(event["estimate"] - event["ci_low"]),
                                                     (event["ci_high"] - event["estimate"])],
                fmt="o", capsize=3, color="#1f5f8b")
    ax.axhline(0, color="#333", lw=1)
    ax.axvline(-0.5, color="#b03a2e", ls="--", lw=1, label="intervention")
    ax.set_xlabel("periods relative to the intervention (−1 = reference)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{label}: event study (treated − control, by period)", loc="left", fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def arm_trends(panel: pd.DataFrame, order: list, label: str, ylabel: str, scale: float = 1.0,
               ax=None, log: bool = False):
    """Mean outcome per period (in ``order``, earliest first) in each arm, on the analysis scale
    times ``scale``; with ``log`` the values are logs and the plot shows geometric means in the
    original unit on a log axis."""
    import numpy as np

    ax = _ax(ax, (8, 3.2))
    flags = panel.groupby("period")["post"].first()
    means = (panel.groupby(["period", "treated"])["value"].mean().unstack("treated")
             ).reindex(order)
    means = np.exp(means) if log else means * scale
    x = range(len(means))
    for flag, name, colour in ((1.0, "treated", "#1f5f8b"), (0.0, "control", "#9aa5b1")):
        if flag in means:
            ax.plot(list(x), means[flag], "o-", ms=3, color=colour, label=name)
    post = flags.reindex(order).to_numpy()
    if post.any() and not post.all():
        ax.axvline(int(post.argmax()) - 0.5, color="#b03a2e", ls="--", lw=1,
                   label="intervention")
    step = max(1, len(means) // 10)
    ax.set_xticks(list(x)[::step], list(means.index)[::step], rotation=30, ha="right")
    ax.set_xlabel("period")
    if log:
        plain_log_axis(ax, "y")
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    what = "geometric mean" if log else "mean"
    ax.set_title(f"{label}: {what} per period by arm", loc="left", fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax


def gap_profile(gaps: pd.DataFrame, labels: dict[str, str], ax=None):
    """Mean E and P per dimension, and the gap with its CI."""
    ax = _ax(ax, (8, 0.55 * len(gaps) + 1.4))
    g = gaps.iloc[::-1]
    y = range(len(g))
    names = [labels.get(d, d) for d in g["dimension"]]
    ax.errorbar(g["gap"], list(y), xerr=[g["gap"] - g["ci_low"], g["ci_high"] - g["gap"]],
                fmt="o", capsize=3, color="#b03a2e", label="gap P − E (95 % CI)")
    ax.axvline(0, color="#333", lw=1)
    ax.set_yticks(list(y), names)
    ax.set_xlabel("gap, scale points (negative: perceptions below expectations)")
    ax.set_title("The customer gap by dimension", loc="left", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return ax


def zone_chart(zone: pd.DataFrame, labels: dict[str, str], scale: tuple[int, int], ax=None):
    """The zone of tolerance (adequate to desired) per dimension with the perceived level."""
    ax = _ax(ax, (8, 0.55 * len(zone) + 1.4))
    z = zone.iloc[::-1]
    y = list(range(len(z)))
    ax.barh(y, z["desired"] - z["adequate"], left=z["adequate"], color="#d6eaf8",
            label="zone of tolerance")
    ax.plot(z["perceived"], y, "D", color="#1f5f8b", label="perceived")
    ax.set_yticks(y, [labels.get(d, d) for d in z["dimension"]])
    ax.set_xlim(*scale)
    ax.set_xlabel(f"scale points ({scale[0]}–{scale[1]})")
    ax.set_title("Zone of tolerance: adequate to desired level", loc="left", fontsize=10)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return ax


def ipa_grid(imp: pd.DataFrame, column: str, labels: dict[str, str], title: str, ax=None):
    """Importance–performance grid with quadrant lines at the means."""
    ax = _ax(ax, (6.5, 5))
    x, y = imp["performance"], 100 * imp[column]
    ax.scatter(x, y, color="#1f5f8b")
    for d, xi, yi in zip(imp["dimension"], x, y, strict=True):
        ax.annotate(labels.get(d, d), (xi, yi), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    ax.axvline(x.mean(), color="#999", ls=":")
    ax.axhline(y.mean(), color="#999", ls=":")
    for (tx, ty, text) in ((0.02, 0.96, "concentrate here"), (0.98, 0.96, "keep up the good work"),
                           (0.02, 0.02, "low priority"), (0.98, 0.02, "possible overkill")):
        ax.text(tx, ty, text, transform=ax.transAxes, fontsize=7, color="#57606a",
                ha="left" if tx < 0.5 else "right", va="top" if ty > 0.5 else "bottom")
    ax.set_xlabel("performance (mean perception, scale points)")
    ax.set_ylabel("importance (% of weight)")
    ax.set_title(title, loc="left", fontsize=10)
    return ax
