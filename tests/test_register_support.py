"""Shared pieces of the register tests: fixture paths, a loaded register, and a database snapshot.

No tests here: the module holds what the test_register_* modules share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import register
from tests import stores

IMPORTS = Path(__file__).resolve().parent / "data" / "imports"
ACTOR = "tester"


def data(name: str) -> Path:
    return IMPORTS / name


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two snapshots are equal when nothing was written."""
    con = stores.open_db(db)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema IN ('main', 'public') ORDER BY 1").fetchall()]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = stores.open_db(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load_inventories(db: Path) -> None:
    register.import_assets(db, data("good_assets.csv"), actor=ACTOR)
    register.import_ai_systems(db, data("good_ai_systems.csv"), actor=ACTOR)
    register.import_assessments(db, data("good_assessments.csv"), actor=ACTOR)


def load_both_registers(db: Path) -> tuple[register.ImportReport, register.ImportReport]:
    """The inventories, then the security register (Excel) and the AI register (CSV)."""
    load_inventories(db)
    sec = register.import_risks(db, data("good_security_register.xlsx"), "security", actor=ACTOR)
    ai = register.import_risks(db, data("good_ai_register.csv"), "ai", actor=ACTOR)
    return sec, ai


def risk_by_key(db: Path, source: str, key: str) -> str:
    rows = query(db, "SELECT risk_id FROM risk_sources WHERE source = ? AND source_key = ?", [source, key])
    assert len(rows) == 1, (source, key, rows)
    return rows[0][0]
