"""One error hierarchy for riskmap.

The engine raises these; the CLI and the app turn them into one clear message. A user's
mistake never surfaces as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class RiskmapError(Exception):
    """Base class of every error riskmap raises on purpose."""

    exit_code = 1


class ConfigError(RiskmapError):
    """The configuration (database path, matrix, settings) is unusable."""


class NotFoundError(RiskmapError):
    """A record the caller named does not exist."""


class BadReference(NotFoundError):
    """A control reference that cannot be read as exactly one control (ambiguous, malformed, unknown
    edition): a mistake in what was typed, so it exits like a usage error."""

    exit_code = 2


class QueryRefused(RiskmapError):
    """A read-only query tried to write, reach files or the network, or ran too long."""


class StaleEditError(RiskmapError):
    """An edit was based on a version of a record that someone else has changed since."""


class RuleViolation(RiskmapError):
    """A business rule refused a change (e.g. excluding an SoA row without justification)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located precisely enough to fix it.

    ``record`` is a row number (1-based, counting the header as row 1 for tables) or a record id;
    ``field`` is the column or key; ``value`` is what was found; ``expected`` says what would be valid.
    """

    file: str
    record: str | int | None
    field: str | None
    message: str
    value: object = None
    expected: str | None = None

    def __str__(self) -> str:
        loc = ":".join(str(p) for p in (self.file, self.record, self.field) if p not in (None, ""))
        text = f"{loc}: {self.message}"
        if self.value is not None and self.value != "":
            shown = str(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            text += f" (value {shown!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


SHOWN_PER_GROUP = 3
"""A group of problems of one kind in one column with this many problems or fewer is listed in full."""
MAX_PROBLEM_LINES = 150
"""At most this many lines describe the problems of one error, however many there are."""


def _row_word(p: Problem) -> str:
    return "row" if isinstance(p.record, int) else "entry"


def _group_line(group: list[Problem]) -> str:
    """One line for many problems of one kind in one column: the count, the first rows and values."""
    first = group[0]
    where = ": ".join(str(x) for x in (first.file, first.field) if x not in (None, ""))
    word = _row_word(first)
    rows = ", ".join(str(p.record) for p in group[:3] if p.record is not None)
    values = [repr(str(p.value)[:40]) for p in group[:3] if p.value not in (None, "")]
    shown = f" ({', '.join(values)})" if values else ""
    text = f"{where}: {len(group):,} {word}s: {first.message}, e.g. {word}s {rows}{shown}"
    return text + (f"; expected {first.expected}" if first.expected else "")


def problem_lines(problems: list[Problem], limit: int = MAX_PROBLEM_LINES) -> list[str]:
    """Problems as a person reads them: grouped by file, column and kind (in the order first seen);
    a small group is listed problem by problem, a larger one as one line with its count and its first
    rows and values. Never more than ``limit`` lines, whatever the number of problems."""
    groups: dict[tuple[str, str | None, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.file, p.field, p.message), []).append(p)
    lines: list[str] = []
    for n, group in enumerate(groups.values()):
        more = [str(p) for p in group] if len(group) <= SHOWN_PER_GROUP else [_group_line(group)]
        if len(lines) + len(more) > limit - 1:
            rest = list(groups.values())[n:]
            lines.append(f"... and {len(rest):,} more kind(s) of problem ({sum(len(g) for g in rest):,} "
                         f"problem(s)) not shown here")
            break
        lines.extend(more)
    return lines


class InputError(RiskmapError):
    """An input file has problems. Carries every problem found, so a user fixes them in one pass; its
    message groups them (:func:`problem_lines`), so it stays short however many there are."""

    exit_code = 2

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) found"
        super().__init__("\n".join([self.summary, *problem_lines(self.problems)]))


ValidationError = InputError
