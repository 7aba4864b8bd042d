"""Bounded input: how large an imported file may be, checked before it is parsed.

A spreadsheet can be far larger than it looks: a 1.5 MB workbook may expand to 800 MB of XML, and a
CSV file may hold ten million rows. Every importer checks a file against :class:`Limits` before it
hands it to a reader, so a file that is too large is refused in one line and costs next to no memory:

- ``max_file_mb``: the file's size on disk (read from the file system, nothing read);
- ``max_uncompressed_mb``: an Excel workbook's contents once decompressed, counted while streaming
  each part of the archive (the sizes a workbook declares are not trusted);
- ``max_rows``: data rows, counted in a streaming pass (CSV lines; ``<row>`` elements of the sheet);
- ``max_columns``: columns of the header row (CSV: its first line; Excel: the sheet's dimension);
- ``max_cell_chars``: characters in one cell, checked as the file is read (a CSV whose longest line
  is shorter is passed without looking at its cells). The default, 32 Mi characters, keeps a document
  pasted into a description whole (a twenty-megabyte cell imports as written) while refusing a file
  that is one endless cell.

Defaults are :data:`DEFAULT_LIMITS`; each can be overridden per run (``--limit rows=1000000`` on the
command line, ``Limits(max_rows=...)`` in the API) or for every run through the environment
(``RISKMAP_IMPORT_MAX_ROWS=1000000`` and likewise for the other names).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from xml.etree import ElementTree

from engine.errors import InputError, Problem

__all__ = ["DEFAULT_LIMITS", "LIMIT_NAMES", "STAGES", "Limits", "check_cells", "check_file", "parse_limits"]

_MB = 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How large an imported file may be (see the module docstring)."""

    max_file_mb: float = 50
    max_uncompressed_mb: float = 200
    max_rows: int = 500_000
    max_columns: int = 500
    max_cell_chars: int = 32 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, with any ``RISKMAP_IMPORT_<NAME>`` environment variable applied."""
        given = {}
        for f in fields(cls):
            env = os.environ.get(f"RISKMAP_IMPORT_{f.name.upper()}")
            if env:
                given[f.name] = env
        return parse_limits([f"{k}={v}" for k, v in given.items()], cls()) if given else cls()


DEFAULT_LIMITS = Limits()

LIMIT_NAMES = {"file_mb": "max_file_mb", "uncompressed_mb": "max_uncompressed_mb", "rows": "max_rows",
               "columns": "max_columns", "cell_chars": "max_cell_chars"}
"""The short names ``--limit NAME=VALUE`` accepts, and the field each sets."""


def parse_limits(items: list[str], base: Limits | None = None) -> Limits:
    """``["rows=1000000", "file_mb=200"]`` applied to ``base`` (default: from the environment).
    Raises InputError naming every item it cannot read."""
    limits = base or Limits.from_env()
    problems, changes = [], {}
    for item in items:
        name, _, value = item.partition("=")
        key = LIMIT_NAMES.get(name.strip().lower().replace("-", "_"), name.strip().lower())
        if key not in {f.name for f in fields(Limits)}:
            problems.append(Problem("--limit", None, None, "unknown limit", item,
                                    "NAME=VALUE with NAME one of " + ", ".join(LIMIT_NAMES)))
            continue
        try:
            number = float(value)
            if number <= 0:
                raise ValueError
        except ValueError:
            problems.append(Problem("--limit", None, name.strip(), "not a positive number", value, "e.g. rows=1000000"))
            continue
        changes[key] = number if key.endswith("_mb") else int(number)
    if problems:
        raise InputError(problems)
    return replace(limits, **changes)  # type: ignore[arg-type]  # sizes in MB are floats, counts ints


def _refuse(file: str, what: str, found: str, limit: str, name: str) -> InputError:
    return InputError([Problem(file, None, None, f"{what}: {found}; the limit is {limit}",
                               expected=f"a smaller file, or a higher {name!r} import limit (RISKMAP_IMPORT_MAX_"
                                        f"{name.upper()}, or --limit {name}=... on the command line)")],
                      f"{file}: the file is too large to import; nothing was imported")


STAGES = ("quick", "deep", "all")


def check_file(path: Path, limits: Limits | None = None, sheet: str | None = None, *, stage: str = "all") -> bool:
    """Refuse a file that is larger than ``limits`` allow, before any reader parses it (InputError).

    ``quick`` makes the checks that cost next to nothing (the size on disk, a CSV file's lines, header
    and long lines, the sizes and the dimension a workbook declares): a risk import runs them for every
    file before it opens the database. ``deep`` streams a workbook's parts (the sizes it declares may
    lie), as each file is read; ``all`` is both. Returns True when no cell can be longer than a cell
    may be (the file, or the workbook decompressed, is smaller than that), so the reader need not
    measure its cells."""
    limits = limits or Limits.from_env()
    name = str(path)
    size = path.stat().st_size
    if stage != "deep" and size > limits.max_file_mb * _MB:
        raise _refuse(name, "the file is too large", f"{size / _MB:,.1f} MB", f"{limits.max_file_mb:g} MB",
                      "file_mb")
    if zipfile.is_zipfile(path):
        return _check_workbook(path, name, limits, sheet, stage) <= limits.max_cell_chars
    if stage != "deep" and path.suffix.lower() not in (".xlsx", ".xlsm"):
        _check_text(path, name, limits)
    return size <= limits.max_cell_chars


def _check_text(path: Path, name: str, limits: Limits) -> None:
    """Lines, header width and the longest line of a CSV file, in one streaming pass."""
    lines, longest, current, first = 0, 0, 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not first:
                first = chunk
            parts = chunk.split(b"\n")
            current += len(parts[0])
            for part in parts[1:]:
                longest, current = max(longest, current), len(part)
                lines += 1
            if lines > limits.max_rows + 1:
                raise _refuse(name, "the file has too many rows", f"more than {limits.max_rows:,}",
                              f"{limits.max_rows:,} rows", "rows")
    longest = max(longest, current)
    utf16 = first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    header = re.split(r"\r\n|\r|\n", first.decode("utf-16" if utf16 else "utf-8", errors="replace"), maxsplit=1)[0]
    try:
        width = max((len(r) for r in csv.reader([header], delimiter=_separator(header))), default=0)
    except csv.Error:  # a malformed header: the reader reports it in its own words
        width = 0
    if width > limits.max_columns:
        raise _refuse(name, "the file has too many columns", f"{width:,}", f"{limits.max_columns:,} columns",
                      "columns")
    if longest > limits.max_cell_chars * (2 if utf16 else 1):
        _check_csv_cells(path, name, limits, "utf-16" if utf16 else "utf-8-sig")


def _separator(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _check_csv_cells(path: Path, name: str, limits: Limits, encoding: str) -> None:
    """The cells of a file whose longest line is longer than a cell may be (rare), line by line: a
    stretch of a line without a separator longer than the limit is one cell too long. Only one line
    is held at a time, never the file; a long quoted cell holding separators is measured when read."""
    utf16 = encoding == "utf-16"
    with path.open("rb") as fh:
        head = fh.readline()
        fh.seek(0)
        text_head = head.decode(encoding if utf16 else "utf-8", errors="replace")
        sep = _separator(text_head).encode("utf-16-le" if utf16 else "utf-8")
        for n, line in enumerate(fh, start=1):
            if len(line) <= limits.max_cell_chars:
                continue
            for i, stretch in enumerate(line.split(sep)):
                if len(stretch) > limits.max_cell_chars:
                    chars = len(stretch.decode(encoding if utf16 else "utf-8", errors="replace").rstrip("\r\n"))
                    if chars > limits.max_cell_chars:
                        raise _long_cell(name, n, i, chars, limits)


def _letter(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_number(letters: str) -> int:
    """1-based number of a column's letters (A -> 1, AA -> 27)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _long_cell(name: str, row: int | None, col: int | None, length: int | None, limits: Limits) -> InputError:
    where = f" (row {row}, column {_letter(col)})" if row is not None and col is not None else ""
    found = f"{length:,} characters{where}" if length else "a cell far longer than that"
    return _refuse(name, "a cell is too long", found, f"{limits.max_cell_chars:,} characters", "cell_chars")


