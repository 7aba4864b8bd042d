"""The schema: numbered SQL migrations in ``engine/migrations`` and the views in ``engine/sql/views``
(one view per file), recreated on every ``init``."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from engine.config import MIGRATIONS_DIR, SQL_DIR
from engine.errors import ConfigError

from . import postgres
from .connection import connect, now

VIEWS_DIR = SQL_DIR / "views"


_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


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
    """Apply the migrations this database has not had yet; returns their names.

    The same numbered files create both stores: on PostgreSQL they run natively, in PostgreSQL's
    spelling of the few types the two engines write differently (:func:`postgres.pg_dialect`)."""
    if postgres.is_postgres(con):
        return postgres.migrate(con, migrations(), now())
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
    """(Re)create every view. Views may depend on each other, so retry until all are in place.

    On PostgreSQL the views live in each process's DuckDB instance, not on the server: they are
    (re)defined on the next connection of every instance (:func:`ensure_postgres_views`)."""
    if postgres.is_postgres(con):
        postgres.views_changed()
        return view_names()
    return _define_views(con)


def ensure_postgres_views(store: postgres.PostgresStore) -> None:
    """Define the views and macros in a PostgreSQL store's DuckDB instance once its schema exists."""
    if store.views_ready:
        return
    with store.lock:
        if store.views_ready:
            return
        cur = store.cursor()
        try:
            cur.execute(f"SET search_path = '{postgres.DEFINITIONS_PATH}'")
            if applied_versions(cur):
                store.clear_cache()
                _define_views(cur)
                store.views_ready = True
        finally:
            cur.close()


def definition_statements(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Every view definition, each after the views it reads (a view reads another when it names it)."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in view_files()}
    ordered: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for other in texts:
            if other != name and re.search(rf"\b{other}\b", texts[name]):
                visit(other, (*path, name))
        done.add(name)
        ordered.append(texts[name])

    for name in sorted(texts):
        visit(name, ())
    return ordered


def _define_views(con: duckdb.DuckDBPyConnection) -> list[str]:
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
