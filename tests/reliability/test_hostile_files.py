"""Hostile register files (``tests/data/hostile``, each named after its one defect) through the importers.

Every file has one asserted outcome: it imports, with its text stored exactly as written; or it is refused
with the engine's error (exit code 2 on the command line), which names the file and, where the defect has
one, the row and column, and nothing at all is written. No file may end in a traceback or a partial write.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import register
from engine.errors import InputError
from engine.store import postgres
from tests import stores

from .dbstate import changed_tables, db_state, rows, scalar

pytestmark = pytest.mark.both_stores

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_hostile", module)
    spec.loader.exec_module(module)
    return module


mk = _load_generator()
SOURCE = "hostile"
WHO = {"actor": "tester"}


def _titles(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT s.source_key, r.title FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                         "WHERE s.source = ?", [SOURCE]))


def _field(db: Path, key: str, field: str) -> object:
    return scalar(db, f"SELECT r.{field} FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                      "WHERE s.source = ? AND s.source_key = ?", [SOURCE, key])


# ------------------------------------------------------------------------------- files that import

def _bom_and_crlf(db: Path) -> None:
    assert _titles(db) == {f"H-{i}": f"Hostile file risk number {i}" for i in (1, 2, 3)}
    assert _field(db, "H-3", "description") == "row 3"  # no stray carriage return


def _formulas(db: Path) -> None:
    # Stored exactly as written (cells are trimmed of surrounding white space), never evaluated.
    expected = {f"F-{i}": f.strip() for i, f in enumerate(mk.FORMULAS, 1)}
    got = _titles(db)
    assert {k: got[k] for k in expected} == expected
    for key, text in expected.items():
        assert _field(db, key, "owner") == text
        assert _field(db, key, "description") == text


def _formulas_xlsx(db: Path) -> None:
    _formulas(db)
    # A real formula cell arrives as the value the workbook shows, not as a formula.
    assert _field(db, f"F-{len(mk.FORMULAS) + 1}", "description") == "cached value"


def _unicode(db: Path) -> None:
    assert _titles(db) == {f"U-{i}": t for i, t in enumerate(mk.UNICODE_TITLES, 1)}
    assert _field(db, "U-1", "owner") == "Zoë Ñúñez"


def _markup(db: Path) -> None:
    assert _titles(db) == {f"M-{i}": t for i, t in enumerate(mk.MARKUP_TITLES, 1)}
    assert scalar(db, "SELECT count(*) FROM risks") == len(mk.MARKUP_TITLES)  # the table is still there


def _quoted_newlines(db: Path) -> None:
    assert _titles(db)["Q-1"] == 'Title with "quotes", commas; and semicolons'
    description = _field(db, "Q-1", "description")
    assert isinstance(description, str)
    assert description.replace("\r\n", "\n") == "line one\nline two\nline three"


def _semicolons(db: Path) -> None:
    assert _titles(db) == {"H-1": "Hostile file risk number 1", "H-2": "Hostile file risk number 2"}
    assert _field(db, "H-2", "inherent_likelihood") == 2


def _short_rows(db: Path) -> None:
    assert _titles(db) == {"S-1": "Short row risk", "S-2": "Another short row"}
    assert _field(db, "S-1", "owner") is None and _field(db, "S-2", "owner") == "Owner"


def _huge_cell(db: Path) -> None:
    assert _field(db, "B-1", "description") == "x" * mk.HUGE_CELL_CHARS


def _nul_byte(db: Path) -> None:
    # PostgreSQL's text holds no NUL: the store keeps U+FFFD in its place (engine.store.postgres.NUL_REPLACEMENT)
    nul = postgres.NUL_REPLACEMENT if stores.ON_POSTGRES else "\x00"
    assert _titles(db) == {"N-1": f"Title with a NUL{nul} byte"}


def _good(db: Path) -> None:
    assert _titles(db) == {"G-1": "Hostile file risk number 1", "G-2": "Hostile file risk number 2"}


IMPORTS: dict[str, Callable[[Path], None]] = {
    "good.csv": _good,
    "bom_and_crlf.csv": _bom_and_crlf,
    "formula_cells.csv": _formulas,
    "formula_cells.xlsx": _formulas_xlsx,
    "unicode_text.csv": _unicode,
    "markup_and_sql_text.csv": _markup,
    "quoted_newlines.csv": _quoted_newlines,
    "semicolon_separated.csv": _semicolons,
    "short_rows.csv": _short_rows,
    "huge_cell.csv": _huge_cell,
    "nul_byte_in_cell.csv": _nul_byte,
}
"""Files that import, each with the check of what was stored."""

# ------------------------------------------------------------------------------- files that are refused

REFUSED: dict[str, list[str]] = {
    "empty.csv": ["the file is empty"],
    "whitespace_only.csv": ["the file is empty"],
    "empty_workbook.xlsx": ["empty"],
    "duplicated_header.csv": [":1:", "Title"],
    "duplicated_header.xlsx": [":1:", "Owner"],
    "missing_title_column.csv": ["no title column"],
    "blank_header_with_values.csv": [":1:column C:", "no heading"],
    "ragged_long_row.csv": ["more cells than the header"],
    "unterminated_quote.csv": ["cannot read the file"],
    "duplicate_id.csv": [":3:Risk ID: duplicate ID (also in row 2)"],
    "empty_title.csv": [":3:Title: empty title"],
    "wrong_type_likelihood.xlsx": [":3:Likelihood:", ":4:Likelihood:", ":5:Likelihood:", "'often'", "'tbd'"],
    "wrong_type_date.csv": [":2:Next review:", ":3:Next review:", "'someday'"],
    "not_a_workbook.xlsx": ["cannot read the file"],
    "csv_named_xlsx.xlsx": ["cannot read the file"],
    "unsupported_extension.json": ["unsupported file type"],
}
"""Files refused with the engine's error, with the words (locations) the error must contain."""

