"""Naming a control: the one parser of control references, as people type and registers write them.

Accepted forms (a register cell may hold several, separated by , ; / | & "and" or new lines)::

    iso27001-2022:A.5.1   27001:A.5.1   42001:A.6.2.8   iso42001-2023:6.1.4   org:ORG.1
    A.5.1   5.1   A 5.1   A5.1   Annex A 5.1   A.8.15 Logging
    ISO 27001:2013 A.12.4.1   27001:2022 A.5.1   ISO/IEC 42001 A.6.2.8   42001 A.6.2.8

A standard's prefix names the framework (``27001`` without a year is 2022); any other
``framework:ref`` is taken as written (an organisation's own controls). Both standards number
Annex A from A.5, so a reference without a framework is only resolved against a default framework
the context gives (a register's ``--framework``, its management system); without one it is refused
as ambiguous. With ``annex_a`` (registers, risk links) a bare number is an Annex A control
(``5.1`` is A.5.1); otherwise it is kept as written, so ``27001:6.1.3`` names clause 6.1.3.

:func:`parse_control` reads one reference; :func:`parse_pieces` reads a whole column of cells at
once (the register importer parses 100,000 rows this way). Both use the same patterns and the same
table of editions, and a test holds them to the same answers.
"""

from __future__ import annotations

import re

import polars as pl

from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.errors import BadReference, NotFoundError

__all__ = ["EDITIONS", "EXPECTED", "FRAMEWORK_ALIASES", "framework_id", "parse_control", "parse_pieces", "ref_of"]

FRAMEWORK_ALIASES = {"27001": ISO27001, "42001": ISO42001, "iso27001": ISO27001, "iso42001": ISO42001}

EDITIONS = {"27001|": "27001", "27001|2022": ISO27001, "27001|2013": ISO27001_2013, "42001|": ISO42001,
            "42001|2023": ISO42001}
"""``standard|year`` as written -> framework. ``27001`` without a year means 2022 (a register's
cell may still fall back to 2013 when only 2013 has the reference); any other year is unknown."""

SPLIT = r"(?i)\s*(?:[,;/|\n\r]+|\band\b|&)\s*"
"""What separates several references in one cell."""
REF = (r"(?i)^(?:iso\s*(?:iec\s*)?)?(?:(?P<std>27001|42001)\s*(?:[:\-]?\s*(?P<year>20\d\d))?\s*[:\-]?\s*)?"
       r"(?:annex\s*)?(?P<a>a)?\s*\.?\s*(?P<num>\d{1,2}(?:\s*\.\s*\d{1,2}){1,3})(?P<rest>.*)$")
"""A numbered reference with an optional standard, edition and Annex prefix."""
REST_OK = r"^(?:\s*[-:–(]|\s+[^\d\s.]|$)"
REST_BAD = r"\d+\s*\.\s*\d+"
QUALIFIED = r"^(?P<qfw>[A-Za-z][\w.\-]*)\s*:\s*(?P<qref>[^\s:]+)$"
"""Any other ``framework:ref`` (an organisation's own framework, a clause such as ``iso27001-2022:10``)."""
_ISO_IEC = r"(?i)iso\s*/\s*iec"
_FRAMEWORK = r"(?i)^(?:iso\s*(?:iec\s*)?)?(?P<std>27001|42001)\s*(?:[:\-]?\s*(?P<year>20\d\d))?$"

EXPECTED = ("an Annex A control such as A.5.1 (27001:2022), '42001 A.6.2.8' (42001:2023) or "
            "'27001:2013 A.12.4.1', several separated by , ; / or new lines")

_REF_RE, _QUALIFIED_RE, _FRAMEWORK_RE = re.compile(REF), re.compile(QUALIFIED), re.compile(_FRAMEWORK)
_REST_OK_RE, _REST_BAD_RE = re.compile(REST_OK), re.compile(REST_BAD)


def _edition(std: str | None, year: str | None) -> str | None:
    return EDITIONS.get(f"{std}|{year or ''}") if std else None


def framework_id(text: str) -> str:
    """A framework id from its short forms (``27001``, ``ISO 27001:2013``, ``iso42001``); any other
    name is kept as written (an organisation's own framework)."""
    name = (text or "").strip()
    if name.lower() in FRAMEWORK_ALIASES:
        return FRAMEWORK_ALIASES[name.lower()]
    m = _FRAMEWORK_RE.match(re.sub(_ISO_IEC, "ISO IEC", name))
    edition = _edition(m["std"], m["year"]) if m else None
    if edition is None:
        return name
    return ISO27001 if edition == "27001" else edition


def _ambiguous(text: str) -> NotFoundError:
    return BadReference(f"{text!r}: name a control with its framework, e.g. {ISO27001}:A.5.1 or "
                         f"{ISO42001}:A.6.2.8 (a bare Annex A id is ambiguous between the standards)")


