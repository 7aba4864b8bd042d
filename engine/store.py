"""The DuckDB store: short-lived connections, transactions, numbered migrations and views.

Rules (DESIGN.md, "Store"):
- no read-write connection is held between operations, so an analyst's ``duckdb -readonly``
  session in another process works while the app is running;
- every write happens inside one transaction: all of it lands or none of it does;
- the schema is created and upgraded by numbered SQL migrations in ``engine/migrations``;
  views are SQL files in ``engine/sql/views`` (one view per file) recreated on every ``init``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .config import SQL_DIR, db_path
from .errors import ConfigError, RiskmapError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VIEWS_DIR = SQL_DIR / "views"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
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


def migrations() -> list[tuple[int, str, Path]]:
    """The numbered migrations shipped with the engine, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise ConfigError(f"{path}: migration files must be named NNNN_name.sql")
        found.append((int(m.group(1)), m.group(2), path))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise ConfigError("two migrations share a number")
    return found


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return set()
    return {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this database has not had yet; returns their names."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = applied_versions(con)
    applied = []
    for version, name, path in migrations():
        if version in done:
            continue
        con.execute(path.read_text(encoding="utf-8"))
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, now()])
        applied.append(f"{version:04d}_{name}")
    return applied


def view_files() -> list[Path]:
    return sorted(VIEWS_DIR.glob("*.sql"))


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create every view. Views may depend on each other, so retry until all are in place."""
    pending = view_files()
    created: list[str] = []
    while pending:
        failed: list[tuple[Path, Exception]] = []
        for path in pending:
            try:
                con.execute(path.read_text(encoding="utf-8"))
                created.append(path.stem)
            except duckdb.CatalogException as exc:
                failed.append((path, exc))
        if len(failed) == len(pending):
            raise ConfigError(f"{failed[0][0]}: cannot create view: {failed[0][1]}")
        pending = [p for p, _ in failed]
    return created


def view_names() -> list[str]:
    """Names of the documented views (one file each)."""
    return [p.stem for p in view_files()]


def schema_version(db: str | Path | None = None) -> int:
    with connect(db) as con:
        done = applied_versions(con)
    return max(done) if done else 0
