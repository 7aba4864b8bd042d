"""What a database holds, compared table by table: the check behind "nothing was written"."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests import stores


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema IN ('main', 'public') ORDER BY 1").fetchall()]


def db_state(path: Path) -> dict[str, tuple[int, str]]:
    """Per base table: its row count and a digest of its rows (order-independent), in one query."""
    con = stores.open_db(path)
    try:
        tables = base_tables(con)
        sql = " UNION ALL ".join(
            f"SELECT '{t}' AS name, count(*) AS n, CAST(coalesce(sum(hash(CAST(x AS VARCHAR))::HUGEINT), 0) "
            f'AS VARCHAR) AS digest FROM "{t}" AS x' for t in tables)
        return {name: (n, digest) for name, n, digest in con.execute(sql).fetchall()} if tables else {}
    finally:
        con.close()


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def scalar(path: Path, sql: str, params: list | None = None):
    return stores.one(path, sql, params)


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return stores.rows(path, sql, params)