def parse_control(text: str, default_framework: str | None = None, *, annex_a: bool = False) -> tuple[str, str]:
    """(framework, ref) of one control reference, in any of the accepted forms.

    ``default_framework`` resolves a reference without one; without it a bare ``A.5.2`` is refused
    (NotFoundError): both standards number Annex A from A.5.
    """
    raw = (text or "").strip()
    pieces = [p for p in re.split(SPLIT, re.sub(_ISO_IEC, "ISO IEC", raw)) if p.strip()]
    if len(pieces) > 1:
        raise BadReference(f"{raw!r}: name one control, e.g. {ISO27001}:A.5.1")
    piece = pieces[0].strip() if pieces else ""
    m = _REF_RE.match(piece)
    if m and _REST_OK_RE.match(m["rest"]) and not _REST_BAD_RE.search(m["rest"]):
        ref = "A." + re.sub(r"\s+", "", m["num"]) if (m["a"] or annex_a) else re.sub(r"\s+", "", m["num"])
        if m["std"]:
            edition = _edition(m["std"], m["year"])
            if edition is None:
                raise BadReference(f"{raw!r}: unknown edition of ISO/IEC {m['std']}; expected "
                                    f"{ISO27001}, {ISO27001_2013} or {ISO42001}")
            return (ISO27001 if edition == "27001" else edition), ref
        if not default_framework:
            raise _ambiguous(raw)
        return framework_id(default_framework), ref
    q = _QUALIFIED_RE.match(piece)
    if q:
        return framework_id(q["qfw"]), q["qref"]
    if ":" in piece or not piece:
        raise BadReference(f"{raw!r}: expected framework:ref, e.g. {ISO27001}:A.5.1")
    if not default_framework:
        raise _ambiguous(raw)
    raise BadReference(f"{raw!r}: not a control reference; expected {EXPECTED}")


def ref_of(text: str, framework: str) -> str:
    """The ref of ``framework`` that ``text`` names, or ``text`` as it is when it names none (a list
    of refs of one framework, where a wrong one is reported with the others)."""
    try:
        fw, ref = parse_control(text, framework)
    except NotFoundError:
        return text
    return ref if fw == framework_id(framework) else text


def _edition_expr(std: pl.Expr, year: pl.Expr) -> pl.Expr:
    return (std + "|" + year.fill_null("")).replace_strict(EDITIONS, default=None, return_dtype=pl.String)


def _framework_expr(name: pl.Expr) -> pl.Expr:
    """:func:`framework_id` of a column."""
    low = name.str.strip_chars().str.to_lowercase()
    m = name.str.strip_chars().str.replace_all(_ISO_IEC, "ISO IEC").str.extract_groups(_FRAMEWORK)
    edition = _edition_expr(m.struct.field("std"), m.struct.field("year"))
    return (pl.when(low.is_in(list(FRAMEWORK_ALIASES))).then(low.replace_strict(FRAMEWORK_ALIASES, default=None))
            .when(edition == "27001").then(pl.lit(ISO27001)).when(edition.is_not_null()).then(edition)
            .otherwise(name.str.strip_chars()))


def parse_pieces(cells: pl.DataFrame, *, annex_a: bool = True) -> pl.DataFrame:
    """Every reference of many cells at once, the vectorised twin of :func:`parse_control`.

    ``cells`` has ``cell`` (an id), ``text`` and ``default_fw``. Returns one row per piece: ``cell``,
    ``idx`` (its place in the cell), ``piece`` (as written), ``ok`` (it has the form of a reference),
    ``bad_year`` (a standard with an unknown edition), ``rest`` (what followed the number), ``ref``,
    ``explicit`` (the framework it names, ``27001`` for one without a year), ``default_fw`` (the
    framework a prefix earlier in the cell carries on to it, else the cell's default) and ``framework``
    (the first choice: the one it names, else that default).
    """
    pieces = (
        cells.with_columns(
            pl.col("text").str.replace_all(_ISO_IEC, "ISO IEC")
            .str.replace_all(SPLIT, "\x1f").str.split("\x1f").alias("piece"))
        .with_columns(pl.int_ranges(pl.col("piece").list.len()).alias("idx"))
        .explode("piece", "idx")
        .with_columns(pl.col("piece").str.strip_chars())
        .filter(pl.col("piece").is_not_null() & (pl.col("piece") != ""))
    )
    parsed = (pieces.with_columns(pl.col("piece").str.extract_groups(REF).alias("m")).unnest("m")
              .with_columns(pl.col("piece").str.extract_groups(QUALIFIED).alias("q")).unnest("q"))
    numbered = pl.col("num").is_not_null() & pl.col("rest").str.contains(REST_OK) \
        & ~pl.col("rest").str.contains(REST_BAD)
    qualified = ~numbered & pl.col("qfw").is_not_null()
    edition = _edition_expr(pl.col("std"), pl.col("year"))
    named = pl.coalesce(edition, _edition_expr(pl.col("std"), pl.lit(None, pl.String)))  # also of a bad year
    number = pl.col("num").str.replace_all(r"\s+", "")
    parsed = parsed.with_columns(
        ok=numbered | qualified,
        ref=pl.when(qualified).then(pl.col("qref"))
        .when(pl.col("a").is_not_null() | pl.lit(annex_a)).then(pl.lit("A.") + number).otherwise(number),
        explicit=pl.when(qualified).then(_framework_expr(pl.col("qfw"))).otherwise(named),
        bad_year=numbered & pl.col("std").is_not_null() & edition.is_null(),
    ).with_columns(
        # A prefix carries on to the bare references after it in the same cell, as their default.
        carried=pl.col("explicit").forward_fill().over("cell", order_by="idx"),
    ).with_columns(
        default_fw=pl.when(pl.col("carried") == "27001").then(pl.lit(ISO27001))
        .when(pl.col("carried").is_not_null()).then(pl.col("carried")).otherwise(pl.col("default_fw")),
    ).with_columns(
        framework=pl.when(pl.col("explicit") == "27001").then(pl.lit(ISO27001))
        .when(pl.col("explicit").is_not_null()).then(pl.col("explicit")).otherwise(pl.col("default_fw")),
    )
    return parsed.select("cell", "idx", "piece", "ok", "bad_year", "rest", "ref", "explicit", "default_fw",
                         "framework")
