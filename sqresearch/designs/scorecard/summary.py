"""The scorecard's plain-language summary: what was measured, what met its target, what did
not, where the process left its baseline, and how the units compare."""

from __future__ import annotations

from sqresearch.designs.scorecard.present import level
from sqresearch.report import tables


def lines(study) -> list[str]:
    p, (start, end) = study.params, study.window
    cut = f"{study.ctx.data_cut:%d %b %Y %H:%M}"
    by = f" and by {', '.join(p.segments)}" if p.segments else ""
    out = [f"**What was measured.** {study.tickets.n:,} contacts created "
           f"{start:%d %b %Y} – {end:%d %b %Y} (data cut {cut}), by {p.periods}{by}."]
    out += _targets(study)
    for chart in study.control_charts:
        sig, name = chart.signals, study.label(chart.kpi)
        if len(sig):
            side = "above" if (sig["value"] > sig["centre"]).mean() >= 0.5 else "below"
            out.append(f"**{name}** left its baseline range: {tables.count(len(sig), 'signal')} "
                       f"after the baseline, the first on {sig['date'].min():%d %b %Y}, mostly "
                       f"{side} the centre line.")
        else:
            out.append(f"**{name}** stayed within its baseline control limits.")
    out += _index(study)
    excluded = study.table.rows_read - study.tickets.n
    if excluded:
        out.append(f"{excluded:,} of {study.table.rows_read:,} rows were excluded; the "
                   "data-quality section says why.")
    return out


def _targets(study) -> list[str]:
    t = study.targets[study.targets["group_by"] == "all"]
    if t.empty:
        return []
    met = t[t["status"] == "met"]
    out = [f"**Targets over the whole period: {len(met)} of {len(t)} met.**"]
    for r in t.itertuples():
        verdict = {"met": "met", "not met": "**not met**"}.get(r.status, r.status)
        sure = {"clear": f" (clearly: the whole {level(study)} CI is on that side)",
                "within CI": " (borderline: the CI contains the target)"}.get(r.certainty, "")
        value = tables.fmt_estimate(r.estimate, r.ci_low, r.ci_high, r.unit)
        out.append(f"- {r.target}: {value} against {tables.OPS[r.op]} "
                   f"{tables.fmt(r.value, r.unit)} — {verdict}{sure}.")
    per = study.targets[study.targets["group_by"] == "period"]
    worst = per[per["status"] == "not met"].groupby("target", sort=False).size()
    for target, k in worst.items():
        n_periods = int((per["target"] == target).sum())
        out.append(f"- {target}: missed in {k} of {n_periods} {study.params.periods}s.")
    return out


def _index(study) -> list[str]:
    rep = study.index
    if rep is None:
        return []
    unit = rep.unit_name
    s = rep.index.scores
    text = (f"**Composite index** ({rep.index.method} weights): best {unit} "
            f"{s['unit'].iloc[0]} ({s['index'].iloc[0]:.1f} of 100), lowest "
            f"{s['unit'].iloc[-1]} ({s['index'].iloc[-1]:.1f}).")
    if rep.uncertainty is not None:
        nb = rep.uncertainty.neighbours()
        close = int((~nb["distinguishable"]).sum())
        text += (f" Of {len(nb)} neighbouring pairs in the ranking, {close} cannot be told "
                 "apart by the bootstrap (see the index section).")
    out = [text]
    if rep.index.ahp is not None and not rep.index.ahp.consistent:
        out.append(f"The AHP judgements are **inconsistent** (CR = {rep.index.ahp.cr:.3f} > "
                   "0.10): revise them before relying on the weights.")
    return out
