"""The weekly monitor's figures (designs/monitor/views.py): what each figure draws is read back
from its artists and compared with the same numbers computed here by plain pandas (pivots,
crosstabs, group medians) or taken from the stats result it draws; every figure renders to PNG
and none is left in pyplot's figure list."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import LogNorm, TwoSlopeNorm, to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sqresearch.designs.monitor import views  # noqa: E402
from sqresearch.designs.monitor.weekly import iso_week  # noqa: E402
from sqresearch.io.errors import DataError  # noqa: E402
from sqresearch.stats.decompose import kitagawa  # noqa: E402
from sqresearch.stats.funnel import funnel_proportion  # noqa: E402
from sqresearch.stats.ranks import sampling_ranks  # noqa: E402

WEEKS = ["2026-W10", "2026-W11", "2026-W12"]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


def _tickets(seed: int = 1, n: int = 900) -> pd.DataFrame:
    """Tickets over four ISO weeks (W10–W13 of 2026), busier on weekday mornings; first
    response in minutes, missing for some (no reply yet)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp.fromisocalendar(2026, 10, 1)
    day = rng.integers(0, 28, n)
    hour = np.where(rng.random(n) < 0.6, rng.integers(8, 12, n), rng.integers(0, 24, n))
    created = start + pd.to_timedelta(day, "D") + pd.to_timedelta(hour, "h") \
        + pd.to_timedelta(rng.integers(0, 3600, n), "s")
    frt = rng.lognormal(3, 0.6, n)
    frt[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({"created": created, "frt_min": frt})
    return frame.assign(week=iso_week(frame["created"]))


# --- 1. hour × weekday -----------------------------------------------------------------------

def test_heatmap_cells_equal_pandas_pivots():
    frame = _tickets()
    fig = views.hour_weekday_heatmaps(frame, WEEKS)
    vol_ax, frt_ax = fig.axes[0], fig.axes[1]
    sub = frame[frame["week"].isin(WEEKS)]
    day, hour = sub["created"].dt.dayofweek, sub["created"].dt.hour
    counts = pd.crosstab(day, hour).reindex(index=range(7), columns=range(24), fill_value=0)
    np.testing.assert_allclose(vol_ax.images[0].get_array(), counts.to_numpy() / 3)
    assert vol_ax.images[0].get_array().sum() == pytest.approx(len(sub) / 3)

    replies = sub.dropna(subset=["frt_min"])
    med = replies.pivot_table(index=replies["created"].dt.dayofweek,
                              columns=replies["created"].dt.hour, values="frt_min",
                              aggfunc="median")
    n = replies.pivot_table(index=replies["created"].dt.dayofweek,
                            columns=replies["created"].dt.hour, values="frt_min",
                            aggfunc="count")
    expected = med.where(n >= views.MIN_SLOT).reindex(index=range(7), columns=range(24))
    shown = frt_ax.images[0].get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), expected.isna().to_numpy())
    np.testing.assert_allclose(shown.compressed(), expected.stack().to_numpy())
    assert np.ma.getmaskarray(shown).any() and not np.ma.getmaskarray(shown).all()


def test_heatmap_labels_units_and_colourmaps():
    fig = views.hour_weekday_heatmaps(_tickets(), WEEKS)
    vol_ax, frt_ax, vol_bar, frt_bar = fig.axes
    for ax in (vol_ax, frt_ax):
        assert ax.get_xlabel().startswith("hour of day")
        assert ax.get_ylabel() == "weekday"
        assert [t.get_text() for t in ax.get_yticklabels()] == list(views.WEEKDAYS)
    assert vol_bar.get_ylabel() == "tickets per week (mean)"
    assert frt_bar.get_ylabel() == "median first response (minutes), log colour scale"
    assert isinstance(frt_ax.images[0].norm, LogNorm)
    shown = frt_ax.images[0].get_array()
    assert frt_ax.images[0].norm.vmin == shown.min() and frt_ax.images[0].norm.vmax == shown.max()
    assert vol_ax.images[0].get_cmap().name.startswith("viridis")
    assert frt_ax.images[0].get_cmap().name.startswith("cividis")
    assert f"fewer than {views.MIN_SLOT} replies" in frt_ax.get_title(loc="left")
    assert "2026-W10 to 2026-W12 (3 weeks)" in fig._suptitle.get_text()


