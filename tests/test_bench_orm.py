"""The benchmark baseline's ORM classes (benchmarks/orm.py) describe the tables the migrations create.

The row-by-row baseline must read and write the real tables, or its timings measure something else;
the engine itself declares each record once, in the SQL migrations, and imports no ORM.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.orm import BASELINE_MODELS

from .test_register_support import query

ROOT = Path(__file__).resolve().parents[1]


def _columns(db: Path) -> dict[str, list[tuple[str, bool]]]:
    out: dict[str, list[tuple[str, bool]]] = {}
    for table, col, nullable in query(
            db, "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"):
        out.setdefault(table, []).append((col, nullable == "YES"))
    return out


def _primary_keys(db: Path) -> dict[str, set[str]]:
    return {table: set(cols) for table, cols in query(
        db, "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY'")}


@pytest.mark.parametrize("model", BASELINE_MODELS, ids=lambda m: m.__tablename__)
def test_baseline_model_matches_the_migrated_table(fresh_db: Path, model: type) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    db_cols = _columns(fresh_db).get(table.name)
    assert db_cols is not None, f"{table.name} is modelled but no migration creates it"
    assert [c.name for c in table.columns] == [c for c, _ in db_cols], "column names or order differ"
    keys = _primary_keys(fresh_db).get(table.name)
    orm_keys = {c.name for c in table.primary_key.columns}
    declared_null = {c.name: bool(c.nullable) for c in table.columns}
    for col, nullable in db_cols:
        if col in orm_keys | (keys or set()):
            continue
        assert declared_null[col] == nullable, f"{table.name}.{col}: nullable {declared_null[col]} vs {nullable}"
    if keys:  # crosswalk_links has none; the ORM needs one and uses the four ids
        assert orm_keys == keys


def test_the_engine_imports_no_orm() -> None:
    """The numbered migrations are the one declaration of each record."""
    orm = re.compile(r"^\s*(?:from|import)\s+(?:sqlmodel|sqlalchemy|duckdb_engine)\b", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("*.py")
                 if orm.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
