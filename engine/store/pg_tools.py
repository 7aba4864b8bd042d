"""Backup and restore of a PostgreSQL store with PostgreSQL's own tools, ``pg_dump`` and ``pg_restore``.

The dump is one consistent snapshot (custom format), written to a temporary file renamed into place when
complete. A restore first checks that the file is a dump of a riskmap store (``pg_restore --list`` names
the ``schema_migrations`` table), dumps the data it replaces beside the backup, then restores in a
single transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from engine.errors import ConfigError, InputError, Problem

from .connection import now


def tool(name: str) -> str:
    """Path of a PostgreSQL client program (Debian keeps them in /usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise ConfigError(f"{name} not found: install PostgreSQL's client programs (Debian: postgresql-client)")
    return path


def _run(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    got = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if got.returncode != 0:
        detail = (got.stderr or got.stdout).strip().splitlines()
        raise ConfigError(f"{what} failed: {detail[-1] if detail else 'exit code ' + str(got.returncode)}")
    return got


def dump(url: str, dest: Path) -> None:
    """Dump the store at ``url`` to ``dest``, whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    _run([tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}", f"--dbname={url}"],
         "pg_dump")
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)


def check_dump(src: Path) -> None:
    """Refuse a file that is not a custom-format dump of a riskmap store."""
    got = subprocess.run([tool("pg_restore"), "--list", str(src)], capture_output=True, text=True, timeout=600)
    if got.returncode != 0:
        raise InputError([Problem(str(src), None, None, "not a PostgreSQL dump",
                                  expected="a file made by `riskmap backup` of a PostgreSQL store")])
    if " TABLE public schema_migrations " not in got.stdout and "TABLE public schema_migrations" not in got.stdout:
        raise InputError([Problem(str(src), None, None, "not a riskmap store (no schema_migrations table)")])


def restore(src: Path, url: str) -> Path:
    """Replace the store's data with the dump ``src``; returns the dump of the data it replaced."""
    check_dump(src)
    kept = src.with_name(f"{url.rsplit('/', 1)[-1]}.before-restore-{now():%Y%m%dT%H%M%S}.dump")
    dump(url, kept)
    _run([tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-owner", "--exit-on-error",
          f"--dbname={url}", str(src)], "pg_restore")
    return kept
