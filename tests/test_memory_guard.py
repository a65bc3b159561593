"""``sqr run --max-memory``: the kernel caps its own address space, and running out of memory is
a message and exit code 2 (the last good report kept), not a dead kernel or a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from conftest import ROOT
from nbformat.v4 import new_code_cell, new_notebook

from sqresearch.cli import limits

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX")


@pytest.mark.parametrize("text, size", [
    ("8G", 8 * 2**30), ("8g", 8 * 2**30), ("8GB", 8 * 2**30), ("8GiB", 8 * 2**30),
    ("512M", 512 * 2**20), ("1.5G", 3 * 2**29), (" 2 T ", 2 * 2**40),
    (str(2**31), 2**31), ("none", None), ("off", None), ("0", None),
])
def test_sizes(text, size):
    assert limits.parse_size(text) == size


def test_share_of_the_physical_memory_and_the_default():
    total = limits.physical_memory()
    assert total and total > 2**28
    assert limits.parse_size("50%") == int(total * 0.5)
    assert limits.default_limit() == int(total * 0.75)


@pytest.mark.parametrize("text, words", [
    ("8X", "is not a memory size; use e.g. 8G"), ("lots", "is not a memory size"),
    ("150%", "between 0 % and 100 %"), ("10M", "too little for a Python kernel"),
])
def test_bad_sizes_say_what_is_accepted(text, words):
    with pytest.raises(ValueError, match=words):
        limits.parse_size(text)


def test_sizes_are_shown_in_the_units_given():
    sizes = (8 * 2**30, 1100 * 2**20, 3 * 2**29, 3 * 2**29 + 1, 2**40)
    assert [limits.format_size(s) for s in sizes] == \
        ["8 GB", "1100 MB", "1536 MB", "1.5 GB", "1 TB"]


def test_what_counts_as_running_out_of_memory():
    assert limits.is_memory_error("MemoryError", "Unable to allocate 7.45 GiB for an array")
    assert limits.is_memory_error("_ArrayMemoryError", "")
    assert limits.is_memory_error("ImportError", "x.so: failed to map segment from shared object")
    assert limits.is_memory_error("DataError", "cannot be read as csv: Out of Memory Error: …")
    assert limits.is_memory_error(limits.KERNEL_DIED, "Kernel died")
    assert not limits.is_memory_error("DataError", "column 'x' not found")
    assert not limits.is_memory_error("KeyError", "'memory'")


def test_the_failing_cell_is_named():
    nb = new_notebook(cells=[new_code_cell("import x", execution_count=1),
                             new_code_cell("# load\nstudy = Study.run(params)",
                                           execution_count=2),
                             new_code_cell("plot(study)"), new_code_cell("more()")])
    assert limits.failing_step(nb, 2) == "while running cell 2 (study = Study.run(params))"
    assert limits.failing_step(nb, None) == "while starting"  # no cell started
    # a dead kernel: papermill marks the cell it was running completed, with its start time
    for c, start in zip(nb.cells, ["t1", "t2", "t3", None], strict=True):
        c.metadata["papermill"] = {"status": "completed", "start_time": start}
    assert limits.failing_step(nb, None) == "while running cell 3 (plot(study))"


def test_no_limit_adds_no_kernel_argument():
    assert limits.kernel_arguments(None) == []
    (arg,) = limits.kernel_arguments(2**31)
    assert arg.startswith("--IPKernelApp.exec_lines=") and str(2**31) in arg


def test_the_cap_turns_a_large_allocation_into_memory_error():
    """In a fresh process: after ``cap`` an allocation beyond the limit raises MemoryError (and
    the process goes on), while one under it works."""
    code = textwrap.dedent("""
        import resource
        from sqresearch.cli import limits
        limits.cap(3 * 2**30)
        import numpy as np
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == 3 * 2**30
        small = np.ones(2**27)  # 1 GB: fits
        try:
            np.ones(2**29)  # 4 GB: does not
        except MemoryError as exc:
            print("MemoryError", exc)
        del small
        print(np.ones(2**26).sum() == 2**26)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("MemoryError Unable to allocate 4.00 GiB")
    assert done.stdout.splitlines()[1] == "True"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run(tmp_path, *args):
    out = tmp_path / "outputs"
    done = subprocess.run([sys.executable, "-m", "sqresearch", "run", *args,
                           str(ROOT / "params" / "support_desk.yaml"), "--outputs", str(out)],
                          capture_output=True, text=True, env=_env(), timeout=300,
                          cwd=str(tmp_path))
    return done, out


def _previous_good_report(out):
    """A previous run's report (as the runner left it), to see that a failed run keeps it."""
    folder = out / "support_desk_scorecard"
    folder.mkdir(parents=True)
    files = {"report.html": "<p>the last good report</p>", "results.json": '{"ok": 1}'}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder, files


@pytest.mark.parametrize("limit, shown", [
    # the kernel starts (about 0.8 GB of address space) but cannot import the study's stack
    ("1000M", "1000 MB"),
    # not even the kernel fits
    ("300M", "300 MB"),
])
def test_running_out_of_memory_is_a_message_and_exit_2(tmp_path, limit, shown):
    folder, files = _previous_good_report(tmp_path / "outputs")
    done, out = _run(tmp_path, "--max-memory", limit)
    assert done.returncode == 2, (done.stdout, done.stderr)
    err = done.stderr
    assert "params/support_desk.yaml: the" in err and "support_desk_scorecard" in err
    assert f"memory limit of {shown}" in err or f"needed more than {shown} of memory" in err
    assert "Fix: raise --max-memory (now " + shown in err and "lower 'resamples'" in err
    assert "Traceback" not in err and "Traceback" not in done.stdout
    for name, text in files.items():  # the last good report is kept
        assert (folder / name).read_text(encoding="utf-8") == text
    assert (folder / "FAILED.html").exists()
    assert json.loads((out / "status.json").read_text())[
        "params/support_desk.yaml"]["status"] == "invalid"
    assert not [p for p in out.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def test_a_bad_size_is_refused_before_anything_runs(tmp_path):
    done, out = _run(tmp_path, "--max-memory", "8X")
    assert done.returncode == 2
    assert "argument --max-memory: '8X' is not a memory size; use e.g. 8G" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_the_kernel_sees_the_cap(tmp_path):
    """The exec line sqr passes reaches the kernel before the first cell (papermill, as sqr
    starts it)."""
    import papermill as pm

    from sqresearch.cli import runner

    nb = new_notebook(cells=[new_code_cell(
        "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0])")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"),
                        kernel_name=runner._kernel_name(), progress_bar=False,
                        cwd=str(ROOT), extra_arguments=runner.KERNEL_ARGS
                        + limits.kernel_arguments(6 * 2**30))
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert done.cells[-1].outputs[0]["text"].strip() == str(6 * 2**30)
