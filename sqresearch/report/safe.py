"""The one place where text becomes report HTML.

Everything the kernel writes as prose (summaries, notes, captions made of data values, the title
and description from params) is Markdown rendered here: raw HTML in it is shown as text, images
are never loaded, and links are kept only where the caller allows them and only for http(s)
addresses and in-page anchors. Callers pass plain strings — they never escape themselves, so
nothing is escaped twice and nothing is forgotten. ``report/export.py`` sends any Markdown
output that did not come through here (a researcher's own ``display(Markdown(…))``) through the
same renderer before it reaches report.html."""

from __future__ import annotations

import re
from html import escape

import mistune

#: link targets a report may carry: web addresses and in-page anchors
_SAFE_URL = re.compile(r"^(https?://[^\s<>\"'`]+|#[^\s<>\"'`]*)$", re.I)
#: Markdown's backslash-escapable punctuation (CommonMark: any ASCII punctuation)
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~&\"'=:])")


def safe_url(url: str) -> bool:
    """True for http(s) addresses and in-page anchors; everything else (javascript:, data:,
    file:, relative paths, protocol-relative //host) is refused."""
    return bool(_SAFE_URL.match(url.strip()))


class _Renderer(mistune.HTMLRenderer):
    def __init__(self, links: bool):
        super().__init__(escape=True)
        self._links = links

    def link(self, text: str, url: str, title: str | None = None) -> str:
        if self._links and safe_url(url):
            return (f'<a href="{escape(url.strip(), quote=True)}" rel="noopener noreferrer">'
                    f"{text}</a>")
        return text  # the link's words stay, the target is dropped

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return escape(text)  # a report never fetches an image a text points to


_RENDERERS = {links: mistune.create_markdown(renderer=_Renderer(links),
                                             plugins=["strikethrough"])
              for links in (False, True)}


def markdown_html(text: str, links: bool = False) -> str:
    """Markdown → HTML with every HTML character escaped; links only when ``links`` and safe."""
    return _RENDERERS[links](str(text))


def md_text(value) -> str:
    """A value (from data or params) placed inside Markdown so that it reads literally: its
    punctuation cannot start emphasis, a heading, a list or a link."""
    return _MD_PUNCT.sub(r"\\\1", str(value))


class SafeMarkdown:
    """Markdown shown in a notebook and in the report as escaped HTML."""

    def __init__(self, text: str, links: bool = False):
        self.text, self.links = str(text), links

    def _repr_html_(self) -> str:
        return markdown_html(self.text, self.links)

    def __repr__(self) -> str:
        return self.text
