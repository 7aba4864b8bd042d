"""The SQLModel declarations agree with the tables the migrations create."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import SQLModel

import engine.models  # noqa: F401  (registers the tables)
from engine import store


def test_every_declared_table_matches_the_database(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        db_cols: dict[str, list[str]] = {}
        for table, col in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
                "ORDER BY table_name, ordinal_position").fetchall():
            db_cols.setdefault(table, []).append(col)
    declared = SQLModel.metadata.tables
    for name in ("frameworks", "controls", "mappings", "crosswalk_links", "history", "soa_rows", "actions",
                 "plan_approvals", "residual_acceptances", "soa_version_rows"):
        assert name in declared
    for name, table in declared.items():
        assert name in db_cols, f"{name} is declared but no migration creates it"
        assert [c.name for c in table.columns] == db_cols[name], name
