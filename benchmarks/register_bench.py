"""(a) Import and consolidation of the enterprise's 50 registers into one register.

engine:   engine.register.import_risk_files: polars readers, vectorised normalisation, bulk inserts, one
          transaction for all 50 files (header recognition, scale normalisation, control references with
          2013 -> 2022 translation, near-duplicate merging, lineage and history)
limit:    hand-written DuckDB SQL that knows each file's headers and scale: read_csv / read_xlsx, CASE
          expressions, regexp splitting of control cells, bulk INSERT ... SELECT (no header recognition,
          no near-duplicate matching)
baseline: the row-by-row way: csv / openpyxl readers, a Python loop per row, one SQLModel ORM object per
          risk, control link, lineage row and history row
"""

from __future__ import annotations

import csv
import glob
import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .generate import HEADER_VARIANTS, SCALES, Enterprise, generate_registers
from .harness import cached_database_is_current


def prepare(workdir: Path, n_risks: int) -> tuple[Enterprise, Path]:
    """The register files and a database with the catalogs and inventories loaded (untimed, once)."""
    from engine import register
    from engine.lifecycle import init_database

    ent = generate_registers(workdir / f"registers-{n_risks}", n_risks)
    db = workdir / f"inventories-{n_risks}.duckdb"
    if not cached_database_is_current(db):
        tmp = workdir / "inventories.tmp.duckdb"
        tmp.unlink(missing_ok=True)
        init_database(tmp)
        register.import_assets(tmp, ent.assets_file, actor="bench")
        register.import_ai_systems(tmp, ent.ai_systems_file, actor="bench")
        tmp.rename(db)
    return ent, db


def _copy(src: str, work: str, name: str) -> Path:
    dest = Path(work) / name
    dest.unlink(missing_ok=True)
    Path(str(dest) + ".wal").unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _files(reg_dir: str) -> list[tuple[Path, str, str]]:
    out = []
    for p in sorted(Path(reg_dir).glob("bu*")):
        out.append((p, p.stem, "AIMS" if p.stem.endswith("-ai") else "ISMS"))
    return out


def engine_run(db: str, reg_dir: str, work: str) -> tuple[float, str]:
    from engine import register, store

    path = _copy(db, work, "a-engine.duckdb")
    files = [register.RiskFile(p, s, management_system=m) for p, s, m in _files(reg_dir)]
    t0 = time.perf_counter()
    register.import_risk_files(path, files, actor="bench")
    elapsed = time.perf_counter() - t0
    with store.connect(path) as con:
        n = con.execute("SELECT count(*) FROM risks").fetchone()[0]
        lin = con.execute("SELECT count(*) FROM risk_sources").fetchone()[0]
    return elapsed, f"{n} risks from {lin} source rows"


# ------------------------------------------------------------------------------------------------ limit

def _unit_headers(unit: int) -> dict[str, str]:
    return {k: v[(unit + i) % len(v)] for i, (k, v) in enumerate(HEADER_VARIANTS.items())}


def _scale_sql(col: str, unit: int) -> str:
    """The file's scale mapped onto 1..5, as the generator wrote it (the limit knows its inputs)."""
    name = list(SCALES)[unit % len(SCALES)]
    values = SCALES[name]
    n = len(values)
    whens = " ".join(f"WHEN '{v}' THEN {max(1, min(5, round(1 + (i * 4) / max(n - 1, 1))))}"
                     for i, v in enumerate(values))
    return f"(CASE \"{col}\" {whens} END)"


def _excel_extension() -> str:
    import duckdb_extension_excel

    return glob.glob(str(Path(duckdb_extension_excel.__file__).parent / "extensions" / "*" /
                         "excel.duckdb_extension"))[0]


