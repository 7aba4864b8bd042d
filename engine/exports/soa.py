"""The Statement of Applicability as auditors read it: Excel with a cover sheet, CSV, Markdown, JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from engine import soa, store
from engine.config import ISO27001, ISO42001

from .cells import _text, md_cell
from .workbook import FILLS, SOA_FORMATS, Sheet, _Book, _check_format, _save, _write_csv

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
