"""Display helpers for template notebooks: headings, escaped tables, provenance, figure alt text."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import pandas as pd
import yaml

from sqresearch.io import paths, provenance
from sqresearch.report import cell_errors, tables
from sqresearch.report.safe import SafeMarkdown, md_text


def quiet_user_errors() -> bool:
    """In a notebook (JupyterLab, papermill, ``sqr run``), a user error — bad params or bad
    data — is shown as its message, not as a traceback; bugs keep their traceback
    (``report/cell_errors.py``). Called when this module is imported; a no-op outside IPython."""
    return cell_errors.install()


def md(text: str, links: bool = False) -> None:
    """Show prose: Markdown rendered to escaped HTML by the report's one renderer
    (``report/safe.py``); pass plain strings, never pre-escaped ones."""
    from IPython.display import display

    display(SafeMarkdown(text, links))


def _html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def table(df: pd.DataFrame, caption: str = "") -> None:
    _html(tables.html(df, caption))


#: the report's figure style: screen resolution, text a little smaller than matplotlib's 10 pt
FIGURE_STYLE = {"figure.dpi": 96, "savefig.dpi": 96, "font.size": 9}


def header(params) -> None:
    """Title, description and the study's identity line; sets the figure style and turns on
    figure alt text."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(FIGURE_STYLE)
    enable_figure_alt()
    md(f"# {md_text(params.title)}")
    if params.description:
        md(params.description, links=True)  # http(s) links only (report/safe.py)
    md(f"*Study `{params.study_id}` · type {params.study_type} · "
       f"{100 * (1 - params.alpha):g} % intervals · seed {params.seed}*")


def data_quality(loaded) -> None:
    """Rows read, rows excluded and why, and what was done to personal data."""
    q = loaded.quality.rename(columns={"check": "Check", "column": "Column", "rows": "Rows",
                                       "action": "Action", "examples": "Where (first rows)"})
    table(q, f"Input {loaded.source.path}: {loaded.rows_read:,} rows read, "
             f"{loaded.rows_excluded:,} excluded.")
    from sqresearch.kpi import behaviour_segment, customers

    rules = customers.NOTE_PREFIXES + behaviour_segment.NOTE_PREFIXES
    for note in loaded.notes:
        if note.startswith(rules):  # the derived segments' rules and caveats
            md(f"- {md_text(note)}")
            continue
        md(f"- Personal data: {md_text(note)}; such columns are never shown in this report.")
    allowed = [(r["column"], r["reason"]) for r in getattr(loaded, "personal", [])
               if r["handling"] == "allowed"]
    if allowed:
        table(pd.DataFrame(allowed, columns=["Column", "Reason given by the study"]),
              "Columns that look personal, used as they are (data.allow_personal)")


# --- figure alt text ------------------------------------------------------------------------

def describe(fig, text: str):
    """Give a figure an explicit description (its alt text in the report); returns ``fig``."""
    fig._sqr_alt = text
    return fig


def figure_alt(fig) -> str:
    """A figure's alt text: its explicit description, else what its titles and axes say,
    e.g. 'Chart: First response time — X chart. Horizontal axis: period; vertical axis: minutes.'
    Empty when the figure carries no text at all (the report lint then flags it)."""
    explicit = getattr(fig, "_sqr_alt", "")
    if explicit:
        return explicit
    parts = []
    sup = fig._suptitle.get_text().strip() if getattr(fig, "_suptitle", None) else ""
    for ax in fig.get_axes():
        if not ax.get_visible() or not ax.axison:
            continue
        title = " ".join(t for t in (ax.get_title(loc) for loc in ("left", "center", "right"))
                         if t.strip())
        axes = [f"{name} axis: {label}" for name, label in
                (("horizontal", ax.get_xlabel().strip()), ("vertical", ax.get_ylabel().strip()))
                if label]
        text = "; ".join(axes)
        if title or text:
            parts.append(f"{title}. {text[0].upper() + text[1:]}" if title and text else
                         title or text[0].upper() + text[1:])
    if not (sup or parts):
        return ""
    body = ". ".join(p.rstrip(".") for p in ([sup] if sup else []) + _dedupe(parts))
    return f"Chart: {body}."


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _alt_bundle(fig):
    alt = figure_alt(fig)
    return {}, ({"image/png": {"alt": alt}} if alt else {})


