"""Typed errors.

User errors (bad params, bad data) derive from :class:`UserInputError`; the command line prints
their message without a traceback and exits with code 2. Everything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong and how to fix it."""

    where: str  # e.g. "key 'data.tickets.path' (line 7)" or "column 'csat', rows 4, 9"
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        return f"{text} Fix: {self.fix}" if self.fix else text


class UserInputError(ValueError):
    """Input the user can correct. Carries every problem found, not just the first."""

    kind = "input"

    def __init__(self, source: str, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.source = str(source)
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{self.source}: {n} {self.kind} problem{'s' if n != 1 else ''}"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class ParamsError(UserInputError):
    """A study's parameters (YAML file or notebook parameters) are invalid."""

    kind = "parameter"


class DataError(UserInputError):
    """An input data file is missing, unreadable or fails validation."""

    kind = "data"


#: how many offending values a message shows
SHOWN = 5
_WIDTH = 40


def show(value) -> str:
    """An offending value as a message shows it: quoted, control and invisible characters made
    visible (``\\n``, ``\\x00``, ``\\u202e``), at most 40 characters — values come from files
    nobody vetted."""
    if value is None or (isinstance(value, float) and value != value):
        return "(empty)"
    from sqresearch.io.personal import mask_text  # e-mails, phones and ids never echoed

    text = repr(mask_text(str(value), long_numbers=False))[1:-1]
    if len(text) > _WIDTH:
        text = text[:_WIDTH - 1] + "…"
    return f"'{text}'"


def examples(rows, values=None, total: int | None = None, limit: int = SHOWN) -> str:
    """Offending rows for a message, the same everywhere: ``line 4: '2026-02-30', line 9:
    'yesterday' … (12 more)``.

    rows : row labels ("line 4", "row 7"), in order; only the first ``limit`` are shown
    values : the offending values, parallel to ``rows`` (None: labels only)
    total : how many offend in all (default ``len(rows)``)
    """
    rows = list(rows)
    total = len(rows) if total is None else total
    if values is None:
        shown = [str(r) for r in rows[:limit]]
    else:
        shown = [f"{r}: {show(v)}" for r, v in zip(rows[:limit], list(values)[:limit],
                                                     strict=False)]
    more = total - len(shown)
    return ", ".join(shown) + (f" … ({more:,} more)" if more > 0 else "")


def nothing_left(quality, origin: str, n_read: int,
                 fixes: dict[str, str] | None = None) -> DataError:
    """The error for a table whose every row was excluded: the largest exclusions (from the
    data-quality table) and how to avoid them."""
    gone = quality[quality["action"] == "excluded"].sort_values("rows", ascending=False,
                                                                kind="stable")
    reasons = "; ".join(f"{r.check}" + (f" (column {r.column!r})" if r.column else "") +
                        f": {r.rows:,} row(s)" + (f", e.g. {r.examples}" if r.examples else "")
                        for r in gone.head(3).itertuples())
    fixes = fixes or {}
    fix = " ".join(dict.fromkeys(fixes.get(c, "") for c in gone["check"].head(3))).strip() or \
        ("check the settings behind these exclusions (data.on_invalid, filters, data_cut, "
         "wash-out, period values) against the file.")
    return DataError(origin, Problem("data", f"no rows are left to analyse: all {n_read:,} "
                                     f"row(s) read were excluded — {reasons}.", fix))
