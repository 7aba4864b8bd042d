"""Exports auditors expect: the SoA, the treatment plan and the risk register as Excel, CSV, Markdown
and JSON, with every cell safe to open in a spreadsheet."""

from __future__ import annotations

from engine.exports import safe

from .cells import EXCEL_CELL_LIMIT, LIST_SEPARATOR, csv_cell, flatten, html_cell, is_formula_like, md_cell
from .soa import SOA_COLUMNS, SoADocument, export_soa, soa_document, soa_xlsx_bytes
from .tables import (
    export_plan,
    export_register,
    plan_xlsx_bytes,
    register_frame,
    register_xlsx_bytes,
    table_bytes,
)
from .workbook import SOA_FORMATS, TABLE_FORMATS

__all__ = ["EXCEL_CELL_LIMIT", "LIST_SEPARATOR", "SOA_COLUMNS", "SOA_FORMATS", "SoADocument", "TABLE_FORMATS", "csv_cell", "export_plan", "export_register", "export_soa", "flatten", "html_cell", "is_formula_like", "md_cell", "plan_xlsx_bytes", "register_frame", "register_xlsx_bytes", "safe", "soa_document", "soa_xlsx_bytes", "table_bytes"]
