"""Cell values as auditors' files need them: formulas neutralised, lists joined, long text cut."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

import polars as pl

from engine.exports.safe import FORMULA_PREFIXES, safe_text

FORMULA_TRIGGERS = FORMULA_PREFIXES


LIST_SEPARATOR = "; "


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet would read as a formula (or DDE payload)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet will evaluate: formula-like text gets a leading ``'``."""
    return safe_text(value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_cell(value: Any) -> str:
    """User text made safe for a Markdown table cell: HTML escaped (``<``, ``>``, ``&``), emphasis, code,
    link brackets and pipes backslash-escaped, line breaks as ``<br>``."""
    if value is None:
        return ""
    text = html.escape(_text(value), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def html_cell(value: Any) -> str:
    """User text made safe for HTML (quotes included)."""
    return "" if value is None else html.escape(_text(value), quote=True)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(_text(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


EXCEL_CELL_LIMIT = 32_767


def _cut(text: str, value: Any) -> str:
    """Shorten a cell to Excel's limit, saying so (the CSV and JSON exports keep everything)."""
    n = len(value) if isinstance(value, (list, tuple)) else None
    note = (f" ... cut at Excel's cell limit: {n} entries in all, every one in the CSV and JSON exports"
            if n is not None else " ... cut at Excel's cell limit; the CSV and JSON exports keep the full text")
    head = text[:EXCEL_CELL_LIMIT - len(note) - 1]
    if n is not None and LIST_SEPARATOR in head:
        head = head.rsplit(LIST_SEPARATOR, 1)[0]
    return head + note


def flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined with '; ' so that every cell is a scalar (for CSV and spreadsheets)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR).alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).map_elements(_text, return_dtype=pl.String).alias(name))
    return frame.with_columns(exprs) if exprs else frame