# Files whose right outcome is either: refused with a located error, or imported correctly. What must never
# happen is a traceback, or text stored other than as written (a mis-decoded or mis-split file).
EITHER: dict[str, Callable[[Path], None]] = {
    "header_only.csv": lambda db: None,
    "header_only.xlsx": lambda db: None,
    "latin1_encoded.csv": lambda db: _check_equal(_titles(db), {"L-1": "Société générale: fraude à la carte"}),
    "utf16_encoded.csv": lambda db: _check_equal(_titles(db), {"H-1": "Hostile file risk number 1"}),
    "cr_only_line_endings.csv": lambda db: _check_equal(
        _titles(db), {"H-1": "Hostile file risk number 1", "H-2": "Hostile file risk number 2"}),
}


MAPPINGS: dict[str, list[str]] = {
    "mapping_not_utf8.yaml": ["UTF-8"],
    "mapping_invalid_yaml.yaml": ["not valid YAML"],
    "mapping_not_a_mapping.yaml": ["not a mapping file"],
    "mapping_unknown_field.yaml": ["columns:Owner:", "unknown field", "'favourite_colour'"],
    "mapping_unknown_scale.yaml": ["scales:likelihood:", "unknown scale"],
    "mapping_missing_column.csv": ["Chance", "does not have"],
}
"""Mapping files refused (used with good.csv), with the words the error must contain."""


def _check_equal(got: object, expected: object) -> None:
    assert got == expected


def test_every_hostile_file_has_an_asserted_outcome() -> None:
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_file() and p.name != "make_hostile.py"
               and not p.name.startswith(("__", "."))}
    groups = [set(IMPORTS), set(REFUSED), set(EITHER), set(MAPPINGS)]
    assert on_disk == set().union(*groups) == set(mk.FILES)
    assert sum(len(g) for g in groups) == len(on_disk), "a file is listed with two outcomes"


def test_hostile_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    for path in mk.write_all(tmp_path):
        assert path.read_bytes() == (HOSTILE / path.name).read_bytes(), f"{path.name}: regenerate the folder"


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_hostile_file_imports_as_written(fresh_db: Path, run_cli, name: str) -> None:
    path = HOSTILE / name
    empty = db_state(fresh_db)
    report = register.import_risks(fresh_db, path, SOURCE, dry_run=True, **WHO)
    assert report.dry_run and report.created
    assert changed_tables(empty, db_state(fresh_db)) == [], "the dry run wrote to the database"
    code, out, err = run_cli("import", "risks", path, "--source", SOURCE, "--db", fresh_db)
    assert code == 0, err
    assert "Traceback" not in err
    IMPORTS[name](fresh_db)
    assert scalar(fresh_db, "SELECT count(*) FROM import_batches WHERE source = ?", [SOURCE]) == 1
    # a second import of the same file changes nothing
    before = db_state(fresh_db)
    code, _, err = run_cli("import", "risks", path, "--source", SOURCE, "--db", fresh_db)
    assert code == 0, err
    assert changed_tables(before, db_state(fresh_db)) == []


def test_a_huge_cell_is_refused_under_a_lower_cell_limit(fresh_db: Path, run_cli) -> None:
    path = HOSTILE / "huge_cell.csv"
    before = db_state(fresh_db)
    code, _, err = run_cli("import", "risks", path, "--source", SOURCE, "--db", fresh_db,
                           "--limit", "cell_chars=100000")
    assert code == 2 and "a cell is too long: 262,144 characters (row 2, column F)" in err, err
    assert changed_tables(before, db_state(fresh_db)) == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_file_is_refused_with_its_location(fresh_db: Path, run_cli, name: str) -> None:
    path = HOSTILE / name
    before = db_state(fresh_db)
    code, out, err = run_cli("import", "risks", path, "--source", SOURCE, "--db", fresh_db)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err
    for needle in REFUSED[name]:
        assert needle in err, f"{needle!r} not in {err!r}"
    problem_lines = err.splitlines()[1:]
    assert problem_lines and all(line.startswith(str(path)) for line in problem_lines), err
    assert changed_tables(before, db_state(fresh_db)) == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_file_error_names_the_file_in_every_problem(fresh_db: Path, name: str) -> None:
    path = HOSTILE / name
    with pytest.raises(InputError) as info:
        register.import_risks(fresh_db, path, SOURCE, **WHO)
    assert info.value.problems
    for problem in info.value.problems:
        assert problem.file == str(path)
        assert problem.record is None or isinstance(problem.record, (int, str))


