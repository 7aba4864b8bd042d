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

NUL_REPLACEMENT = "\ufffd"
"""What a NUL character in text (a cell of an imported file) is stored as: PostgreSQL's text holds no NUL,
so it becomes U+FFFD, Unicode's mark for a character that could not be represented, rather than failing
the whole write or vanishing silently. A DuckDB file keeps the NUL as it was."""

READER_URL_ENV = "RISKMAP_READER_URL"
"""The analysts' login (a role granted ``riskmap_reader``): ``riskmap shell`` and read-only queries use it when set."""

__all__ = ["CATALOG", "READER_URL_ENV", "LostRace", "PostgresStore", "committed_highest", "concurrent_edit",
           "extension_path", "forget", "instance", "is_postgres", "is_url", "native", "pg_dialect", "redact", "reset",
           "schema_changed"]


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


Settings = tuple[tuple[str, Any], ...]


class PostgresStore:
    """One in-memory DuckDB instance with one PostgreSQL server attached, shared by a process.

    ``settings`` (DuckDB options, applied once the server is attached and then locked) make a sealed
    instance for analysts' queries: attached read-only, no files, no network, no further attaching, a
    memory limit."""

    def __init__(self, url: str, read_only: bool = False, settings: Settings = ()):
        self.url = url
        self.read_only = read_only
        self.lock = threading.Lock()
        self.views_ready = False
        self.db = duckdb.connect(":memory:", config={"allow_unsigned_extensions": "true"})
        try:
            self.db.execute(f"LOAD '{extension_path()}'")
            self.db.execute(f"SET GLOBAL pg_null_byte_replacement = '{NUL_REPLACEMENT}'")
            mode = ", READ_ONLY" if read_only else ""
            self.db.execute(f"ATTACH '{url}' AS {CATALOG} (TYPE postgres{mode})")
        except duckdb.Error as exc:
            self.db.close()
            raise ConfigError(f"{redact(url)}: cannot connect to the PostgreSQL store: "
                              f"{redact(str(exc).splitlines()[0])}") from None
        try:
            for name, value in settings:
                self.db.execute(f"SET {name} = {value!r}" if isinstance(value, str) else f"SET {name} = {value}")
            if settings:
                self.db.execute("SET lock_configuration = true")
        except duckdb.Error:
            self.db.close()
            raise

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own (DuckDB cursors are independent connections of one instance)."""
        cur = self.db.cursor()
        cur.execute(f"SET search_path = '{SEARCH_PATH}'")
        return cur

    def clear_cache(self) -> None:
        """Forget the server's schema as DuckDB cached it (after a migration)."""
        self.db.execute("CALL pg_clear_cache()")


_instances: dict[tuple[str, bool, Settings], PostgresStore] = {}
_instances_lock = threading.Lock()


def instance(url: str, read_only: bool = False, settings: Settings = ()) -> PostgresStore:
    """The process's DuckDB instance attached to ``url`` (created on first use), one per mode."""
    key = (url, read_only, settings)
    with _instances_lock:
        found = _instances.get(key)
        if found is None:
            found = _instances[key] = PostgresStore(url, read_only, settings)
        return found


def reset() -> None:
    """Close every attached instance (tests, and after a restore replaced the server's data)."""
    with _instances_lock:
        for inst in _instances.values():
            inst.db.close()
        _instances.clear()


def forget(url: str) -> None:
    """Close this process's instances attached to ``url``, so it holds no connection to that database
    (PostgreSQL copies or drops a database only when no one is connected to it)."""
    with _instances_lock:
        for key in [k for k in _instances if k[0] == url]:
            _instances.pop(key).db.close()


