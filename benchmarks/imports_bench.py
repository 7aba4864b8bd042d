"""(f) Importing a Statement of Applicability and (g) importing an action plan, on the enterprise register.

The files are written the way organisations keep them (``write_files``): an SoA of both standards in one
workbook-like CSV (131 rows, Standard column, Yes/No, reasons in words, statuses in words, owners,
evidence), and an action plan of 2,000 actions, each treating three risks named by their registers' own
ids and implementing controls of both standards.

engine:   ``engine.soa.import_soa`` and ``engine.plan.import_actions``: headings recognised, values read
          in their wordings, every row through the record write path with history, differences and the
          crosswalk's proposals computed (SoA), risks found by register id and links written in bulk (plan)
limit:    hand-written DuckDB SQL that knows the file's columns: ``read_csv`` and ``UPDATE ... FROM`` (SoA),
          ``INSERT ... SELECT`` joining the register ids to the lineage (plan); no history, no checks
"""

from __future__ import annotations

import csv
import random
import shutil
import time
from pathlib import Path

import duckdb

N_ACTIONS = 2_000
_STATUS = ["Implemented", "Partially implemented", "Planned", "Not started"]
_REASONS = ["Risk treatment", "Risk treatment; Legal/regulatory", "Contractual", "Best practice"]
_ACTION_STATUS = ["Not started", "In progress", "Complete", "Planned"]


def _copy(src: str, work: str, name: str) -> Path:
    dest = Path(work) / name
    dest.unlink(missing_ok=True)
    Path(str(dest) + ".wal").unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


def write_files(db: Path, work: Path, seed: int = 11) -> tuple[Path, Path]:
    """The SoA and the action plan of the enterprise (untimed, once per benchmark)."""
    rng = random.Random(seed)
    con = duckdb.connect(str(db), read_only=True)
    try:
        controls = con.execute("SELECT framework, ref, title FROM controls WHERE kind = 'annex_a_control' AND "
                               "framework IN ('iso27001-2022', 'iso42001-2023') ORDER BY framework, ordinal").fetchall()
        keys = [r[0] for r in con.execute("SELECT source_key FROM risk_sources WHERE source_key IS NOT NULL "
                                          "ORDER BY source_key").fetchall()]
    finally:
        con.close()
    soa_file = work / "f-soa.csv"
    with soa_file.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Standard", "Control", "Control Title", "Applicable", "Reason for Inclusion", "Justification",
                    "Implementation Status", "Owner", "Evidence", "Last Verified"])
        for i, (fw, ref, title) in enumerate(controls):
            standard = "ISO/IEC 27001:2022" if fw == "iso27001-2022" else "ISO/IEC 42001:2023"
            out = i % 29 == 7
            w.writerow([standard, ref, title, "No" if out else "Yes", "" if out else _REASONS[i % 4],
                        "Not relevant to our services" if out else "", "" if out else _STATUS[i % 4],
                        f"Owner {i % 17}", f"EV-{i:03d}; POL-{i % 9}", f"2026-0{1 + i % 9}-15"])
    plan_file = work / "g-actions.csv"
    refs = [(fw, ref) for fw, ref, _ in controls]
    with plan_file.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Action ID", "Action", "Owner", "Due Date", "Status", "Effort (days)", "Risks",
                    "ISO 27001:2022 Controls", "ISO 42001 Controls"])
        for i in range(N_ACTIONS):
            picked = rng.sample(refs, 3)
            w.writerow([f"ACT-{i:05d}", f"Treatment action {i}", f"Owner {i % 40}", f"2027-{1 + i % 12:02d}-28",
                        _ACTION_STATUS[i % 4], str(1 + i % 30), "; ".join(rng.sample(keys, 3)),
                        ", ".join(r for f, r in picked if f == "iso27001-2022"),
                        ", ".join(r for f, r in picked if f == "iso42001-2023")])
    return soa_file, plan_file


def soa_engine_run(db: str, work: str, file: str) -> tuple[float, str]:
    from engine import soa

    path = _copy(db, work, "f-engine.duckdb")
    t0 = time.perf_counter()
    report = soa.import_soa(path, file, actor="bench")
    elapsed = time.perf_counter() - t0
    f = report.files[0]
    return elapsed, f"{len(f.updated)} rows decided, {len(f.proposals)} crosswalk proposals"


def soa_limit_run(db: str, work: str, file: str) -> tuple[float, str]:
    path = _copy(db, work, "f-limit.duckdb")
    con = duckdb.connect(str(path))
    try:
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.execute(f"""
            UPDATE soa_rows SET applicable = (s."Applicable" = 'Yes'),
                   justification = s."Justification",
                   status = CASE s."Implementation Status" WHEN 'Implemented' THEN 'implemented'
                            WHEN 'Partially implemented' THEN 'partial' WHEN 'Planned' THEN 'planned'
                            ELSE 'not_started' END,
                   owner = s."Owner", evidence = string_split(s."Evidence", '; '),
                   last_verified = CAST(s."Last Verified" AS DATE), version = soa_rows.version + 1
            FROM read_csv('{file}', all_varchar = true, header = true) s
            WHERE soa_rows.ref = s."Control" AND soa_rows.framework =
                  CASE WHEN s."Standard" LIKE '%42001%' THEN 'iso42001-2023' ELSE 'iso27001-2022' END
        """)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
    finally:
        con.close()
    return elapsed, "131 rows"


def actions_engine_run(db: str, work: str, file: str) -> tuple[float, str]:
    from engine import plan

    path = _copy(db, work, "g-engine.duckdb")
    t0 = time.perf_counter()
    report = plan.import_actions(path, file, actor="bench")
    elapsed = time.perf_counter() - t0
    return elapsed, f"{len(report.files[0].created)} actions"


def actions_limit_run(db: str, work: str, file: str) -> tuple[float, str]:
    path = _copy(db, work, "g-limit.duckdb")
    con = duckdb.connect(str(path))
    try:
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.execute(f"CREATE TEMP TABLE a AS SELECT * FROM read_csv('{file}', all_varchar = true, header = true)")
        con.execute("""
            INSERT INTO actions (id, title, owner, due_date, status, effort, created_at, updated_at)
            SELECT "Action ID", "Action", "Owner", CAST("Due Date" AS DATE),
                   CASE "Status" WHEN 'In progress' THEN 'in_progress' WHEN 'Complete' THEN 'done' ELSE 'planned' END,
                   CAST("Effort (days)" AS DOUBLE), now()::TIMESTAMP, now()::TIMESTAMP FROM a
        """)
        con.execute("""
            INSERT INTO action_risks
            SELECT DISTINCT a."Action ID", s.risk_id
            FROM a, unnest(string_split(a."Risks", '; ')) AS k(key)
            JOIN risk_sources s ON s.source_key = k.key
        """)
        con.execute("""
            INSERT INTO action_controls
            SELECT DISTINCT "Action ID", fw, 'A.' || regexp_replace(trim(ref), '^A\\.', '')
            FROM (SELECT "Action ID", 'iso27001-2022' AS fw, unnest(string_split("ISO 27001:2022 Controls", ',')) AS ref
                  FROM a WHERE "ISO 27001:2022 Controls" IS NOT NULL
                  UNION ALL
                  SELECT "Action ID", 'iso42001-2023', unnest(string_split("ISO 42001 Controls", ','))
                  FROM a WHERE "ISO 42001 Controls" IS NOT NULL)
        """)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        n = con.execute("SELECT count(*) FROM actions").fetchone()[0]
    finally:
        con.close()
    return elapsed, f"{n} actions"
