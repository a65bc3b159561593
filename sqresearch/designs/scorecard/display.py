"""Small display objects the scorecard's presentation methods return: a captioned table, a
figure with alt text, and a bundle of both. Each renders itself as HTML in the notebook."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from html import escape

import pandas as pd

from sqresearch.report import tables
from sqresearch.report.safe import markdown_html


@dataclass
class Table:
    """A formatted table (text cells, units in the cells or headers) with its caption."""

    frame: pd.DataFrame
    caption: str = ""

    def _repr_html_(self) -> str:
        return tables.html(self.frame, self.caption)


@dataclass
class Text:
    """A paragraph (or list) of Markdown, rendered to escaped HTML (raw HTML is shown as text)."""

    text: str

    def _repr_html_(self) -> str:
        return markdown_html(self.text)


@dataclass
class Figure:
    """A matplotlib figure as an inline PNG with real alt text (closed once rendered)."""

    figure: object
    alt: str

    def __post_init__(self):
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=96, metadata={"Software": None})
        plt.close(self.figure)
        self.png = base64.b64encode(buf.getvalue()).decode("ascii")

    def _repr_html_(self) -> str:
        return (f'<figure class="sqr-figure"><img src="data:image/png;base64,{self.png}" '
                f'alt="{escape(self.alt, quote=True)}"></figure>')


@dataclass
class Details:
    """Something folded away under a one-line summary (``<details>``: no script needed)."""

    summary: str
    item: object

    def _repr_html_(self) -> str:
        return (f"<details class=\"sqr-details\"><summary>{escape(self.summary)}</summary>"
                f"{self.item._repr_html_()}</details>")


@dataclass
class Bundle:
    """Several items shown one after the other (a section with a variable number of parts)."""

    items: list = field(default_factory=list)

    def add(self, item) -> Bundle:
        self.items.append(item)
        return self

    def _repr_html_(self) -> str:
        out = []
        for item in self.items:
            if isinstance(item, str):  # a heading
                out.append(f"<h3>{escape(item)}</h3>")
            else:
                out.append(item._repr_html_())
        return "\n".join(out)
