"""An analyst's DuckDB shell on the store, read-only, with every documented view defined.

``riskmap shell`` runs the DuckDB command-line shell (the pip ``duckdb-cli`` package) so analysts get the
shell they know, on either store:

- **PostgreSQL**: an in-memory session that attaches the server read-only (as the reader given in
  ``RISKMAP_READER_URL`` when set, so PostgreSQL itself refuses writes) and defines the macros and views
  exactly as the engine does. The analyst holds no lock: writers never wait for them, and each query
  sees what is committed at that moment.
- **DuckDB file**: the shell never opens the file, so an open shell cannot make a write wait. It reads a
  live Parquet replica of the file's tables (:mod:`engine.store.replica`), refreshed about a second after
  each commit from a consistent copy taken under a brief shared lock, with the macros and views defined
  over it: the analyst sees committed changes within a few seconds.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import db_path
from engine.errors import ConfigError

from . import postgres
from .connection import connect
from .replica import Replica
from .schema import definition_statements

READER_ENV = postgres.READER_URL_ENV


@dataclass
class ShellCommand:
    """The program to run and what to delete when it has finished."""

    argv: list[str]
    cleanup: list[Path] = field(default_factory=list)
    replica: Replica | None = None
    """The replica to keep refreshing while the shell runs (a DuckDB file store)."""

    def remove_files(self) -> None:
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def duckdb_cli() -> str:
    """The DuckDB shell installed beside this Python (pip ``duckdb-cli``), else the one on PATH."""
    beside = Path(sys.executable).parent / "duckdb"
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    if not found:
        raise ConfigError("the DuckDB shell is not installed (pip install duckdb-cli)")
    return found


def postgres_script(url: str, reader_url: str | None = None) -> str:
    """The SQL that turns an empty in-memory shell into a read-only session on the server."""
    source = reader_url or url
    lines = [f"LOAD '{postgres.extension_path()}';",
             f"ATTACH '{source}' AS {postgres.CATALOG} (TYPE postgres, READ_ONLY);",
             f"SET search_path = '{postgres.DEFINITIONS_PATH}';"]
    lines += [s.rstrip().rstrip(";") + ";" for s in definition_statements()]
    lines.append(f"SET search_path = '{postgres.SEARCH_PATH}';")
    return "\n".join(lines) + "\n"


def snapshot(path: Path, directory: Path) -> Path:
    """A consistent copy of the DuckDB file, taken while a shared lock keeps writers out."""
    copy = directory / path.name
    with connect(path, read_only=True):
        shutil.copyfile(path, copy)
        wal = Path(str(path) + ".wal")
        if wal.exists():
            shutil.copyfile(wal, Path(str(copy) + ".wal"))
    return copy


def command(db: str | Path | None = None, sql: str | None = None, *, csv: bool = False) -> ShellCommand:
    """The DuckDB shell invocation for the store; ``sql`` runs one statement and exits."""
    location = db_path(db)
    exe = duckdb_cli()
    if postgres.is_url(location):
        script = Path(tempfile.mkstemp(prefix="riskmap-shell-", suffix=".sql")[1])
        script.write_text(postgres_script(str(location), os.environ.get(READER_ENV)), encoding="utf-8")
        os.chmod(script, 0o600)
        argv = [exe, "-unsigned", "-init", str(script), *(["-csv"] if csv else []), ":memory:"]
        return ShellCommand(argv + ([sql] if sql else []), [script])
    path = Path(location)
    if not path.exists():
        raise ConfigError(f"{path}: no such database; run `riskmap init --db {path}` first")
    work = Path(tempfile.mkdtemp(prefix="riskmap-shell-"))
    replica = Replica(path, work / "replica")
    replica.directory.mkdir()
    replica.refresh(force=True)
    script = work / "init.sql"
    statements = replica.script() + [s.rstrip().rstrip(";") + ";" for s in definition_statements()]
    script.write_text("\n".join(statements) + "\n", encoding="utf-8")
    argv = [exe, "-init", str(script), *(["-csv"] if csv else []), ":memory:"] + ([sql] if sql else [])
    return ShellCommand(argv, [work], None if sql else replica)