def check_cells(name: str, longest: int, row: int | None, col: int | None, limits: Limits | None) -> None:
    """Refuse a file whose longest cell, measured as it was read, is longer than a cell may be."""
    limits = limits or Limits.from_env()
    if longest > limits.max_cell_chars:
        raise _long_cell(name, row, col, longest, limits)


def _check_workbook(path: Path, name: str, limits: Limits, sheet: str | None, stage: str) -> int:
    """The decompressed size of every part of a workbook, and the rows and columns of the sheet to be
    read: as declared (``quick``), then streamed part by part (``deep``); a part is never held in memory
    whole. Returns the decompressed size as measured (as declared for a quick check only)."""
    cap = limits.max_uncompressed_mb * _MB
    try:
        with zipfile.ZipFile(path) as zf:
            target = _sheet_part(zf, sheet)
            declared = sum(i.file_size for i in zf.infolist())
            if stage != "deep":
                _within(name, path, limits, declared, 0, _declared_width(zf, target))
            if stage == "quick":
                return declared
            total = 0
            for info in zf.infolist():
                counted, rows, width = _stream_part(zf, info, cap - total, info.filename == target)
                total += counted
                _within(name, path, limits, total, rows, width)
            return total
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return 0  # not a readable workbook: the reader says so in its own words


