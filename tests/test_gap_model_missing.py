"""SERVQUAL with unanswered items: complete_case vs available_case on a four-respondent survey
whose gaps, n and SERVQUAL scores are worked out by hand (closed forms in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sqresearch.designs.gap_model.study import GapModel
from sqresearch.io import params

NA = np.nan
# instrument: dimension x = items a, b; dimension y = items c, d
E = {"a": [5, 6, 4, 7], "b": [6, NA, 4, 6], "c": [4, 5, NA, 6], "d": [4, 6, NA, 5]}
P = {"a": [4, 5, 5, 6], "b": [5, 4, 5, 6], "c": [5, 4, 3, 6], "d": [3, 4, 4, 6]}


def _study(tmp_path, missing: str | None) -> GapModel:
    survey = pd.DataFrame({"respondent_id": ["r1", "r2", "r3", "r4"],
                           **{f"E_{k}": v for k, v in E.items()},
                           **{f"P_{k}": v for k, v in P.items()}})
    survey.to_csv(tmp_path / "survey.csv", index=False)
    pd.DataFrame({"item": list("abcd"), "dimension": ["x", "x", "y", "y"],
                  "wording": list("abcd"), "reverse": False}).to_csv(
        tmp_path / "instrument.csv", index=False)
    p = {"study_type": "gap_model", "study_id": "tiny", "title": "tiny survey", "seed": 1,
         "data": {"path": str(tmp_path / "survey.csv")},
         "instrument": str(tmp_path / "instrument.csv"), "respondent_id": "respondent_id",
         "cfa": False, "min_item_share": 0.5}
    if missing:
        p["missing"] = missing
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(p), encoding="utf-8")
    return GapModel(params.load(tmp_path / "tiny.yaml"))


def _t(d):  # paired t from the differences: mean / (sd / √n)
    d = np.asarray(d, float)
    return d.mean() / (d.std(ddof=1) / math.sqrt(d.size))


def test_complete_case_is_the_default_and_keeps_only_full_answer_sets(tmp_path):
    s = _study(tmp_path, None)
    assert s.params.missing == "complete_case"
    # r2 (E_b) and r3 (E_c, E_d) are incomplete: r1 and r4 remain.
    # x: r1 4.5 − 5.5 = −1, r4 6 − 6.5 = −0.5 → −0.75; y: r1 4 − 4 = 0, r4 6 − 5.5 = 0.5 → 0.25
    g = s.dimension_gaps.set_index("dimension")
    assert g.loc["x", "gap"] == pytest.approx(-0.75) and g.loc["x", "n"] == 2
    assert g.loc["y", "gap"] == pytest.approx(0.25) and g.loc["y", "n"] == 2
    assert g.loc["x", "t"] == pytest.approx(_t([-1, -0.5]), rel=1e-9)
    # SERVQUAL per respondent: r1 (−1 + 0)/2 = −0.5, r4 (−0.5 + 0.5)/2 = 0 → −0.25
    sq = s.scores.set_index("key").loc["unweighted"]
    assert sq["mean"] == pytest.approx(-0.25) and sq["n"] == 2
    used = s.used.set_index("dimension")
    assert used["used"].to_dict() == {"x": 2, "y": 2, "all": 2}
    assert used["left_out"].to_dict() == {"x": 2, "y": 2, "all": 2}
    # item a on complete cases: P − E = −1, −1 → gap −1 with n 2
    assert s.item_gaps.set_index("item").loc["a", "n"] == 2


def test_available_case_uses_every_dimension_score(tmp_path):
    s = _study(tmp_path, "available_case")
    # x: r1 −1; r2 E 6 (a only: 1 of 2 items ≥ 50 %), P 4.5 → −1.5; r3 5 − 4 = +1; r4 −0.5
    #    → (−1 − 1.5 + 1 − 0.5)/4 = −0.5, n 4
    # y: r1 0; r2 4 − 5.5 = −1.5; r3 has no E answer for y → left out; r4 0.5 → −1/3, n 3
    g = s.dimension_gaps.set_index("dimension")
    assert g.loc["x", "gap"] == pytest.approx(-0.5) and g.loc["x", "n"] == 4
    assert g.loc["y", "gap"] == pytest.approx(-1 / 3) and g.loc["y", "n"] == 3
    assert g.loc["x", "t"] == pytest.approx(_t([-1, -1.5, 1, -0.5]), rel=1e-9)
    assert g.loc["y", "t"] == pytest.approx(_t([0, -1.5, 0.5]), rel=1e-9)
    # E and P means over the respondents in the pair: x E (5.5 + 6 + 4 + 6.5)/4 = 5.5
    assert g.loc["x", "E"] == pytest.approx(5.5) and g.loc["y", "E"] == pytest.approx(5.0)
    # SERVQUAL: r1 −0.5, r2 (−1.5 − 1.5)/2 = −1.5, r4 0; r3 lacks y → −2/3 with n 3
    sq = s.scores.set_index("key").loc["unweighted"]
    assert sq["mean"] == pytest.approx(-2 / 3) and sq["n"] == 3
    used = s.used.set_index("dimension")
    assert used["used"].to_dict() == {"x": 4, "y": 3, "all": 3}
    assert used["left_out"].to_dict() == {"x": 0, "y": 1, "all": 1}
    assert s.item_gaps.set_index("item")["n"].to_dict() == {"a": 4, "b": 3, "c": 3, "d": 3}


@pytest.mark.parametrize("missing, counts", [("complete_case", {"x": 2, "y": 2, "all": 2}),
                                             ("available_case", {"x": 4, "y": 3, "all": 3})])
def test_respondents_used_are_in_the_report_and_results(tmp_path, missing, counts):
    s = _study(tmp_path, missing)
    res = s.results().items
    assert {d: res[f"respondents.{d}"].estimate for d in counts} == counts
    assert all(res[f"respondents.{d}"].n == 4 for d in counts)
    assert res["gap.y"].n == counts["y"]
    table = s.respondents_table().frame.set_index("Dimension")
    assert table.loc["All dimensions (SERVQUAL score)", "Used"] == str(counts["all"])
    assert table.loc["Y", "Left out"] == str(4 - counts["y"])
    assert f"{counts['all']} respondents" in s.summary_lines()[0]


def test_missing_rule_is_validated(tmp_path, run_cli):
    _study(tmp_path, "complete_case")
    text = (tmp_path / "tiny.yaml").read_text().replace("complete_case", "pairwise")
    (tmp_path / "tiny.yaml").write_text(text)
    code, _, err = run_cli("validate", tmp_path / "tiny.yaml")
    assert code == 2 and "missing" in err and "complete_case" in err
