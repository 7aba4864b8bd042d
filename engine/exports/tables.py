"""The treatment plan, the risk register and other listings (the change history) as Excel or CSV."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from engine import access, plan, store

from .cells import flatten
from .safe import safe_frame
from .workbook import TABLE_FORMATS, Sheet, _check_format, _save, _write_csv

Who = access.Principal | str | None
"""The principal an export is made for: only the risks of the business units it may see are written
(None: every unit, for the Python API and analysts)."""


def _plan_sheets(db: str | Path | None, principal: Who) -> list[Sheet]:
    actions = plan.ranking(db, include_closed=True, principal=principal)
    residual = plan.residual_after_plan(db, principal=principal)
    return [Sheet("Actions", actions, freeze_cols=2), Sheet("Residual risk", residual, freeze_cols=2),
            Sheet("Approvals", plan.approvals(db, principal=principal)),
            Sheet("Acceptances", plan.acceptances(db, principal=principal))]


def plan_xlsx_bytes(db: str | Path | None = None, *, principal: Who = None) -> bytes:
    """The treatment plan workbook as bytes: ranked actions, residual risk after the plan, approvals and
    acceptances."""
    sheets = _plan_sheets(db, principal)
    out = _save(lambda book: [book.table(s) for s in sheets], None)
    assert isinstance(out, bytes)
    return out


def export_plan(db: str | Path | None, fmt: str, path: str | Path, *, principal: Who = None) -> Path:
    """Write the treatment plan as xlsx (all sheets) or csv (the ranked actions); returns the path."""
    fmt = _check_format(fmt, TABLE_FORMATS, "treatment plan")
    out = Path(path)
    if fmt == "csv":
        return _write_csv(plan.ranking(db, include_closed=True, principal=principal), out)
    sheets = _plan_sheets(db, principal)
    _save(lambda book: [book.table(s) for s in sheets], out)
    return out


def register_frame(db: str | Path | None = None, *, principal: Who = None) -> pl.DataFrame:
    """The risk register: ``v_risk_register`` when the database has it, else the ``risks`` table (which
    only a principal seeing every unit may export)."""
    with store.connect(db) as con:
        who = access.scope(con, principal)
        has_view = store.scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_risk_register'")
        if not has_view and who is not None:
            access.require(who, "query")
        return con.execute("SELECT * FROM v_risk_register" if has_view else "SELECT * FROM risks ORDER BY id").pl()


def register_xlsx_bytes(db: str | Path | None = None, *, principal: Who = None) -> bytes:
    """The risk register workbook as bytes."""
    sheet = Sheet("Risk register", register_frame(db, principal=principal), freeze_cols=2)
    out = _save(lambda book: book.table(sheet), None)
    assert isinstance(out, bytes)
    return out


def export_register(db: str | Path | None, fmt: str, path: str | Path, *, principal: Who = None) -> Path:
    """Write the risk register as xlsx or csv; returns the path."""
    fmt = _check_format(fmt, TABLE_FORMATS, "risk register")
    out = Path(path)
    frame = register_frame(db, principal=principal)
    if fmt == "csv":
        return _write_csv(frame, out)
    sheet = Sheet("Risk register", frame, freeze_cols=2)
    _save(lambda book: book.table(sheet), out)
    return out


def table_bytes(frame: pl.DataFrame, fmt: str, *, sheet: str = "Table") -> bytes:
    """Any listing (the History page's filtered changes) as an xlsx workbook of one styled sheet or as
    CSV, every cell safe to open in a spreadsheet."""
    fmt = _check_format(fmt, TABLE_FORMATS, sheet.lower())
    if fmt == "csv":
        return safe_frame(flatten(frame)).write_csv().encode("utf-8")
    out = _save(lambda book: book.table(Sheet(sheet, frame, freeze_cols=1)), None)
    assert isinstance(out, bytes)
    return out
