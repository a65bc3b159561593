"""Report lint: every demo report read as a reviewer reads it, one test per report and check.

The reports come from the session's one `sqr run --all` (the ``run_all`` fixture in conftest).
Each check returns the offending snippets, so a failure names the report, the check and the
exact text. Visible text excludes what is meant to be raw: the params table, the params YAML,
the reproduce commands and fenced code blocks in markdown.

Run on any report without pytest: ``python tests/test_report_lint.py outputs/*/report.html``.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import study_folder

from sqresearch.kpi.engine import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_ALT = "No description has been provided for this image"
RAW_PARTS = ["table.sqr-params", "details.sqr-params-yaml", ".sqr-reproduce pre", "pre code",
             ".jp-RenderedMarkdown pre", "style", "script", "head"]


def demo_studies() -> dict[str, dict]:
    """study_id -> params mapping of every study in params/."""
    out = {}
    for f in sorted((ROOT / "params").glob("*.y*ml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        out[data["study_id"]] = data
    return out


STUDIES = demo_studies()


@cache
def parsed(path: Path) -> tuple[BeautifulSoup, str]:
    """(the whole document, its visible text without the raw parts), spaces collapsed."""
    html = path.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    visible = BeautifulSoup(html, "html.parser")
    for selector in RAW_PARTS:
        for el in visible.select(selector):
            el.decompose()
    text = re.sub(r"\s+", " ", visible.get_text(" "))
    return soup, text


def _around(text: str, m: re.Match, width: int = 50) -> str:
    return "…" + text[max(0, m.start() - width): m.end() + width] + "…"


# --- the checks: each takes (soup, visible text, params) and returns the offending snippets ---

_ATOM = r"""(?:'[^'\]]*'|"[^"\]]*"|[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?|None|True|False|nan)"""
_PY_LIST = re.compile(rf"\[\s*(?:{_ATOM}(?:\s*,\s*{_ATOM})*\s*,?)?\s*\]")


def python_lists(soup, text, params) -> list[str]:
    """No Python list reprs such as ['chat'], [99.0] or []."""
    return [_around(text, m) for m in _PY_LIST.finditer(text)]


_MISSING = re.compile(r"(?<![\w.-])(None|nan|NaN|NaT|<NA>)(?![\w-])")


def missing_words(soup, text, params) -> list[str]:
    """No None / nan / NaN / NaT / <NA> as words."""
    return [_around(text, m) for m in _MISSING.finditer(text)]


def kpi_codes(soup, text, params) -> list[str]:
    """No internal KPI codes (CATALOGUE keys, sla_<name>) where a label exists."""
    codes = {k for k, v in CATALOGUE.items() if k.lower() != v.label.lower()}
    codes |= {f"sla_{s['name']}" for s in params.get("sla", []) or [] if "name" in s}
    found = []
    for code in sorted(codes):
        for m in re.finditer(rf"(?<![\w.=-]){re.escape(code)}(?![\w-])", text):
            found.append(f"{code}: {_around(text, m)}")
    return found


def figure_alt_text(soup, text, params) -> list[str]:
    """Every figure has real alt text (not missing, empty or nbconvert's placeholder)."""
    bad = []
    for i, img in enumerate(soup.find_all("img"), start=1):
        alt = (img.get("alt") or "").strip()
        if not alt or alt == PLACEHOLDER_ALT:
            bad.append(f"figure {i}: alt={alt!r}")
    return bad


def plural_s(soup, text, params) -> list[str]:
    """No '(s)' plurals: counts are written out ('1 signal', '3 signals')."""
    return [_around(text, m) for m in re.finditer(r"\w\(s\)", text)]


def first_n_of_m(soup, text, params) -> list[str]:
    """No 'first N of M' with N > M."""
    found = []
    for m in re.finditer(r"first (\d[\d,]*) (?:\w+ )?of (\d[\d,]*)", text, flags=re.I):
        n, total = (int(g.replace(",", "")) for g in m.groups())
        if n > total:
            found.append(_around(text, m))
    return found


def self_contained(soup, text, params) -> list[str]:
    """Nothing fetched from the internet when the report opens."""
    found = []
    for el in soup.find_all(["script", "link", "img", "iframe", "source", "video", "audio"]):
        ref = el.get("src") or el.get("href") or ""
        if re.match(r"(https?:)?//", ref):
            found.append(f"<{el.name}> {ref[:80]}")
    found += [m.group(0)[:80] for m in re.finditer(r"@import\s+url\(\s*['\"]?https?:", str(soup))]
    return found


def content_security_policy(soup, text, params) -> list[str]:
    """A strict Content-Security-Policy: no script may run, nothing may be fetched."""
    from sqresearch.report.export import CSP

    metas = soup.find_all("meta", attrs={"http-equiv": "Content-Security-Policy"})
    if [m.get("content") for m in metas] != [CSP]:
        return [f"CSP meta tags: {[m.get('content') for m in metas]}"]
    return []


CHECKS = [python_lists, missing_words, kpi_codes, figure_alt_text, plural_s, first_n_of_m,
          self_contained, content_security_policy]


@pytest.mark.e2e
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("study", sorted(STUDIES))
def test_report_lint(run_all, study, check):
    _, out, _ = run_all
    path = study_folder(out, study) / "report.html"
    assert path.is_file(), f"{study}: no report.html (the run failed?)"
    soup, text = parsed(path)
    problems = check(soup, text, STUDIES[study])
    assert not problems, (f"{study}/report.html fails '{check.__name__}' "
                          f"({check.__doc__.strip()}):\n  " + "\n  ".join(problems[:20]))


# --- the checks themselves, on small made-up pages -------------------------------------------


def _page(body: str) -> tuple[BeautifulSoup, str]:
    path = Path(f"/tmp/sqr-lint-{abs(hash(body))}.html")
    path.write_text(f"<html><head><style>a {{}}</style></head><body>{body}</body></html>")
    try:
        return parsed(path)
    finally:
        path.unlink()


@pytest.mark.parametrize("check,body,bad", [
    (python_lists, "<p>Channels: ['chat'] and [99.0]; also [] and [1, 2]</p>", 4),
    (python_lists, "<p>Between 1 and 2 [see the note] of the [draft]</p>", 0),
    (missing_words, "<td>None</td><td>nan</td><td>NaN %</td><p>Nonetheless a nanny</p>", 3),
    (kpi_codes, "<p>frt_median rose; sla_wait_10min held; contacts rose</p>", 2),
    (kpi_codes, '<table class="sqr-params"><td>frt_median</td></table><p>fine</p>', 0),
    (figure_alt_text, f'<img src="x"><img alt="{PLACEHOLDER_ALT}"><img alt="Chart: a">', 2),
    (plural_s, "<p>0 caveat(s), 2 signal(s)</p>", 2),
    (first_n_of_m, "<p>first 15 of 13 rows; first 5 of 13 rows; the first 2 weeks of 3</p>", 1),
    (self_contained, '<script src="https://cdn.example/x.js"></script><img src="data:x">', 1),
])
def test_each_check_finds_what_it_should(check, body, bad):
    soup, text = _page(body)
    assert len(check(soup, text, {"sla": [{"name": "wait_10min"}]})) == bad


if __name__ == "__main__":
    failed = 0
    for arg in sys.argv[1:]:
        soup, text = parsed(Path(arg))
        study = Path(arg).parent.name
        for check in CHECKS:
            for problem in check(soup, text, STUDIES.get(study, {})):
                failed += 1
                print(f"{arg}: {check.__name__}: {problem}")
    sys.exit(1 if failed else 0)
