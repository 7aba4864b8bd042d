"""The store the tests run on: a DuckDB file, or a PostgreSQL database when ``RISKMAP_TEST_STORE=postgres``.

The same tests run on both stores (``make test`` runs the suite on DuckDB files, then the modules marked
``both_stores`` again on PostgreSQL). A test never opens the database itself with ``duckdb.connect``:
it makes databases with :func:`new_db` and :func:`copy_db` and reads and writes them through
``engine.store.connect``/``transaction`` or the helpers here, which give a file path or a server URL as
the run asks.

On PostgreSQL one throw-away server (``tests/pg_server.py``) serves the whole session; a copy of an
initialised database is ``CREATE DATABASE ... TEMPLATE`` (a fraction of a second), and every database a
test made is dropped when the test ends. Tests about the DuckDB file itself (its bytes, its lock, a
crash while writing it) are marked :data:`file_only` and skipped on PostgreSQL with that reason.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from engine import store
from engine.config import StoreUrl, db_path
from engine.store import postgres

STORE = os.environ.get("RISKMAP_TEST_STORE", "duckdb").strip().lower() or "duckdb"
if STORE not in ("duckdb", "postgres"):
    raise RuntimeError(f"RISKMAP_TEST_STORE={STORE!r}: expected duckdb or postgres")
ON_POSTGRES = STORE == "postgres"

Location = Path | StoreUrl


def file_only(reason: str) -> pytest.MarkDecorator:
    """Mark a test about the DuckDB file itself: it runs in the file pass only (tests/conftest.py)."""
    return pytest.mark.file_only(reason=f"DuckDB file only: {reason}")


def postgres_only(reason: str) -> pytest.MarkDecorator:
    """Mark a test about the PostgreSQL store itself: it runs in the PostgreSQL pass only."""
    return pytest.mark.postgres_only(reason=f"PostgreSQL only: {reason}")


# ------------------------------------------------------------------------------------------ the server

_server: Any = None
_names = itertools.count(1)
_made: list[str] = []
"""Databases made on the server in this session, in order (see :func:`made_since`)."""


def server() -> Any:
    """The session's PostgreSQL server, started on first use and stopped when the session ends."""
    global _server
    if _server is None:
        from tests.pg_server import Server

        _server = Server()
        atexit.register(_stop)
    return _server


def _stop() -> None:
    postgres.reset()
    if _server is not None:
        _server.stop()


def _create(template: str | None = None, keep: bool = False) -> StoreUrl:
    srv = server()
    name = f"rm{os.getpid()}_{next(_names)}"
    if template is not None:
        postgres.forget(template)  # PostgreSQL copies a database only while no one is connected to it
    srv.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {StoreUrl(template).name}" if template else ""))
    url = srv.url(name)
    if not keep:
        _made.append(url)
    return StoreUrl(url)


def made() -> int:
    """How many server databases this session made so far (a mark for :func:`drop_made_since`)."""
    return len(_made)


def drop_made_since(mark: int) -> None:
    """Drop the server databases made after ``mark`` (those of one test)."""
    while len(_made) > mark:
        drop(_made.pop())


def drop(url: str) -> None:
    postgres.forget(url)
    server().sql(f"DROP DATABASE IF EXISTS {StoreUrl(url).name} WITH (FORCE)")


# ------------------------------------------------------------------------------------------ databases

def new_db(directory: Path, name: str = "riskmap.duckdb", *, keep: bool = False) -> Location:
    """Where a new, not yet created database goes: ``directory/name``, or an empty server database
    (dropped when the test that made it ends, unless ``keep``: a template kept for the session)."""
    if ON_POSTGRES:
        return _create(keep=keep)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def copy_db(template: Location, directory: Path, name: str = "riskmap.duckdb") -> Location:
    """A private copy of ``template``: a file copy in ``directory``, or a server database made from it."""
    if ON_POSTGRES:
        return _create(str(template))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    shutil.copyfile(template, path)
    return path


def exists(db: Location) -> bool:
    """The database is there: the file exists, or the server database holds a riskmap schema."""
    return store.is_ready(db)


# ------------------------------------------------------------------------------------------ reading

@contextmanager
def writing(db: Location) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection without a transaction of its own (each statement commits), for tests that
    put the database into a state the engine would not (a damaged row, a removed view)."""
    with store.connect(db, read_only=False) as con:
        yield con


def one(db: Location, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row of ``sql``."""
    with store.connect(db) as con:
        row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def rows(db: Location, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with store.connect(db) as con:
        return con.execute(sql, params or []).fetchall()


def frame(db: Location, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    with store.connect(db) as con:
        return con.execute(sql, params or []).pl()


def content(db: Location) -> object:
    """Everything the database holds, to compare before and after something that must change nothing:
    the file's bytes, or every row of every table of the server, in order."""
    if not ON_POSTGRES:
        return Path(db).read_bytes()
    with store.connect(db) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1", [postgres.CATALOG]).fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def open_db(db: Location, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """An open connection the test closes itself (``con.close()``, or ``with open_db(db) as con``): the
    file, or a cursor on the server. Read-only unless asked; a read-write one commits each statement."""
    from engine.store.connection import _open

    return _open(db_path(db), read_only)


def analyst_command(db: Location, sql: str, *, csv: bool = False) -> list[str]:
    """An analyst's one-statement command beside the app: the DuckDB shell on the file read-only
    (``duckdb -readonly FILE SQL``), or ``riskmap shell --db URL -c SQL`` on the server."""
    bin_dir = Path(sys.executable).parent
    if ON_POSTGRES:
        return [str(bin_dir / "riskmap"), "shell", "--db", str(db), *(["--csv"] if csv else []), "-c", sql]
    return [str(bin_dir / "duckdb"), "-readonly", *(["-csv"] if csv else []), str(db), sql]


def digest(db: Location) -> str:
    """A SHA-256 of :func:`content`: equal digests, nothing written."""
    got = content(db)
    return hashlib.sha256(got if isinstance(got, bytes) else repr(got).encode()).hexdigest()
