"""Naming a control: the one parser of control references, as people type and registers write them.

Accepted forms (a register cell may hold several, separated by , ; / | & "and", new lines, or just
spaces between references)::

    iso27001-2022:A.5.1   27001:A.5.1   42001:A.6.2.8   iso42001-2023:6.1.4   org:ORG.1
    A.5.1   5.1   A 5.1   A5.1   A.05.01   Annex A 5.1   A.8.15 Logging   A.8.15 (Logging)
    ISO 27001:2013 A.12.4.1   27001-2013 A.12.4.1   ISO/IEC 27001 (2013) A.12.4.1   27001:13 A.12.4.1
    27001:2022 A.5.1   ISO/IEC 42001 A.6.2.8   42001 A.6.2.8   ISO 27002:2022 8.15
    A.15.1.1 A.15.2.1   A.8.15 Logging A.8.16 Monitoring activities   ISO 27001:2013, A.12.4.1

A standard's prefix names the framework (``27001`` without a year is 2022; ``27002`` numbers its
controls as 27001's Annex A, so ``27002:2022 8.15`` is 27001:2022 A.8.15); the year may be written
``:2013``, ``-2013``, `` 2013``, ``(2013)``, ``/2013`` or ``:13``. A prefix on its own (``ISO
27001:2013,`` before a list) carries on to the bare references after it in the same cell. Any other
``framework:ref`` is taken as written (an organisation's own controls). Both standards number
Annex A from A.5, so a reference without a framework is only resolved against a default framework
the context gives (a register's ``--framework``, its management system); without one it is refused
as ambiguous. With ``annex_a`` (registers, risk links) a bare number is an Annex A control
(``5.1`` is A.5.1); otherwise it is kept as written, so ``27001:6.1.3`` names clause 6.1.3. Words
after a reference are its title and are not part of it.

:func:`parse_control` reads one reference; :func:`parse_pieces` reads a whole column of cells at
once (the register importer parses 100,000 rows this way). Both use the same patterns, the same
rewriting of a cell into pieces (:data:`REWRITES`) and the same table of editions, and a test holds
them to the same answers.
"""

from __future__ import annotations

import re

import polars as pl

from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.errors import BadReference, NotFoundError

__all__ = ["EDITIONS", "EXPECTED", "FRAMEWORK_ALIASES", "framework_id", "parse_control", "parse_pieces",
           "pieces_of", "ref_of"]

FRAMEWORK_ALIASES = {"27001": ISO27001, "42001": ISO42001, "iso27001": ISO27001, "iso42001": ISO42001}

EDITIONS = {"27001|": "27001", "27001|2022": ISO27001, "27001|2013": ISO27001_2013, "42001|": ISO42001,
            "42001|2023": ISO42001, "27002|": "27001", "27002|2022": ISO27001, "27002|2013": ISO27001_2013}
"""``standard|year`` as written -> framework. ``27001`` without a year means 2022 (a register's
cell may still fall back to 2013 when only 2013 has the reference); ISO/IEC 27002 numbers its
controls as 27001's Annex A of the same edition; any other year is unknown."""

_STD = r"(?:iso\s*(?:iec\s*)?)?(?P<std>27001|27002|42001)"
_YEAR = (r"(?:\s*[:\-–]?\s*\(?\s*(?P<year>(?:19|20)\d\d)\s*\)?"
         r"|\s*[:\-–']\s*(?P<yy>13|22|23)\b)?")
"""An edition after the standard: ``:2013``, ``-2013``, `` 2013``, ``(2013)``; two digits (``:13``)
only after a colon, dash or apostrophe, so ``27001 13.1.1`` stays a reference."""
_NUMBER = r"\d{1,2}(?:\s*\.\s*\d{1,2}){1,3}"
_ANY_YEAR = re.sub(r"\?P<\w+>", "", _YEAR)  # the same, without group names, to repeat in one pattern

SPLIT = r"(?i)\s*(?:[,;/|\n\r\x1f]+|\band\b|&)\s*"
"""What separates several references in one cell (``\\x1f`` marks a split :data:`REWRITES` found)."""
REF = (rf"(?i)^(?:iso\s*(?:iec\s*)?)?(?:(?P<std>27001|27002|42001){_YEAR}\s*[:\-–]?\s*)?"
       rf"(?:annex\s*)?(?P<a>a)?\s*\.?\s*(?P<num>{_NUMBER})(?P<rest>.*)$")