def test_heatmap_counts_a_slot_without_tickets_in_a_week_as_zero():
    """Two tickets Monday 09:xx in week 10 only, one Tuesday 14:xx in each of two weeks: the
    mean per week over the two weeks asked is 1 and 1."""
    stamps = pd.to_datetime(["2026-03-02 09:10", "2026-03-02 09:50", "2026-03-03 14:00",
                             "2026-03-10 14:30"])
    frame = pd.DataFrame({"created": stamps, "frt_min": [1.0, 2.0, 3.0, 4.0]})
    frame["week"] = iso_week(frame["created"])
    volume, median = views.hour_weekday_grids(frame, ["2026-W10", "2026-W11"])
    assert volume.loc["Mon", 9] == 1.0 and volume.loc["Tue", 14] == 1.0
    assert volume.to_numpy().sum() == 2.0
    assert median.isna().all().all()  # no slot has 5 replies


def test_heatmap_keeps_a_linear_colour_scale_when_a_median_is_zero():
    stamps = pd.to_datetime(["2026-03-02 09:00"] * 5 + ["2026-03-03 10:00"] * 5)
    frame = pd.DataFrame({"created": stamps, "frt_min": [0.0] * 5 + [4.0] * 5})
    frame["week"] = iso_week(frame["created"])
    fig = views.hour_weekday_heatmaps(frame, ["2026-W10"])
    norm = fig.axes[1].images[0].norm
    assert not isinstance(norm, LogNorm) and (norm.vmin, norm.vmax) == (0, 4)
    assert fig.axes[3].get_ylabel() == "median first response (minutes)"


def test_heatmap_on_the_demo_data():
    d = pd.read_parquet("data/weekly_monitor.parquet",
                        columns=["opened_ts", "first_reply_ts"])
    d = d.assign(frt=(d["first_reply_ts"] - d["opened_ts"]).dt.total_seconds() / 60,
                 wk=iso_week(d["opened_ts"]))
    weeks = sorted(d["wk"].unique())[-5:-1]
    fig = views.hour_weekday_heatmaps(d, weeks, created="opened_ts", frt="frt", week="wk")
    assert fig.axes[0].images[0].get_array().sum() == pytest.approx(
        d["wk"].isin(weeks).sum() / 4)
    assert _png(fig)[:4] == b"\x89PNG"


def test_heatmap_user_errors():
    frame = _tickets()
    with pytest.raises(DataError, match=r"2025-W01.*choose weeks inside the data"):
        views.hour_weekday_heatmaps(frame, ["2026-W10", "2025-W01"])
    with pytest.raises(DataError, match=r"no column\(s\) \['frt'\]"):
        views.hour_weekday_heatmaps(frame, WEEKS, frt="frt")
    with pytest.raises(DataError, match="no weeks were given"):
        views.hour_weekday_heatmaps(frame, [])


# --- 2. deviation heatmap --------------------------------------------------------------------

def _deviations() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [{"cell": c, "week": f"2026-W{w:02d}", "statistic": rng.normal(0, 2)}
            for c in ("team=east", "team=west", "team=south") for w in range(1, 31)]
    t = pd.DataFrame(rows)
    t.loc[3, "statistic"] = 9.5  # beyond the clip
    t.loc[40, "statistic"] = -8.0
    t.loc[[5, 70], "statistic"] = np.nan  # not judged
    return t.drop(index=[88])  # south, W29: absent


def test_deviation_cells_are_the_clipped_pivot_with_nan_masked():
    t = _deviations()
    fig = views.deviation_heatmap(t)
    ax = fig.axes[0]
    shown = ax.images[0].get_array()
    pivot = t.pivot(index="cell", columns="week", values="statistic")
    pivot = pivot.reindex(index=["team=east", "team=west", "team=south"],
                          columns=sorted(pivot.columns))
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), pivot.isna().to_numpy())
    assert np.ma.getmaskarray(shown).sum() == 3  # two NaN, one absent
    np.testing.assert_allclose(shown.filled(np.nan), pivot.clip(-6, 6).to_numpy())
    assert shown.max() == 6 and shown.min() == -6


