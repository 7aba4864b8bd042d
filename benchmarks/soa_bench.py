"""(c) Building the Statement of Applicability and writing it to Excel, with 100,000 linked risks.

engine:   engine.exports.export_soa(db, "xlsx", path): v_soa (131 rows, each with its linked risk ids,
          counterparts, AI systems and assessments) written as a cover sheet, one sheet per standard and a
          combined sheet, with formats, frozen header, filters and status colours
limit:    the same rows straight from SQL (the hand-written v_soa query, lists joined in SQL), written
          directly with xlsxwriter with one header format, frozen header and filters; no Python per cell
baseline: the row-by-row way: the SoA assembled in Python loops over ORM objects (controls, risk links,
          risks, crosswalk mappings), written cell by cell with openpyxl
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path

import duckdb

SOA_SQL = """
SELECT framework, ref, title, applicability, array_to_string(reasons, '; ') AS reasons,
       array_to_string(risk_ids, '; ') AS risk_ids, exclusion_reason, justification, status,
       array_to_string(implementing_actions, '; ') AS implementing_actions, implementation_notes, owner,
       array_to_string(evidence, '; ') AS evidence, last_verified, array_to_string(counterparts, '; ') AS counterparts,
       array_to_string(ai_systems, '; ') AS ai_systems, array_to_string(impact_assessments, '; ') AS impact_assessments
FROM v_soa
"""


def _copy(src: str, work: str, name: str) -> Path:
    dest = Path(work) / name
    dest.unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


def engine_run(db: str, work: str) -> tuple[float, str]:
    from engine import exports

    path = _copy(db, work, "c-engine.duckdb")
    out = Path(work) / "c-engine.xlsx"
    exports.export_soa(path, "xlsx", Path(work) / "c-engine-warm.xlsx")  # warm-up: module imports, file cache
    t0 = time.perf_counter()
    exports.export_soa(path, "xlsx", out)
    elapsed = time.perf_counter() - t0
    return elapsed, f"{out.stat().st_size // 1024} KiB workbook"


def limit_run(db: str, work: str) -> tuple[float, str]:
    path = _copy(db, work, "c-limit.duckdb")
    out = Path(work) / "c-limit.xlsx"
    _limit_write(path, Path(work) / "c-limit-warm.xlsx")  # warm-up, as for the engine
    t0 = time.perf_counter()
    _limit_write(path, out)
    return time.perf_counter() - t0, f"{out.stat().st_size // 1024} KiB workbook"


def _limit_write(path: Path, out: Path) -> None:
    import xlsxwriter

    con = duckdb.connect(str(path), read_only=True)
    cur = con.execute(SOA_SQL)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    con.close()
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "constant_memory": False})
    head = wb.add_format({"bold": True})
    ws = wb.add_worksheet("Cover")
    ws.write_row(0, 0, ["Statement of Applicability", "working copy"])
    sheets = {"ISO 27001-2022": [r for r in rows if r[0] == "iso27001-2022"],
              "ISO 42001-2023": [r for r in rows if r[0] == "iso42001-2023"], "Combined": rows}
    for name, data in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, cols, head)
        for i, r in enumerate(data, start=1):
            ws.write_row(i, 0, ["" if v is None else str(v) for v in r])
        ws.freeze_panes(1, 2)
        ws.autofilter(0, 0, len(data), len(cols) - 1)
    wb.close()


def baseline_run(db: str, work: str) -> tuple[float, str]:
    import openpyxl
    from openpyxl.styles import Font
    from sqlmodel import Session, select

    from .orm import Control, CrosswalkLink, Risk, RiskControl, SoaRow, engine_for

    path = _copy(db, work, "c-baseline.duckdb")
    out = Path(work) / "c-baseline.xlsx"
    eng = engine_for(str(path))
    t0 = time.perf_counter()
    with Session(eng) as session:
        controls = [c for c in session.exec(select(Control)) if c.kind == "annex_a_control"
                    and c.framework in ("iso27001-2022", "iso42001-2023")]
        soa_rows = {(s.framework, s.ref): s for s in session.exec(select(SoaRow))}
        open_risks = {r.id for r in session.exec(select(Risk)) if r.status != "closed"}
        linked: dict[tuple[str, str], list[str]] = defaultdict(list)
        for rc in session.exec(select(RiskControl)):
            if rc.risk_id in open_risks:
                linked[(rc.framework, rc.ref)].append(rc.risk_id)
        counterparts: dict[tuple[str, str], list[str]] = defaultdict(list)
        for link in session.exec(select(CrosswalkLink)):
            if link.origin in ("authored", "inverse") and link.target_ref:
                counterparts[(link.source_framework, link.source_ref)].append(
                    f"{link.target_framework}:{link.target_ref} {link.relationship} ({link.strength})")
    rows = []
    for c in sorted(controls, key=lambda c: (c.framework, c.ordinal)):
        s = soa_rows.get((c.framework, c.ref))
        rows.append([c.framework, c.ref, c.title, s.applicable if s else None,
                     "; ".join(s.reasons or []) if s else "", "; ".join(sorted(linked[(c.framework, c.ref)])),
                     s.exclusion_reason if s else None, s.justification if s else None, s.status if s else None,
                     s.owner if s else None, "; ".join(counterparts[(c.framework, c.ref)])])
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active["A1"] = "Statement of Applicability"
    header = ["framework", "ref", "title", "applicable", "reasons", "risk_ids", "exclusion_reason", "justification",
              "status", "owner", "counterparts"]
    for name, data in (("ISO 27001-2022", [r for r in rows if r[0] == "iso27001-2022"]),
                       ("ISO 42001-2023", [r for r in rows if r[0] == "iso42001-2023"]), ("Combined", rows)):
        ws = wb.create_sheet(name)
        for j, h in enumerate(header, start=1):
            ws.cell(row=1, column=j, value=h).font = Font(bold=True)
        for i, r in enumerate(data, start=2):
            for j, v in enumerate(r, start=1):
                ws.cell(row=i, column=j, value=v if not isinstance(v, str) else v[:32000])
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = ws.dimensions
    wb.save(out)
    elapsed = time.perf_counter() - t0
    eng.dispose()
    return elapsed, f"{out.stat().st_size // 1024} KiB workbook"
