"""What a database holds, compared table by table: the check behind "nothing was written"."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]


def db_state(path: Path) -> dict[str, tuple[int, str]]:
    """Per base table: its row count and a digest of its rows (order-independent)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in base_tables(con):
            rows = con.execute(f'SELECT CAST(t AS VARCHAR) FROM "{table}" AS t').fetchall()
            digest = hashlib.sha256("\n".join(sorted(r[0] for r in rows)).encode()).hexdigest()
            out[table] = (len(rows), digest)
        return out
    finally:
        con.close()


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def scalar(path: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]
    finally:
        con.close()


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
