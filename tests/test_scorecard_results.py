"""Every results.json key of the scorecard demos is documented in docs/results-schema.md
("Scorecard keys"), every documented scorecard pattern is produced, and the report's numbers
(index intervals, AHP, control limits) are there with their intervals."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from test_scorecard_index import _table_study

from sqresearch.designs.scorecard import Scorecard
from sqresearch.io import params

_PLACEHOLDER = {"kpi": r"[a-z][a-z0-9_]*", "indicator": r"[A-Za-z][A-Za-z0-9_]*",
                "op": r"(?:>=|<=)", "value": r"[0-9.eE+-]+", "segment": r"[a-z][a-z0-9_]*",
                "column": r"[a-z][a-z0-9_]*", "by": r"[a-z][a-z0-9_]*"}


def documented_patterns() -> dict[str, re.Pattern]:
    text = (ROOT / "docs" / "results-schema.md").read_text(encoding="utf-8")
    section = text.split("## Scorecard keys", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = re.split(r"(?<!\\)\|", line)[1]
        for pat in re.findall(r"`([^`]+)`", first):
            pat = pat.replace("\\|", "|")
            rx = "".join(
                f"(?:{_PLACEHOLDER.get(m.group(1), r'[^=|]+')})" if m.group(1) else
                re.escape(m.group(0))
                for m in re.finditer(r"<([a-z_]+)>|[^<]+", pat))
            out[pat] = re.compile(rx + "$")
    return out


@pytest.fixture(scope="module")
def demo_keys():
    keys = {}
    for name in ("support_desk", "branch_network"):
        res = Scorecard(params.load(ROOT / "params" / f"{name}.yaml")).results()
        keys[name] = res
    return keys


def test_docs_list_the_scorecard_patterns():
    pats = documented_patterns()
    assert len(pats) >= 20 and "index.rank.<by>=<unit>" in pats and "ahp.lambda_max" in pats


def test_every_key_is_documented_and_every_pattern_produced(demo_keys, tmp_path):
    pats = documented_patterns()
    table = Scorecard(params.load(_table_study(tmp_path, weights={
        "method": "ahp", "matrix": [[1, 3, 5], ["1/3", 1, 2], ["1/5", "1/2", 1]]}))).results()
    used = set()
    for res in [*demo_keys.values(), table]:
        for key in res.items:
            hits = [p for p, rx in pats.items() if rx.match(key)]
            assert hits, f"{res.study_id}: key {key!r} matches no documented pattern"
            used.update(hits)
    assert set(pats) == used, f"documented but never produced: {set(pats) - used}"


def test_index_numbers_shown_are_recorded_with_intervals(demo_keys):
    res = demo_keys["branch_network"]
    scores = [r for k, r in res.items.items() if re.match(r"index\.branch=B\d\d$", k)]
    assert len(scores) == 12
    for r in scores:
        assert r.ci_low <= r.estimate <= r.ci_high and r.ci_level == 0.95
        rank = res.items[f"index.rank.branch={r.group['branch']}"]
        assert rank.ci_low <= rank.estimate <= rank.ci_high
    diffs = [r for k, r in res.items.items() if k.startswith("index.difference.")]
    assert len(diffs) == 11 and {r.verdict for r in diffs} <= {"distinguishable",
                                                               "not distinguishable"}
    assert res.items["index.bootstrap.resamples"].estimate <= 1000
    weights = [res.items[f"weight.{k}"].estimate for k in
               ("frt_median", "csat_mean", "complaints_per_1000")]
    assert sum(weights) == pytest.approx(1.0, rel=1e-9)
    ahp = demo_keys["support_desk"].items
    # R: ahp(A3, 0.58) in tests/reference.R
    assert ahp["ahp.lambda_max"].estimate == pytest.approx(3.00920271271428197, rel=1e-6)
    assert ahp["ahp.consistency_index"].estimate == pytest.approx(0.00460135635714098, rel=1e-6)


def test_control_limits_and_signals_are_recorded(demo_keys):
    res = demo_keys["branch_network"].items
    n = res["control.frt_median.signals"].estimate
    signals = [r for k, r in res.items() if k.startswith("control.frt_median.signal.date=")]
    assert len(signals) == n > 0
    lcl, ucl = res["control.frt_median.lcl"].estimate, res["control.frt_median.ucl"].estimate
    assert lcl < res["control.frt_median.centre"].estimate < ucl
    assert all(s.ci_low == lcl and s.ci_high == ucl for s in signals)


def test_presentation_methods_render_without_python_reprs(demo_keys):
    study = Scorecard(params.load(ROOT / "params" / "support_desk.yaml"))
    for name in ("summary_text", "target_table", "target_grid", "kpi_table", "segment_tables",
                 "plot_control_charts", "pareto_chart", "weights_table", "ahp_consistency",
                 "index_table", "rank_statement", "definitions", "plot_index", "plot_trends"):
        html = getattr(study, name)()._repr_html_()
        text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", html))
        assert not re.search(r"\['|\bNone\b|\bnan\b|\(s\)", text), (name, text[:300])
        for img in re.findall(r"<img[^>]*>", html):
            assert re.search(r'alt="[^"]{20,}"', img), (name, img[:200])
