"""Closed vocabularies: the spellings people use for a value, mapped to the value stored.

A vocabulary is a plain mapping from a cleaned spelling (lower case, single spaces) to the stored
value. The register's vocabularies (``engine.register.vocab``), the SoA's codes and the treatment
plan's statuses are all built and read with these helpers, so ``In progress`` typed in the app and
``in_progress`` in a file mean the same thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "UNKNOWN_WORDS", "canon", "choices", "clean", "codes", "expected", "vocabulary"]

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x", "✓", "✔", "affected", "ja", "oui"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "-", "none", "not affected", "nein", "non"})
UNKNOWN_WORDS = frozenset({"unknown", "not known", "?", "tbc", "tbd", "to be confirmed", "not recorded",
                           "unsure", "don't know", "dont know", "undecided"})
"""Spellings of "not known (yet)" for a yes / no / not known field (``tristate``): an AI system
characteristic nobody recorded, an SoA row not yet decided."""


def clean(value: object) -> str:
    """Lower case, trimmed, inner whitespace and underscores collapsed to single spaces."""
    return re.sub(r"[\s_]+", " ", str(value).strip().lower())


def vocabulary(groups: Mapping[str, str]) -> dict[str, str]:
    """A vocabulary from ``{stored value: "spelling|spelling|..."}``; the stored value is a spelling too."""
    out: dict[str, str] = {}
    for stored, spellings in groups.items():
        out[clean(stored)] = stored
        for s in spellings.split("|"):
            if s:
                out[clean(s)] = stored
    return out


def codes(values: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    """A vocabulary of codes (``in_progress``), each also written as its label when given a mapping
    ``{code: label}`` (``Partially implemented`` for ``partial``)."""
    if isinstance(values, Mapping):
        return vocabulary({code: label for code, label in values.items()})
    return vocabulary(dict.fromkeys(values, ""))


def canon(value: object, table: Mapping[str, str]) -> str | None:
    """The stored value for a spelling, or None when the spelling is not in the vocabulary."""
    if value is None:
        return None
    return table.get(clean(value))


def choices(table: Mapping[str, str]) -> list[str]:
    """The stored values of a vocabulary, in declaration order."""
    return list(dict.fromkeys(table.values()))


def expected(table: Mapping[str, str]) -> str:
    return "one of " + ", ".join(choices(table))
