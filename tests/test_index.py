"""outputs/index.html is rebuilt from the params that exist now: deleted studies drop out, failed
ones show as failed with their error (and keep the link to their last good report), good ones
show their headline verdicts. No notebook is run here: the outcomes are recorded directly."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from conftest import demo_params, write_params

from sqresearch.cli import runner


class Rows(HTMLParser):
    """The index table's body rows as lists of cell texts, and every link."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = ""
        elif tag == "a":
            self.links.append(dict(attrs)["href"])
        if tag in ("br", "div") and self._cell is not None:
            self._cell += " | "

    def handle_endtag(self, tag):
        if tag == "td":
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _good_run(out, study, headline):
    folder = out / study
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    (folder / "results.json").write_text(json.dumps({"headline": headline}))
    (folder / "manifest.json").write_text(json.dumps({"timings": {
        "started": "2026-11-30T10:00:00+00:00"}}))


def test_index_follows_the_params_that_exist(tmp_path):
    out = tmp_path / "outputs"
    out.mkdir()
    good = write_params(tmp_path, demo_params() | {"study_id": "kept_study"}, "kept.yaml")
    bad = write_params(tmp_path, demo_params() | {"study_id": "broken_study"}, "broken.yaml")
    gone = write_params(tmp_path, demo_params() | {"study_id": "gone_study"}, "gone.yaml")
    _good_run(out, "kept_study", "5 of 6 targets met")
    _good_run(out, "broken_study", "an old <b>headline</b>")
    (out / "broken_study" / "FAILED.html").write_text("<html></html>")
    _good_run(out, "gone_study", "never shown")
    runner.record(out, [
        runner.Outcome(str(good), "kept_study", "ok", headline="5 of 6 targets met"),
        runner.Outcome(str(bad), "broken_study", "failed", "KeyError: 'frt' <script>"),
        runner.Outcome(str(gone), "gone_study", "ok", headline="never shown")])
    gone.unlink()  # the study is deleted: the next index drops it
    runner.record(out, [])

    page = (out / "index.html").read_text(encoding="utf-8")
    parsed = Rows()
    parsed.feed(page)
    rows = {r[0].split()[0]: r for r in parsed.rows if r}
    assert "gone_study" not in page and "gone_study" not in rows
    kept, broken = rows["kept_study"], rows["broken_study"]
    assert kept[3] == "ok" and kept[4] == "5 of 6 targets met"
    assert kept[5] == "2026-11-30 10:00 UTC"
    assert broken[3] == "failed | KeyError: 'frt' <script>"
    assert "<script>" not in page and "<b>headline</b>" not in page  # escaped
    from sqresearch.report.export import CSP_META

    assert page.count(CSP_META) == 1  # no script may run, nothing may be fetched
    assert {"kept_study/report.html", "broken_study/report.html",
            "broken_study/FAILED.html"} <= set(parsed.links)
    # every demo study in params/ is listed, not run yet in this folder
    for path in runner.list_studies():
        study = demo_params(path.stem)["study_id"]
        assert rows[study][3] == "not run", study
