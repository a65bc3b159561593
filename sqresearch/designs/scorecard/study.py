"""The service-level scorecard study: KPIs per period and segment against SLA targets.

``load`` reads and checks the data (the runner calls it before any kernel starts);
``Scorecard`` computes everything the template shows and records it in :class:`Results`.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from sqresearch import kpi
from sqresearch.io import params as params_mod
from sqresearch.io.data import LoadedTable, load_table
from sqresearch.io.errors import DataError, Problem
from sqresearch.io.schemas import REQUIRED_TICKET_ROLES, ScorecardParams
from sqresearch.kpi.targets import judge_table, verdict_word
from sqresearch.report import tables
from sqresearch.report.results import Results
from sqresearch.stats.control import ControlChart, chart_for
from sqresearch.stats.weights import CompositeIndex, composite_index

STUDY_TYPE = "scorecard"


def _referenced_kpis(p: ScorecardParams) -> list[tuple[str, str]]:
    refs = [(f"targets[{i}].kpi", t.kpi) for i, t in enumerate(p.targets)]
    refs += [(f"control_charts[{i}]", k) for i, k in enumerate(p.control_charts)]
    if p.index:
        refs += [(f"index.indicators[{i}].kpi", x.kpi) for i, x in enumerate(p.index.indicators)]
    return refs


def load(p: ScorecardParams, source: str) -> LoadedTable:
    """Read and validate the ticket table; check every KPI the params use can be computed."""
    pareto_col = p.pareto if p.pareto and p.pareto not in kpi.ROLE_NAMES else None
    keep = tuple(dict.fromkeys([*p.segments, *([pareto_col] if pareto_col else [])]))
    table = load_table(p.data, kpi.ticket_roles(p), REQUIRED_TICKET_ROLES, keep,
                       (kpi.ticket_checks,), source)
    frame = table.frame
    problems = []
    ctx = kpi.context_for(p, frame)
    available = {k.name for k in ctx.available(frame)}
    for where, name in _referenced_kpis(p):
        if name not in available:
            k = kpi.CATALOGUE.get(name) or next(kpi.sla_kpi(s) for s in p.sla
                                                if f"sla_{s.name}" == name)
            needs = kpi.fcr_needs(p.fcr.method) if name == "fcr" else k.needs
            missing = [r for r in needs if r not in frame]
            problems.append(Problem(f"key '{where}'", f"KPI {name!r} needs column role(s) "
                                    f"{missing}, not found in {p.data.path}.",
                                    "map them in data.columns (role: column in your file), or "
                                    "drop the KPI."))
    if p.pareto and p.pareto in kpi.ROLE_NAMES and p.pareto not in frame:
        problems.append(Problem("key 'pareto'", f"role {p.pareto!r} has no column.",
                                "map it in data.columns."))
    if p.index and p.index.by != "period" and p.index.by not in p.segments:
        problems.append(Problem("key 'index.by'", f"{p.index.by!r} is not 'period' or a segment.",
                                f"use 'period' or one of the segments {p.segments}."))
    if p.baseline is not None:
        days = frame["created"].dt.date
        inside = days.between(p.baseline.start, p.baseline.end).sum()
        if inside == 0:
            problems.append(Problem("key 'baseline'", f"no tickets were created between "
                                    f"{p.baseline.start} and {p.baseline.end}.",
                                    "choose a window inside the data."))
    if len(frame) == 0:
        problems.append(Problem(p.data.path, "no rows are left to analyse.",
                                "check the file and the exclusions listed in the data-quality "
                                "table."))
    if problems:
        raise DataError(source, problems)
    return table


class Scorecard:
    """Everything the scorecard template shows, computed once."""

    def __init__(self, params: ScorecardParams, source: str = "notebook parameters"):
        self.params = p = params
        self.source = source
        self.table = load(p, source)
        self.frame, self.ctx = kpi.prepare_table(p, self.table)
        self.frame["period"] = kpi.period_labels(self.frame["created"], p.periods)

    @classmethod
    def from_notebook(cls, namespace: dict, names: set[str]) -> Scorecard:
        """Validate the notebook's parameters and compute.

        ``names`` are the names the parameters cell and papermill's injected cell defined; any
        that is not a declared parameter is rejected.
        """
        return cls(params_mod.from_notebook(namespace, STUDY_TYPE, names))

    # --- KPIs ------------------------------------------------------------------------------
    def label(self, name: str) -> str:
        if name in self.params.labels:
            return self.params.labels[name]
        k = kpi.CATALOGUE.get(name)
        return k.label if k else next(kpi.sla_kpi(s).label for s in self.params.sla
                                      if f"sla_{s.name}" == name)

    @cached_property
    def overall(self) -> pd.DataFrame:
        return self._relabel(kpi.kpi_table(self.frame, self.ctx))

    @cached_property
    def by_period(self) -> pd.DataFrame:
        return self._relabel(kpi.kpi_table(self.frame, self.ctx, by="period"))

    @cached_property
    def by_segment(self) -> dict[str, pd.DataFrame]:
        return {s: self._relabel(kpi.kpi_table(self.frame, self.ctx, by=s))
                for s in self.params.segments}

    def _relabel(self, t: pd.DataFrame) -> pd.DataFrame:
        return t.assign(label=[self.label(k) for k in t["kpi"]])

    @cached_property
    def targets(self) -> pd.DataFrame:
        """Targets judged over the whole window and per period."""
        both = pd.concat([self.overall, self.by_period], ignore_index=True)
        return judge_table(both, self.params.targets)

    # --- charts --------------------------------------------------------------------------------
    @cached_property
    def series(self) -> pd.DataFrame:
        wanted = set(self.params.control_charts) | {"contacts"}
        return self._relabel(kpi.series(self.frame, self.ctx, self.params.series_freq, wanted))

    @cached_property
    def control_charts(self) -> list[ControlChart]:
        out = []
        b = self.params.baseline
        for name in self.params.control_charts:
            s = self.series[self.series["kpi"] == name].sort_values("date")
            s = s[s["n"] > 0]
            # a point belongs to the baseline when its day or week ends inside the window
            span = pd.Timedelta(days=6 if self.params.series_freq == "week" else 0)
            base = (s["date"] + span).dt.date.between(b.start, b.end).to_numpy()
            if base.sum() < 2:
                raise DataError(self.source, Problem(
                    "key 'baseline'", f"holds {int(base.sum())} {self.params.series_freq}(s) "
                    f"with data for {name!r}; control limits need at least two.",
                    "widen the baseline window or use series_freq: day."))
            out.append(chart_for(s, base, name))
        return out

    @cached_property
    def pareto(self) -> pd.DataFrame | None:
        """Counts per category, largest first, with shares and the cumulative share."""
        col = self.params.pareto
        if not col:
            return None
        df = self.frame
        if self.params.pareto_complaints_only and "complaint" in df:
            df = df[df["complaint"] == 1]
        counts = df[col].replace("", pd.NA).dropna().value_counts()
        counts = counts.sort_index().sort_values(ascending=False, kind="mergesort")
        out = counts.rename_axis("category").reset_index(name="count")
        out["share"] = out["count"] / out["count"].sum()
        out["cumulative_share"] = out["share"].cumsum()
        return out

    @cached_property
    def index(self) -> CompositeIndex | None:
        spec = self.params.index
        if spec is None:
            return None
        table = self.by_period if spec.by == "period" else self.by_segment[spec.by]
        names = [i.kpi for i in spec.indicators]
        values = table[table["kpi"].isin(names)].pivot(index="group", columns="kpi",
                                                       values="estimate")[names]
        gaps = [f"{u}/{k}" for u in values.index for k in names if pd.isna(values.loc[u, k])]
        if gaps or len(values) < 2:
            what = (f"has no value for {', '.join(gaps[:6])}" if gaps else
                    f"has {len(values)} unit(s); an index compares at least two")
            raise DataError(self.source, Problem(
                "key 'index'", f"the index by {spec.by!r} {what}.",
                "choose indicators every unit has data for, or another 'by'."))
        return composite_index(values, {i.kpi: i.direction for i in spec.indicators},
                               spec.weights.method, spec.weights.values, spec.weights.matrix)

    # --- words -------------------------------------------------------------------------------
    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.frame["created"].min(), self.frame["created"].max()

    def summary_lines(self) -> list[str]:
        """The plain-language summary: what was measured, what met its target, what did not."""
        p, (start, end) = self.params, self.window
        cut = f"{self.ctx.data_cut:%d %b %Y %H:%M}"
        by = f" and by {', '.join(p.segments)}" if p.segments else ""
        lines = [f"**What was measured.** {len(self.frame):,} contacts created "
                 f"{start:%d %b %Y} – {end:%d %b %Y} (data cut {cut}), by {p.periods}{by}."]
        t = self.targets[self.targets["group_by"] == "all"]
        if len(t):
            met = t[t["status"] == "met"]
            lines.append(f"**Targets over the whole period: {len(met)} of {len(t)} met.**")
            for r in t.itertuples():
                verdict = {"met": "met", "not met": "**not met**"}.get(r.status, r.status)
                sure = {"clear": " (clearly: the whole 95 % CI is on that side)",
                        "within CI": " (borderline: the CI contains the target)"}.get(
                    r.certainty, "")
                value = tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)
                lines.append(f"- {r.target}: {value} against {tables.OPS[r.op]} "
                             f"{tables.fmt(r.value, r.unit)} — {verdict}{sure}.")
            per = self.targets[self.targets["group_by"] == "period"]
            if len(per):
                worst = per[per["status"] == "not met"].groupby("target").size()
                for target, k in worst.items():
                    n_periods = per[per["target"] == target].shape[0]
                    lines.append(f"- {target}: missed in {k} of {n_periods} {p.periods}s.")
        for chart in self.control_charts:
            sig = chart.signals
            name = self.label(chart.kpi)
            if len(sig):
                first = sig["date"].min()
                side = "above" if (sig["value"] > sig["centre"]).mean() >= 0.5 else "below"
                lines.append(f"**{name}** left its baseline range: {len(sig)} signal(s) after "
                             f"the baseline, the first on {first:%d %b %Y}, mostly {side} the "
                             "centre line.")
            else:
                lines.append(f"**{name}** stayed within its baseline control limits.")
        if self.index is not None:
            s = self.index.scores
            lines.append(f"**Composite index** ({self.index.method}): best {p.index.by} "
                         f"{s['unit'].iloc[0]} ({s['index'].iloc[0]:.0f}/100), lowest "
                         f"{s['unit'].iloc[-1]} ({s['index'].iloc[-1]:.0f}/100).")
            if self.index.ahp is not None and not self.index.ahp.consistent:
                lines.append(f"The AHP judgements are **inconsistent** (CR = "
                             f"{self.index.ahp.cr:.3f} > 0.10): revise them before relying on "
                             "the weights.")
        excluded = self.table.rows_read - len(self.frame)
        if excluded:
            lines.append(f"{excluded:,} of {self.table.rows_read:,} rows were excluded; the "
                         "data-quality section says why.")
        return lines

    def definitions(self) -> pd.DataFrame:
        """Every KPI definition the report used, plus the study's conventions."""
        kp = self.ctx.available(self.frame)
        rows = [{"KPI": self.label(k.name), "definition": k.definition} for k in kp]
        fcr = {"flag": "agent flag in the ticket", "survey": "customer survey answer",
               "repeat_contact": f"resolved with no new ticket from the same customer within "
                                 f"{self.params.fcr.repeat_window_days} days of the resolution"}
        rows.append({"KPI": "FCR convention", "definition": fcr[self.params.fcr.method]})
        rows.append({"KPI": "Business hours", "definition": self.ctx.schedule.describe() +
                     "; local naive timestamps, no pause states"})
        rows.append({"KPI": "Intervals", "definition": f"{100 * (1 - self.params.alpha):g} % "
                     "confidence intervals; quantiles are R type 7"})
        return pd.DataFrame(rows)

    # --- record ------------------------------------------------------------------------------
    def results(self) -> Results:
        p = self.params
        res = Results.for_study(p, self.table, self.summary_lines())
        res.add_kpis(self.overall)
        res.add_kpis(self.by_period)
        for t in self.by_segment.values():
            res.add_kpis(t)
        for r in self.targets.itertuples():
            grp = "" if r.group_by == "all" else f".{r.group_by}={r.group}"
            res.add(f"target.{r.kpi}{r.op}{r.value:g}{grp}", r.target, r.estimate,
                    ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit,
                    method=f"target {r.op} {r.value:g}",
                    verdict=verdict_word(r.status, r.certainty),
                    group={} if r.group_by == "all" else {r.group_by: r.group})
        for c in self.control_charts:
            res.add(f"control.{c.kpi}.signals", f"{self.label(c.kpi)}: {c.kind}-chart signals",
                    len(c.signals), n=int((~c.points["baseline"]).sum()), unit="points",
                    method="beyond 3-sigma limits or a run of 8 on one side, after the baseline")
        if self.index is not None:
            for r in self.index.scores.itertuples():
                res.add(f"index.{p.index.by}={r.unit}", f"Composite index: {r.unit}", r.index,
                        unit="index 0-100", method=f"{self.index.method} weights",
                        group={p.index.by: r.unit})
            for r in self.index.weights.itertuples():
                res.add(f"weight.{r.indicator}", f"Weight of {r.indicator}", r.weight,
                        method=self.index.method)
            if self.index.ahp is not None:
                a = self.index.ahp
                res.add("ahp.consistency_ratio", "AHP consistency ratio", a.cr,
                        method="CI/RI with Saaty's RI", verdict="consistent" if a.consistent
                        else "inconsistent")
        t = self.targets[self.targets["group_by"] == "all"]
        res.headline = (f"{(t['status'] == 'met').sum()} of {len(t)} targets met"
                        if len(t) else f"{len(self.frame):,} contacts scored")
        return res
