"""Record ids: the one generator of sequential ids (``R-0001``, ``A-001``, ``IA-0001``, ``B-0001``...)
and readable ids made from a name (``customer-db``)."""

from __future__ import annotations

import re

import duckdb

from engine.store import postgres

from .vocab import clean

__all__ = ["next_ids", "slug"]


def next_ids(con: duckdb.DuckDBPyConnection, table: str, prefix: str, count: int = 1, *, width: int = 4,
             column: str = "id") -> list[str]:
    """The next ``count`` sequential ids ``PREFIX-0001``... after the highest one used in ``table``.

    Only ids of exactly that form count (``R-12``, not ``R-12a`` or an imported ``K-1``); numbers are
    zero-padded to ``width`` digits and grow past it (``A-999`` is followed by ``A-1000``). Call it in
    the transaction that inserts the records, so two writers cannot be given the same id: on the
    DuckDB file there is one writer at a time; on PostgreSQL the ids committed by others since the
    transaction began, and those another transaction is still choosing, count too
    (:func:`~engine.store.postgres.committed_highest`).
    """
    if count <= 0:
        return []
    pattern = f"^{re.escape(prefix)}-([0-9]+)$"
    row = con.execute(
        f"SELECT max(CAST(regexp_extract({column}, ?, 1) AS BIGINT)) FROM {table} "
        f"WHERE regexp_matches({column}, ?)", [pattern, pattern]).fetchone()
    highest = int(row[0] or 0) if row else 0
    if postgres.is_postgres(con):
        highest = max(highest, postgres.committed_highest(con, table, column, prefix))
    start = highest + 1
    return [f"{prefix}-{n:0{width}d}" for n in range(start, start + count)]


def slug(text: str, used: set[str]) -> str:
    """A readable id from a name (``Customer DB`` -> ``customer-db``), unique among ``used``."""
    base = re.sub(r"[^a-z0-9]+", "-", clean(text)).strip("-")[:60] or "item"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate
