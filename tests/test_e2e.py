"""End to end: `sqr run --all` on the demo studies, reproducibility, and failures that keep the
last good report."""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from conftest import ROOT, snapshot, study_folder

from sqresearch.cli import main as cli
from sqresearch.cli import runner
from sqresearch.io import files
from sqresearch.io.schemas import STUDY_TYPES

pytestmark = pytest.mark.e2e
STUDIES = {"support_desk_scorecard", "branch_network_scorecard", "chatbot_launch",
           "agent_coaching", "branch_queueing", "coaching_trial", "bank_servqual",
           "email_triage", "branch_pilot", "regional_rollout", "flagship_pilot",
           "support_customers", "weekly_monitor"}


def test_the_list_is_every_demo_in_params():
    import yaml

    ids = {yaml.safe_load(f.read_text(encoding="utf-8"))["study_id"]
           for f in (ROOT / "params").glob("*.y*ml")}
    assert ids == STUDIES


def test_run_all_writes_every_output(run_all):
    code, out, _ = run_all
    assert code == 0
    for study in STUDIES:
        for name in ("notebook.ipynb", "report.html", "results.json", "manifest.json"):
            assert (study_folder(out, study) / name).is_file(), (study, name)
    index = (out / "index.html").read_text()
    for study in STUDIES - {"weekly_monitor"}:
        assert f'href="{study}/report.html"' in index
    assert 'href="weekly_monitor/index.html"' in index  # the weekly study's list of weeks
    assert index.count(">ok<") == len(STUDIES)
    assert not list(out.glob(".tmp-*")) and not list(out.glob(".old-*"))


def test_inputs_are_never_written(run_all):
    _, _, before = run_all
    assert snapshot(ROOT / "data", ROOT / "params", ROOT / "notebooks") == before


def test_report_is_self_contained_and_hides_code_and_personal_data(run_all):
    _, out, _ = run_all
    html = (out / "support_desk_scorecard" / "report.html").read_text()
    assert "<script src" not in html and "<link href=\"http" not in html
    assert not re.search(r'(src|href)="https?://', html)
    assert html.count("data:image/png;base64") >= 8  # figures embedded
    assert '<nav class="sqr-toc"' in html and 'href="#Summary"' in html
    assert "import sqresearch" not in html and "from sqresearch" not in html  # code hidden
    assert "_sqr_names_before" not in html  # setup and parameter cells removed
    assert "@example.org" not in html and "Waited too long" not in html  # personal data
    assert "Support desk service levels" in html
    for section in ("Summary", "Targets", "Control charts", "Data quality", "Reproducibility"):
        assert f">{section}<" in html


def test_results_json_schema(run_all):
    _, out, _ = run_all
    res = json.loads((out / "support_desk_scorecard" / "results.json").read_text())
    assert res["schema_version"] == 2 and res["study_type"] == "scorecard"
    assert res["headline"] == "5 of 6 targets met"
    keys = {r["key"] for r in res["results"]}
    assert {"kpi.frt_median", "kpi.nps", "kpi.fcr.period=2026-01", "kpi.csat_mean.channel=chat",
            "control.frt_median.signals", "ahp.consistency_ratio"} <= keys
    fields = {"key", "label", "estimate", "ci_low", "ci_high", "ci_level", "statistic",
              "statistic_name", "p_value", "n", "unit", "method", "verdict", "group",
              "decided_by", "family", "p_adjusted", "sesoi", "clusters"}
    assert all(set(r) == fields for r in res["results"])
    fcr = next(r for r in res["results"] if r["key"] == "target.fcr>=0.75")
    assert fcr["verdict"] == "not met" and fcr["ci_high"] < 0.75
    assert res["inputs"][0]["rows"] == 4530


