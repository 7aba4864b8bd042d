"""Field rules: how a value given for a field of a record is checked and turned into its stored form.

Each domain declares its fields as :class:`FieldSpec` (the register in ``engine.register.records``,
the SoA in ``engine.soa.rows``, the treatment plan in ``engine.plan.actions``); the one write path
(:mod:`engine.records.write`) and the importers coerce every value through :func:`coerce`, so a date,
a yes/no or a vocabulary value is read the same way wherever it is typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from engine.errors import Problem

from .vocab import FALSE_WORDS, TRUE_WORDS, UNKNOWN_WORDS, canon, clean, expected

__all__ = ["BOOL", "DATE", "DATE_FORMATS", "DType", "FRAME_TYPES", "FieldSpec", "REQUIRED", "SCORE", "TEXT",
           "TRISTATE_EXPECTED", "coerce", "coerce_all", "date_expected", "parse_bool", "parse_date", "parse_tristate", "split_list"]

DType = pl.DataType | type[pl.DataType]
"""A polars data type, as an instance (``pl.List(pl.String)``) or a class (``pl.String``)."""

KINDS = ("text", "enum", "multi", "list", "bool", "tristate", "score", "positive", "date")


@dataclass(frozen=True)
class FieldSpec:
    """How one field is validated.

    ``kind``: text; enum (one value of the vocabulary ``table``); multi (a comma list of a closed
    vocabulary, stored as text); list (stored as VARCHAR[]: items of ``table``, others refused when
    ``closed``, kept cleaned when not; without a table, kept as written); bool (yes/no, empty is no);
    tristate (yes, no, or empty or "unknown" for not known / undecided); score (a whole number from 1 to the matrix size);
    positive (a number above 0); date. ``noun`` names a value in refusals (``unknown status 'done'``).
    """

    kind: str
    required: bool = False
    table: Mapping[str, str] | None = None
    closed: bool = True
    noun: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}; expected one of {', '.join(KINDS)}")


TEXT = FieldSpec("text")
REQUIRED = FieldSpec("text", required=True)
DATE = FieldSpec("date")
SCORE = FieldSpec("score")
BOOL = FieldSpec("bool")
TRISTATE_EXPECTED = "yes, no, or empty / unknown when not known"

FRAME_TYPES: dict[str, DType] = {"text": pl.String, "enum": pl.String, "multi": pl.String,
                                 "list": pl.List(pl.String), "bool": pl.Boolean, "tristate": pl.Boolean,
                                 "score": pl.Int32, "positive": pl.Float64, "date": pl.Date}
"""The polars type of each field kind's stored form (the write path moves values in frames)."""

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y",
                "%b %d %Y", "%B %d %Y")
"""Date spellings read from registers, tried in order. Slashed dates are day first (31/01/2025), as
most registers outside the US write them; a mapping file can set ``date_format`` for others."""

_EXCEL_EPOCH = date(1899, 12, 30)
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(value: Any, date_format: str | None = None) -> date | None:
    """A date from the ways registers write one; None for empty. Raises ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    m = _ISO_PREFIX.match(text)
    if m:
        text = m.group(1)
    formats = (date_format,) if date_format else DATE_FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(text.replace(",", ""), fmt).date()
        except ValueError:
            continue
    if not date_format and re.fullmatch(r"\d{5}(\.0+)?", text) and 20000 <= float(text) <= 80000:
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))  # an Excel date serial
    raise ValueError("not a date")


def date_expected(date_format: str | None = None) -> str:
    return f"a date as {date_format}" if date_format else "a date such as 2025-03-31 or 31/03/2025"


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = clean(value) if value is not None else ""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS or text == "":
        return False
    raise ValueError("not yes or no")


def parse_tristate(value: Any) -> bool | None:
    """Yes, no, or None when not known: an empty cell, or "unknown", "tbc"... (``UNKNOWN_WORDS``).
    Raises ValueError otherwise."""
    if value is None or isinstance(value, bool):
        return value
    text = clean(value)
    if text == "" or text in UNKNOWN_WORDS:
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("not yes, no or unknown")


def split_list(value: Any) -> list[str]:
    """Items of a list cell or argument: a list, or text separated by , ; | or newlines."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(x) for x in value]
    else:
        items = re.split(r"[,;|\n]+", str(value))
    return [x.strip() for x in items if x.strip()]


