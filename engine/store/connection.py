"""Connections to the embedded DuckDB store: short-lived, one transaction per write.

Rules (DESIGN.md, "Store"): no read-write connection is held between operations, so an analyst's
``duckdb -readonly`` session in another process works while the app is running; every write happens
inside one transaction: all of it lands or none of it does."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb

from engine.config import db_path
from engine.errors import ConfigError, RiskmapError

from . import postgres

_LOCK_RETRY_SECONDS = 10.0


def now() -> datetime:
    """Current UTC time as a naive timestamp (the store keeps UTC in TIMESTAMP columns)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _open(location: Path | str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the store: a cursor on the attached PostgreSQL server, or the DuckDB file (waiting briefly
    if another process holds its lock)."""
    if postgres.is_url(location):
        return _open_postgres(str(location))
    path = Path(location)
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


def _open_postgres(url: str) -> duckdb.DuckDBPyConnection:
    from .schema import ensure_postgres_views

    store = postgres.instance(url)
    ensure_postgres_views(store)
    return store.cursor()


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
    location = db_path(db)
    on_server = postgres.is_url(location)
    bulk = bulk and not on_server  # a server store has no checkpoint of its own to tune
    con = _open(location, read_only=False)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            if bulk:
                con.execute(f"SET disabled_compression_methods = '{BULK_DISABLED_COMPRESSION}'")
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            _rollback(con)
            lost_race = postgres.concurrent_edit(exc) if on_server else None
            if lost_race is not None:
                raise lost_race from exc
            raise
    finally:
        try:
            if bulk:
                con.execute("RESET disabled_compression_methods")
        finally:
            con.close()


P = ParamSpec("P")
T = TypeVar("T")
RACE_ATTEMPTS = 5
"""How often :func:`retrying` runs a write that keeps losing races before it passes the refusal on."""


def retrying(write: Callable[P, T]) -> Callable[P, T]:
    """Run ``write`` (a function that opens its own transaction) again when it lost a race on the
    server, up to :data:`RACE_ATTEMPTS` times.

    For writes that are not based on a version the user saw: a new record (its sequential id is the
    highest id in the transaction's snapshot plus one, so two transactions adding risks at once choose
    the same ``R-0086``; the one that commits second is refused), an import (the same for its ids, and
    a re-import updating a risk an app session changed a moment before). Run again, such a write
    decides everything afresh from what is committed now, so nothing is lost and nothing overwritten.
    An edit based on ``expected_version`` is not run again: its refusal is the answer. Only the
    PostgreSQL store raises :class:`~engine.store.postgres.LostRace`; on the DuckDB file (one writer
    at a time) the first run is the only one."""

    @functools.wraps(write)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                return write(*args, **kwargs)
            except postgres.LostRace:
                if attempt == RACE_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)  # the winner commits; don't collide in step
        raise AssertionError("unreachable")

    return run


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back; a transaction the server already aborted (or a failed COMMIT) has nothing left to undo."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row a query returns (None when it returns no row)."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]
