"""The before/after study over time: KPI series, interrupted time series and control charts.

``TimeSeries(study)`` builds the weekly (or daily, monthly) KPI series of a ticket table, fits
the interrupted time series the params ask for (``stats.its``: calendar time, the study's
wash-out left out of the fit) and draws control charts with before-period limits.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from sqresearch import kpi
from sqresearch.io.errors import DataError, Problem
from sqresearch.report import caveats, tables
from sqresearch.stats.control import ControlChart, chart_for
from sqresearch.stats.its import ItsResult, interrupted_time_series


def effect_formatter(name: str):
    """How an ITS effect of this KPI reads: '+8.4 points' for shares, '−1.6 min'."""
    unit = kpi.CATALOGUE[name].unit
    if unit == "share":
        return lambda v: tables.signed(100 * v, "points")
    return lambda v: tables.signed(v, unit)


class TimeSeries:
    """KPI series, interrupted time series and control charts of one before/after study."""

    def __init__(self, study):
        self.study = study
        self.params = study.params

    @property
    def freq(self) -> str:
        return self.params.its.freq if self.params.its else "week"

    @cached_property
    def series(self) -> pd.DataFrame | None:
        p = self.params
        wanted = set(p.control_charts) | set(p.its.metrics if p.its else [])
        if not self.study.tickets or not wanted:
            return None
        return kpi.series(self.study.frame, self.study.ctx, self.freq, wanted | {"contacts"})

    def points(self, name: str) -> pd.DataFrame:
        s = self.series[(self.series["kpi"] == name) & (self.series["n"] > 0)]
        return s.sort_values("date")

    def washout(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The wash-out window (inclusive dates) the ITS leaves out of its fit: the study's
        wash-out days, or — when there are none and the intervention falls inside a period — the
        intervention day, so that the period mixing before and after tickets is left out."""
        p = self.params
        t0 = self.study.intervention
        if p.washout_days_before or p.washout_days_after:
            start = (t0 - pd.Timedelta(days=p.washout_days_before)).normalize()
            end = (t0 + pd.Timedelta(days=p.washout_days_after) - pd.Timedelta(1, "ns"))
            return start, max(end.normalize(), start)
        starts = {"day": t0.normalize(),
                  "week": t0.normalize() - pd.Timedelta(days=t0.weekday()),
                  "month": t0.normalize().replace(day=1)}[self.freq]
        return None if t0 == starts else (t0.normalize(), t0.normalize())

    @cached_property
    def its(self) -> dict[str, ItsResult]:
        spec = self.params.its
        if spec is None or not self.study.tickets:
            return {}
        out = {}
        for name in spec.metrics:
            s = self.points(name)
            try:
                out[name] = interrupted_time_series(
                    s["date"], s["estimate"], self.study.intervention, spec.seasonality,
                    spec.lags, self.params.alpha, freq=spec.freq, washout=self.washout(),
                    model=spec.model, errors=spec.error_model, show=effect_formatter(name))
            except ValueError as exc:
                raise DataError(self.study.source, Problem(
                    f"key 'its' ({name})", str(exc) + ".",
                    "use a finer freq, fewer season terms or a longer series.")) from None
        return out

    def its_table(self, name: str) -> tuple[pd.DataFrame, str]:
        """The ITS effects of one KPI in its display unit (percentage points for shares), with
        CI and p-value, and a caption saying how they were estimated."""
        res, k = self.its[name], kpi.CATALOGUE[name]
        show = effect_formatter(name)
        eff = res.effects()
        shown = pd.DataFrame({
            "Effect": eff["label"],
            "Estimate": [show(v) for v in eff["estimate"]],
            f"{round(100 * (1 - res.alpha))} % CI": [
                f"{show(lo)} to {show(hi)}"
                for lo, hi in zip(eff["ci_low"], eff["ci_high"], strict=True)],
            "p": [tables.fmt_p(v) for v in eff["p_value"]]})
        if res.model == "segmented":
            how = (f"segmented regression, {res.errors.replace('ar1', 'AR(1)')} errors"
                   + (f" (φ = {res.phi:.2f})" if res.phi is not None else "")
                   + (f", Newey–West lag {res.lags} ({res.lag_rule})" if res.lags is not None
                      else "") + f", t with {res.df:g} df")
        else:
            how = "structural model fitted on the before periods, normal intervals"
        units = " (percentage points)" if k.unit == "share" else ""
        caption = (f"{k.label}{units}: {tables.count(res.n, res.freq)} observed; season terms "
                   f"{res.seasonal}; {how}.")
        return shown, caption

    @cached_property
    def control_charts(self) -> list[ControlChart]:
        out = []
        for name in self.params.control_charts:
            s = self.points(name)
            base = (s["date"] < self.study.intervention).to_numpy()
            out.append(chart_for(s, base, name))
        return out

    def caveats(self) -> list[str]:
        """Pre-trend, fading effect, residual autocorrelation and regression to the mean."""
        out, alpha = [], self.params.alpha
        for name, res in self.its.items():
            k = kpi.CATALOGUE[name]
            show = effect_formatter(name)
            if res.model == "segmented":
                t = res.term("t")
                out.append(caveats.pre_trend(k.label, t.estimate, t.p_value, alpha, k.unit,
                                             res.term("post").estimate))
            if res.fading:
                end = res.end
                out.append(f"{k.label}: the interrupted time series' level change may be fading "
                           f"(the slope change runs against it); the effect at the last period "
                           f"is {show(end['estimate'])} (CI {show(end['ci_low'])} to "
                           f"{show(end['ci_high'])}). Details in the time-series section.")
            lb = res.ljung_box
            if lb.get("p_value", 1.0) < alpha:
                out.append(f"{k.label}, interrupted time series: Ljung–Box "
                           f"{tables.fmt_p(lb['p_value'])} — {lb['text']}")
            before = res.series[~res.series["post"]]["observed"]
            out.append(caveats.regression_to_mean(k.label, before, k.direction))
        return out

    def record(self, res) -> None:
        """Add the ITS effects and control-chart signals to a ``Results``."""
        for name, its in self.its.items():
            how = (f"segmented regression on calendar time, {its.errors} errors, t with "
                   f"{its.df:g} df" if its.model == "segmented" else
                   "structural model (local linear trend) fitted before, forecast after")
            label = kpi.CATALOGUE[name].label
            if its.model == "segmented":
                row = its.term("t")
                res.add(f"its.{name}.pre_trend", f"{label}: {row.label}", row.estimate,
                        ci=(row.ci_low, row.ci_high), statistic=row.t, statistic_name="t",
                        p_value=row.p_value, n=its.n, method=how)
            for row in its.effects().itertuples():
                res.add(f"its.{name}.{row.effect.replace(' ', '_')}", f"{label}: {row.label}",
                        row.estimate, ci=(row.ci_low, row.ci_high), statistic=row.statistic,
                        statistic_name="t" if row.df < float("inf") else "z",
                        p_value=row.p_value, n=its.n, method=how)
        for chart in self.control_charts:
            label = kpi.CATALOGUE[chart.kpi].label
            res.add(f"control.{chart.kpi}.signals", f"{label}: {chart.kind}-chart signals",
                    len(chart.signals), n=int((~chart.points["baseline"]).sum()),
                    method="limits from the before period")
