"""A memory limit for the kernels ``sqr run`` starts (``--max-memory``).

Without one, a study that needs more memory than the machine has is ended by the kernel's
out-of-memory killer (or makes the machine swap) and the run stops with "Kernel died". With one,
the kernel's address space is capped (``RLIMIT_AS``, set by the kernel on itself before the first
cell runs: ``--IPKernelApp.exec_lines``), so an allocation beyond the cap fails inside the study
as a ``MemoryError`` and the runner turns it into a message and exit code 2; the last good report
is kept, as for every failed run.

The cap counts address space, not resident memory: a Python kernel with numpy, pandas and the
plotting stack reserves roughly 1.5 GB of address space of which about a third is resident. The
default, 75 % of the physical memory, is for one kernel; with ``--jobs`` several kernels may each
use up to it.
"""

from __future__ import annotations

import math
import os
import re

#: Share of the physical memory a kernel may use when ``--max-memory`` is not given.
DEFAULT_SHARE = 0.75
#: Below this a Python kernel cannot even import the study stack: refused as a typo.
MINIMUM = 64 * 2**20
#: Address space a capped kernel holds back to report a MemoryError (see ``cap``).
RESERVE = 64 * 2**20
#: The error name the runner gives a kernel that died under a cap.
KERNEL_DIED = "KernelDiedUnderMemoryCap"

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_MEMORY_WORDS = ("unable to allocate", "cannot allocate memory", "out of memory",
                 "failed to map segment", "std::bad_alloc")


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def default_limit() -> int | None:
    total = physical_memory()
    return int(total * DEFAULT_SHARE) if total else None


def parse_size(text: str) -> int | None:
    """``--max-memory``: bytes from "8G", "512M", "1.5g", "8GB", "8GiB", "75%" (of the physical
    memory) or a plain number of bytes; None for "none" / "off" (no limit).

    Raises ValueError with the accepted forms (argparse shows it and exits 2).
    """
    s = str(text).strip().upper().replace(" ", "")
    if s in ("NONE", "OFF", "0"):
        return None
    if s.endswith("%"):
        try:
            share = float(s[:-1]) / 100
        except ValueError:
            share = math.nan
        total = physical_memory()
        if not 0 < share <= 1:
            raise ValueError(f"{text!r}: a share of the physical memory must be between 0 % and "
                             "100 %, e.g. 75%")
        if total is None:
            raise ValueError(f"{text!r}: this system does not report its physical memory; give "
                             "a size such as 8G")
        size = int(total * share)
    else:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([KMGT]?)(?:I?B)?", s)
        if m is None:
            raise ValueError(f"{text!r} is not a memory size; use e.g. 8G, 512M, 75% or none")
        size = int(float(m.group(1)) * _UNITS[m.group(2)])
    if size < MINIMUM:
        raise ValueError(f"{text!r} is less than {format_size(MINIMUM)}, too little for a Python "
                         "kernel; use e.g. 8G (or none for no limit)")
    return size


def size_argument(text: str) -> int | None:
    """``parse_size`` for argparse, which shows the reason and exits 2."""
    import argparse

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_size(size: int) -> str:
    """Binary units as the option takes them: 8 GB for 8·2³⁰ bytes, 1100 MB, 17.5 GB."""
    units = (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10))
    for unit, factor in units:
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    for unit, factor in units:
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def kernel_arguments(limit: int | None) -> list[str]:
    """Kernel command-line arguments that make the kernel cap its own address space at ``limit``
    bytes before any cell runs (none for no limit, or where ``resource`` does not exist)."""
    if limit is None:
        return []
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return []
    line = f"__import__('sqresearch.cli.limits', fromlist=['cap']).cap({int(limit)})"
    return [f"--IPKernelApp.exec_lines={line}"]


def cap(limit: int) -> None:
    """Run in the kernel: lower the soft address-space limit to ``limit`` (never above the hard
    limit). Allocations beyond it then fail with MemoryError instead of exhausting the machine.

    A reserve of ``RESERVE`` bytes of address space is taken under the cap and handed back when
    a MemoryError reaches the cell: the failing allocation is often a small one at the very edge,
    and formatting the error and sending it to the runner needs memory too (without the reserve
    the kernel can die or hang instead of reporting). A cap below what the idle kernel already
    holds is raised to that plus the reserve and some room for the kernel's own threads, or the
    kernel would die (printing its traceback) instead of failing the first cell.
    """
    import resource

    from sqresearch.report import cell_errors

    used = _address_space()
    if used is not None:
        limit = max(limit, used + RESERVE + 64 * 2**20)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    cell_errors.hold_reserve(RESERVE)
    cell_errors.install()


def _address_space() -> int | None:
    """This process's address space in bytes (Linux), None elsewhere."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def is_memory_error(ename: str, evalue: str) -> bool:
    """Whether a cell's error is memory exhaustion (numpy's "Unable to allocate …", a bare
    MemoryError, a shared library or a thread that could not get memory, DuckDB's "Out of
    Memory Error" inside a data error), or the kernel died under the cap."""
    text = f"{ename}: {evalue}".lower()
    return (ename == KERNEL_DIED or ename.endswith("MemoryError")
            or any(w in text for w in _MEMORY_WORDS))


def memory_message(source: str, study: str, limit: int | None, nb, error) -> str:
    """The message for a study that ran out of memory; ``error`` = (ename, evalue, cell)."""
    died = error[0] == KERNEL_DIED
    step = failing_step(nb, error[2])
    if limit is None:
        cap_text = "more memory than the machine could give"
        raise_it = "free memory on the machine (or run it on a larger one)"
    else:
        cap_text = f"more than {format_size(limit)} of memory"
        raise_it = (f"raise --max-memory (now {format_size(limit)}; e.g. --max-memory "
                    f"{_suggest(limit)})")
    what = (f"the kernel of study {study} died {step} under a memory limit of "
            f"{format_size(limit)}, which means it needed more" if died and limit else
            f"the study {study} needed {cap_text} {step}")
    return (f"{source}: {what}; it was stopped and the last good report, if any, is kept. "
            f"Fix: {raise_it}, filter the data to fewer rows (a shorter period or fewer "
            "segments), or lower 'resamples'.")


def _suggest(limit: int) -> str:
    total = physical_memory()
    bigger = 2 * limit if total is None else min(2 * limit, int(0.9 * total))
    return f"{max(bigger, limit + 2**30) // 2**30}G"


def failing_step(nb, cell: int | None) -> str:
    """Where a run failed, for messages: 'while running cell 4 (study = …)' from the executed
    notebook's cell with that execution count or, for a kernel that died (no count), the last
    cell papermill started; 'while starting' when no cell started."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if cell is not None:
        found = [(i, c) for i, c in enumerate(code, start=1) if c.get("execution_count") == cell]
    else:
        found = [(i, c) for i, c in enumerate(code, start=1)
                 if c.get("metadata", {}).get("papermill", {}).get("start_time") is not None]
    if not found:
        return "while starting" if cell is None else f"while running cell {cell}"
    number, c = found[-1]  # papermill counts code cells from 1, as execution counts do
    lines = [ln.strip() for ln in str(c.get("source", "")).splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    what = "" if not lines else f" ({lines[0] if len(lines[0]) <= 60 else lines[0][:57] + '…'})"
    return f"while running cell {cell or c.get('execution_count') or number}{what}"
