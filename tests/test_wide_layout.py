"""Wide pre/post tables (one row per unit, each measure in a before and an after column) give
the same study as the long table they reshape, and bad wide declarations are clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, write_params

from sqresearch.designs.before_after import BeforeAfter
from sqresearch.designs.control_group import ControlGroup
from sqresearch.io import params
from sqresearch.io.yaml_files import read_yaml


def _wide(long: pd.DataFrame, unit: str, period: str, values: list[str], labels) -> pd.DataFrame:
    before, after = labels
    keep = [c for c in long.columns if c not in (period, *values)]
    b = long[long[period] == before].set_index(unit)
    a = long[long[period] == after].set_index(unit)
    out = b[[c for c in keep if c != unit]].copy()
    for v in values:
        out[f"{v}_before"], out[f"{v}_after"] = b[v], a[v].reindex(b.index)
    return out.reset_index()


def _wide_study(tmp_path, demo: str, unit: str, period: str, values, labels, drop=()):
    p = demo_params(demo)
    long = pd.read_csv(ROOT / p["data"]["path"])
    path = tmp_path / "wide.csv"
    _wide(long.drop(columns=list(drop)), unit, period, values, labels).to_csv(path, index=False)
    p["data"] = {**p["data"], "path": str(path), "layout": "wide",
                 "wide": {v: [f"{v}_before", f"{v}_after"] for v in values}}
    for key in ("period_column", "before_value", "after_value", "post_periods"):
        p.pop(key, None)
    p["data"].pop("personal", None)
    return write_params(tmp_path, p)


def test_a_wide_paired_table_gives_the_long_tables_verdicts(tmp_path):
    long = BeforeAfter(params.load(ROOT / "params" / "agent_coaching.yaml"))
    wide = BeforeAfter(params.load(_wide_study(
        tmp_path, "agent_coaching", "agent_id", "period",
        ["tickets", "csat_mean", "handle_time_min", "qa_pass"], ("before", "after"),
        drop=["agent_name"])))
    cols = ["metric", "segment", "estimate", "ci_low", "ci_high", "p_value", "verdict"]
    pd.testing.assert_frame_equal(long.verdicts[cols], wide.verdicts[cols])
    q = wide.table.quality.set_index("check")
    assert q.loc["rows read", "rows"] == 48
    assert q.loc["wide table: one row per unit and period", "rows"] == 96


def test_a_wide_trial_table_gives_the_long_tables_ancova(tmp_path):
    long = ControlGroup(params.load(ROOT / "params" / "coaching_trial.yaml"))
    wide = ControlGroup(params.load(_wide_study(
        tmp_path, "coaching_trial", "agent_id", "period", ["csat_mean", "handle_time_min"],
        ("pre", "post"))))
    cols = ["metric", "segment", "estimate", "ci_low", "ci_high", "p_value", "verdict"]
    pd.testing.assert_frame_equal(long.effects[cols], wide.effects[cols])


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.update(wide={"csat_mean": ["csat_mean_before", "csat_after_typo"]}),
     ["key 'data.wide.csat_mean' (column 'csat_after_typo')", "not found"]),
    (lambda d: d.update(layout="long"), ["wide columns are given but layout is long"]),
    (lambda d: d.update(wide={}), ["needs its before/after columns"]),
])
def test_bad_wide_declarations_are_clear_errors(tmp_path, run_cli, change, expected):
    path = _wide_study(tmp_path, "coaching_trial", "agent_id", "period",
                       ["csat_mean", "handle_time_min"], ("pre", "post"))
    p = read_yaml(path.read_text())
    change(p["data"])
    assert_user_error(run_cli, write_params(tmp_path, p, "bad.yaml"), expected, tmp_path)
