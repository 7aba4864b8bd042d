"""The team store: PostgreSQL, attached by DuckDB, so the views, macros and audits are written once.

A ``postgresql://`` location (``--db`` or ``RISKMAP_DB``) runs every command, the app and the notebooks
on a PostgreSQL server. The engine keeps speaking DuckDB SQL: each process holds one in-memory DuckDB
instance per server, with the server attached (DuckDB's postgres extension) as catalog ``store`` and
every documented view and macro defined in the instance's own ``memory.main`` schema. A connection is a
cursor of that instance whose search path puts the server's tables first, so the same SQL reads and
writes either store.

Why this is safe for many writers: each DuckDB transaction on the attached server is one PostgreSQL
transaction at REPEATABLE READ, so two transactions changing the same row cannot both commit: the
second fails with a serialization error, which :func:`concurrent_edit` turns into the same "changed
meanwhile" refusal as a stale ``expected_version``. Inserts go through PostgreSQL's COPY (DuckDB's bulk
path for attached tables). Schema changes are the numbered migrations, translated to PostgreSQL's
spelling by :func:`pg_dialect` and run natively.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import duckdb

from engine.errors import ConfigError, StaleEditError

URL_PREFIXES = ("postgresql://", "postgres://")
CATALOG = "store"
SEARCH_PATH = f"{CATALOG}.public,memory.main"
DEFINITIONS_PATH = f"memory.main,{CATALOG}.public"
"""Search path while defining views and macros: they go into the instance, the tables they read are the server's."""

__all__ = ["CATALOG", "PostgresStore", "concurrent_edit", "extension_path", "instance", "is_postgres",
           "is_url", "native", "pg_dialect", "reset"]


def is_url(location: object) -> bool:
    """True when ``location`` names a PostgreSQL server rather than a DuckDB file."""
    return isinstance(location, str) and location.startswith(URL_PREFIXES)


def extension_path() -> str:
    """The postgres extension shipped by the pip package ``duckdb-extension-postgres-scanner``."""
    try:
        import duckdb_extension_postgres_scanner as ext
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ConfigError("the PostgreSQL store needs the package duckdb-extension-postgres-scanner") from exc
    found = sorted(Path(ext.__file__).parent.glob("extensions/*/postgres_scanner.duckdb_extension"))
    if not found:
        raise ConfigError("duckdb-extension-postgres-scanner is installed but holds no extension file")
    return str(found[-1])


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStore:
    """One in-memory DuckDB instance with one PostgreSQL server attached, shared by a process."""

    def __init__(self, url: str, read_only: bool = False):
        self.url = url
        self.read_only = read_only
        self.lock = threading.Lock()
        self.views_ready = False
        self.db = duckdb.connect(":memory:", config={"allow_unsigned_extensions": "true"})
        try:
            self.db.execute(f"LOAD '{extension_path()}'")
            mode = ", READ_ONLY" if read_only else ""
            self.db.execute(f"ATTACH '{url}' AS {CATALOG} (TYPE postgres{mode})")
        except duckdb.Error as exc:
            self.db.close()
            raise ConfigError(f"{redact(url)}: cannot connect to the PostgreSQL store: "
                              f"{str(exc).splitlines()[0]}") from exc

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own (DuckDB cursors are independent connections of one instance)."""
        cur = self.db.cursor()
        cur.execute(f"SET search_path = '{SEARCH_PATH}'")
        return cur

    def clear_cache(self) -> None:
        """Forget the server's schema as DuckDB cached it (after a migration)."""
        self.db.execute("CALL pg_clear_cache()")


_instances: dict[tuple[str, bool], PostgresStore] = {}
_instances_lock = threading.Lock()


def instance(url: str, read_only: bool = False) -> PostgresStore:
    """The process's DuckDB instance attached to ``url`` (created on first use)."""
    key = (url, read_only)
    with _instances_lock:
        found = _instances.get(key)
        if found is None:
            found = _instances[key] = PostgresStore(url, read_only)
        return found


def reset() -> None:
    """Close every attached instance (tests, and after a restore replaced the server's data)."""
    with _instances_lock:
        for inst in _instances.values():
            inst.db.close()
        _instances.clear()


def is_postgres(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``con`` is a cursor on an attached PostgreSQL store."""
    row = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ? AND type = 'postgres'",
                      [CATALOG]).fetchone()
    return bool(row and row[0])


def native(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run ``sql`` on the server itself, in PostgreSQL's own dialect (DDL, roles, grants)."""
    con.execute(f"CALL postgres_execute('{CATALOG}', $riskmap${sql}$riskmap$)")


def views_changed() -> None:
    """The view files changed (``init``): every instance defines them again on its next connection."""
    with _instances_lock:
        for inst in _instances.values():
            inst.views_ready = False


def migrate(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, Path]], at: Any) -> list[str]:
    """Apply the numbered migrations the server has not had yet, natively, inside the caller's transaction."""
    native(con, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
    con.execute("CALL pg_clear_cache()")
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, path in files:
        if version in done:
            continue
        native(con, pg_dialect(path.read_text(encoding="utf-8")))
        con.execute("CALL pg_clear_cache()")
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, at])
        applied.append(f"{version:04d}_{name}")
    return applied


READER_ROLE = "riskmap_reader"
"""The group role analysts' logins are granted: it may read every table and write none."""


def grant_reader(con: duckdb.DuckDBPyConnection) -> None:
    """Create the read-only group role (once per server) and grant it reading of every table, now and
    in later migrations. PostgreSQL itself then refuses any write by a login that only has this role."""
    native(con, f"""
        DO $do$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
                CREATE ROLE {READER_ROLE} NOLOGIN;
            END IF;
        END $do$;
        GRANT USAGE ON SCHEMA public TO {READER_ROLE};
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READER_ROLE};
    """)


_LIST_LITERAL = re.compile(r"(?<=[\s(,])\[")


def pg_dialect(sql: str) -> str:
    """A migration written for DuckDB, spelled as PostgreSQL spells it.

    The migrations keep to the SQL both engines share; the few spellings that differ are translated
    here: ``DOUBLE`` is ``DOUBLE PRECISION``, an empty list default ``[]`` is ``'{}'``, a list literal
    ``['a', 'b']`` is ``ARRAY['a', 'b']``, ``JSON`` stays ``JSON``.
    """
    sql = re.sub(r"\bDOUBLE\b(?!\s+PRECISION)", "DOUBLE PRECISION", sql)
    sql = sql.replace("DEFAULT []", "DEFAULT '{}'")
    return _LIST_LITERAL.sub("ARRAY[", sql)


_SERIALIZATION = ("could not serialize access", "deadlock detected")


def concurrent_edit(exc: BaseException) -> StaleEditError | None:
    """The refusal for a write that lost a race on the server, or None for any other error."""
    text = str(exc)
    if isinstance(exc, duckdb.Error) and any(s in text for s in _SERIALIZATION):
        return StaleEditError("the record was changed by someone else meanwhile (another write committed "
                              "first); nothing was written: reload it and apply your change again")
    return None


def server_version(con: duckdb.DuckDBPyConnection) -> str:
    """The server's version string, e.g. for ``riskmap init``'s report."""
    row = con.execute(f"SELECT * FROM postgres_query('{CATALOG}', 'SHOW server_version')").fetchone()
    return str(row[0]) if row else ""


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query run natively on the server (catalog queries DuckDB cannot express)."""
    return con.execute(f"SELECT * FROM postgres_query('{CATALOG}', $riskmap${sql}$riskmap$)").fetchall()