"""A numbered reference with an optional standard, edition and Annex prefix."""
REST_OK = r"^(?:\s*[-:–(]|\s+[^\d\s.]|\s*[)\]]|\.?\s*$)"
"""What may follow a reference's number: nothing, a title, or punctuation opening one."""
REST_BAD = r"\d+\s*\.\s*\d+"
QUALIFIED = r"^(?P<qfw>[A-Za-z][\w.\-]*)\s*:\s*(?P<qref>[^\s:]+)$"
"""Any other ``framework:ref`` (an organisation's own framework, a clause such as ``iso27001-2022:10``)."""
_ISO_IEC = r"(?i)iso\s*/\s*iec"
_FRAMEWORK = rf"(?i)^{_STD}{_YEAR}\s*:?$"

REWRITES: tuple[tuple[str, str], ...] = (
    (_ISO_IEC, "ISO IEC"),
    # a year after a slash is the edition, not a separator: 27001/2013 -> 27001:2013
    (r"(?i)\b(27001|27002|42001)\s*/\s*((?:19|20)\d\d|13|22|23)\b", "${1}:${2}"),
    # a split before every reference that starts with A or a standard, after a space, a separator or
    # an opening bracket (not after a dash: A.5.1-A.5.3 stays one item, which is refused)
    (rf"(?i)(^|[\s,;(\[/|&])((?:\b(?:iso\s*(?:iec\s*)?)?(?:27001|27002|42001)\b{_ANY_YEAR}\s*[:\-–]?\s*)?"
     rf"(?:\bannex\s*)?\ba\s*\.?\s*{_NUMBER}"
     rf"|\b(?:iso\s*(?:iec\s*)?)?(?:27001|27002|42001)\b{_ANY_YEAR}\s*[:\-–]?\s*(?:{_NUMBER})?)", "${1}\x1f${2}"),
    # bare numbers separated by spaces (12.4.1 12.4.3); twice, since each pass splits every other gap
    (r"(\.\s*\d{1,2})\s+(\d{1,2}\s*\.\s*\d)", "${1}\x1f${2}"),
    (r"(\.\s*\d{1,2})\s+(\d{1,2}\s*\.\s*\d)", "${1}\x1f${2}"),
)
"""How a cell is cut into pieces before :data:`SPLIT`, as (pattern, replacement) in the replacement
syntax of polars; :func:`pieces_of` applies the same rules with Python's ``re``."""

EXPECTED = ("an Annex A control such as A.5.1 (27001:2022), '42001 A.6.2.8' (42001:2023) or "
            "'27001:2013 A.12.4.1', several separated by , ; / spaces or new lines")

_REF_RE, _QUALIFIED_RE, _FRAMEWORK_RE = re.compile(REF), re.compile(QUALIFIED), re.compile(_FRAMEWORK)
_REST_OK_RE, _REST_BAD_RE, _SPLIT_RE = re.compile(REST_OK), re.compile(REST_BAD), re.compile(SPLIT)
_PY_REWRITES = [(re.compile(p), re.sub(r"\$\{(\d+)\}", r"\\g<\1>", r)) for p, r in REWRITES]


def _year(year: str | None, yy: str | None) -> str:
    return year or (f"20{yy}" if yy else "")


def _edition(std: str | None, year: str | None) -> str | None:
    return EDITIONS.get(f"{std}|{year or ''}") if std else None


def _number(num: str) -> str:
    """``05 . 01`` -> ``5.1``: spaces and leading zeros dropped from each part."""
    return re.sub(r"(^|\.)0+(\d)", r"\1\2", re.sub(r"\s+", "", num))


def pieces_of(text: str) -> list[str]:
    """The pieces of one cell, as :func:`parse_pieces` cuts them (each stripped, empty ones dropped)."""
    out = text or ""
    for pattern, repl in _PY_REWRITES:
        out = pattern.sub(repl, out)
    return [p.strip() for p in _SPLIT_RE.split(out) if p.strip()]


def framework_id(text: str) -> str:
    """A framework id from its short forms (``27001``, ``ISO 27001:2013``, ``iso42001``); any other
    name is kept as written (an organisation's own framework)."""
    name = (text or "").strip()
    if name.lower() in FRAMEWORK_ALIASES:
        return FRAMEWORK_ALIASES[name.lower()]
    m = _FRAMEWORK_RE.match(re.sub(_ISO_IEC, "ISO IEC", name))
    edition = _edition(m["std"], _year(m["year"], m["yy"])) if m else None
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
    pieces = pieces_of(raw)
    if len(pieces) > 1:
        raise BadReference(f"{raw!r}: name one control, e.g. {ISO27001}:A.5.1")
    piece = pieces[0] if pieces else ""
    m = _REF_RE.match(piece)
    if m and _REST_OK_RE.match(m["rest"]) and not _REST_BAD_RE.search(m["rest"]):
        num = _number(m["num"])
        ref = "A." + num if (m["a"] or annex_a) else num
        if m["std"]:
            edition = _edition(m["std"], _year(m["year"], m["yy"]))
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