def test_deviation_norm_is_centred_on_zero_and_labelled():
    fig = views.deviation_heatmap(_deviations(), title="First response by team")
    ax, bar = fig.axes
    norm = ax.images[0].norm
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0
    assert norm.vmin == -norm.vmax == -views.CLIP
    assert norm(0.0) == pytest.approx(0.5)
    assert ax.images[0].get_cmap().name.startswith("RdBu_r")
    assert to_hex(ax.images[0].get_cmap()(np.nan), keep_alpha=True) == "#00000000"
    assert bar.get_ylabel() == "deviation from baseline (SE units, + worse)"
    title = ax.get_title(loc="left")
    assert title.startswith("First response by team") and "not judged" in title
    assert "clipped at ±6" in title
    assert ax.get_xlabel() == "ISO week" and ax.get_ylabel() == "cell"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert 0 < len(labels) <= 26 and labels[0] == "W01 ’26"
    assert any(p.get_hatch() == "///" for p in ax.patches)  # what a masked cell shows


def test_deviation_refuses_two_rows_per_cell_and_week():
    t = _deviations()
    two = pd.concat([t.assign(kpi="frt"), t.assign(kpi="fcr")])
    with pytest.raises(DataError, match="filter the table to one KPI"):
        views.deviation_heatmap(two)


# --- 3. sparklines ---------------------------------------------------------------------------