def limit_run(db: str, reg_dir: str, work: str) -> tuple[float, str]:
    path = _copy(db, work, "a-limit.duckdb")
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{_excel_extension()}'")
    try:
        t0 = time.perf_counter()
        con.execute("BEGIN")
        selects = []
        for path_, source, system in _files(reg_dir):
            unit = int(source[2:4]) - 1
            h = _unit_headers(unit)
            reader = (f"read_xlsx('{path_}', all_varchar = true)" if path_.suffix == ".xlsx"
                      else f"read_csv('{path_}', all_varchar = true, header = true)")
            link = h["ai_system"] if system == "AIMS" else h["asset"]
            selects.append(f"""
                SELECT '{source}' AS source, '{system}' AS ms, row_number() OVER () + 1 AS source_row,
                       "{h['id']}" AS key, "{h['title']}" AS title, "{h['description']}" AS description,
                       "{h['threat']}" AS threat, "{h['vulnerability']}" AS vulnerability,
                       {_scale_sql(h['likelihood'], unit)} AS l, {_scale_sql(h['impact'], unit)} AS i,
                       "{h['likelihood']}" AS l_raw, "{h['impact']}" AS i_raw,
                       "{h['owner']}" AS owner, lower("{h['treatment']}") AS treatment, "{h['controls']}" AS controls,
                       "{h['status']}" AS status, try_cast("{h['review']}" AS DATE) AS review, "{link}" AS obj,
                       to_json(t) AS raw
                FROM {reader} t""")
        con.execute("CREATE TEMP TABLE src AS SELECT *, 'R-' || lpad((row_number() OVER ())::VARCHAR, 6, '0') AS rid "
                    "FROM (" + " UNION ALL ".join(selects) + ")")
        con.execute("""
            INSERT INTO import_batches
            SELECT 'LB-' || source, 'risks', source, source, '', count(*), now()::TIMESTAMP, 'bench'
            FROM src GROUP BY source
        """)
        con.execute("""
            INSERT INTO risks (id, title, description, management_system, threat, vulnerability, owner, status,
                               inherent_likelihood, inherent_impact, current_likelihood, current_impact,
                               matrix_version, treatment, next_review, created_at, updated_at)
            SELECT rid, title, description, ms, threat, vulnerability, owner, 'open', l, i, l, i, 1,
                   CASE treatment WHEN 'mitigate' THEN 'modify' WHEN 'accept' THEN 'retain'
                                  WHEN 'transfer' THEN 'share' ELSE treatment END,
                   review, now()::TIMESTAMP, now()::TIMESTAMP
            FROM src
        """)
        con.execute("""
            INSERT INTO risk_sources
            SELECT rid, 'LB-' || source, source, source_row, key, raw, l_raw, i_raw, 'mapped onto 1-5',
                   to_json({likelihood: l, impact: i, treatment: treatment})
            FROM src
        """)
        con.execute("""
            INSERT INTO risk_assets SELECT rid, obj FROM src WHERE ms = 'ISMS' AND obj IS NOT NULL
        """)
        con.execute("""
            INSERT INTO risk_ai_systems SELECT rid, obj FROM src WHERE ms = 'AIMS' AND obj IS NOT NULL
        """)
        con.execute(r"""
            INSERT INTO risk_controls
            WITH cells AS (
                SELECT rid, trim(unnest(regexp_split_to_array(controls, '[,;]'))) AS cell FROM src
            ), parsed AS (
                SELECT rid, cell,
                       CASE WHEN cell LIKE '%2013%' THEN 'iso27001-2013'
                            WHEN cell LIKE '%42001%' THEN 'iso42001-2023' ELSE 'iso27001-2022' END AS fw,
                       regexp_extract(cell, 'A\.?\s*([0-9.]+)$', 1) AS num
                FROM cells
            ), resolved AS (
                SELECT p.rid, p.cell, coalesce(m.target_framework, p.fw) AS fw,
                       coalesce(m.target_ref, 'A.' || p.num) AS ref,
                       CASE WHEN m.target_ref IS NOT NULL THEN p.fw || ':A.' || p.num END AS translated_from
                FROM parsed p
                LEFT JOIN mappings m ON p.fw = 'iso27001-2013' AND m.source_framework = 'iso27001-2013'
                      AND m.source_ref = 'A.' || p.num AND m.target_framework = 'iso27001-2022'
            )
            SELECT DISTINCT ON (rid, fw, ref) rid, fw, ref, 'existing', cell, translated_from FROM resolved
        """)
        con.execute("""
            INSERT INTO history (changed_at, actor, channel, entity, entity_id, action, field, old_value,
                                 new_value, batch_id)
            SELECT now()::TIMESTAMP, 'bench', 'import', 'risk', rid, 'create', NULL, NULL, title, 'LB-' || source
            FROM src
        """)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        n = con.execute("SELECT count(*) FROM risks").fetchone()[0]
    finally:
        con.close()
    return elapsed, f"{n} risks"


# --------------------------------------------------------------------------------------------- baseline

SYNONYMS = {k: {v.lower() for v in vs} for k, vs in HEADER_VARIANTS.items()}
WORDS = {"low": 1, "medium": 3, "high": 5, "very low": 1, "very high": 5}
REF = re.compile(r"(2013|42001)?[^A]*A\.?\s*([0-9.]+)")


def _norm(value: str) -> int:
    v = value.strip().lower()
    if v.endswith("%"):
        return max(1, min(5, 1 + int(float(v[:-1]) / 20)))
    if v in WORDS:
        return WORDS[v]
    n = int(float(v))
    return n if n <= 5 else max(1, min(5, round(n / 2)))


def _rows(path: Path):
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        rows = wb.active.iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        for r in rows:
            yield dict(zip(header, ["" if v is None else str(v) for v in r], strict=False))
        wb.close()
    else:
        with path.open(newline="", encoding="utf-8") as fh:
            yield from csv.DictReader(fh)


