"""Every key results.json carries is documented in docs/results-schema.md, and every documented
key pattern is produced by a demo study."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e
DOC = ROOT / "docs" / "results-schema.md"


def documented() -> dict[str, list[str]]:
    """study type ("all" included) -> key patterns, from the tables under '### <type>'."""
    out: dict[str, list[str]] = {}
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("### ") or line.startswith(("## Scorecard keys", "## gap_model keys")):
            name = line.lstrip("#").strip()
            section = {"Scorecard keys": "scorecard", "gap_model keys": "gap_model"}.get(
                name, name.removesuffix(" study types").strip())
            out.setdefault(section, [])
        elif line.startswith("## "):
            section = None
        elif section and line.startswith("| `"):
            first = re.split(r"(?<!\\)\|", line)[1]
            out[section] += [p.replace("\\|", "|") for p in re.findall(r"`([^`]+)`", first)]
    return out


def as_regex(pattern: str) -> re.Pattern:
    """`verdict.<metric>[.<segment>]` -> a regex: <x> one or more characters, [...] optional."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "<":
            j = pattern.index(">", i)
            out += ".+?"
            i = j + 1
            continue
        out += {"[": "(?:", "]": ")?"}.get(c, re.escape(c))
        i += 1
    return re.compile(out)


def test_the_pattern_syntax():
    rx = as_regex("verdict.<metric>[.<segment>]")
    assert rx.fullmatch("verdict.frt") and rx.fullmatch("verdict.frt.team=north")
    assert not rx.fullmatch("effect.frt")


def _produced(run_all) -> dict[str, set[str]]:
    _, out, _ = run_all
    keys: dict[str, set[str]] = {}
    for f in sorted([*out.glob("*/results.json"), *out.glob("*/*/results.json")]):
        d = json.loads(f.read_text(encoding="utf-8"))
        keys.setdefault(d["study_type"], set()).update(r["key"] for r in d["results"])
    return keys


def test_every_key_is_documented(run_all):
    docs = documented()
    for study_type, keys in _produced(run_all).items():
        patterns = [as_regex(p) for p in docs.get(study_type, []) + docs.get("all", [])]
        undocumented = sorted(k for k in keys if not any(p.fullmatch(k) for p in patterns))
        assert not undocumented, (study_type, undocumented[:20])


def test_every_documented_pattern_is_produced(run_all):
    produced = _produced(run_all)
    everything = set().union(*produced.values())
    for study_type, patterns in documented().items():
        if study_type == "scorecard":  # some keys need an indicator-table study, not a demo:
            continue  # tests/test_scorecard_results.py checks them both ways
        keys = everything if study_type == "all" else produced.get(study_type, set())
        missing = [p for p in patterns if not any(as_regex(p).fullmatch(k) for k in keys)]
        assert not missing, (study_type, missing)
