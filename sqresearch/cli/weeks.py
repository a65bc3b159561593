"""Weekly studies (``study_type: monitor``) keep one report per week:
``outputs/<study>/<week>/`` with ``outputs/<study>/index.html`` and ``weeks.json`` listing the
weeks. ``sqr run … --week 2026-W47`` reruns a past week; with the same params and data it
reproduces that week's folder byte for byte (results.json, report.html, summary.md)."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from sqresearch.io.errors import ParamsError, Problem
from sqresearch.io.monitor_schema import ISO_WEEK

WEEK = re.compile(rf"^{ISO_WEEK}$")


def weekly(p) -> bool:
    return p.study_type == "monitor"


def override(p, week: str | None, source: str):
    """``p`` with the report week set by ``--week`` (a ParamsError for a bad label or a study
    that has no weeks)."""
    if week is None:
        return p
    if not weekly(p):
        raise ParamsError(source, Problem("option --week", f"study type {p.study_type!r} has "
                                          "no report week.", "use --week with monitor studies "
                                          "only."))
    if week != "latest" and not WEEK.match(week):
        raise ParamsError(source, Problem("option --week", f"{week[:40]!r} is not an ISO week.",
                                          "write it as 2026-W47, or latest."))
    return p.model_copy(update={"week": week})


def known_week(p) -> str | None:
    """The report week when the params alone fix it (a named week, or latest with a data
    cut); None when the data must be read first."""
    if p.week != "latest":
        return p.week
    if p.data_cut is None:
        return None
    from sqresearch.io.monitor_schema import latest_week

    return latest_week(p.data_cut)


def folder(p, out_root: Path) -> Path | None:
    """Where the study's report goes: ``outputs/<study>`` or ``outputs/<study>/<week>``
    (None when the week is not known before reading the data)."""
    if not weekly(p):
        return out_root / p.study_id
    week = known_week(p)
    return None if week is None else out_root / p.study_id / week


def weeks_of(study_folder: Path) -> list[dict]:
    """The weeks with a good report, oldest first: week, headline, started."""
    rows = []
    for d in sorted(study_folder.iterdir()) if study_folder.is_dir() else []:
        if WEEK.match(d.name) and (d / "manifest.json").is_file() and \
                (d / "results.json").is_file():
            res = json.loads((d / "results.json").read_text(encoding="utf-8"))
            man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            rows.append({"week": d.name, "headline": res.get("headline", ""),
                         "started": man.get("timings", {}).get("started", "")})
    return rows


def write_index(study_folder: Path, title: str) -> Path:
    """``weeks.json`` and ``index.html`` (no script, every value escaped) of a weekly study."""
    rows = weeks_of(study_folder)
    (study_folder / "weeks.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False),
                                             encoding="utf-8")
    items = "\n".join(
        f'<tr><td><a href="{escape(r["week"])}/report.html">{escape(r["week"])}</a></td>'
        f'<td>{escape(r["headline"])}</td><td><a href="{escape(r["week"])}/summary.md">'
        f'summary.md</a></td><td>{escape(r["started"][:16].replace("T", " "))} UTC</td></tr>'
        for r in reversed(rows))
    html = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>{escape(title)}: weekly reports</title><style>body{{font-family:sans-serif;"
            "margin:2em}td,th{padding:.3em .8em;text-align:left}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>One report per week, newest first.</p>"
            "<table><tr><th>week</th><th>headline</th><th>meeting summary</th><th>run</th>"
            f"</tr>{items}</table></body></html>\n")
    out = study_folder / "index.html"
    out.write_text(html, encoding="utf-8")
    return out


def latest_report(study_folder: Path) -> Path | None:
    """The newest week's folder of a weekly study (for outputs/index.html)."""
    rows = weeks_of(study_folder)
    return study_folder / rows[-1]["week"] if rows else None
