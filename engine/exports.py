"""Exports for auditors: the SoA (Excel, CSV, Markdown, JSON), the treatment plan and the risk register
(Excel, CSV).

Safety of user text, in every format that could interpret it:
- a spreadsheet never runs a user's cell as a formula: cells are written as strings (xlsxwriter with
  ``strings_to_formulas`` off) and a cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
  return) carries Excel's quote prefix, exactly as if the user had typed a leading apostrophe; in CSV such a
  cell is prefixed with ``'`` (:func:`csv_cell`);
- Markdown and HTML output escapes user text (:func:`md_cell`, :func:`html_cell`).

Public API: :func:`export_soa`, :func:`soa_xlsx_bytes`, :func:`export_plan`, :func:`plan_xlsx_bytes`,
:func:`export_register`, :func:`register_xlsx_bytes`, and the cell helpers above.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl
import xlsxwriter

from . import soa, store, treatment
from .config import ISO27001, ISO42001
from .errors import RuleViolation
from .exports_safe import FORMULA_PREFIXES, safe_frame, safe_text

FORMULA_TRIGGERS = FORMULA_PREFIXES
SOA_FORMATS = ("xlsx", "csv", "md", "json")
TABLE_FORMATS = ("xlsx", "csv")
LIST_SEPARATOR = "; "

SOA_COLUMNS: list[tuple[str, str]] = [
    ("framework", "Framework"),
    ("ref", "Control"),
    ("title", "Title"),
    ("applicability", "Applicable"),
    ("reasons", "Inclusion reasons"),
    ("risk_ids", "Linked risks"),
    ("exclusion_reason", "Exclusion reason"),
    ("justification", "Justification"),
    ("status", "Implementation status"),
    ("implementing_actions", "Implementing actions"),
    ("implementation_notes", "Implementation notes"),
    ("owner", "Owner"),
    ("evidence", "Evidence"),
    ("last_verified", "Last verified"),
    ("counterparts", "Counterparts in the other standard (relationship, strength)"),
    ("ai_systems", "AI systems in scope"),
    ("impact_assessments", "Impact assessments"),
]
"""The SoA columns every export carries, in order, with their headings."""

FILLS = {
    "implemented": "#C6EFCE", "partial": "#FFEB9C", "planned": "#FCE4D6", "not_started": "#FFC7CE",
    "applicable": "#E2EFDA", "not applicable": "#D9D9D9", "undecided": "#FFF2CC",
    "done": "#C6EFCE", "in_progress": "#FFEB9C", "cancelled": "#D9D9D9",
}
"""Cell colours for status values (implementation, applicability, action status)."""
_COLOURED = {"status", "applicability"}
_WRAPPED = {"title", "justification", "implementation_notes", "counterparts", "implementing_actions", "detail",
            "description", "evidence", "reasons", "risk_ids", "ai_systems", "impact_assessments"}


# ------------------------------------------------------------------------------------------ cell safety

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


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    safe = safe_frame(flatten(frame))
    path.parent.mkdir(parents=True, exist_ok=True)
    safe.write_csv(path)
    return path


# ----------------------------------------------------------------------------------------------- Excel

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


# ------------------------------------------------------------------------------------------------- SoA

@dataclass
class SoADocument:
    """The SoA as exported: its rows and the version they belong to."""

    rows: pl.DataFrame
    version: int | None            # None: the working copy
    approved_by: str | None
    approved_at: datetime | None
    latest_version: int | None
    generated_at: datetime

    @property
    def version_label(self) -> str:
        if self.version is not None:
            return f"Version {self.version}"
        latest = f"; latest approved version: {self.latest_version}" if self.latest_version else ""
        return "Working copy (not approved)" + latest


def soa_document(db: str | Path | None = None, *, version: int | None = None) -> SoADocument:
    """The SoA rows (working copy or an approved ``version``) with the cover information."""
    frame = soa.soa_frame(db, version=version)
    versions = soa.versions(db)
    latest = int(versions["version"].max()) if versions.height else None  # type: ignore[arg-type]
    by, at = None, None
    if version is not None:
        meta = versions.filter(pl.col("version") == version).row(0, named=True)
        by, at = meta["approved_by"], meta["approved_at"]
    return SoADocument(frame, version, by, at, latest, store.now())


def _soa_rows(doc: SoADocument) -> pl.DataFrame:
    return doc.rows.select([c for c, _ in SOA_COLUMNS])


def _counts(doc: SoADocument) -> pl.DataFrame:
    return (doc.rows.group_by("framework", maintain_order=True).agg(
        pl.len().alias("controls"),
        (pl.col("applicability") == "applicable").sum().alias("applicable"),
        (pl.col("applicability") == "not applicable").sum().alias("not applicable"),
        (pl.col("applicability") == "undecided").sum().alias("undecided"),
        (pl.col("status") == "implemented").sum().alias("implemented"),
    ))


def _build_soa_xlsx(doc: SoADocument) -> Any:
    def build(book: _Book) -> None:
        ws = book.wb.add_worksheet("Cover")
        ws.set_column(0, 0, 28)
        ws.set_column(1, 6, 18)
        book.cell(ws, 0, 0, "Statement of Applicability", bold=True, size=16)
        book.cell(ws, 1, 0, "ISO/IEC 27001:2022 6.1.3 d and ISO/IEC 42001:2023 6.1.3 f; Annex A controls of "
                            "both standards and the organisation's own controls")
        info = [("Version", doc.version_label), ("Approved by", doc.approved_by or "not approved"),
                ("Approved on", doc.approved_at), ("Generated", doc.generated_at),
                ("Rows", doc.rows.height)]
        for i, (k, v) in enumerate(info, start=3):
            book.cell(ws, i, 0, k, bold=True)
            book.cell(ws, i, 1, v)
        r = 3 + len(info) + 1
        counts = _counts(doc)
        for j, c in enumerate(counts.columns):
            book.cell(ws, r, j, c, bold=True)
        for row in counts.iter_rows():
            r += 1
            for j, v in enumerate(row):
                book.cell(ws, r, j, v)
        legends = (("Inclusion reason codes", soa.REASONS, False),
                   ("Exclusion reason codes", soa.EXCLUSION_REASONS, False),
                   ("Implementation status", soa.STATUSES, True))
        for heading, codes, coloured in legends:
            r += 2
            book.cell(ws, r, 0, heading, bold=True)
            for code, label in codes.items():
                r += 1
                book.cell(ws, r, 0, code, fill=FILLS[code] if coloured else None)
                book.cell(ws, r, 1, label)
        headings = dict(SOA_COLUMNS)
        rows = _soa_rows(doc)
        names = {ISO27001: "ISO 27001-2022", ISO42001: "ISO 42001-2023"}
        for fw in [ISO27001, ISO42001]:
            book.table(Sheet(names[fw], rows.filter(pl.col("framework") == fw), headings, freeze_cols=2))
        for fw in rows.filter(~pl.col("framework").is_in([ISO27001, ISO42001]))["framework"].unique(
                maintain_order=True).to_list():
            book.table(Sheet(f"Custom {fw}", rows.filter(pl.col("framework") == fw), headings, freeze_cols=2))
        book.table(Sheet("Combined", rows, headings, freeze_cols=2))
    return build


def soa_xlsx_bytes(db: str | Path | None = None, *, version: int | None = None) -> bytes:
    """The SoA workbook as bytes (for a download button): a cover sheet with version, approver and date;
    one sheet per standard (and per custom framework) and one combined sheet."""
    out = _save(_build_soa_xlsx(soa_document(db, version=version)), None)
    assert isinstance(out, bytes)
    return out


def _soa_markdown(doc: SoADocument) -> str:
    lines = ["# Statement of Applicability", "",
             "ISO/IEC 27001:2022 6.1.3 d and ISO/IEC 42001:2023 6.1.3 f.", "",
             f"- Version: {md_cell(doc.version_label)}",
             f"- Approved by: {md_cell(doc.approved_by or 'not approved')}",
             f"- Approved on: {md_cell(doc.approved_at)}",
             f"- Generated: {md_cell(doc.generated_at)}", "",
             "Inclusion reason codes: " + ", ".join(f"`{c}` {md_cell(label)}" for c, label in soa.REASONS.items()),
             ""]
    rows = _soa_rows(doc)
    headings = [h for _, h in SOA_COLUMNS[1:]]
    for fw in rows["framework"].unique(maintain_order=True).to_list():
        part = rows.filter(pl.col("framework") == fw)
        standard = doc.rows.filter(pl.col("framework") == fw)["standard"][0]
        lines += [f"## {md_cell(standard)} ({md_cell(fw)})", "",
                  "| " + " | ".join(md_cell(h) for h in headings) + " |",
                  "|" + "---|" * len(headings)]
        for row in part.drop("framework").iter_rows():
            lines.append("| " + " | ".join(md_cell(v) for v in row) + " |")
        lines.append("")
    return "\n".join(lines)


def _soa_json(doc: SoADocument) -> str:
    payload = {
        "document": "Statement of Applicability",
        "standards": [ISO27001, ISO42001],
        "version": doc.version,
        "approved_by": doc.approved_by,
        "approved_at": doc.approved_at,
        "latest_approved_version": doc.latest_version,
        "generated_at": doc.generated_at,
        "rows": _soa_rows(doc).to_dicts(),
    }
    return json.dumps(payload, default=_text, indent=2, ensure_ascii=False) + "\n"


def export_soa(db: str | Path | None, fmt: str, path: str | Path, *, version: int | None = None) -> Path:
    """Write the SoA (working copy or approved ``version``) as xlsx, csv, md or json; returns the path."""
    fmt = _check_format(fmt, SOA_FORMATS, "SoA")
    doc = soa_document(db, version=version)
    out = Path(path)
    if fmt == "xlsx":
        _save(_build_soa_xlsx(doc), out)
    elif fmt == "csv":
        _write_csv(_soa_rows(doc), out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_soa_markdown(doc) if fmt == "md" else _soa_json(doc), encoding="utf-8")
    return out


def _check_format(fmt: str, allowed: Sequence[str], what: str) -> str:
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in allowed:
        raise RuleViolation(f"the {what} exports as {', '.join(allowed)}; not {fmt!r}")
    return fmt


# ------------------------------------------------------------------------------- plan and register

def _plan_sheets(db: str | Path | None) -> list[Sheet]:
    plan = treatment.ranking(db, include_closed=True)
    residual = treatment.residual_after_plan(db)
    return [Sheet("Actions", plan, freeze_cols=2), Sheet("Residual risk", residual, freeze_cols=2),
            Sheet("Approvals", treatment.approvals(db)), Sheet("Acceptances", treatment.acceptances(db))]


def plan_xlsx_bytes(db: str | Path | None = None) -> bytes:
    """The treatment plan workbook as bytes: ranked actions, residual risk after the plan, approvals and
    acceptances."""
    sheets = _plan_sheets(db)
    out = _save(lambda book: [book.table(s) for s in sheets], None)
    assert isinstance(out, bytes)
    return out


def export_plan(db: str | Path | None, fmt: str, path: str | Path) -> Path:
    """Write the treatment plan as xlsx (all sheets) or csv (the ranked actions); returns the path."""
    fmt = _check_format(fmt, TABLE_FORMATS, "treatment plan")
    out = Path(path)
    if fmt == "csv":
        return _write_csv(treatment.ranking(db, include_closed=True), out)
    sheets = _plan_sheets(db)
    _save(lambda book: [book.table(s) for s in sheets], out)
    return out


def register_frame(db: str | Path | None = None) -> pl.DataFrame:
    """The risk register: ``v_risk_register`` when the database has it, else the ``risks`` table."""
    with store.connect(db) as con:
        has_view = soa.scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_risk_register'")
        return con.execute("SELECT * FROM v_risk_register" if has_view else "SELECT * FROM risks ORDER BY id").pl()


def register_xlsx_bytes(db: str | Path | None = None) -> bytes:
    """The risk register workbook as bytes."""
    sheet = Sheet("Risk register", register_frame(db), freeze_cols=2)
    out = _save(lambda book: book.table(sheet), None)
    assert isinstance(out, bytes)
    return out


def export_register(db: str | Path | None, fmt: str, path: str | Path) -> Path:
    """Write the risk register as xlsx or csv; returns the path."""
    fmt = _check_format(fmt, TABLE_FORMATS, "risk register")
    out = Path(path)
    frame = register_frame(db)
    if fmt == "csv":
        return _write_csv(frame, out)
    sheet = Sheet("Risk register", frame, freeze_cols=2)
    _save(lambda book: book.table(sheet), out)
    return out
