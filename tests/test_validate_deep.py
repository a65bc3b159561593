"""`sqr validate` finds what the kernel would reject (too few ITS periods, a series too short
for its season terms, …) by computing the study in-process, without a kernel and without
writing anything; `--quick` checks params and data only."""

from __future__ import annotations

import pytest
from conftest import ROOT, assert_user_error, params_with, snapshot

CASES = [
    ({"its": {"freq": "month", "metrics": ["frt_median"], "seasonality": "month"}},
     ["key 'its' (frt_median)", "too many terms", "5 observed periods", "Fix:"]),
    ({"filters": {"channel": ["chat"], "team": ["tier2"]}, "data_cut": "2026-04-20T00:00:00"},
     ["key 'its' (frt_median)", "at least 3 observed periods before and 2 after", "Fix:"]),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_validate_rejects_what_the_kernel_would(tmp_path, run_cli, changes, expected):
    path = params_with(tmp_path, "chatbot_launch", **changes)
    outputs = snapshot(ROOT / "outputs") if (ROOT / "outputs").exists() else {}
    assert_user_error(run_cli, path, expected, tmp_path)
    code, out, _ = run_cli("validate", "--quick", path)
    assert code == 0 and out.startswith("ok")  # params and data alone look fine
    assert (snapshot(ROOT / "outputs") if (ROOT / "outputs").exists() else {}) == outputs


def test_quick_validation_of_every_demo_imports_no_statistics_or_plotting():
    """`sqr validate --quick` reads params and data only: for every demo study, a fresh
    interpreter running it imports neither scipy nor statsmodels nor matplotlib (their import
    is most of a second; the study objects import them when they compute)."""
    import subprocess
    import sys

    code = ("import sys; from sqresearch.cli.main import main; rc = main(['validate', '--quick', "
            "*sys.argv[1:]]); heavy = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'statsmodels', 'matplotlib', 'seaborn', 'pingouin', 'semopy'}); "
            "print('HEAVY', heavy); raise SystemExit(rc)")
    demos = sorted(str(p) for p in (ROOT / "params").glob("*.yaml"))
    done = subprocess.run([sys.executable, "-c", code, *demos], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout
    assert sum(line.startswith("ok") for line in done.stdout.splitlines()) == len(demos)
