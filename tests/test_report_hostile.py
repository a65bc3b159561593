"""A report built from hostile data and params, opened in headless Chromium: no script runs, no
element is made from what customers or other systems wrote, no link leads anywhere but http(s)
or the page itself, and the hostile strings are shown as text."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import ROOT, demo_params, write_params
from test_report_browser import browser, open_report  # noqa: F401  (the fixture)

from sqresearch.cli import main as cli
from sqresearch.report.safe import markdown_html, md_text, safe_url

pytestmark = pytest.mark.e2e

#: each tries to make an element, run a script or carry a link in a different way
HOSTILE = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "<script>document.title='pwned'</script>",
    "[click me](javascript:document.title='pwned')",
    "<svg onload=\"document.title='pwned'\">",
    "**bold** ![i](https://example.com/beacon.png)",
    "<a href=\"javascript:alert(1)\">x</a>",
]
TEAMS = {"tier1_north": HOSTILE[0], "tier1_south": HOSTILE[1], "tier2": HOSTILE[2]}
CATEGORIES = [HOSTILE[3], HOSTILE[4], HOSTILE[5]]


def _hostile_files(folder):
    df = pd.read_csv(ROOT / "data" / "support_tickets.csv")
    df["team"] = df["team"].map(TEAMS)
    df["category"] = [CATEGORIES[i % 3] for i in range(len(df))]
    data = folder / "hostile.csv"
    df.to_csv(data, index=False)
    p = demo_params("support_desk")
    p["data"]["path"] = str(data)
    p["data"]["allow_personal"] = {  # the hostile strings read like free text
        "team": "team names <b>are</b> published", "category": "ticket categories"}
    p["study_id"] = "hostile_scorecard"
    p["title"] = "Scorecard <script>document.title='pwned'</script> [x](javascript:alert(1))"
    p["description"] = ("See [the guide](https://example.org/guide), not [bad](javascript:"
                        "alert(1)) or [relative](../../etc/passwd) <iframe src=\"https://"
                        "example.com\"></iframe>")
    return write_params(folder, p)


def test_a_report_from_hostile_data_runs_no_script_and_shows_the_text(browser, tmp_path):  # noqa: F811
    params = _hostile_files(tmp_path)
    out = tmp_path / "outputs"
    assert cli.main(["run", str(params), "--outputs", str(out)]) == 0
    report = out / "hostile_scorecard" / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html
    for bad in ("<script>document", "<img src=x", "<svg onload", "<iframe", "<a href=\"javascript",
                "src=\"https://example.com/beacon.png", "href=\"../../etc/passwd"):
        assert bad not in html, bad
    found = open_report(browser, report, tmp_path / "hostile.png")
    assert not any(found.values()), found
    page = browser.new_page()
    page.goto(report.as_uri(), wait_until="load")
    assert page.title() == "Scorecard <script>document.title='pwned'</script> [x](javascript:" \
        "alert(1))"  # shown as text, never run (a script would have set it to 'pwned')
    assert page.evaluate("document.querySelectorAll('script, iframe, svg[onload], "
                         "img[src=\"x\"], [onerror], [onload]').length") == 0
    hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute("
                          "'href'))")
    assert hrefs and all(safe_url(h) for h in hrefs), [h for h in hrefs if not safe_url(h)]
    assert "https://example.org/guide" in hrefs  # the description's web link is kept
    text = page.inner_text("body")
    for shown in (HOSTILE[0], HOSTILE[1], "<svg onload"):
        assert shown in text, shown
    page.close()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>document" not in index and "Content-Security-Policy" in index


@pytest.mark.parametrize("text", HOSTILE)
def test_the_renderer_makes_no_element_and_no_link_from_text(text):
    html = markdown_html(text)
    tags = set(re.findall(r"</?([a-zA-Z][\w-]*)", html))
    assert tags <= {"p", "strong", "em", "code"}, tags  # prose only: no element from the text


def test_links_only_for_web_addresses_and_anchors():
    html = markdown_html("[a](https://x.org) [b](#verdicts) [c](javascript:alert(1)) "
                         "[d](data:text/html,x) [e](//evil.org) [f](file:///etc/passwd) "
                         "[g](HTTPS://X.ORG/a?b=1)", links=True)
    assert html.count("<a ") == 3
    assert 'href="https://x.org"' in html and 'href="#verdicts"' in html
    assert all(bad not in html for bad in ("javascript", "data:", "//evil", "file:"))


def test_a_value_inside_markdown_reads_literally():
    value = "*a* _b_ [c](https://e.org) # d <i>"
    html = markdown_html(f"Team {md_text(value)} improved")
    assert "<em>" not in html and "<a " not in html and "<i>" not in html
    assert "*a* _b_ [c](https://e.org) # d &lt;i&gt;" in html
