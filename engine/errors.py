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


class InputError(RiskmapError):
    """An input file has problems. Carries every problem found, so a user fixes them in one pass."""

    exit_code = 2

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = list(problems)
        head = summary or f"{len(self.problems)} problem(s) found"
        super().__init__(head + "\n" + "\n".join(str(p) for p in self.problems))


ValidationError = InputError