def baseline_run(db: str, reg_dir: str, work: str, max_files: int = 0) -> tuple[float, str]:
    """Row by row through the ORM. With ``max_files`` > 0 only that many files are imported and the time
    is scaled up by rows to the full set (said in the note)."""
    from sqlmodel import Session, select

    from .orm import (
        HistoryRow,
        ImportBatch,
        MappingRecord,
        Risk,
        RiskAISystem,
        RiskAsset,
        RiskControl,
        RiskSource,
        engine_for,
    )

    path = _copy(db, work, "a-baseline.duckdb")
    files = _files(reg_dir)
    total_rows = None
    if max_files:
        total_rows = sum(1 for p, _, _ in files if p.suffix == ".csv" for _ in open(p)) - sum(
            1 for p, _, _ in files if p.suffix == ".csv")
        files = files[:max_files]
    eng = engine_for(str(path))
    t0 = time.perf_counter()
    n = 0
    with Session(eng) as session:
        successors: dict[str, list[str]] = {}
        for m in session.exec(select(MappingRecord).where(MappingRecord.source_framework == "iso27001-2013")):
            if m.target_framework == "iso27001-2022" and m.target_ref:
                successors.setdefault(m.source_ref, []).append(m.target_ref)
        for p, source, system in files:
            batch = f"BB-{source}"
            session.add(ImportBatch(id=batch, kind="risks", source=source, file_name=p.name, file_sha256="",
                                    rows=0, imported_at=datetime.now(UTC), imported_by="bench"))
            for row_no, row in enumerate(_rows(p), start=2):
                f = {}
                for head, value in row.items():
                    for key, names in SYNONYMS.items():
                        if head.lower() in names:
                            f[key] = value
                n += 1
                rid = f"R-{n:06d}"
                li, im = _norm(f["likelihood"]), _norm(f["impact"])
                treatment = {"mitigate": "modify", "accept": "retain", "transfer": "share"}.get(
                    f["treatment"].lower(), f["treatment"].lower())
                now = datetime.now(UTC)
                session.add(Risk(id=rid, title=f["title"], description=f.get("description"), management_system=system,
                                 threat=f.get("threat"), vulnerability=f.get("vulnerability"), owner=f.get("owner"),
                                 inherent_likelihood=li, inherent_impact=im, current_likelihood=li,
                                 current_impact=im, matrix_version=1, treatment=treatment, created_at=now,
                                 updated_at=now))
                seen = set()
                for cell in re.split(r"[,;]", f.get("controls", "")):
                    m = REF.search(cell)
                    if not m:
                        continue
                    fw = {"2013": "iso27001-2013", "42001": "iso42001-2023"}.get(m.group(1) or "", "iso27001-2022")
                    ref = "A." + m.group(2)
                    targets = [("iso27001-2022", r, f"{fw}:{ref}") for r in successors.get(ref, [])] \
                        if fw == "iso27001-2013" else [(fw, ref, None)]
                    for tfw, tref, tr in targets:
                        if (tfw, tref) not in seen:
                            seen.add((tfw, tref))
                            session.add(RiskControl(risk_id=rid, framework=tfw, ref=tref, status="existing",
                                                    as_written=cell.strip(), translated_from=tr))
                obj = f.get("ai_system") if system == "AIMS" else f.get("asset")
                if obj:
                    session.add(RiskAISystem(risk_id=rid, ai_system_id=obj) if system == "AIMS"
                                else RiskAsset(risk_id=rid, asset_id=obj))
                session.add(RiskSource(risk_id=rid, batch_id=batch, source=source, source_row=row_no,
                                       source_key=f.get("id"), raw=json.dumps(row), original_likelihood=f["likelihood"],
                                       original_impact=f["impact"], scale_note="mapped onto 1-5",
                                       normalised=json.dumps({"likelihood": li, "impact": im, "treatment": treatment})))
                session.add(HistoryRow(changed_at=now, actor="bench", actor_name="bench", channel="import", entity="risk", entity_id=rid,
                                       action="create", new_value=f["title"], batch_id=batch))
            session.commit()
    elapsed = time.perf_counter() - t0
    eng.dispose()
    note = f"{n} risks"
    if max_files and total_rows:
        all_rows = sum(1 for _ in _files(reg_dir))  # noqa: F841
        # scale by the share of rows imported
        full = _count_rows(reg_dir)
        elapsed = elapsed * full / n
        note += f"; time scaled from {n} to {full} rows ({max_files} files imported)"
    return elapsed, note


def _count_rows(reg_dir: str) -> int:
    total = 0
    for p, _, _ in _files(reg_dir):
        if p.suffix == ".csv":
            with p.open() as fh:
                total += sum(1 for _ in fh) - 1
        else:
            import polars as pl

            total += pl.read_excel(p, engine="calamine").height
    return total
