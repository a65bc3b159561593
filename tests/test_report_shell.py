"""The report shell without running a study: table alignment and cell formats, the compact
params table, figure alt text (through a real IPython display formatter), the table of contents
after the title, and the image alt attribute written by the sqreport template."""

from __future__ import annotations

import math

import matplotlib
import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from sqresearch.report import export, notebook, tables

matplotlib.use("Agg")


def _cells(html: str):
    soup = BeautifulSoup(html, "html.parser")
    head = [(th.get_text(), "sqr-num" in (th.get("class") or [])) for th in soup.select("th")]
    body = [[(td.get_text(), "sqr-num" in (td.get("class") or [])) for td in tr.select("td")]
            for tr in soup.select("tbody tr")]
    return head, body


def test_text_columns_left_number_columns_right():
    df = pd.DataFrame({
        "Metric": ["First response time", "CSAT"], "Period": ["2026-01", "2026-02"],
        "n": [1234, 5], "Mean": [4.123, math.nan], "Effect": ["−32.9 %", "+0.03"],
        "CI": ["95 %: −41.6 % to −22.9 %", "−0.13 to +0.19"], "p": ["p < 0.001", "p = 0.646"],
        "Target": ["≥ +30.0", "≤ 10.0 %"], "Verdict": ["improved", "inconclusive"],
        "Note": ["12 of 13 weeks", "—"]})
    head, body = _cells(tables.html(df, "caption"))
    right = {name for name, num in head if num}
    assert right == {"n", "Mean", "Effect", "CI", "p", "Target"}
    assert body[0][2] == ("1,234", True) and body[0][3] == ("4.12", True)
    assert body[1][3] == ("–", True)  # missing, never 'nan'
    for row in body:  # every cell aligned as its header
        assert [num for _, num in row] == [num for _, num in head]


def test_cells_never_show_python_reprs():
    df = pd.DataFrame({"a": [["chat", "email"], None], "b": [True, False],
                       "c": [pd.Timestamp("2026-04-01"), pd.NaT], "d": [math.inf, 1.5]})
    _, body = _cells(tables.html(df))
    assert [c for c, _ in body[0]] == ["chat, email", "yes", "2026-04-01", "∞"]
    assert [c for c, _ in body[1]] == ["–", "no", "–", "1.50"]


def test_hostile_text_is_escaped_everywhere():
    html = tables.html(pd.DataFrame({"<b>col</b>": ["<script>alert(1)</script>"]}),
                       "<img src=x onerror=alert(1)>", classes="x")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


def test_params_table_is_compact_and_readable():
    params = {"study_id": "s", "alpha": 0.05, "seed": 7, "description": None, "flag": True,
              "segments": ["channel", "team"], "filters": {},
              "data": {"path": "data/x.csv", "columns": {"created": "opened_ts",
                                                         "resolved": None}},
              "targets": [{"kpi": "fcr", "op": ">=", "value": 0.75},
                          {"kpi": "nps", "op": ">=", "value": 30.0}],
              "index": {"weights": {"matrix": [[1, 0.5], [2, 1]]}}}
    rows = dict(notebook.flatten_params(params))
    assert rows == {"study_id": "s", "alpha": "0.05", "seed": "7", "flag": "true",
                    "segments": "channel, team", "data.path": "data/x.csv",
                    "data.columns": "created: opened_ts",
                    "targets.1": "kpi: fcr · op: >= · value: 0.75",
                    "targets.2": "kpi: nps · op: >= · value: 30",
                    "index.weights.matrix.1": "1, 0.5", "index.weights.matrix.2": "2, 1"}
    html = notebook.params_html(params)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("table.sqr-params") is not None
    assert soup.select_one("details.sqr-params-yaml pre").get_text().startswith("study_id: s")
    assert "None" not in soup.get_text() and "[" not in soup.select_one("table").get_text()


def test_reproduce_box_names_the_params_file_and_both_commands():
    class P:
        study_id, study_type = "support_desk_scorecard", "scorecard"

    box = BeautifulSoup(notebook.reproduce_box(P, "abc123"), "html.parser")
    commands = [c.get_text() for c in box.select("pre code")]
    assert commands[0] == "sqr run params/support_desk.yaml"
    assert commands[1].startswith("papermill notebooks/scorecard.ipynb ")
    assert "-f params/support_desk.yaml" in commands[1]
    assert "abc123" in box.get_text()


