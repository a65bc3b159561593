"""Everything the scorecard report shows, as results.json entries (docs/results-schema.md,
"Scorecard keys")."""

from __future__ import annotations

from sqresearch.kpi.targets import verdict_word
from sqresearch.report.results import Results

_SIGNAL = "beyond 3-sigma limits or a run of 8 on one side, after the baseline"


def results(study) -> Results:
    p = study.params
    res = Results.for_study(p, study.table, study.summary_lines(), study.inputs[1:])
    res.add_kpis(study.overall)
    res.add_kpis(study.by_period)
    for t in study.by_segment.values():
        res.add_kpis(t)
    _targets(res, study)
    _control(res, study)
    _pareto(res, study)
    if study.index is not None:
        _index(res, study)
    t = study.targets[study.targets["group_by"] == "all"]
    res.headline = (f"{(t['status'] == 'met').sum()} of {len(t)} targets met"
                    if len(t) else f"{study.tickets.n:,} contacts scored")
    return res


def _targets(res: Results, study) -> None:
    for r in study.targets.itertuples():
        grp = "" if r.group_by == "all" else f".{r.group_by}={r.group}"
        res.add(f"target.{r.kpi}{r.op}{r.value:g}{grp}", r.target, r.estimate,
                ci=(r.ci_low, r.ci_high), n=r.n, unit=r.unit, method=f"target {r.op} {r.value:g}",
                verdict=verdict_word(r.status, r.certainty),
                group={} if r.group_by == "all" else {r.group_by: r.group})


def _control(res: Results, study) -> None:
    for c in study.control_charts:
        name, unit, pts = study.label(c.kpi), study.unit(c.kpi), c.points
        base = pts[pts["baseline"]]
        res.add(f"control.{c.kpi}.signals", f"{name}: {c.kind}-chart signals", len(c.signals),
                n=int((~pts["baseline"]).sum()), unit="chart points", method=_SIGNAL)
        res.add(f"control.{c.kpi}.centre", f"{name}: centre line (baseline)",
                base["centre"].iloc[0], n=len(base), unit=unit,
                method=f"{c.kind} chart, baseline {study.params.series_freq}s")
        if c.kind == "XmR":  # constant limits; a p-chart's move with n and are given per signal
            for side in ("lcl", "ucl"):
                res.add(f"control.{c.kpi}.{side}", f"{name}: {side.upper()}", pts[side].iloc[0],
                        unit=unit, method="centre ± 2.66 × mean moving range of the baseline")
        for r in c.signals.itertuples():
            day = f"{r.date:%Y-%m-%d}"
            res.add(f"control.{c.kpi}.signal.date={day}", f"{name}: signal on {day}", r.value,
                    ci=(r.lcl, r.ucl), ci_level=0.9973, unit=unit,
                    method="value with the control limits as ci_low/ci_high; "
                    + ("beyond a limit" if r.beyond else "run of 8 on one side"),
                    group={"date": day})


def _pareto(res: Results, study) -> None:
    p = study.pareto
    if p is None or p.empty:
        return
    col, total = study.params.pareto, int(p["count"].sum())
    for r in p.itertuples():
        g = {col: r.category}
        res.add(f"pareto.count.{col}={r.category}", f"Count: {r.category}", r.count, n=total,
                unit="contacts", method="count, largest first", group=g)
        res.add(f"pareto.share.{col}={r.category}", f"Share: {r.category}", r.share, n=total,
                unit="share", method="count / total", group=g)
        res.add(f"pareto.cumulative_share.{col}={r.category}", f"Cumulative share: {r.category}",
                r.cumulative_share, n=total, unit="share", method="running sum of shares",
                group=g)


def _index(res: Results, study) -> None:
    rep, by = study.index, study.index.unit_name
    unc = rep.uncertainty
    method, boot = f"{rep.index.method} weights; 100 × Σ w·min-max score", ""
    if unc is not None:
        rows = unc.intervals().set_index("unit")
        boot = f"; percentile bootstrap of tickets within units, {unc.resamples} resamples, " \
               "weights fixed"
        res.add("index.bootstrap.resamples", "Bootstrap resamples used", unc.resamples,
                method=f"seed {study.params.seed}; resamples where a unit lacks a value dropped")
    for r in rep.index.scores.itertuples():
        u = str(r.unit)
        ci = (rows.loc[u, "index_low"], rows.loc[u, "index_high"]) if unc else (None, None)
        res.add(f"index.{by}={u}", f"Composite index: {u}", r.index, ci=ci, unit="index 0-100",
                method=method + (boot if unc else ""), group={by: u})
        rci = (rows.loc[u, "rank_low"], rows.loc[u, "rank_high"]) if unc else (None, None)
        res.add(f"index.rank.{by}={u}", f"Rank: {u}", r.rank, ci=rci, unit="rank",
                method="1 = best" + (boot if unc else ""), group={by: u})
    if rep.spec.table is not None:
        for u, row in rep.values.iterrows():
            for k, v in row.items():
                res.add(f"index.value.{k}.{by}={u}", f"{study.label(k)}: {u}", v,
                        unit=study.unit(k), method=f"from {rep.spec.table}", group={by: str(u)})
    if unc is not None:
        for r in unc.neighbours().itertuples():
            res.add(f"index.difference.{by}={r.higher}|{r.lower}",
                    f"Index difference {r.higher} − {r.lower}", r.difference,
                    ci=(r.diff_low, r.diff_high), unit="index 0-100", method=boot.lstrip("; "),
                    verdict="distinguishable" if r.distinguishable else "not distinguishable",
                    group={by: f"{r.higher}|{r.lower}"})
    for r in rep.index.weights.itertuples():
        res.add(f"weight.{r.indicator}", f"Weight of {study.label(r.indicator)}", r.weight,
                method=rep.index.method)
    if rep.index.ahp is not None:
        a = rep.index.ahp
        res.add("ahp.lambda_max", "AHP principal eigenvalue λmax", a.lambda_max, n=a.n,
                method="principal eigenvalue of the pairwise comparison matrix")
        res.add("ahp.consistency_index", "AHP consistency index", a.ci, n=a.n,
                method="CI = (λmax − n)/(n − 1)")
        res.add("ahp.consistency_ratio", "AHP consistency ratio", a.cr, n=a.n,
                method="CI/RI with Saaty's RI", verdict="consistent" if a.consistent
                else "inconsistent")