def enable_figure_alt() -> bool:
    """Attach alt text to every matplotlib figure this kernel displays (output metadata
    ``{'image/png': {'alt': …}}``, which the report template writes into ``<img alt>``).
    The PNG itself is still made by the inline backend; a no-op outside IPython."""
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.mimebundle_formatter.for_type(Figure, _alt_bundle)
    return True


# --- reproducibility --------------------------------------------------------------------------

def reproducibility(params, inputs) -> None:
    """How to reproduce the report (commands, commit, input hashes), the package versions and
    the params as a compact table, the full YAML folded away."""
    env = provenance.environment()
    git = env["git"]
    commit = git["commit"][:12] if git["commit"] else "unknown"
    dirty = " (with uncommitted changes)" if git["dirty"] else ""
    _html(reproduce_box(params, commit + dirty))
    md(f"Produced {dt.date.today():%d %b %Y} with sqresearch {env['packages']['sqresearch']}, "
       f"Python {env['python']}, git commit `{commit}`{dirty}.")
    names = {"sha256": "SHA-256"}
    table(pd.DataFrame([i.as_dict() for i in inputs]).rename(
        columns=lambda c: names.get(c, c.replace("_", " ").capitalize())),
          "Input files (SHA-256 of the bytes read)")
    pk = pd.DataFrame(sorted(env["packages"].items()), columns=["Package", "Version"])
    table(pk, "Package versions")
    _html(params_html(params.model_dump(mode="json")))


def params_file(study_id: str, folder: Path | None = None) -> str:
    """The params file in the project's ``params/`` whose ``study_id`` is this study's."""
    folder = folder or paths.project_root() / "params"
    for f in sorted(folder.glob("*.y*ml")):
        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("study_id") == study_id:
            return f"params/{f.name}"
    return f"params/{study_id}.yaml"


def reproduce_box(params, commit: str) -> str:
    """The 'How to reproduce' box: the sqr command and its plain papermill equivalent."""
    yml = params_file(params.study_id)
    sqr = f"sqr run {yml}"
    pm = (f"papermill notebooks/{params.study_type}.ipynb "
          f"{params.study_id}.ipynb -f {yml} -k sqresearch")
    return (
        '<div class="sqr-reproduce"><strong>How to reproduce</strong>'
        "<p>From the project folder, at git commit "
        f"<code>{escape(commit)}</code>, with the input files whose SHA-256 is listed below:</p>"
        f"<pre><code>{escape(sqr)}</code></pre>"
        "<p>or, with plain papermill (the executed notebook, without the HTML export):</p>"
        f"<pre><code>{escape(pm)}</code></pre></div>")


def flatten_params(mapping, prefix: str = "") -> list[tuple[str, str]]:
    """Nested params as compact (key, readable value) rows: nested keys dotted, a mapping of
    plain values on one row ('created: opened_ts · resolved: solved_ts'), each item of a list of
    mappings on its own numbered row, lists of plain values joined with commas, unset values
    left out (the YAML keeps them), no Python reprs."""
    rows: list[tuple[str, str]] = []
    items = mapping.items() if isinstance(mapping, dict) else enumerate(mapping, start=1)
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if _unset(value):
            continue
        if isinstance(value, dict) and _flat(value):
            rows.append((name, " · ".join(f"{k}: {param_value(v)}" for k, v in value.items()
                                          if not _unset(v))))
        elif isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
            rows += flatten_params(value, name)
        else:
            rows.append((name, param_value(value)))
    return rows


def _unset(value) -> bool:
    return value is None or value == {} or value == []


def _flat(mapping: dict) -> bool:
    return all(not isinstance(v, dict | list) or
               (isinstance(v, list) and not any(isinstance(x, dict | list) for x in v))
               for v in mapping.values())


def param_value(value) -> str:
    """One params value as YAML would read: '—' for unset, 'true', '0.05', 'chat, email'."""
    if value is None or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".12g")
    if isinstance(value, list):
        return ", ".join(param_value(v) for v in value)
    return str(value)


def params_html(mapping: dict) -> str:
    """The params as a key → value table, and the full YAML in a collapsed <details>."""
    rows = pd.DataFrame(flatten_params(mapping), columns=["Parameter", "Value"])
    caption = "Parameters of this run (unset ones left out; all of them in the YAML below)"
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=96)
    return (tables.html(rows, caption, classes="sqr-params")
            + '<details class="sqr-params-yaml"><summary>Parameters as YAML</summary>'
            f"<pre><code>{escape(text)}</code></pre></details>")


quiet_user_errors()