def test_before_after_reports(run_all):
    _, out, _ = run_all
    res = json.loads((out / "chatbot_launch" / "results.json").read_text())
    effect = next(r for r in res["results"] if r["key"] == "effect.frt")
    assert effect["p_value"] < 0.001 and effect["statistic_name"] == "t" and effect["ci_high"] < 1
    v = next(r for r in res["results"] if r["key"] == "verdict.frt")
    assert v["verdict"] == "improved" and v["decided_by"] == "cluster_robust_cr2"
    assert v["family"] == "confirmatory" and v["sesoi"] == 5 and v["clusters"]["week"] >= 16
    assert v["ci_high"] < 0 and v["unit"] == "log ratio" and v["ci_level"] > 0.95
    seg = next(r for r in res["results"] if r["key"] == "verdict.frt.team=tier2")
    assert seg["family"] == "exploratory" and seg["ci_level"] == 0.95
    html = (out / "agent_coaching" / "report.html").read_text()
    assert "McNemar" in html and "Anna Schmidt" not in html  # agent names are dropped
    for section in ("Verdicts", "Design and methods", "Results per metric",
                    "Segments and secondary metrics (exploratory)", "Caveats",
                    "Minimum detectable effects"):
        assert f">{section}<" in html


def test_control_group_reports(run_all):
    _, out, _ = run_all
    res = json.loads((out / "branch_queueing" / "results.json").read_text())
    effect = next(r for r in res["results"] if r["key"] == "effect.frt_median")
    assert effect["unit"] == "log points" and effect["ci_high"] < 0
    v = next(r for r in res["results"] if r["key"] == "verdict.frt_median")
    assert v["decided_by"] == "randomization_inference" and v["verdict"] == "improved"
    assert v["clusters"] == {"total": 12, "treated": 4, "control": 8}
    pilot = json.loads((out / "branch_pilot" / "results.json").read_text())
    v = next(r for r in pilot["results"] if r["key"] == "verdict.wait")
    assert v["verdict"] == "inconclusive" and v["decided_by"] == "randomization_inference"
    naive = next(r for r in pilot["results"] if r["key"] == "effect.wait")
    assert naive["p_value"] < 0.05 < v["p_value"]  # the naive t would have called it a success
    triage = json.loads((out / "email_triage" / "results.json").read_text())
    words = {r["key"]: r["verdict"] for r in triage["results"] if r["key"].startswith("verdict.")}
    assert words["verdict.frt"] == "equivalent" and "inconclusive" in words.values()
    html = (out / "coaching_trial" / "report.html").read_text()
    for section in ("Verdicts", "Baseline balance", "Effects per metric",
                    "Segments (exploratory)", "Caveats"):
        assert f">{section}<" in html
    assert "ANCOVA" in html and "mixed ANOVA" in html


def test_coaching_trial_results_match_r_on_the_demo_file(run_all):
    """results.json of `sqr run` against R on data/coaching_trial.csv
    (tests/reference_coaching_trial.R): lm(post ~ treated + pre + tenure_years), HC2."""
    _, out, _ = run_all
    res = json.loads((out / "coaching_trial" / "results.json").read_text())
    v = {r["key"]: r for r in res["results"]}
    csat = v["verdict.csat_mean"]
    assert csat["estimate"] == pytest.approx(0.160336243971302, rel=1e-9)
    assert [csat["ci_low"], csat["ci_high"]] == pytest.approx(
        [0.0909855000412062, 0.229686987901398], rel=1e-9)  # coefci(level = 0.975)
    assert csat["p_value"] == pytest.approx(1.84869021565513e-06, rel=1e-6)
    assert csat["verdict"] == "improved" and csat["decided_by"] == "ancova_hc2_t"
    aht = v["verdict.handle_time"]
    assert aht["estimate"] == pytest.approx(-0.0909545273345966, rel=1e-9)
    assert [aht["ci_low"], aht["ci_high"]] == pytest.approx(
        [-0.131472976818318, -0.0504360778508747], rel=1e-9)  # coefci(level = 0.95)


