"""Bounded input and readable reports: a file larger than the limits is refused in one line before it is
parsed, at little memory (measured in a fresh process); however many problems a file has, the printed
report stays short and ``--problems FILE`` holds them all."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import register
from engine.errors import InputError, Problem, problem_lines
from engine.register.imports import DEFAULT_LIMITS, Limits, parse_limits

from .conftest import ROOT
from .test_register_support import ACTOR, data

pytestmark = pytest.mark.both_stores

MAX_PEAK_MB = 300

_PEAK = r"""
import json, resource, sys
from engine import register
from engine.errors import InputError
try:
    register.import_risks(sys.argv[1], sys.argv[2], "big", actor="t", dry_run=True)
    out = {"refused": False}
except InputError as exc:
    out = {"refused": True, "message": str(exc)}
try:  # this process's own high-water mark (ru_maxrss would count the pytest process it was forked from)
    hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
    out["peak_mb"] = int(hwm.split()[1]) / 1024
except OSError:
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _import_in_a_fresh_process(db: Path, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _PEAK, str(db), str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- files too large, written as an attacker or an accident would ---------------------------------------

_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c>'
               b'</row>')


def _workbook(path: Path, rows: bytes, repeat: int, level: int = 9) -> Path:
    """A minimal .xlsx whose one sheet holds ``rows`` written ``repeat`` times (streamed, never in memory)."""
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
                    f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    f'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                    f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                    f'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        zf.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
                    f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                    f'Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
                    f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="Risks" sheetId="1" '
                    f'r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
                    f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
                    f'Target="worksheets/sheet1.xml"/></Relationships>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(_SHEET_HEAD)
            for _ in range(repeat):
                fh.write(rows)
            fh.write(b"</sheetData></worksheet>")
    return path


