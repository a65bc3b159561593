"""The gap-model presentation methods the template calls, one per cell: every table shows
the numbers recorded in results.json, in one format, with labels and no raw Python."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from sqresearch.designs.gap_model import present
from sqresearch.designs.gap_model.study import GapModel
from sqresearch.io import params

TABLES = ["instrument_table", "respondents_table", "dimension_table", "scores_table",
          "item_table", "reliability_table", "item_reliability_table", "cfa_table",
          "loadings_table", "zone_table", "importance_table", "segment_table", "gap1_table",
          "gap2_table", "priorities_table", "difference_reliability_table", "predictive_table",
          "factor_table", "htmt_table"]
RAW = re.compile(r"^\[|\]$|\bNone\b|\bnan\b|\(s\)|object at 0x|^-\d")
sg, p_text, gap_ci = present.sg, present.p_text, present.gap_ci


@pytest.fixture(scope="module")
def bank():
    return GapModel(params.load(ROOT / "params" / "bank_servqual.yaml"))


@pytest.fixture(scope="module")
def recorded(bank):
    return bank.results().items


def test_number_formats():
    assert sg(-0.4449) == "−0.44" and sg(0.064) == "+0.06" and sg(float("nan")) == "–"
    assert gap_ci(-1.0, -1.2, -0.8) == "−1.00 (−1.20 to −0.80)"
    assert p_text(0.01234) == "0.012" and p_text(0.0001) == "< 0.001"
    assert p_text(float("nan")) == "–"


@pytest.mark.parametrize("method", TABLES)
def test_tables_have_captions_labels_and_no_raw_python(bank, method):
    t = getattr(bank, method)()
    assert isinstance(t, present.Table) and t.caption and len(t.frame)
    cells = [str(v) for v in t.frame.to_numpy().ravel()] + list(map(str, t.frame.columns))
    assert [c for c in cells if RAW.search(c)] == []
    assert "tangibles" not in cells  # dimension ids are shown by their labels
    assert "<caption>" in t._repr_html_()


def test_dimension_table_shows_the_recorded_gaps(bank, recorded):
    t = bank.dimension_table().frame.set_index("Dimension")
    for d in bank.dims:
        r = recorded[f"gap.{d}"]
        row = t.loc[bank.label(d)]
        assert row["Gap P − E"] == sg(r.estimate)
        assert row["CI (at its Holm level)"] == f"{sg(r.ci_low)} to {sg(r.ci_high)}"
        assert row["CI level"] == f"{100 * r.ci_level:.3g} %"
        assert row["p (Holm)"] == p_text(r.p_adjusted) and row["Verdict"] == r.verdict
        assert row["Wilcoxon p"] == p_text(recorded[f"wilcoxon.{d}"].estimate)
        assert row["E (mean)"] == f"{recorded[f'mean.E.{d}'].estimate:.2f}"


def test_priorities_and_importance_show_the_recorded_weights(bank, recorded):
    pr = bank.priorities_table().frame
    for _, row in pr.iterrows():
        r = recorded[f"priority.{row['Rank']}"]
        assert row["Priority score"] == f"{r.estimate:.3f}"
        dim = r.group["dimension"]
        assert row["Dimension"] == bank.label(dim)
        assert row["Importance"] == f"{100 * recorded[f'importance.stated.{dim}'].estimate:.1f} %"


def test_segment_and_provider_tables_match_results(bank, recorded):
    seg = bank.segment_table().frame
    first = seg.iloc[0]
    r = recorded["segment.segment.tangibles"]
    assert first["p (Holm)"] == p_text(r.p_adjusted) and first["p"] == p_text(r.p_value)
    assert "retail − business" in first["Difference (95 % CI)"]
    g1 = bank.gap1_table().frame.set_index("Dimension").loc["Reliability"]
    r = recorded["gap1.reliability"]
    assert g1["Gap 1: managers − customers (95 % CI)"] == gap_ci(r.estimate, r.ci_low, r.ci_high)
    g3 = bank.delivery_table("gap 3").frame
    assert len(g3) == 4 and set(g3["Status"]) <= {"met", "not met"}


def test_notes_and_figures(bank):
    assert isinstance(bank.posthoc_table(), present.Note | present.Table)
    for method in ("plot_gaps", "plot_zone", "plot_importance"):
        ax = getattr(bank, method)().axes[0]
        assert ax.get_xlabel() and ax.get_title(loc="left")
    assert "scale points" in bank.plot_gaps().axes[0].get_xlabel()
    assert bank.summary()["key"].is_unique and "<table" in bank._repr_html_()


def test_measurement_tables_show_the_recorded_numbers(bank, recorded):
    pt = bank.predictive_table().frame
    assert pt["R²"].tolist() == [f"{recorded[f'predictive.{k}.r2'].estimate:.3f}"
                                 for k in ("servqual", "servperf")]
    h = bank.htmt_table().frame.set_index("Dimension")
    assert h.loc["Reliability", "Tangibles"] == \
        f"{recorded['cfa.htmt.tangibles|reliability'].estimate:.3f}"
    d = bank.difference_reliability_table().frame.set_index("Dimension").loc["Empathy"]
    assert d["Gap P − E: reliability from α / from ω"] == (
        f"{recorded['gap_reliability.empathy.alpha'].estimate:.2f} / "
        f"{recorded['gap_reliability.empathy.omega'].estimate:.2f}")
    f = bank.factor_table().frame.set_index("Dimension").loc["Assurance"]
    assert f["AVE"] == f"{recorded['cfa.ave.assurance'].estimate:.3f}"