def schema_changed(url: str) -> None:
    """The server's tables were dropped or recreated outside the migrations (a demo rebuild): every
    instance of this process on ``url`` forgets the schema it cached and defines its views again."""
    with _instances_lock:
        for key, inst in _instances.items():
            if key[0] == url:
                inst.clear_cache()
                inst.views_ready = False


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
    in later migrations. PostgreSQL itself then refuses any write by a login that only has this role.
    Creating the role needs a login with CREATEROLE; without it, the refusal says how to create the
    role once by hand."""
    try:
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
    except duckdb.Error as exc:
        if "permission denied to create role" not in str(exc):
            raise
        raise ConfigError(f"the login may not create the read-only group role {READER_ROLE}: create it once as "
                          f"a role with CREATEROLE (CREATE ROLE {READER_ROLE} NOLOGIN;) and run riskmap init "
                          f"again") from None


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


class LostRace(StaleEditError):
    """A write that lost a race on the server: another transaction committed a change of the same row,
    or took the same new key, first. Nothing of it was written. Unlike a stale ``expected_version``
    it says nothing about what the caller saw, so a write that was not based on a version (a new
    record, an import) may simply run again (:func:`engine.store.retrying`)."""


_SERIALIZATION = ("could not serialize access", "deadlock detected")
_KEY_TAKEN = re.compile(r"duplicate key value violates unique constraint[^\n]*(?:\n\s*DETAIL:\s*Key \((.*?)\)=\((.*?)\))?")


def concurrent_edit(exc: BaseException) -> LostRace | None:
    """The refusal for a write that lost a race on the server, or None for any other error.

    In REPEATABLE READ a transaction that changes a row another one changed and committed since its
    snapshot fails with a serialization error (or, when each waits for the other, a deadlock). A
    transaction that inserts a key another one inserted meanwhile fails with a unique violation: the
    other's row was not in its snapshot, so it chose the same new id (``R-0086``) or link row. Both
    are the same refusal: someone else's write came first and nothing of this one was written."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    if any(s in text for s in _SERIALIZATION):
        return LostRace("the record was changed by someone else meanwhile (another write committed "
                        "first); nothing was written: reload it and apply your change again")
    taken = _KEY_TAKEN.search(text)
    if taken:
        key = f" ({taken.group(1)} {taken.group(2)})" if taken.group(1) else ""
        return LostRace(f"the record was changed by someone else meanwhile: another write added the same "
                        f"key{key} first; nothing was written: reload and apply your change again")
    return None


_ID_LOCK = 7310
"""First key of the advisory locks that serialise choosing new ids (the second is the table's)."""


def committed_highest(con: duckdb.DuckDBPyConnection, table: str, column: str, prefix: str) -> int:
    """The highest number of an id ``PREFIX-n`` committed in ``table`` now, once no other transaction
    is still choosing ids there: for :func:`engine.records.next_ids` on the server.

    A transaction's snapshot is taken at its first statement, so a long one (an import) would choose
    ids that others committed since, and fail at its commit however often it is run again while risks
    are being added. Instead it takes a transaction-scoped advisory lock for the table (held until it
    commits or rolls back, so the ids of a transaction still running are never chosen twice, and a
    rolled-back one leaves no gap), then reads what is committed through a connection of its own."""
    native(con, f"SELECT pg_advisory_xact_lock({_ID_LOCK}, hashtext('{table}'))")
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [CATALOG]).fetchone()
    pattern = f"^{re.escape(prefix)}-([0-9]+)$"
    fresh = instance(str(row[0])).cursor() if row else None
    if fresh is None:  # pragma: no cover - con is a cursor of an attached store
        return 0
    try:
        got = fresh.execute(f"SELECT * FROM postgres_query('{CATALOG}', $riskmap$SELECT max(substring({column} "
                            f"FROM '{pattern}')::BIGINT) FROM {table} WHERE {column} ~ '{pattern}'$riskmap$)"
                            ).fetchone()
    finally:
        fresh.close()
    return int(got[0] or 0) if got else 0


def server_version(con: duckdb.DuckDBPyConnection) -> str:
    """The server's version string, e.g. for ``riskmap init``'s report."""
    row = con.execute(f"SELECT * FROM postgres_query('{CATALOG}', 'SHOW server_version')").fetchone()
    return str(row[0]) if row else ""


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query run natively on the server (catalog queries DuckDB cannot express)."""
    return con.execute(f"SELECT * FROM postgres_query('{CATALOG}', $riskmap${sql}$riskmap$)").fetchall()