def _year_expr(year: pl.Expr, yy: pl.Expr) -> pl.Expr:
    return pl.coalesce(year, pl.lit("20") + yy)


def _framework_expr(name: pl.Expr) -> pl.Expr:
    """:func:`framework_id` of a column."""
    low = name.str.strip_chars().str.to_lowercase()
    m = name.str.strip_chars().str.replace_all(_ISO_IEC, "ISO IEC").str.extract_groups(_FRAMEWORK)
    edition = _edition_expr(m.struct.field("std"), _year_expr(m.struct.field("year"), m.struct.field("yy")))
    return (pl.when(low.is_in(list(FRAMEWORK_ALIASES))).then(low.replace_strict(FRAMEWORK_ALIASES, default=None))
            .when(edition == "27001").then(pl.lit(ISO27001)).when(edition.is_not_null()).then(edition)
            .otherwise(name.str.strip_chars()))


def _cut(text: pl.Expr) -> pl.Expr:
    """A cell's text cut into pieces (a list), by :data:`REWRITES` and :data:`SPLIT`."""
    for pattern, repl in REWRITES:
        text = text.str.replace_all(pattern, repl)
    return text.str.replace_all(SPLIT, "\x1f").str.split("\x1f")


def parse_pieces(cells: pl.DataFrame, *, annex_a: bool = True) -> pl.DataFrame:
    """Every reference of many cells at once, the vectorised twin of :func:`parse_control`.

    ``cells`` has ``cell`` (an id), ``text`` and ``default_fw``. Returns one row per piece: ``cell``,
    ``idx`` (its place in the cell), ``piece`` (as written), ``ok`` (it has the form of a reference),
    ``numbered`` (it starts like a numbered reference, well formed or not), ``marker`` (a standard's
    name alone, which only carries on to the pieces after it), ``bad_year`` (a standard with an
    unknown edition), ``rest`` (what followed the number), ``ref``, ``explicit`` (the framework it
    names, ``27001`` for one without a year), ``default_fw`` (the framework a prefix earlier in the
    cell carries on to it, else the cell's default) and ``framework`` (the first choice: the one it
    names, else that default).
    """
    pieces = (
        cells.with_columns(_cut(pl.col("text")).alias("piece"))
        .with_columns(pl.int_ranges(pl.col("piece").list.len()).alias("idx"))
        .explode("piece", "idx")
        .with_columns(pl.col("piece").str.strip_chars())
        .filter(pl.col("piece").is_not_null() & (pl.col("piece") != ""))
    )
    parsed = (pieces.with_columns(pl.col("piece").str.extract_groups(REF).alias("m")).unnest("m")
              .with_columns(pl.col("piece").str.extract_groups(QUALIFIED).alias("q")).unnest("q")
              .with_columns(pl.col("piece").str.extract_groups(_FRAMEWORK).struct.rename_fields(
                  ["mstd", "myear", "myy"]).alias("k")).unnest("k"))
    numbered = pl.col("num").is_not_null() & pl.col("rest").str.contains(REST_OK) \
        & ~pl.col("rest").str.contains(REST_BAD)
    qualified = ~numbered & pl.col("qfw").is_not_null()
    marker = pl.col("mstd").is_not_null()
    year = _year_expr(pl.col("year"), pl.col("yy"))
    edition = _edition_expr(pl.col("std"), year)
    named = pl.coalesce(edition, _edition_expr(pl.col("std"), pl.lit(None, pl.String)))  # also of a bad year
    marked = _edition_expr(pl.col("mstd"), _year_expr(pl.col("myear"), pl.col("myy")))
    number = pl.col("num").str.replace_all(r"\s+", "").str.replace_all(r"(^|\.)0+(\d)", "${1}${2}")
    parsed = parsed.with_columns(
        ok=numbered | qualified,
        numbered=pl.col("num").is_not_null(),
        marker=marker & ~numbered,
        ref=pl.when(qualified).then(pl.col("qref"))
        .when(pl.col("a").is_not_null() | pl.lit(annex_a)).then(pl.lit("A.") + number).otherwise(number),
        explicit=pl.when(qualified).then(_framework_expr(pl.col("qfw"))).when(numbered).then(named)
        .when(marker).then(marked).otherwise(pl.lit(None, pl.String)),
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
    return parsed.select("cell", "idx", "piece", "ok", "numbered", "marker", "bad_year", "rest", "ref",
                         "explicit", "default_fw", "framework")