def test_gap_model_report(run_all):
    _, out, _ = run_all
    res = json.loads((out / "bank_servqual" / "results.json").read_text())
    keys = {r["key"] for r in res["results"]}
    assert {"gap.reliability", "score.unweighted", "score.weighted", "score.servperf",
            "alpha.reliability.P", "cfa.cfi", "gap1.reliability", "priority.1",
            "omega.reliability.P", "gap_reliability.reliability.alpha", "cfa.chi2_scaled",
            "cfa.htmt.reliability|responsiveness", "predictive.delta_r2"} <= keys
    html = (out / "bank_servqual" / "report.html").read_text()
    for section in ("The customer gap (gap 5)", "Reliability", "Factor structure",
                    "Zone of tolerance", "The provider-side gaps", "Priorities for improvement",
                    "How reliable is a gap?", "SERVQUAL or SERVPERF?"):
        assert f">{section}<" in html, section
    assert "@example.org" not in html


def test_manifest_records_what_produced_the_report(run_all):
    _, out, _ = run_all
    man = json.loads((out / "branch_network_scorecard" / "manifest.json").read_text())
    path = ROOT / "data" / "branch_visits.parquet"
    assert man["inputs"][0] == {"path": "data/branch_visits.parquet", "sha256": files.sha256(path),
                                "rows": 13651, "format": "parquet"}
    assert man["params"]["study_id"] == "branch_network_scorecard" and man["seed"] == 20260102
    env = man["environment"]
    assert env["python"].startswith("3.11") and "pandas" in env["packages"]
    assert set(env["git"]) == {"commit", "dirty"}
    assert man["timings"]["total_s"] > 0 and man["template"]["path"] == "notebooks/scorecard.ipynb"


def test_same_params_and_data_give_byte_identical_results(run_all, tmp_path):
    """Every study, bootstraps and model fits included, run again: the same bytes."""
    _, out, _ = run_all
    assert cli.main(["run", "--all", "--outputs", str(tmp_path)]) == 0
    for study in STUDIES:
        first = (study_folder(out, study) / "results.json").read_bytes()
        assert (study_folder(tmp_path, study) / "results.json").read_bytes() == first, study


@pytest.fixture
def broken_project(tmp_path, monkeypatch, run_all):
    """A copy of the project whose scorecard template fails after loading the data, with the
    last good outputs of the real run in place."""
    _, out, _ = run_all
    root = tmp_path / "project"
    (root / "params").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "support_desk.yaml", root / "params")
    (root / "data").symlink_to(ROOT / "data")
    (root / "notebooks").mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "scorecard.ipynb", as_version=4)
    nb.cells.insert(5, nbformat.v4.new_code_cell("raise RuntimeError('simulated failure')"))
    nbformat.write(nb, root / "notebooks" / "scorecard.ipynb")
    outputs = root / "outputs"
    shutil.copytree(out / "support_desk_scorecard", outputs / "support_desk_scorecard")
    monkeypatch.setenv("SQR_PROJECT_ROOT", str(root))
    return root, outputs


def test_failed_run_keeps_the_last_good_report(broken_project, run_cli):
    root, outputs = broken_project
    study = outputs / "support_desk_scorecard"
    good = snapshot(study)
    code, stdout, err = run_cli("run", root / "params" / "support_desk.yaml", "--outputs", outputs)
    assert code == 1
    assert "simulated failure" in err and "failed" in stdout
    after = snapshot(study)
    assert {k: v for k, v in after.items() if k in good} == good  # nothing overwritten
    failed = (study / "FAILED.html").read_text()
    assert "simulated failure" in failed and "RuntimeError" in failed
    assert "papermill-error-cell" in failed or "An Exception was encountered" in failed
    info = json.loads((study / "failed.json").read_text())
    assert info["error"] == "RuntimeError"
    index = (outputs / "index.html").read_text()
    assert ">failed<" in index and "support_desk_scorecard/report.html" in index
    assert "support_desk_scorecard/FAILED.html" in index
    assert not list(outputs.glob(".tmp-*"))