def _within(name: str, path: Path, limits: Limits, size: int, rows: int, width: int) -> None:
    """Refuse a workbook whose decompressed size, rows or columns pass the limits."""
    cap = limits.max_uncompressed_mb * _MB
    if size > cap:
        raise _refuse(name, "the workbook expands to more than it may", f"over {cap / _MB:,.0f} MB uncompressed "
                      f"({path.stat().st_size / _MB:,.1f} MB on disk)", f"{limits.max_uncompressed_mb:g} MB",
                      "uncompressed_mb")
    if rows > limits.max_rows + 1:
        raise _refuse(name, "the sheet has too many rows", f"{rows - 1:,}", f"{limits.max_rows:,} rows", "rows")
    if width > limits.max_columns:
        raise _refuse(name, "the sheet has too many columns", f"{width:,}", f"{limits.max_columns:,} columns",
                      "columns")


def _declared_width(zf: zipfile.ZipFile, target: str | None) -> int:
    """The columns the sheet's ``<dimension>`` declares (0 when it declares none)."""
    if target is None:
        return 0
    with zf.open(target) as fh:
        m = _DIMENSION.search(fh.read(4096))
    return _column_number(m.group(1).decode()) if m else 0


_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]+\d+:([A-Z]+)\d+"')


def _stream_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, room: float, is_sheet: bool) -> tuple[int, int, int]:
    """(bytes decompressed, rows, columns) of one part, stopping once it passes ``room`` bytes."""
    total, rows, tail = 0, 0, b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > room:
                break
            if is_sheet:
                window = tail + chunk
                rows += window.count(b"<row ") + window.count(b"<row>") - tail.count(b"<row ") - tail.count(b"<row>")
                tail = chunk[-5:]
    return total, rows, 0


def _sheet_part(zf: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The archive path of the sheet the reader will load (the named one, else the first)."""
    try:
        ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
              "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
        for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            if zf.getinfo(part).file_size > 10 * _MB:
                return None
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        sheets = book.findall("m:sheets/m:sheet", ns)
        chosen = next((s for s in sheets if s.get("name") == sheet), sheets[0] if sheets else None)
        if chosen is None:
            return None
        rid = chosen.get(f"{{{ns['r']}}}id")
        target = next((r.get("Target") for r in rels if r.get("Id") == rid), None)
        if not target:
            return None
        return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    except (KeyError, ElementTree.ParseError, IndexError):
        return None
