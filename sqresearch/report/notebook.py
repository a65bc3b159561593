"""Display helpers for template notebooks: headings, escaped tables, provenance."""

from __future__ import annotations

import datetime as dt
import json
from html import escape

import pandas as pd

from sqresearch.io import provenance
from sqresearch.report import tables


def md(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def table(df: pd.DataFrame, caption: str = "") -> None:
    from IPython.display import HTML, display

    display(HTML(tables.html(df, caption)))


def header(params) -> None:
    """Title, description and the study's identity line."""
    lines = [f"# {escape(params.title)}"]
    if params.description:
        lines.append(escape(params.description))
    lines.append(f"*Study `{escape(params.study_id)}` · type {params.study_type} · "
                 f"{100 * (1 - params.alpha):g} % intervals · seed {params.seed}*")
    md("\n\n".join(lines))


def data_quality(loaded) -> None:
    """Rows read, rows excluded and why, and what was done to personal data."""
    q = loaded.quality.rename(columns={"check": "Check", "column": "Column", "rows": "Rows",
                                       "action": "Action", "examples": "Where (first rows)"})
    table(q, f"Input {loaded.source.path}: {loaded.rows_read:,} rows read, "
             f"{loaded.rows_excluded:,} excluded.")
    for note in loaded.notes:
        md(f"- Personal data: {escape(note)}; such columns are never shown in this report.")


def reproducibility(params, inputs) -> None:
    """What produced this report: params, input files, code and environment."""
    env = provenance.environment()
    git = env["git"]
    commit = git["commit"][:12] if git["commit"] else "unknown"
    dirty = " (with uncommitted changes)" if git["dirty"] else ""
    md(f"Produced {dt.date.today():%d %b %Y} with sqresearch {env['packages']['sqresearch']}, "
       f"Python {env['python']}, git commit `{commit}`{dirty}.")
    table(pd.DataFrame([i.as_dict() for i in inputs]).rename(columns=str.capitalize),
          "Input files (SHA-256 of the bytes read)")
    pk = pd.DataFrame(sorted(env["packages"].items()), columns=["Package", "Version"])
    table(pk, "Package versions")
    text = json.dumps(params.model_dump(mode="json"), indent=2, ensure_ascii=False)
    md("Parameters of this run:\n\n```json\n" + text + "\n```")
