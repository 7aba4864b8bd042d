"""Exports: the SoA workbook (real xlsx, opened with openpyxl), CSV, Markdown, JSON; plan and register;
user text can never run as a formula or as markup."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import exports, plan, soa
from engine.errors import RuleViolation
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}
EVIL = "=HYPERLINK(\"http://evil.example\",\"x\")"
HEADINGS = [h for _, h in exports.SOA_COLUMNS]


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    soa.set_row(fresh_db, "iso27001-2022", "A.5.1", applicable=True, reasons=["legal_regulatory"],
                status="implemented", owner="@ciso", justification=EVIL, evidence=["+POL-1", "POL-2"], **WHO)
    soa.set_row(fresh_db, "iso27001-2022", "A.7.4", applicable=False, justification="-remote only | <b>no</b>",
                exclusion_reason="activity_not_performed", **WHO)
    soa.set_row(fresh_db, "iso42001-2023", "A.6.2.6", applicable=True, reasons=["risk_treatment"], status="partial",
                **WHO)
    plan.add_action(fresh_db, title="=cmd|' /C calc'!A0", owner="Ops", effort=2, risk_ids=["R-1"],
                         controls=["27001:A.8.13"], **WHO)
    return fresh_db


def cells(ws) -> list:
    return [c for row in ws.iter_rows() for c in row]


def test_soa_workbook_sheets_rows_columns_and_formatting(db: Path, tmp_path: Path) -> None:
    path = exports.export_soa(db, "xlsx", tmp_path / "soa.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Cover", "ISO 27001-2022", "ISO 42001-2023", "Combined"]
    expected_rows = {"ISO 27001-2022": 93, "ISO 42001-2023": 38, "Combined": 131}
    for name, n in expected_rows.items():
        ws = wb[name]
        assert ws.max_row == n + 1, name
        assert [c.value for c in ws[1]] == HEADINGS
        assert ws.freeze_panes == "C2"
        assert ws.auto_filter.ref == f"A1:Q{n + 1}"
        assert ws.column_dimensions["C"].width > ws.column_dimensions["B"].width   # titles get room
        assert ws["A1"].fill.fgColor.rgb.endswith("1F4E78") and ws["A1"].font.b
    ws = wb["ISO 27001-2022"]
    rows = {r[1].value: r for r in ws.iter_rows(min_row=2)}
    status_col = HEADINGS.index("Implementation status")
    applicable_col = HEADINGS.index("Applicable")
    assert rows["A.5.1"][status_col].value == "implemented"
    assert rows["A.5.1"][status_col].fill.fgColor.rgb.endswith("C6EFCE")
    assert rows["A.5.2"][status_col].fill.fgColor.rgb.endswith("FFC7CE")
    assert rows["A.7.4"][applicable_col].value == "not applicable"
    assert rows["A.7.4"][applicable_col].fill.fgColor.rgb.endswith("D9D9D9")
    assert rows["A.8.7"][HEADINGS.index("Linked risks")].value == "R-1"
    assert rows["A.8.13"][HEADINGS.index("Implementing actions")].value.startswith("A-001: =cmd")


def test_typed_formulas_stay_text_in_the_workbook(db: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(exports.soa_xlsx_bytes(db)))
    everything = [c for ws in wb.worksheets for c in cells(ws)]
    assert not [c.coordinate for c in everything if c.data_type == "f"]
    ws = wb["ISO 27001-2022"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "A.5.1")
    justification = row[HEADINGS.index("Justification")]
    assert justification.value == EVIL and justification.data_type == "s" and justification.quotePrefix
    assert row[HEADINGS.index("Owner")].value == "@ciso" and row[HEADINGS.index("Owner")].quotePrefix
    assert row[HEADINGS.index("Evidence")].value == "+POL-1; POL-2"
    assert not row[HEADINGS.index("Title")].quotePrefix


def test_cover_sheet_names_version_approver_and_date(db: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(exports.soa_xlsx_bytes(db)))
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows() if r[0].value}
    assert cover["Version"] == "Working copy (not approved)" and cover["Approved by"] == "not approved"
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Approved as it stands", **WHO)
    soa.set_row(db, "iso27001-2022", "A.5.2", status="planned", **WHO)
    path = exports.export_soa(db, "xlsx", tmp_path / "v1.xlsx", version=1)
    wb = openpyxl.load_workbook(path)
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows() if r[0].value}
    assert cover["Version"] == "Version 1" and cover["Approved by"] == "Dana CEO"
    assert cover["Approved on"] is not None and cover["Rows"] == 131
    row = next(r for r in wb["Combined"].iter_rows(min_row=2) if r[1].value == "A.5.2" and r[0].value.startswith("iso27"))
    assert row[HEADINGS.index("Implementation status")].value == "not_started"   # as approved, not as now
    wb = openpyxl.load_workbook(io.BytesIO(exports.soa_xlsx_bytes(db)))
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows() if r[0].value}
    assert cover["Version"] == "Working copy (not approved); latest approved version: 1"


def test_custom_controls_get_their_own_sheet(db: Path) -> None:
    soa.add_control(db, "ORG.1", "=Board review", **WHO)
    wb = openpyxl.load_workbook(io.BytesIO(exports.soa_xlsx_bytes(db)))
    assert wb.sheetnames == ["Cover", "ISO 27001-2022", "ISO 42001-2023", "Custom org", "Combined"]
    assert wb["Combined"].max_row == 133
    assert wb["Custom org"]["C2"].value == "=Board review" and wb["Custom org"]["C2"].data_type == "s"


def test_soa_csv_neutralises_formulas(db: Path, tmp_path: Path) -> None:
    path = exports.export_soa(db, "csv", tmp_path / "soa.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 131
    assert list(rows[0]) == [c for c, _ in exports.SOA_COLUMNS]
    a51 = next(r for r in rows if r["framework"] == "iso27001-2022" and r["ref"] == "A.5.1")
    assert a51["justification"] == "'" + EVIL and a51["owner"] == "'@ciso" and a51["evidence"] == "'+POL-1; POL-2"
    a74 = next(r for r in rows if r["framework"] == "iso27001-2022" and r["ref"] == "A.7.4")
    assert a74["justification"].startswith("'-remote")
    assert a51["title"] == "Policies for information security"


def test_soa_markdown_escapes_user_text(db: Path, tmp_path: Path) -> None:
    text = exports.export_soa(db, "md", tmp_path / "soa.md").read_text()
    assert "<b>" not in text and "&lt;b&gt;no&lt;/b&gt;" in text
    line = next(x for x in text.splitlines() if x.startswith("| A.7.4 |"))
    assert line.count(" | ") == len(exports.SOA_COLUMNS) - 2   # the user's pipe does not add a column
    assert "\\|" in line
    assert text.count("| A.") >= 131
    assert "## ISO/IEC 27001:2022 (iso27001-2022)" in text


def test_soa_json_keeps_lists_and_version(db: Path, tmp_path: Path) -> None:
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Approved as it stands", **WHO)
    doc = json.loads(exports.export_soa(db, "json", tmp_path / "soa.json", version=1).read_text())
    assert doc["version"] == 1 and doc["approved_by"] == "Dana CEO" and len(doc["rows"]) == 131
    a51 = next(r for r in doc["rows"] if r["framework"] == "iso27001-2022" and r["ref"] == "A.5.1")
    assert a51["reasons"] == ["legal_regulatory"] and a51["justification"] == EVIL


def test_plan_exports(db: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(exports.export_plan(db, "xlsx", tmp_path / "plan.xlsx"))
    assert wb.sheetnames == ["Actions", "Residual risk", "Approvals", "Acceptances"]
    ws = wb["Actions"]
    header = [c.value for c in ws[1]]
    title = ws.cell(row=2, column=header.index("title") + 1)
    assert title.value.startswith("=cmd") and title.data_type == "s" and title.quotePrefix
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref.startswith("A1:")
    assert wb["Residual risk"].max_row == 4
    rows = list(csv.DictReader(exports.export_plan(db, "csv", tmp_path / "plan.csv").open(encoding="utf-8")))
    assert rows[0]["action_id"] == "A-001" and rows[0]["title"].startswith("'=cmd")
    assert rows[0]["controls_27001"] == "iso27001-2022:A.8.13"


def test_register_exports(db: Path, tmp_path: Path) -> None:
    rows = list(csv.DictReader(exports.export_register(db, "csv", tmp_path / "reg.csv").open(encoding="utf-8")))
    assert {r["id"] if "id" in r else r["risk_id"] for r in rows} >= {"R-1", "R-2", "R-3"}
    wb = openpyxl.load_workbook(io.BytesIO(exports.register_xlsx_bytes(db)))
    assert wb.sheetnames == ["Risk register"] and wb["Risk register"].max_row >= 4


def test_unknown_formats_are_refused(db: Path, tmp_path: Path) -> None:
    with pytest.raises(RuleViolation, match="xlsx, csv, md, json"):
        exports.export_soa(db, "pdf", tmp_path / "x.pdf")
    with pytest.raises(RuleViolation, match="xlsx, csv"):
        exports.export_plan(db, "md", tmp_path / "x.md")


def test_cli_export(db: Path, tmp_path: Path, run_cli) -> None:
    for kind, fmt in [("soa", "xlsx"), ("soa", "csv"), ("soa", "md"), ("soa", "json"), ("plan", "xlsx"),
                      ("plan", "csv"), ("register", "xlsx"), ("register", "csv")]:
        out = tmp_path / f"{kind}.{fmt}"
        code, stdout, err = run_cli("export", kind, "--format", fmt, "--out", out, "--db", db)
        assert code == 0, err
        assert out.stat().st_size > 0 and str(out) in stdout
    code, _, err = run_cli("export", "soa", "--format", "docx", "--out", tmp_path / "x", "--db", db)
    assert code == 1 and "docx" in err


@given(st.text())
def test_csv_cell_never_starts_a_formula(text: str) -> None:
    out = exports.csv_cell(text)
    assert not exports.is_formula_like(out)
    assert out.endswith(text)


@given(st.text())
def test_md_and_html_cells_carry_no_markup(text: str) -> None:
    md, h = exports.md_cell(text), exports.html_cell(text)
    assert "<" not in md.replace("<br>", "") and "\n" not in md
    assert not any(ch in h for ch in "<>\"'")
    unescaped_pipes = md.count("|") - md.count("\\|")
    assert unescaped_pipes == 0
