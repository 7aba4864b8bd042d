"""Importers fuzzed with hypothesis: malformed CSV and Excel, wrong types, huge cells, unicode, byte-order
marks, duplicated or missing headers, empty files, formulas in cells, hostile mapping files.

The only outcome besides success is the engine's ``InputError``, every problem of which names the file;
never another exception, and never a partial write: a refused file leaves every table as it was. A file
that imports creates one risk per data row with its lineage, a dry run of it writes nothing and reports
the same, and importing it a second time writes nothing at all.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import register
from engine.errors import InputError
from tests import stores

from .dbstate import changed_tables, db_state, scalar

pytestmark = pytest.mark.both_stores

WHO = {"actor": "fuzzer"}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADINGS = ["Risk ID", "ID", "Ref", "Title", "Risk", "Risk title", "Owner", "Risk owner", "Likelihood",
            "Probability", "Likelihood (1-4)", "Probability %", "Impact", "Severity", "Controls",
            "Annex A controls", "Planned controls", "Asset", "Assets", "AI system", "Status", "Treatment",
            "Next review", "Description", "CIA", "C", "I", "A", "Management system", "Category", "Risk score",
            "Accepted by", "Acceptance date", "Acceptance expiry", "AI objectives", "Risk source", "Framework",
            "Name", "Type", "Purpose", "Lifecycle stage", "Role", "Assessment", "Severity level", "Date"]
VALUES = ["1", "2", "3", "4", "5", "0", "6", "10", "2.5", "-1", "1e3", "NaN", "inf", "50%", "0.3", "Low", "Medium",
          "High", "Very high", "Rare", "Almost certain", "A.5.1", "A.8.13, A.5.15", "iso27001-2022:A.5.1",
          "27001:2013 A.9.2.1", "iso42001-2023:A.6.2.8", "A.99.99", "5.1", "2025-01-31", "31/01/2025",
          "2025-13-45", "45000", "yes", "no", "x", "ISMS", "AIMS", "both", "open", "closed", "modify", "accept",
          "C, I", "fairness; transparency", "Payroll DB", "CRM; Data lake", "provider", "developing"]
FORMULAS = ["=1+1", "=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@SUM(A1)", "\t=1", '=HYPERLINK("http://x","y")']


def _text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=max_size)


CELL = st.one_of(
    st.sampled_from(VALUES),
    st.sampled_from(FORMULAS),
    _text(),
    st.just(""),
    st.just("   "),
    st.integers(-10, 10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["x" * 40_000, "é" * 5_000 + "\n" * 50, "\x00\x01\x02\x1b[31m", "\u202e\u200b\ufeff"]),
)
HEADER = st.one_of(st.sampled_from(HEADINGS), _text(20), st.just(""))


@st.composite
def tables(draw: Any) -> list[list[str]]:
    """A header (possibly duplicated, missing or blank) and ragged rows of hostile cells."""
    header = draw(st.lists(HEADER, min_size=0, max_size=8))
    if draw(st.booleans()):
        header = ["Risk ID", "Title", *header]
    width = max(len(header), 1)
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 2), min_size=0, max_size=6))
    body = [header] if header or draw(st.booleans()) else []
    return body + rows


@st.composite
def csv_files(draw: Any) -> bytes:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    table = draw(tables())
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=newline, quoting=quoting)
    writer.writerows(table)
    text = buf.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # cut the file short anywhere
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def xlsx_files(draw: Any) -> bytes:
    table = draw(tables())
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    # A fixed creation time: the workbook's bytes (and so the truncation drawn below) depend only on
    # what hypothesis drew, which replaying a failing case needs.
    wb.set_properties({"created": datetime(2026, 1, 1)})
    if draw(st.booleans()):
        wb.add_worksheet("Empty first")  # the importer reads the first sheet
    ws = wb.add_worksheet("Register")
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            kind = draw(st.integers(0, 9))
            if kind == 0 and value:
                ws.write_formula(r, c, "=" + "1+1", None, value[:100])
            elif kind == 1:
                ws.write_number(r, c, draw(st.floats(allow_nan=False, allow_infinity=False, width=32)))
            elif kind == 2:
                ws.write_boolean(r, c, draw(st.booleans()))
            else:
                ws.write_string(r, c, value[:32_767])
    wb.close()
    data = out.getvalue()
    if draw(st.integers(0, 14)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


_counter = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _fresh(template_db: Path, workdir: Path, suffix: str, data: bytes) -> tuple[Path, Path]:
    n = next(_counter)
    db = stores.copy_db(template_db, workdir, f"db{n}.duckdb")
    path = workdir / f"register{n}{suffix}"
    path.write_bytes(data)
    return db, path


def _refusal_is_located(exc: InputError, path: Path) -> None:
    assert exc.problems, str(exc)
    for problem in exc.problems:
        assert problem.file == str(path), problem
        assert problem.record is None or isinstance(problem.record, (int, str))


def _import_or_located_error(run: Any, path: Path) -> Any:
    """Run an import: its report, or None when it was refused with an error naming the file."""
    try:
        return run()
    except InputError as exc:
        _refusal_is_located(exc, path)
        return None


def _check_risk_import(db: Path, path: Path, source: str) -> None:
    before = db_state(db)
    dry = _import_or_located_error(lambda: register.import_risks(db, path, source, dry_run=True, **WHO), path)
    assert changed_tables(before, db_state(db)) == [], "a dry run wrote to the database"
    report = _import_or_located_error(lambda: register.import_risks(db, path, source, **WHO), path)
    assert (dry is None) == (report is None), "the dry run and the real run disagree on refusing the file"
    if report is None:
        assert changed_tables(before, db_state(db)) == [], "a refused import wrote to the database"
        return
    created = len(report.created)
    assert created == len(dry.created)
    assert scalar(db, "SELECT count(*) FROM risks") == created
    assert scalar(db, "SELECT count(*) FROM risk_sources WHERE source = ?", [source]) == created
    assert scalar(db, "SELECT count(*) FROM risks WHERE title IS NULL OR trim(title) = ''") == 0
    assert scalar(db, "SELECT count(*) FROM history WHERE entity = 'risk' AND action = 'create' "
                      "AND channel = 'import'") == created
    if created:
        assert scalar(db, "SELECT count(*) FROM import_batches WHERE source = ?", [source]) == 1
    again = db_state(db)
    repeat = register.import_risks(db, path, source, **WHO)
    assert not repeat.created and not repeat.updated and not repeat.merged
    assert changed_tables(again, db_state(db)) == [], "re-importing an unchanged file wrote to the database"


@SETTINGS
@given(data=csv_files())
def test_fuzzed_csv_risk_registers(template_db: Path, workdir: Path, data: bytes) -> None:
    db, path = _fresh(template_db, workdir, ".csv", data)
    _check_risk_import(db, path, "fuzz")


@settings(SETTINGS, max_examples=25)
@given(data=xlsx_files())
def test_fuzzed_excel_risk_registers(template_db: Path, workdir: Path, data: bytes) -> None:
    db, path = _fresh(template_db, workdir, ".xlsx", data)
    _check_risk_import(db, path, "fuzz")


@settings(SETTINGS, max_examples=25)
@given(data=csv_files(), kind=st.sampled_from(["assets", "ai_systems", "assessments"]))
def test_fuzzed_inventories(template_db: Path, workdir: Path, data: bytes, kind: str) -> None:
    db, path = _fresh(template_db, workdir, ".csv", data)
    importer = {"assets": register.import_assets, "ai_systems": register.import_ai_systems,
                "assessments": register.import_assessments}[kind]
    before = db_state(db)
    if _import_or_located_error(lambda: importer(db, path, **WHO), path) is None:
        assert changed_tables(before, db_state(db)) == [], "a refused import wrote to the database"


YAML_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(
    ["title", "likelihood", "impact", "ignore", "controls", "1-4", "percent", "low-medium-high", "%d/%m/%Y", "%Q",
     "ISMS", "AIMS", "iso27001-2013", "Register", "nonsense"]), _text(15))
YAML_VALUE = st.recursive(YAML_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(_text(10), st.sampled_from(HEADINGS)), inner,
                                                 max_size=4)), max_leaves=8)
MAPPING_KEYS = st.sampled_from(["columns", "framework", "management_system", "scales", "date_format", "sheet",
                                "extra"])


@settings(SETTINGS, max_examples=40)
@given(doc=st.one_of(st.dictionaries(MAPPING_KEYS, YAML_VALUE, max_size=4), YAML_VALUE),
       raw=st.one_of(st.none(), st.binary(max_size=80)))
def test_fuzzed_mapping_files(template_db: Path, workdir: Path, doc: Any, raw: bytes | None) -> None:
    good = b"Risk ID,Title,Owner,Likelihood,Impact\nR-1,A risk,Ann,2,3\nR-2,Another,Bob,4,5\n"
    db, path = _fresh(template_db, workdir, ".csv", good)
    mapping = path.with_suffix(".yaml")
    mapping.write_bytes(raw if raw is not None else yaml.safe_dump(doc, allow_unicode=True).encode())
    before = db_state(db)
    try:
        register.import_risks(db, path, "fuzz", mapping=mapping, **WHO)
    except InputError as exc:
        assert exc.problems
        assert all(str(p.file) in (str(path), str(mapping)) for p in exc.problems), exc.problems
        assert changed_tables(before, db_state(db)) == []