@pytest.mark.parametrize("name", sorted(EITHER))
def test_hostile_file_is_refused_or_imported_exactly(fresh_db: Path, run_cli, name: str) -> None:
    path = HOSTILE / name
    before = db_state(fresh_db)
    code, out, err = run_cli("import", "risks", path, "--source", SOURCE, "--db", fresh_db)
    assert "Traceback" not in err
    if code == 0:
        EITHER[name](fresh_db)
    else:
        assert code == 2, (out, err)
        assert err.startswith("error: ") and str(path) in err
        assert changed_tables(before, db_state(fresh_db)) == []


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_hostile_mapping_file_is_refused_with_its_location(fresh_db: Path, run_cli, name: str) -> None:
    mapping = HOSTILE / name
    before = db_state(fresh_db)
    code, out, err = run_cli("import", "risks", HOSTILE / "good.csv", "--source", SOURCE, "--mapping", mapping,
                             "--db", fresh_db)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(mapping) in err or str(HOSTILE / "good.csv") in err
    for needle in MAPPINGS[name]:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert changed_tables(before, db_state(fresh_db)) == []


KINDS = ["assets", "ai-systems", "assessments"]


@pytest.mark.parametrize("name", sorted(set(REFUSED) | set(EITHER)))
def test_hostile_file_through_the_inventory_importers(fresh_db: Path, run_cli, tmp_path: Path, name: str) -> None:
    """The asset, AI system and assessment importers read files the same way: a file refused as a risk
    register for what it is (empty, unreadable, malformed) is refused by them too, with a located error."""
    path = tmp_path / name
    shutil.copyfile(HOSTILE / name, path)
    for kind in KINDS:
        before = db_state(fresh_db)
        code, out, err = run_cli("import", kind, path, "--db", fresh_db)
        assert "Traceback" not in err
        assert code in (0, 2), (kind, code, out, err)
        if code == 2:
            assert err.startswith("error: ") and str(path) in err, (kind, err)
            assert changed_tables(before, db_state(fresh_db)) == [], kind


def test_a_twenty_megabyte_cell_is_kept_whole_by_default_and_refused_under_a_lower_limit(fresh_db: Path,
                                                                                       tmp_path: Path) -> None:
    from engine.errors import InputError
    from engine.register.imports.limits import Limits

    path = tmp_path / "twenty_megabyte_cell.csv"
    path.write_text("Risk ID,Title,Description\nB-1,Huge," + "y" * 20_000_000 + "\nB-2,Small,x\n", encoding="utf-8")
    before = db_state(fresh_db)
    with pytest.raises(InputError, match="a cell is too long: 20,000,000 characters"):
        register.import_risks(fresh_db, path, SOURCE, **WHO, limits=Limits(max_cell_chars=1_000_000))
    assert changed_tables(before, db_state(fresh_db)) == []
    report = register.import_risks(fresh_db, path, SOURCE, **WHO)
    assert len(report.created) == 2
    assert scalar(fresh_db, "SELECT length(r.description) FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                            "WHERE s.source_key = 'B-1'") == 20_000_000


PEAK_MEMORY = """
import random, resource, shutil, sys
from engine import register
from engine.register.imports.limits import Limits
db, words, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(1)
title = " ".join(f"host{rng.randint(0, 10**6)}" for _ in range(words))
with open(out, "w", encoding="utf-8") as fh:
    fh.write("Risk ID,Title\\nL-1," + title + "\\nL-2,A short title\\n")
register.import_risks(db, out, "long-title", actor="tester", limits=Limits(max_cell_chars=1_000_000))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _peak_mb(template: Path, tmp_path: Path, words: int) -> int:
    db = stores.copy_db(template, tmp_path, f"peak{words}.duckdb")
    got = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(db), str(words), str(tmp_path / f"t{words}.csv")],
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-2000:]
    return int(got.stdout.split()[-1])


def test_a_long_title_of_numbered_words_does_not_exhaust_memory(template_db: Path, tmp_path: Path) -> None:
    """A title cell of 12,000 numbered words (host names, serial numbers pasted into the wrong column: about
    130 KB) must cost memory in proportion to its size. Memory that grows with the square of the title's
    length would let one ~1 MB cell exhaust the machine and kill the process serving the app."""
    baseline = _peak_mb(template_db, tmp_path, 10)
    long_title = _peak_mb(template_db, tmp_path, 12_000)
    assert long_title - baseline < 300, f"peak memory {baseline} MB -> {long_title} MB for a 130 KB title"
