"""Every demo report opened in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright): no console errors, no failed or outside requests, a full-page screenshot.

Screenshots go to the test's tmp folder, and also to ``outputs/screenshots/`` when the
environment variable ``SQR_SCREENSHOTS`` is set (to a folder, or to 1 for that default).
``python3 tasks.py test`` installs Playwright (the dev extra) and Chromium (apt) when missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import study_folder
from test_report_lint import STUDIES

CHROMIUM = Path(os.environ.get("SQR_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install -e .[dev]")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(python3 tasks.py test does this when run as root), or set SQR_CHROMIUM")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def screenshot_folder() -> Path | None:
    value = os.environ.get("SQR_SCREENSHOTS", "")
    if not value:
        return None
    folder = ROOT / "outputs" / "screenshots" if value in {"1", "yes", "true"} else Path(value)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_report(browser, path: Path, shot: Path) -> dict[str, list[str]]:
    """Load a report; return its console errors, page errors, failed and outside requests."""
    found: dict[str, list[str]] = {"console errors": [], "page errors": [],
                                   "failed requests": [], "outside requests": []}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: found["console errors"].append(m.text)
            if m.type == "error" else None)
    page.on("pageerror", lambda e: found["page errors"].append(str(e)))
    page.on("requestfailed", lambda r: found["failed requests"].append(
        f"{r.url[:100]}: {r.failure}"))

    def request(r):
        if not r.url.startswith(("file:", "data:", "about:")):
            found["outside requests"].append(r.url[:100])

    page.on("request", request)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(200)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return found


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_report_opens_cleanly_in_chromium(run_all, browser, tmp_path, study):
    _, out, _ = run_all
    path = study_folder(out, study) / "report.html"
    assert path.is_file(), f"{study}: no report.html"
    shot = tmp_path / f"{study}.png"
    found = open_report(browser, path, shot)
    folder = screenshot_folder()
    if folder:
        shutil.copy(shot, folder / shot.name)
    assert shot.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    assert not any(found.values()), f"{study}/report.html in Chromium: {found}"


def test_index_opens_cleanly_in_chromium(run_all, browser, tmp_path):
    _, out, _ = run_all
    shot = tmp_path / "index.png"
    found = open_report(browser, out / "index.html", shot)
    folder = screenshot_folder()
    if folder:
        shutil.copy(shot, folder / shot.name)
    assert not any(found.values()), f"index.html in Chromium: {found}"
