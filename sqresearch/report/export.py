"""Executed notebook -> self-contained HTML report, and the index of all studies.

Reports hide code, embed figures (PNG data URIs), carry a table of contents and load nothing from
the internet: the ``sqreport`` template drops the lab template's CDN scripts.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from pathlib import Path

from sqresearch.report.safe import markdown_html

TEMPLATES = Path(__file__).parent / "templates"
#: what a report may load: nothing but its own inline styles and embedded (data:) images and
#: fonts — no script of any kind runs, nothing is fetched, forms and <base> are inert
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
HIDDEN_TAGS = {"parameters", "injected-parameters", "sqr-setup", "sqr-results"}
_HEADING = re.compile(r"<h([23])([^>]*)>(.*?)</h\1>", re.S)


def _exporter(show_code: bool):
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set() if show_code else HIDDEN_TAGS
    c.HTMLExporter.exclude_input = not show_code
    c.HTMLExporter.exclude_input_prompt = not show_code
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.template_name = "sqreport"
    return HTMLExporter(config=c)


def to_html(nb, title: str, show_code: bool = False) -> str:
    """Render an executed notebook. Reports drop stderr (warnings are written out by the template
    where they matter); ``show_code`` keeps code and all cells, for FAILED.html."""
    import nbformat  # imported here: its schema validation costs a second at start-up

    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.get("outputs"):
            if not show_code:
                cell.outputs = [o for o in cell.outputs
                                if not (o.get("output_type") == "stream" and o.get("name") ==
                                        "stderr")]
            for o in cell.outputs:
                _through_safe_renderer(o)
    nb.metadata["title"] = title
    body, _ = _exporter(show_code).from_notebook_node(nb, resources={"sqr_csp": CSP})
    return add_toc(body)


#: output types a report never carries: script runs nowhere (the CSP forbids it anyway)
_DROPPED = ("application/javascript", "text/javascript", "application/vnd.jupyter.widget-view+json")


def _through_safe_renderer(output) -> None:
    """Markdown outputs that did not come through ``report/safe.py`` (a researcher's own
    ``display(Markdown(…))``) are rendered by it too, so that whatever a cell shows, prose reaches
    the report escaped; script outputs are dropped."""
    data = output.get("data")
    if not data:
        return
    for kind in _DROPPED:
        data.pop(kind, None)
    if "text/markdown" in data:
        text = data.pop("text/markdown")
        data["text/html"] = markdown_html("".join(text) if isinstance(text, list) else text)


def add_toc(html: str) -> str:
    """Give every h2/h3 an id and put a linked table of contents after the title block."""
    entries: list[tuple[str, str, str]] = []
    used: set[str] = set()

    def visit(m: re.Match) -> str:
        level, attrs, inner = m.groups()
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.S)
        text = re.sub(r"<[^>]+>", "", text).strip()
        found = re.search(r'id="([^"]+)"', attrs)
        ident = found.group(1) if found else re.sub(r"[^\w-]+", "-", text).strip("-") or "section"
        base, k = ident, 2
        while ident in used:
            ident, k = f"{base}-{k}", k + 1
        used.add(ident)
        entries.append((level, ident, text))
        attrs = re.sub(r'\s*id="[^"]*"', "", attrs)
        return f'<h{level} id="{ident}"{attrs}>{inner}</h{level}>'

    html = _HEADING.sub(visit, html)
    if not entries:
        return html
    items, open_sub = "", False
    for level, ident, text in entries:  # h3 entries nest under the h2 before them
        link = f'<a href="#{ident}">{text}</a>'
        if level == "3":
            items += ("" if open_sub else "<ol>") + f'<li class="sqr-toc-h3">{link}</li>'
            open_sub = True
        else:
            items += ("</ol></li>" if open_sub else ("</li>" if items else "")) + \
                f'<li class="sqr-toc-h2">{link}'
            open_sub = False
    items += "</ol></li>" if open_sub else "</li>"
    nav = (f'<nav class="sqr-toc" aria-label="Contents"><strong>Contents</strong>'
           f"<ol>{items}</ol></nav>")
    return _after_title(html, nav)


_CELL = re.compile(r'<div\s[^>]*class="(?:[^"]*\s)?jp-Cell(?=[\s"])')


def _after_title(html: str, nav: str) -> str:
    """Put ``nav`` right after the cell holding the report's title (its first h1), so the title
    block comes first; without a title, at the top of <main> (or <body>)."""
    title = re.search(r"<h1[\s>]", html)
    if title:
        nxt = _CELL.search(html, title.end())
        if nxt:
            return html[:nxt.start()] + nav + html[nxt.start():]
    if "<main>" in html:
        return html.replace("<main>", "<main>" + nav, 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, html, count=1)


def write_index(out_root: Path, rows: list[dict]) -> Path:
    """outputs/index.html: every study with type, status, headline, date and links."""
    body = []
    for r in rows:
        links = []
        if r.get("report"):
            links.append(f'<a href="{escape(r["report"])}">report</a>')
        if r.get("failed"):
            links.append(f'<a href="{escape(r["failed"])}">FAILED.html</a>')
        status = escape(r["status"])
        colour = {"ok": "#1a7f37", "failed": "#cf222e", "invalid": "#9a6700"}.get(r["status"],
                                                                                 "#57606a")
        message = f'<div class="msg">{escape(r["message"])}</div>' if r.get("message") else ""
        body.append(
            f"<tr><td><code>{escape(r['study'])}</code><br><small>{escape(r['params'])}"
            f"</small></td><td>{escape(r.get('title', ''))}</td><td>{escape(r.get('type', ''))}"
            f'</td><td style="color:{colour};font-weight:600">{status}{message}</td>'
            f"<td>{escape(r.get('headline', ''))}</td><td>{escape(r.get('date', ''))}</td>"
            f"<td>{' · '.join(links)}</td></tr>")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{CSP_META}<title>sqresearch studies</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 75rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9rem; }}
th, td {{ text-align: left; padding: 0.45rem 0.6rem; border-bottom: 1px solid #d0d7de;
          vertical-align: top; }}
th {{ border-bottom: 2px solid #57606a; }}
.msg {{ font-weight: normal; color: #57606a; white-space: pre-wrap; font-size: 0.8rem;
        max-width: 28rem; }}
</style></head><body>
<h1>Service-quality studies</h1>
<p>{len(rows)} studies · index written {now}</p>
<table><thead><tr><th>Study</th><th>Title</th><th>Type</th><th>Status</th><th>Headline</th>
<th>Last good run</th><th>Files</th></tr></thead><tbody>
{''.join(body)}
</tbody></table></body></html>
"""
    path = out_root / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
