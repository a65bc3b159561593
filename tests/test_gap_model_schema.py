"""Every results.json key of the gap-model demo is documented in docs/results-schema.md
(section "gap_model keys"), and every documented pattern is produced by the demo."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from sqresearch.designs.gap_model.study import GapModel
from sqresearch.io import params
from sqresearch.report.results import to_json


def documented_patterns() -> list[str]:
    text = (ROOT / "docs" / "results-schema.md").read_text(encoding="utf-8")
    section = text.split("## gap_model keys", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    first_cells = [re.split(r"(?<!\\)\|", row)[1] for row in rows]
    return [p.replace("\\|", "|") for cell in first_cells for p in re.findall(r"`([^`]+)`",
                                                                               cell)]


def to_regex(pattern: str) -> re.Pattern:
    """`gap.<dimension>` → gap\\.[^.]+ ; `<E|P|gap>` → (E|P|gap); `<a>|<b>` keeps its bar."""
    out, pos = "", 0
    for m in re.finditer(r"<([^<>]+)>", pattern):
        out += re.escape(pattern[pos:m.start()])
        inner = m.group(1)
        out += f"({'|'.join(map(re.escape, inner.split('|')))})" if "|" in inner else \
            r"[^.|]+"
        pos = m.end()
    return re.compile(out + re.escape(pattern[pos:]) + r"\Z")


@pytest.fixture(scope="module")
def demo_keys() -> list[str]:
    study = GapModel(params.load(ROOT / "params" / "bank_servqual.yaml"))
    import json

    payload = json.loads(to_json(study.results().to_dict()))  # what results.json holds
    return [r["key"] for r in payload["results"]]


def test_patterns_are_parsed_from_the_schema():
    pats = documented_patterns()
    assert "gap.<dimension>" in pats and "posthoc.<segment>.<dimension>.<level>|<level>" in pats
    assert to_regex("alpha.<dimension>.<E|P|gap>").match("alpha.empathy.gap")
    assert not to_regex("alpha.<dimension>.<E|P|gap>").match("alpha.empathy.G")
    assert not to_regex("gap.<dimension>").match("gap.item.q01")
    assert to_regex("posthoc.<segment>.<dimension>.<level>|<level>").match(
        "posthoc.branch.empathy.B01|B02")


def test_every_demo_key_is_documented_and_every_pattern_produced(demo_keys):
    regexes = {p: to_regex(p) for p in documented_patterns()}
    undocumented = [k for k in demo_keys if not any(r.match(k) for r in regexes.values())]
    assert undocumented == []
    unused = [p for p, r in regexes.items() if not any(r.match(k) for k in demo_keys)]
    assert unused == []
    assert len(demo_keys) == len(set(demo_keys))
