"""A ticket table's own pre/post column (``period_column`` on a ticket table) gives the same
study as the intervention date that column encodes; a column that does not split time, or
wash-out days beside it, are clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, demo_params, write_params

from sqresearch.designs.before_after import BeforeAfter, views
from sqresearch.designs.control_group import ControlGroup
from sqresearch.io import params

COLS = ["metric", "segment", "estimate", "ci_low", "ci_high", "p_value", "verdict"]


def _with_phase(tmp_path, demo: str, created: str, date: str, labels=("pre", "post"),
                spoil: int = 0, **changes):
    """The demo study on a copy of its data with a phase column split at ``date`` (``spoil``
    late rows relabelled as pre), the intervention replaced by the column."""
    p = demo_params(demo)
    src = ROOT / p["data"]["path"]
    df = pd.read_parquet(src) if src.suffix == ".parquet" else pd.read_csv(src)
    ts = pd.to_datetime(df[created])
    df["phase"] = [labels[1] if t >= pd.Timestamp(date) else labels[0] for t in ts]
    if spoil:
        kept = pd.Series(True, index=df.index)
        for col, values in p.get("filters", {}).items():
            kept &= df[col].astype(str).isin([str(v) for v in values])
        late = ts[kept].sort_values().index[-spoil:]
        df.loc[late, "phase"] = labels[0]
    path = tmp_path / ("phased" + src.suffix)
    df.to_parquet(path) if src.suffix == ".parquet" else df.to_csv(path, index=False)
    p["data"] = {**p["data"], "path": str(path)}
    p.pop("intervention")
    p.update(period_column="phase", **changes)
    return write_params(tmp_path, p)


def test_a_ticket_tables_own_period_column_gives_the_dated_study(tmp_path):
    dated = demo_params("chatbot_launch")
    dated.pop("washout_days_after")
    (tmp_path / "dated").mkdir()
    dated_study = BeforeAfter(params.load(write_params(tmp_path / "dated", dated)))
    (tmp_path / "col").mkdir()
    phased = BeforeAfter(params.load(_with_phase(
        tmp_path / "col", "chatbot_launch", "opened_ts", "2026-04-01", ("pre", "post"),
        before_value="pre", after_value="post", washout_days_after=0)))
    assert phased.tickets and phased.intervention >= pd.Timestamp("2026-04-01")
    assert phased.intervention.normalize() == pd.Timestamp("2026-04-01")
    pd.testing.assert_frame_equal(dated_study.verdicts[COLS], phased.verdicts[COLS])
    # the ITS sees the same series and leaves out the same straddling day
    for name, res in dated_study.timeseries.its.items():
        pd.testing.assert_frame_equal(res.effects(), phased.timeseries.its[name].effects())
    design = dict(views.design_table(phased).values.tolist())
    assert "column phase" in design["Periods"] and "first ticket" in design["Periods"]


def test_a_ticket_tables_post_column_gives_the_dated_did(tmp_path):
    dated = ControlGroup(params.load(ROOT / "params" / "branch_queueing.yaml"))
    phased = ControlGroup(params.load(_with_phase(
        tmp_path, "branch_queueing", "arrived", "2026-04-01", ("0", "1"), post_periods=["1"])))
    assert phased.tickets
    pd.testing.assert_frame_equal(dated.effects[COLS], phased.effects[COLS])


@pytest.mark.parametrize(("build", "expected"), [
    (lambda t: _with_phase(t, "chatbot_launch", "opened_ts", "2026-04-01", ("before", "after"),
                           spoil=3, washout_days_after=0),
     ["column 'phase'", "3 ticket(s) marked 'before'", "does not split time",
      ": '2026-06-", "line "]),
    (lambda t: _with_phase(t, "chatbot_launch", "opened_ts", "2026-04-01", ("before", "after")),
     ["wash-out days need an intervention date"]),
    (lambda t: _with_phase(t, "branch_queueing", "arrived", "2026-04-01", ("0", "1"),
                           spoil=2, post_periods=["1"]),
     ["column 'phase'", "2 ticket(s) marked 'pre", "does not split time", "row "]),
])
def test_a_period_column_that_does_not_split_time_is_a_clear_error(tmp_path, run_cli, build,
                                                                   expected):
    assert_user_error(run_cli, build(tmp_path), expected)