def workbook_that_expands_to_800_mb(tmp: Path) -> Path:
    row = b'<row><c t="inlineStr"><is><t>' + b"x" * 48 + b"</t></is></c></row>"
    return _workbook(tmp / "expands_to_800_mb.xlsx", row * (1024 * 1024 // len(row)), 800)


def workbook_with_600000_rows(tmp: Path) -> Path:
    return _workbook(tmp / "six_hundred_thousand_rows.xlsx", b'<row><c t="inlineStr"><is><t>r</t></is></c></row>',
                     600_000, level=1)


def csv_of_60_mb(tmp: Path) -> Path:
    path = tmp / "sixty_megabytes.csv"
    with path.open("wb") as fh:
        fh.write(b"Title,Likelihood,Impact\n")
        fh.truncate(60 * 1024 * 1024)  # sparse: large on disk as far as the file system says, instantly
    return path


def csv_with_600000_rows(tmp: Path) -> Path:
    path = tmp / "six_hundred_thousand_rows.csv"
    path.write_text("Title,Likelihood,Impact\n" + "r,1,1\n" * 600_000, encoding="utf-8")
    return path


def csv_with_10000_columns(tmp: Path) -> Path:
    path = tmp / "ten_thousand_columns.csv"
    path.write_text(",".join(["Title", *(f"c{i}" for i in range(10_000))]) + "\nr\n", encoding="utf-8")
    return path


def csv_with_a_40_million_character_cell(tmp: Path) -> Path:
    path = tmp / "forty_million_character_cell.csv"
    path.write_text("Title,Description\nr," + "x" * 40_000_000 + "\n", encoding="utf-8")
    return path


REFUSED: list[tuple[Callable[[Path], Path], str]] = [
    (workbook_that_expands_to_800_mb, "the workbook expands to more than it may"),
    (workbook_with_600000_rows, "the sheet has too many rows"),
    (csv_of_60_mb, "the file is too large: 60.0 MB"),
    (csv_with_600000_rows, "the file has too many rows"),
    (csv_with_10000_columns, "the file has too many columns: 10,001"),
    (csv_with_a_40_million_character_cell, "a cell is too long: 40,000,000 characters (row 2, column B)"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("make", "words"), REFUSED, ids=[m.__name__ for m, _ in REFUSED])
def test_a_file_too_large_is_refused_in_one_line_at_little_memory(fresh_db: Path, tmp_path: Path,
                                                                   make: Callable[[Path], Path], words: str) -> None:
    path = make(tmp_path)
    got = _import_in_a_fresh_process(fresh_db, path)
    assert got["refused"], got
    lines = got["message"].splitlines()
    assert len(lines) == 2 and words in lines[1] and "--limit" in lines[1], lines
    assert got["peak_mb"] < MAX_PEAK_MB, f"{path.name}: peak {got['peak_mb']:.0f} MB"


def test_the_800_mb_workbook_is_small_on_disk(tmp_path: Path) -> None:
    path = workbook_that_expands_to_800_mb(tmp_path)
    assert path.stat().st_size < 3 * 1024 * 1024
    with zipfile.ZipFile(path) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 800 * 1000 * 1000


# -- limits: defaults, overrides ----------------------------------------------------------------------

def test_limits_are_documented_and_overridable(fresh_db: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, value in (("file_mb", "50"), ("uncompressed_mb", "200"), ("rows", "500,000"), ("columns", "500"),
                        ("cell_chars", "33,554,432")):
        assert f"`{name}`" in readme and value in readme, name
    assert DEFAULT_LIMITS == Limits(50, 200, 500_000, 500, 32 * 1024 * 1024)
    assert parse_limits(["rows=10", "file_mb=1.5"], DEFAULT_LIMITS) == Limits(1.5, 200, 10, 500, 32 * 1024 * 1024)
    with pytest.raises(InputError, match="unknown limit"):
        parse_limits(["lines=3"])
    code, _, err = run_cli("import", "risks", data("good_risk_register.csv"), "--db", fresh_db, "--limit", "rows=2")
    assert code == 2 and "the file has too many rows" in err
    monkeypatch.setenv("RISKMAP_IMPORT_MAX_ROWS", "3")
    with pytest.raises(InputError, match="too many rows"):
        register.import_risks(fresh_db, data("good_risk_register.csv"), "plain", actor=ACTOR)
    report = register.import_risks(fresh_db, data("good_risk_register.csv"), "plain", actor=ACTOR,
                                   limits=Limits(max_rows=10))
    assert len(report.created) == 4


# -- reports a person can read --------------------------------------------------------------------------

def _register_with_one_wrong_scale(path: Path, n: int = 10_000) -> Path:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Risk ID", "Title", "Likelihood (1-5)", "Impact (1-5)"])
        for i in range(n):
            w.writerow([f"K-{i}", f"Risk number {i}", rng.randint(1, 9), rng.randint(1, 5)])
    return path


def test_one_wrong_scale_in_10000_rows_is_one_line_and_every_row_is_in_the_problems_file(
        fresh_db: Path, tmp_path: Path, run_cli) -> None:
    path = _register_with_one_wrong_scale(tmp_path / "wrong_scale.csv")
    problems = tmp_path / "problems.csv"
    code, out, err = run_cli("import", "risks", path, "--db", fresh_db, "--problems", problems)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) < 10, err
    (line,) = [x for x in lines if "Likelihood (1-5)" in x]
    assert "rows: not a valid likelihood" in line and "e.g. rows " in line and "expected" in line
    with problems.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    bad = [r for r in rows if r["column"] == "Likelihood (1-5)"]
    assert len(bad) == int(line.split(": ")[2].split(" ")[0].replace(",", ""))
    assert {r["kind"] for r in rows} == {"problem"} and all(int(r["row"]) >= 2 for r in bad)


def test_any_number_of_problems_prints_under_200_lines_quickly() -> None:
    problems = [Problem("big.csv", r, f"Column {r % 400}", f"kind {r % 500}", str(r), "something")
                for r in range(2, 400_002)]
    started = time.monotonic()
    err = InputError(problems, "400000 problem(s) found; nothing was imported")
    assert time.monotonic() - started < 5
    text = str(err)
    assert len(text.splitlines()) < 200 and len(text) < 100_000
    assert "more kind(s) of problem" in text.splitlines()[-1]
    few = problem_lines([Problem("f.csv", 3, "Owner", "empty owner", None, "an owner")])
    assert few == ["f.csv:3:Owner: empty owner; expected an owner"]   # a few problems: each in full


def test_a_dry_run_of_a_large_register_prints_under_200_lines(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    path = tmp_path / "large.csv"
    path.write_text("Risk ID,Title,Likelihood,Impact,Controls\n" + "".join(
        f"L-{i},Large register risk {i},2,3,MFA\n" for i in range(3000)), encoding="utf-8")
    code, out, err = run_cli("import", "risks", path, "--db", fresh_db, "--dry-run")
    assert code == 0, err
    assert len(out.splitlines()) < 200
    assert "... and 2,9" in out and "3000 new" in out
