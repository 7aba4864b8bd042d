"""What state the store is in, cheaply: whether it holds a riskmap schema, and a stamp of its content.

The app caches what it reads, keyed on :func:`change_stamp`, and asks :func:`is_ready` before showing a
page. Both work on either store:

- **DuckDB file**: the stamp is the modification times of the file and its write-ahead log; every
  commit touches one of them.
- **PostgreSQL**: the stamp is the server's current snapshot (``pg_current_snapshot()``: the oldest
  transaction still running, the next transaction id, and those in progress). Every transaction that
  writes gets an id, and its commit takes it out of the in-progress list, so any commit, by any process,
  gives a new stamp, and a stamp read while a write is still running differs from the one read after it
  commits. A largest history id would miss a write that took a smaller id and committed later. The
  snapshot also moves for writes to other databases of the same server; that only costs a cache miss.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from engine.config import db_path

from . import postgres
from .connection import connect
from .schema import applied_versions

Stamp = tuple[str, int, int]

__all__ = ["Stamp", "change_stamp", "is_ready", "location_text"]


def change_stamp(db: str | Path | None = None) -> Stamp:
    """(store, a, b): equal stamps mean the store's committed content is the same."""
    location = db_path(db)
    if postgres.is_url(location):
        with connect(location) as con:
            snapshot = str(postgres.rows(con, "SELECT pg_current_snapshot()::text")[0][0])
        xmin, xmax, running = (snapshot.split(":") + ["", ""])[:3]
        return str(location), int(xmax or 0), zlib.crc32(f"{xmin}:{running}".encode())
    path = Path(location)
    wal = path.with_name(path.name + ".wal")
    return (str(path), path.stat().st_mtime_ns if path.exists() else 0,
            wal.stat().st_mtime_ns if wal.exists() else 0)


def is_ready(db: str | Path | None = None) -> bool:
    """True when the store exists and holds a riskmap schema (``riskmap init`` or ``riskmap demo`` ran).

    A file that does not exist is not ready; a server that cannot be reached raises
    :class:`~engine.errors.ConfigError` saying why."""
    location = db_path(db)
    if not postgres.is_url(location):
        return Path(location).exists()
    with connect(location) as con:
        return bool(applied_versions(con))


def location_text(db: str | Path | None = None) -> str:
    """The store as it may be shown or printed: a file path, or the server URL without its password."""
    return postgres.redact(str(db_path(db)))
