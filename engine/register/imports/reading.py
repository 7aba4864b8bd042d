"""Reading registers: CSV and Excel (.xlsx) into a frame of text cells.

Every cell is read as text (CSV with ``infer_schema=False``, Excel through calamine with no type
inference), so a value is kept exactly as written for the lineage and normalised afterwards. Row
numbers count the header row as 1, as the user sees them in a spreadsheet whose header is on top.
Before a reader sees a file, :func:`~engine.register.imports.limits.check_file` refuses one that is
larger than the import limits allow.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.errors import InputError, Problem

from .limits import Limits, check_cells, check_file

ROW = "_row"
"""Column holding each data row's number (header = 1)."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass
class Table:
    """A register as read: its header cells as written and one text column per header."""

    file: str
    headers: list[str | None]
    frame: pl.DataFrame          # columns c0..cN (text) plus _row
    sha256: str
    encoding: str = "utf-8"      # how a CSV file's bytes were decoded

    def column(self, index: int) -> str:
        return f"c{index}"

    @property
    def rows(self) -> int:
        return self.frame.height


def decode_csv(data: bytes) -> tuple[bytes, str]:
    """The file as UTF-8 bytes, and the encoding it was read in.

    UTF-8 (with or without a byte order mark) is read as is; UTF-16 with a byte order mark is
    converted; anything else is read as Windows-1252, which is what spreadsheet programs on Windows
    write as "CSV". Text is never silently replaced: a byte is always decoded to its character.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8"), "utf-16"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8"), "latin-1"


def _sniff_separator(data: bytes) -> str:
    head = data[:65536].decode("utf-8", errors="replace")
    first = head.splitlines()[0] if head else ""
    counts = {sep: first.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def read_table(path: str | Path, sheet: str | None = None, limits: Limits | None = None, *,
               prechecked: bool = False) -> Table:
    """Read a CSV or .xlsx register. Raises InputError (with the file named) when it cannot be read,
    is empty, is larger than ``limits`` allow (default: :meth:`Limits.from_env`; ``prechecked`` when
    the caller has already made the quick checks of :func:`check_file`), or has rows longer than its
    header."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError([Problem(name, None, None, "no such file")])
    if path.is_dir():
        raise InputError([Problem(name, None, None, "is a directory", expected="a .csv or .xlsx file")])
    suffix = path.suffix.lower()
    limits = limits or Limits.from_env()
    bounded = check_file(path, limits, sheet, stage="deep" if prechecked else "all")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        encoding = "utf-8"
        if suffix in EXCEL_SUFFIXES:
            raw = _read_excel(path, sheet)
        elif suffix in CSV_SUFFIXES:
            if not data.strip():
                raise InputError([Problem(name, None, None, "the file is empty",
                                          expected="a header row and at least one data row")])
            utf8, encoding = decode_csv(data)
            raw = pl.read_csv(utf8, has_header=False, infer_schema=False, separator=_sniff_separator(utf8),
                              raise_if_empty=False, truncate_ragged_lines=False)
        else:
            raise InputError([Problem(name, None, None, "unsupported file type", path.suffix,
                                      expected="a .csv or .xlsx file")])
    except InputError:
        raise
    except pl.exceptions.ComputeError as exc:
        text = str(exc).splitlines()[0]
        if "more fields" in text:
            raise InputError([Problem(name, None, None, "a row has more cells than the header has columns",
                                      expected="every row as wide as the header")]) from exc
        raise InputError([Problem(name, None, None, f"cannot read the file: {text}")]) from exc
    except Exception as exc:  # fastexcel and polars raise their own types for unreadable files
        raise InputError([Problem(name, None, None, f"cannot read the file: {str(exc).splitlines()[0]}",
                                  expected="a .csv file or an .xlsx workbook")]) from exc
    if raw.height == 0 or raw.width == 0:
        raise InputError([Problem(name, None, None, "the file is empty",
                                  expected="a header row and at least one data row")])
    raw = raw.select([pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(f"c{i}")
                      for i, c in enumerate(raw.columns)])
    _check_read(name, raw, limits, cells=not bounded)
    headers_row = raw.row(0)
    headers = [None if h is None else " ".join(str(h).split()) for h in headers_row]
    body = raw.slice(1).with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int32))
    cells = [c for c in body.columns if c != ROW]
    body = body.filter(pl.any_horizontal(pl.col(cells).is_not_null()))
    return Table(name, headers, body, sha, encoding)


def _check_read(name: str, raw: pl.DataFrame, limits: Limits, cells: bool = True) -> None:
    """The limits a reader's result shows exactly: columns, rows, and (``cells``: unless the file is too
    small to hold a cell that long) the longest cell."""
    if raw.width > limits.max_columns or raw.height > limits.max_rows + 1:
        raise InputError([Problem(name, None, None, f"the file has {raw.height - 1:,} rows and "
                                               f"{raw.width:,} columns; the limits are {limits.max_rows:,} rows "
                                               f"and {limits.max_columns:,} columns",
                                               expected="a smaller file, or higher limits (--limit rows=... "
                                                        "columns=...)")],
                         f"{name}: the file is too large to import; nothing was imported")
    if not cells:
        return
    longest = raw.select(pl.max_horizontal(pl.all().str.len_chars().max())).item() if raw.width else 0
    if longest and longest > limits.max_cell_chars:
        where = raw.select(pl.all().str.len_chars().arg_max()).row(0)
        lengths = raw.select(pl.all().str.len_chars().max()).row(0)
        col = max(range(raw.width), key=lambda i: lengths[i] or 0)
        check_cells(name, int(longest), int(where[col]) + 1, col, limits)


def _read_excel(path: Path, sheet: str | None) -> pl.DataFrame:
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    names = reader.sheet_names
    if sheet is not None and sheet not in names:
        raise InputError([Problem(str(path), None, "sheet", "no such sheet", sheet,
                                  expected="one of " + ", ".join(names))])
    # every cell as text, no header row: the workbook is opened once, and empty rows stay in place
    # so the row numbers in messages are the workbook's
    return reader.load_sheet(sheet or names[0], header_row=None, dtypes="string").to_polars()
