"""Backup and restore of a whole database, byte for byte.

A backup is taken after a checkpoint, from a file no one is writing, into a temporary file that is
renamed into place only when complete, so a backup is never half written. Restore checks that the
file is a riskmap database first and keeps the database it replaces beside it, so nothing is lost.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb

from engine.config import db_path
from engine.errors import InputError, Problem

from . import pg_tools, postgres
from .connection import connect, now
from .schema import applied_versions


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_atomic(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.copyfile(src, tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)


def backup(db: str | Path | None, dest: Path) -> str:
    """Write an exact copy of the database to ``dest``; returns its SHA-256.

    A PostgreSQL store is dumped with ``pg_dump`` (custom format, one consistent snapshot)."""
    path = db_path(db)
    if postgres.is_url(path):
        pg_tools.dump(str(path), dest)
        digest = _sha256(dest)
        Path(str(dest) + ".sha256").write_text(f"{digest}  {dest.name}\n")
        return digest
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "no such database")])
    if dest.resolve() == path.resolve():
        raise InputError([Problem(str(dest), None, None, "the backup must not overwrite the database itself")])
    with connect(path, read_only=False) as con:
        con.execute("CHECKPOINT")
        # Holding the write lock while copying keeps other writers out until the copy is complete.
        _copy_atomic(path, dest)
    digest = _sha256(dest)
    Path(str(dest) + ".sha256").write_text(f"{digest}  {dest.name}\n")
    return digest


def _check_database(src: Path) -> None:
    """Open the file and read every table in full: a damaged block fails here, not after installing it."""
    try:
        con = duckdb.connect(str(src), read_only=True)
    except duckdb.Error as exc:
        raise InputError([Problem(str(src), None, None, "not a DuckDB database", expected="a file made by "
                                  "`riskmap backup`")]) from exc
    try:
        if not applied_versions(con):
            raise InputError([Problem(str(src), None, None, "not a riskmap database (no schema_migrations)")])
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        for table in tables:
            con.execute(f'SELECT sum(hash(t)) FROM "{table}" t').fetchall()
    except duckdb.Error as exc:
        raise InputError([Problem(str(src), None, None, f"the backup is damaged: {str(exc).splitlines()[0]}",
                                  expected="an intact file made by `riskmap backup`")]) from exc
    finally:
        con.close()


def _check_checksum(src: Path) -> None:
    if not src.exists():
        raise InputError([Problem(str(src), None, None, "no such backup file")])
    sidecar = Path(str(src) + ".sha256")
    if sidecar.exists():
        expected = sidecar.read_text().split()[0]
        if _sha256(src) != expected:
            raise InputError([Problem(str(src), None, None, "checksum mismatch: the backup is damaged",
                                      expected=f"sha256 {expected}")])


def restore(src: Path, db: str | Path | None) -> Path | None:
    """Replace the database with the backup ``src``; returns where the replaced database was kept.

    On PostgreSQL the dump is checked with ``pg_restore --list``, the current data is dumped beside the
    backup first, and the dump is restored in one transaction (all of it or nothing)."""
    path = db_path(db)
    _check_checksum(src)
    if postgres.is_url(path):
        replaced = pg_tools.restore(src, str(path))
        postgres.reset()
        return replaced
    _check_database(src)
    kept = None
    if not path.exists():
        _copy_atomic(src, path)
        return None
    # Hold the write lock from the checkpoint until the restored bytes are in place, and write them into
    # the same file (not a renamed one): a process waiting for the lock has the file open already and,
    # once it gets the lock, must find the restored database there, not the replaced one.
    data = src.read_bytes()
    with connect(path, read_only=False) as con:
        con.execute("CHECKPOINT")
        kept = path.with_name(f"{path.name}.before-restore-{now():%Y%m%dT%H%M%S}")
        wal = Path(str(path) + ".wal")
        if wal.exists():  # empty after the checkpoint; it must not be replayed onto the restored file
            wal.unlink()
        # Closing any handle of the file ends this process's POSIX lock on it, so the file is opened once,
        # for both the copy kept and the restored bytes, and that handle closes only when both are done.
        with path.open("r+b") as fh:
            with kept.open("wb") as out:
                shutil.copyfileobj(fh, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            fh.seek(0)
            fh.write(data)
            fh.truncate(len(data))
            fh.flush()
            os.fsync(fh.fileno())
    return kept
