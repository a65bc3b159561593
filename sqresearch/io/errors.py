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