def test_figure_alt_text_comes_from_titles_and_axes():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    fig.suptitle("KPIs by team")
    a.set_title("Waiting time, median", loc="left")
    a.set_xlabel("minutes")
    b.set_ylabel("share of cases ≤ x")
    assert notebook.figure_alt(fig) == ("Chart: KPIs by team. Waiting time, median. Horizontal "
                                        "axis: minutes. Vertical axis: share of cases ≤ x.")
    assert notebook.figure_alt(plt.figure()) == ""  # nothing to say: the lint flags it
    assert notebook.figure_alt(notebook.describe(plt.figure(), "A map")) == "A map"
    plt.close("all")


def test_alt_text_reaches_the_display_metadata():
    """Through IPython's real DisplayFormatter, as the inline backend's show() calls it."""
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter
    from IPython.core.pylabtools import print_figure

    formatter = DisplayFormatter()  # the PNG as matplotlib_inline's formatter makes it
    formatter.formatters["image/png"].for_type(matplotlib.figure.Figure,
                                               lambda f: print_figure(f, "png", base64=True))
    formatter.mimebundle_formatter.for_type(matplotlib.figure.Figure, notebook._alt_bundle)
    fig, ax = plt.subplots()
    ax.set_title("Control chart")
    data, meta = formatter.format(fig)
    assert "image/png" in data and meta["image/png"]["alt"] == "Chart: Control chart."
    plt.close("all")


def _notebook(alt: str | None):
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# The <i>title</i>\n\nWhat was studied.")
    intro = nbformat.v4.new_markdown_cell("## Summary\n\ntext\n\n### Part\n\nmore")
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAAB"
           "JRU5ErkJggg==")
    meta = {"image/png": {"alt": alt}} if alt else {}
    fig = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": png}, metadata=meta)])
    nb.cells = [title, intro, fig, nbformat.v4.new_markdown_cell("## Reproducibility")]
    return nb


@pytest.mark.parametrize("alt", ['Chart: wait "in" <minutes>', None])
def test_exported_report_has_toc_after_title_and_figure_alt(alt):
    html = export.to_html(_notebook(alt), "t")
    soup = BeautifulSoup(html, "html.parser")
    order = [el.name for el in soup.body.find_all(["h1", "nav", "h2"])]
    assert order == ["h1", "nav", "h2", "h2"]  # the title block first, then the contents
    toc = [a.get_text() for a in soup.select("nav.sqr-toc a")]
    assert toc == ["Summary", "Part", "Reproducibility"]
    img = soup.find("img")
    assert img.get("alt") == (alt or "No description has been provided for this image")
    assert "<minutes>" not in html.split("<body", 1)[1]  # the alt text is escaped


def test_definitions_speak_the_studys_word_for_a_row():
    assert [tables.plural(w) for w in ("visit", "enquiry", "case", "box", "day")] == [
        "visits", "enquiries", "cases", "boxes", "days"]
    text = "share of tickets whose first response took at most 10 min; a ticket still open"
    assert tables.in_words_of(text, "visit") == (
        "share of visits whose first response took at most 10 min; a visit still open")
    assert tables.in_words_of(text, "ticket") == text


def test_many_segment_levels_are_rows_with_point_estimates():
    tidy = pd.DataFrame({"kpi": ["frt_median", "fcr"] * 3, "label": ["FRT", "FCR"] * 3,
                         "group": ["B01", "B01", "B02", "B02", "B03", "B03"],
                         "estimate": [8.2, 0.71, 7.1, 0.8, 9.0, 0.66],
                         "ci_low": [7.0] * 6, "ci_high": [9.5] * 6,
                         "unit": ["min", "share"] * 3})
    wide = tables.kpi_by_level(tidy, {"fcr": "First contact resolution"}, "branch")
    assert list(wide.columns) == ["Branch", "FRT", "First contact resolution"]
    assert wide.to_dict("list") == {"Branch": ["B01", "B02", "B03"],
                                    "FRT": ["8.2 min", "7.1 min", "9.0 min"],
                                    "First contact resolution": ["71.0 %", "80.0 %", "66.0 %"]}
