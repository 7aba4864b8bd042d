"""Connections to the embedded DuckDB store: short-lived, one transaction per write.

Rules (DESIGN.md, "Store"): no read-write connection is held between operations, so an analyst's
``duckdb -readonly`` session in another process works while the app is running; every write happens
inside one transaction: all of it lands or none of it does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from engine.config import db_path
from engine.errors import ConfigError, RiskmapError

_LOCK_RETRY_SECONDS = 10.0


def now() -> datetime:
    """Current UTC time as a naive timestamp (the store keeps UTC in TIMESTAMP columns)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting briefly if another process holds the file lock."""
    if read_only and not path.exists():
        raise ConfigError(f"{path}: no such database; run `riskmap init --db {path}` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _LOCK_RETRY_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            try:
                con.execute("SET enable_progress_bar = false")
            except duckdb.Error:  # some front ends (a Jupyter kernel without widgets) refuse the setting
                pass
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise RiskmapError(
                        f"{path}: the database is in use by another process "
                        f"(close other read-write sessions and retry)"
                    ) from exc
                raise ConfigError(f"{path}: cannot open database: {exc}") from exc
            time.sleep(0.05)


@contextmanager
def connect(db: str | Path | None = None, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one operation; closed on exit. Read-only unless asked otherwise."""
    con = _open(db_path(db), read_only)
    try:
        yield con
    finally:
        con.close()


BULK_DISABLED_COMPRESSION = "dictionary"
"""Compression DuckDB does not try when a bulk write checkpoints (see :func:`transaction`)."""


@contextmanager
def transaction(db: str | Path | None = None, bulk: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed on success, rolled back on error.

    ``bulk`` is for writes of tens of megabytes (a register import): their commit checkpoints, on
    one core, and most of its time goes into choosing a compression for each column segment. Bulk
    text such as lineage JSON is nearly all distinct values, for which dictionary compression is
    tried for nothing, so it is left out for that checkpoint: about a quarter less commit time for
    100,000 imported risks, for a database file about a sixth larger. Segments written later are
    compressed as usual."""
    con = _open(db_path(db), read_only=False)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            if bulk:
                con.execute(f"SET disabled_compression_methods = '{BULK_DISABLED_COMPRESSION}'")
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        try:
            if bulk:
                con.execute("RESET disabled_compression_methods")
        finally:
            con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row a query returns (None when it returns no row)."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]