def _series(problems: int = 3, weeks: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for p in range(problems):
        unit = "share" if p % 2 == 0 else "min"
        level = 0.7 if unit == "share" else 30.0
        for w in range(1, weeks + 1):
            last = w == weeks
            rows.append({"problem": f"problem {p + 1}", "week": f"2026-W{w:02d}",
                         "value": level * (1.3 if last and p == 0 else rng.uniform(0.95, 1.05)),
                         "lower": level * 0.9 if last else np.nan,
                         "upper": level * 1.1 if last and p != 1 else np.nan,
                         "in_baseline": 2 <= w <= weeks - 2, "unit": unit})
    return pd.DataFrame(rows)


def test_sparklines_draw_the_last_twelve_weeks_with_limits():
    s = _series()
    fig = views.sparklines(s)
    assert len(fig.axes) == 3
    for ax, (name, rows) in zip(fig.axes, s.groupby("problem", sort=False), strict=True):
        last12 = rows.tail(12)
        k = 100 if last12["unit"].iloc[0] == "share" else 1
        line = ax.lines[0]
        np.testing.assert_allclose(line.get_ydata(), last12["value"] * k)
        assert [t.get_text() for t in ax.get_xticklabels()] == \
            [views._short(w) for w in last12["week"]]
        assert ax.get_ylabel() == ("%" if k == 100 else "minutes")
        assert ax.get_title(loc="left").startswith(name)
        spans = [p for p in ax.patches if p.get_alpha() and p.get_alpha() < 0.2]
        assert len(spans) == int(last12["in_baseline"].sum())
        marker = ax.lines[-1]
        assert marker.get_marker() == "D" and marker.get_xdata()[0] == 11
        limits = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
        finite = last12[["lower", "upper"]].iloc[-1].notna().sum()
        assert len(limits) == finite
        for c in limits:
            y = c.get_segments()[0][0, 1]
            assert np.isclose(y / k, last12[["lower", "upper"]].iloc[-1].dropna()).any()
    colours = [to_hex(ax.lines[-1].get_color()) for ax in fig.axes]
    assert colours == [views.VERMILLION.lower(), views.BLUE.lower(), views.BLUE.lower()]


def test_sparklines_show_at_most_ten_problems_and_say_so():
    fig = views.sparklines(_series(problems=11, weeks=4))
    assert len(fig.axes) == 10
    assert "first 10 of 11 problems" in fig._suptitle.get_text()
    assert fig.axes[-1].get_xlabel() == "ISO week"
    assert _png(fig)[:4] == b"\x89PNG"


def test_sparklines_need_their_columns():
    with pytest.raises(DataError, match=r"\['in_baseline'\]"):
        views.sparklines(_series().drop(columns="in_baseline"))


# --- 4. funnel plot --------------------------------------------------------------------------

def _funnel():
    n = np.array([120, 300, 450, 800, 950, 1500, 2200, 400, 640, 1000])
    p = np.array([0.15, 0.16, 0.14, 0.15, 0.155, 0.148, 0.152, 0.30, 0.15, 0.08])
    teams = [f"team {c}" for c in "ABCDEFGHIJ"]
    data = pd.DataFrame({"team": teams, "late": np.round(n * p), "n": n})
    return funnel_proportion(data, "team", "late", "n", target=0.15, overdispersion="none")


def test_funnel_marks_exactly_the_flagged_units():
    f = _funnel()
    flags = f.table.set_index("unit")["flag"]
    assert set(flags[flags != "within"].index) == {"team H", "team J"}  # the planted two
    fig = views.funnel_figure(f, ylabel="late tickets (%)")
    ax = fig.axes[0]
    drawn = {c.get_gid(): c for c in ax.collections}
    for flag in ("above", "below", "within"):
        rows = f.table[f.table["flag"] == flag]
        np.testing.assert_allclose(drawn[f"units_{flag}"].get_offsets(),
                                   np.column_stack([rows["n"], rows["value"] * 100]))
    bold = {t.get_text() for t in ax.texts if t.get_fontweight() == "bold"}
    assert bold == {"team H", "team J"}
    assert {t.get_text() for t in ax.texts} == set(f.table["unit"])
    assert ax.get_ylabel() == "late tickets (%)" and ax.get_xlabel() == "volume (tickets)"
    assert "no overdispersion adjustment" in ax.get_title(loc="left")


def test_funnel_draws_the_limits_in_force_and_the_target():
    f = _funnel()
    ax = views.funnel_figure(f).axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert lines["target 15"].get_ydata()[0] == pytest.approx(15)
    curve = f.limits[(f.limits["level"] == "998") & (f.limits["kind"] == "unadjusted")]
    drawn = [ln for ln in ax.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 2]
    np.testing.assert_allclose(drawn[0].get_ydata(), (curve["lower"] * 100).clip(0, 100))
    np.testing.assert_allclose(drawn[1].get_ydata(), (curve["upper"] * 100).clip(0, 100))
    assert ax.get_ylabel() == "proportion (%)"
    assert {"95 % limits", "99.8 % limits"} <= set(lines)


def test_funnel_with_overdispersion_draws_the_adjusted_limits():
    rng = np.random.default_rng(5)
    n = rng.integers(200, 2000, 20)
    p = np.clip(rng.normal(0.2, 0.05, 20), 0.01, 0.9)
    data = pd.DataFrame({"u": [f"u{i}" for i in range(20)], "x": np.round(n * p), "n": n})
    f = funnel_proportion(data, "u", "x", "n")
    assert f.adjusted
    ax = views.funnel_figure(f).axes[0]
    curve = f.limits[(f.limits["level"] == "95") & (f.limits["kind"] == "adjusted")]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(dashed[1].get_ydata(), (curve["upper"] * 100).clip(0, 100))
    assert f"φ = {f.phi:.2f}" in ax.get_title(loc="left")
    flagged = set(f.table.loc[f.table["flag"] != "within", "unit"])
    assert {t.get_text() for t in ax.texts if t.get_fontweight() == "bold"} == flagged


# --- 5. rank intervals -----------------------------------------------------------------------

def test_rank_figure_draws_each_interval_best_first():
    data = pd.DataFrame({"team": list("ABCDEF"), "est": [0.9, 0.5, 0.52, 0.2, 0.51, 0.95],
                         "se": [0.01, 0.05, 0.05, 0.01, 0.05, 0.01]})
    r = sampling_ranks(data, "team", "est", "se", resamples=1000, seed=2)
    fig = views.rank_figure(r, title="Teams by FCR")
    ax = fig.axes[0]
    t = r.table.sort_values(["rank", "mean_rank"])
    assert [x.get_text() for x in ax.get_yticklabels()] == t["unit"].tolist()
    assert t["unit"].tolist()[:2] == ["F", "A"]
    segs = ax.collections[0].get_segments()
    np.testing.assert_array_equal([s[0, 0] for s in segs], t["rank_low"])
    np.testing.assert_array_equal([s[1, 0] for s in segs], t["rank_high"])
    assert ax.yaxis_inverted() and ax.get_xlim() == (0.5, 6.5)
    assert ax.get_xlabel() == "rank among 6 units (1 = best)"
    assert "95% intervals from 1,000 draws (seed 2)" in ax.get_title(loc="left")


# --- 6. mix versus rate ----------------------------------------------------------------------

def _decomposition():
    t = pd.DataFrame({"channel": ["phone", "chat", "email"], "n0": [400, 400, 200],
                      "n1": [600, 300, 100], "v0": [0.6, 0.8, 0.7], "v1": [0.58, 0.8, 0.75]})
    return kitagawa(t, "channel", "n0", "n1", "v0", "v1")


def test_decomposition_bars_are_the_parts():
    d = _decomposition()
    fig = views.decomposition_figure(d.table, unit="share", title="FCR fell")
    ax = fig.axes[0]
    order = d.table.assign(s=d.table["rate_part"].abs() + d.table["mix_part"].abs()) \
        .sort_values("s", ascending=False)
    assert [x.get_text() for x in ax.get_yticklabels()] == order["segment"].tolist()
    rate, mix = ax.containers
    np.testing.assert_allclose([b.get_width() for b in rate], order["rate_part"] * 100)
    np.testing.assert_allclose([b.get_width() for b in mix], order["mix_part"] * 100)
    assert ax.get_xlabel() == "contribution to the change (percentage points)"
    assert f"rate: {100 * d.rate_effect:+.3g}" in ax.get_title(loc="left")


def test_decomposition_on_the_log_scale_is_drawn_as_percent_change():
    t = pd.DataFrame({"seg": ["a", "b"], "n0": [50, 50], "n1": [80, 20], "g0": [10.0, 40.0],
                      "g1": [10.0, 40.0]})
    d = kitagawa(t, "seg", "n0", "n1", "g0", "g1", scale="log")
    ax = views.decomposition_figure(d.table, log=True).axes[0]
    rate, mix = ax.containers
    assert [b.get_width() for b in rate] == pytest.approx([0, 0], abs=1e-12)  # a pure mix shift
    np.testing.assert_allclose(sorted(b.get_width() for b in mix),
                               sorted(100 * np.expm1(d.table["mix_part"])))
    assert ax.get_xlabel().endswith("(% change in the geometric mean)")
    with pytest.raises(DataError, match="rate_part"):
        views.decomposition_figure(d.table.drop(columns="rate_part"))


# --- all: no pyplot state, every figure renders ---------------------------------------------

def test_figures_are_plain_figures_outside_pyplot():
    before = plt.get_fignums()
    figs = [views.hour_weekday_heatmaps(_tickets(), WEEKS), views.deviation_heatmap(_deviations()),
            views.sparklines(_series()), views.funnel_figure(_funnel()),
            views.rank_figure(sampling_ranks(
                pd.DataFrame({"u": list("abc"), "e": [1.0, 2, 3], "s": [1.0, 1, 1]}),
                "u", "e", "s", resamples=200)),
            views.decomposition_figure(_decomposition().table)]
    assert plt.get_fignums() == before
    for fig in figs:
        assert isinstance(fig, Figure)
        assert fig.canvas.__class__.__name__ == "FigureCanvasAgg"
        assert _png(fig)[:4] == b"\x89PNG"
        for ax in fig.axes:
            assert ax.get_xlabel() or ax.get_ylabel()  # every axis (and colour bar) says what
    assert plt.get_fignums() == before