def test_invalid_study_in_run_all_exits_2_and_others_finish(broken_project, run_cli):
    root, outputs = broken_project
    (root / "params" / "bad.yaml").write_text("study_type: scorecard\nstudy_id: bad\n",
                                              encoding="utf-8")
    shutil.copy(ROOT / "notebooks" / "scorecard.ipynb", root / "notebooks" / "scorecard.ipynb")
    good = snapshot(outputs / "support_desk_scorecard")
    code, stdout, err = run_cli("run", "--all", "--outputs", outputs, "--jobs", "1")
    assert code == 2
    assert "bad" in stdout and "invalid" in stdout and "key 'title'" in err
    assert (outputs / "support_desk_scorecard" / "report.html").is_file()
    assert snapshot(outputs / "support_desk_scorecard") != good  # the valid study re-ran


def test_plain_papermill_rejects_undeclared_parameters(tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as exc:
        pm.execute_notebook(str(ROOT / "notebooks" / "scorecard.ipynb"),
                            str(tmp_path / "out.ipynb"), parameters={"bogus_key": 1},
                            kernel_name=runner._kernel_name(), progress_bar=False, cwd=str(ROOT))
    assert exc.value.ename == "ParamsError"
    assert "key 'bogus_key'" in exc.value.evalue and "unknown key" in exc.value.evalue


@pytest.mark.parametrize("study_type", sorted(STUDY_TYPES))
def test_template_runs_top_to_bottom_with_its_own_defaults(tmp_path, study_type):
    """What a researcher gets in JupyterLab: no injected parameters, the demo study."""
    import papermill as pm

    from sqresearch.report import results

    pm.execute_notebook(str(ROOT / "notebooks" / f"{study_type}.ipynb"), str(tmp_path / "o.ipynb"),
                        kernel_name=runner._kernel_name(), progress_bar=False, cwd=str(ROOT))
    payload = results.extract(nbformat.read(tmp_path / "o.ipynb", as_version=4))
    assert payload["study_type"] == study_type and payload["results"]


def test_weekly_monitor_keeps_each_week_and_hides_personal_data(run_all, tmp_path):
    """The monitor's week folder, its list of weeks, the meeting summary; none of the personal
    data planted in the complaint texts reaches report.html, results.json or summary.md; and
    `--week` reruns a past week byte for byte."""
    from sqresearch.simulate.monitor import weekly_monitor

    _, out, _ = run_all
    week = out / "weekly_monitor" / "2026-W48"
    summary = (week / "summary.md").read_text(encoding="utf-8")
    assert len(summary.strip().split("\n")) == 5 and "2026-W48" in summary
    weeks = json.loads((out / "weekly_monitor" / "weeks.json").read_text(encoding="utf-8"))
    assert [w["week"] for w in weeks] == ["2026-W48"]
    assert 'href="2026-W48/report.html"' in (out / "weekly_monitor" / "index.html").read_text()
    planted = weekly_monitor(truth_columns=True)
    secrets = set()
    for col in [c for c in planted.columns if c.startswith("pii_")] + ["customer_phone"]:
        secrets |= {str(v) for v in planted[col].dropna() if len(str(v)) >= 6}
    assert len(secrets) > 100
    for name in ("report.html", "results.json", "summary.md"):
        text = (week / name).read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text]
        assert not leaked, (name, leaked[:3])
    args = ["run", str(ROOT / "params" / "weekly_monitor.yml"), "--outputs", str(tmp_path),
            "--week", "2026-W47"]
    assert cli.main(args) == 0
    first = {n: (tmp_path / "weekly_monitor" / "2026-W47" / n).read_bytes()
             for n in ("results.json", "summary.md")}
    assert cli.main([*args, "--force"]) == 0
    for n, b in first.items():
        assert (tmp_path / "weekly_monitor" / "2026-W47" / n).read_bytes() == b, n
    assert json.loads(first["results.json"])["headline"].startswith("week 2026-W47")


def test_week_option_errors(capsys, tmp_path):
    out = ["--outputs", str(tmp_path)]
    assert cli.main(["run", str(ROOT / "params" / "support_desk.yaml"), "--week",
                     "2026-W47", *out]) == 2
    assert "has no report week" in capsys.readouterr().err
    assert cli.main(["run", str(ROOT / "params" / "weekly_monitor.yml"), "--week",
                     "W47", *out]) == 2
    assert "is not an ISO week" in capsys.readouterr().err
