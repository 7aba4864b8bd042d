"""Excel workbooks and CSV files built from frames: sheets, formats, widths, saving."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl
import xlsxwriter

from engine.errors import RuleViolation
from engine.exports.safe import safe_frame

from .cells import EXCEL_CELL_LIMIT, _cut, _text, flatten, is_formula_like

SOA_FORMATS = ("xlsx", "csv", "md", "json")


TABLE_FORMATS = ("xlsx", "csv")


FILLS = {
    "implemented": "#C6EFCE", "partial": "#FFEB9C", "planned": "#FCE4D6", "not_started": "#FFC7CE",
    "applicable": "#E2EFDA", "not applicable": "#D9D9D9", "undecided": "#FFF2CC",
    "done": "#C6EFCE", "in_progress": "#FFEB9C", "cancelled": "#D9D9D9",
}
"""Cell colours for status values (implementation, applicability, action status)."""


_COLOURED = {"status", "applicability"}


_WRAPPED = {"title", "justification", "implementation_notes", "counterparts", "implementing_actions", "detail",
            "description", "evidence", "reasons", "risk_ids", "ai_systems", "impact_assessments"}


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    safe = safe_frame(flatten(frame))
    path.parent.mkdir(parents=True, exist_ok=True)
    safe.write_csv(path)
    return path


@dataclass
class Sheet:
    """One table sheet: a frame, its headings, how many leading columns to freeze, widths cap."""

    name: str
    frame: pl.DataFrame
    headings: dict[str, str] = field(default_factory=dict)
    freeze_cols: int = 1
    max_width: int = 60


class _Book:
    """An xlsxwriter workbook that writes every string as a string and caches its cell formats."""

    def __init__(self, target: str | Path | IO[bytes]):
        self.wb = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False, "in_memory": True})
        self._formats: dict[tuple[Any, ...], Any] = {}

    def fmt(self, *, header: bool = False, fill: str | None = None, quote: bool = False, wrap: bool = False,
            num: str | None = None, bold: bool = False, size: int | None = None) -> Any:
        key = (header, fill, quote, wrap, num, bold, size)
        if key not in self._formats:
            props: dict[str, Any] = {"valign": "top"}
            if header:
                props.update(bold=True, bg_color="#1F4E78", font_color="#FFFFFF", text_wrap=True, border=1)
            if bold:
                props["bold"] = True
            if size:
                props["font_size"] = size
            if fill:
                props["bg_color"] = fill
            if quote:
                props["quote_prefix"] = True
            if wrap:
                props["text_wrap"] = True
            if num:
                props["num_format"] = num
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def cell(self, ws: Any, row: int, col: int, value: Any, *, fill: str | None = None, wrap: bool = False,
             bold: bool = False, size: int | None = None) -> None:
        """Write one value with its proper type; text never becomes a formula."""
        if value is None:
            ws.write_blank(row, col, None, self.fmt(fill=fill, wrap=wrap))
        elif isinstance(value, bool):
            ws.write_string(row, col, "yes" if value else "no", self.fmt(fill=fill, bold=bold))
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, self.fmt(fill=fill, bold=bold, size=size))
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, self.fmt(fill=fill, num="yyyy-mm-dd hh:mm"))
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day),
                              self.fmt(fill=fill, num="yyyy-mm-dd"))
        elif (text := _text(value)) == "":
            ws.write_blank(row, col, None, self.fmt(fill=fill, wrap=wrap))
        else:
            if len(text) > EXCEL_CELL_LIMIT:
                text = _cut(text, value)
            ws.write_string(row, col, text, self.fmt(fill=fill, quote=is_formula_like(text), wrap=wrap,
                                                     bold=bold, size=size))

    def table(self, sheet: Sheet) -> None:
        """A table sheet: styled header row, frozen header (and leading columns), autofilter, widths,
        status colours."""
        ws = self.wb.add_worksheet(_sheet_name(sheet.name))
        frame = flatten(sheet.frame)
        cols = frame.columns
        for j, c in enumerate(cols):
            ws.write_string(0, j, sheet.headings.get(c, c), self.fmt(header=True))
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, value in enumerate(row):
                name = cols[j]
                fill = FILLS.get(str(value)) if name in _COLOURED and value is not None else None
                self.cell(ws, i, j, value, fill=fill, wrap=name in _WRAPPED)
        for j, c in enumerate(cols):
            lengths = [len(_text(v)) for v in frame[c].to_list()]
            longest = max([len(sheet.headings.get(c, c)) // 2 + 2, *lengths]) if lengths else len(c)
            ws.set_column(j, j, max(8, min(sheet.max_width, longest + 2)))
        ws.set_row(0, 32)
        ws.freeze_panes(1, sheet.freeze_cols)
        ws.autofilter(0, 0, max(frame.height, 1), max(len(cols) - 1, 0))

    def close(self) -> None:
        self.wb.close()


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def _save(build: Any, target: str | Path | None) -> bytes | Path:
    """Run ``build(book)`` into a file (``target``) or into bytes (``target`` None)."""
    if target is None:
        buf = io.BytesIO()
        book = _Book(buf)
        build(book)
        book.close()
        return buf.getvalue()
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = _Book(path)
    build(book)
    book.close()
    return path


def _check_format(fmt: str, allowed: Sequence[str], what: str) -> str:
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in allowed:
        raise RuleViolation(f"the {what} exports as {', '.join(allowed)}; not {fmt!r}")
    return fmt