def _empty(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def _unknown(spec: FieldSpec, shown: str) -> str:
    return f"unknown {spec.noun} {shown}" if spec.noun else f"{shown} is not an allowed value"


def _vocabulary_value(spec: FieldSpec, value: Any) -> str | None:
    table = spec.table or {}
    if _empty(value):
        if spec.required:
            raise ValueError("must not be empty", expected(table))
        return None
    got = canon(value, table)
    if got is None:
        raise ValueError(f"unknown {spec.noun} {value!r}" if spec.noun else "not an allowed value", expected(table))
    return got


def _items(spec: FieldSpec, value: Any) -> list[str]:
    """The distinct items of a multi or list field, in the order given; unknown items of a closed
    vocabulary are refused all at once."""
    out: list[str] = []
    bad: list[str] = []
    for item in split_list(value):
        if spec.table is None:
            got: str | None = item
        else:
            got = canon(item, spec.table)
            if got is None and spec.kind == "list" and not spec.closed:
                got = clean(item)
        if got is None:
            bad.append(item)
        elif got not in out:
            out.append(got)
    if bad:
        shown = ", ".join(bad) if spec.noun else ", ".join(repr(b) for b in bad)
        raise ValueError(_unknown(spec, shown), expected(spec.table or {}))
    return out


def _number(spec: FieldSpec, value: Any, size: int) -> int | float | None:
    if _empty(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1.0
    if spec.kind == "positive":
        if not number > 0:
            raise ValueError("must be a number greater than 0", "a number greater than 0")
        return number
    if not number.is_integer() or not 1 <= number <= size:
        raise ValueError("score out of range", f"a whole number from 1 to {size}")
    return int(number)


def coerce(spec: FieldSpec, value: Any, size: int = 5) -> Any:
    """The stored form of ``value`` for a field, or ValueError(reason, expected)."""
    kind = spec.kind
    if kind == "text":
        text = None if value is None else str(value).strip()
        if not text:
            if spec.required:
                raise ValueError("must not be empty", "a non-empty text")
            return None
        return text
    if kind == "enum":
        return _vocabulary_value(spec, value)
    if kind == "multi":
        return ", ".join(_items(spec, value)) or None
    if kind == "list":
        return _items(spec, value) or None
    if kind == "bool":
        try:
            return parse_bool(value)
        except ValueError:
            raise ValueError("not yes or no", "yes/no, true/false, 1/0 or x") from None
    if kind == "tristate":
        try:
            return parse_tristate(value)
        except ValueError:
            raise ValueError("not yes, no or unknown", TRISTATE_EXPECTED) from None
    if kind in ("score", "positive"):
        return _number(spec, value, size)
    try:
        return parse_date(value)
    except ValueError:
        raise ValueError("not a date", date_expected()) from None


def coerce_all(specs: Mapping[str, FieldSpec], entity: str, record_id: str, changes: Mapping[str, Any],
               size: int = 5) -> tuple[dict[str, Any], list[Problem]]:
    """The stored form of every change, and every problem found (a field that cannot be changed, a
    value that is not valid), each located by entity, record and field."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for name, value in changes.items():
        spec = specs.get(name)
        if spec is None:
            problems.append(Problem(entity, record_id, name, "not a field that can be changed", value,
                                    expected="one of " + ", ".join(specs)))
            continue
        try:
            out[name] = coerce(spec, value, size)
        except ValueError as exc:
            reason, hint = (exc.args + (None,))[:2] if exc.args else ("not valid", None)
            problems.append(Problem(entity, record_id, name, str(reason), value, hint))
    return out, problems
