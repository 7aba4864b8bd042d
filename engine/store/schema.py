"""The schema: numbered SQL migrations in ``engine/migrations``; the domain rules as macros
(``engine/sql/macros.sql``) and the views (one per file in ``engine/sql/views``, and ``v_audit_findings``
generated from the audit files), all recreated on every ``init``.

Dates: every dated flag compares with the macro ``riskmap_today()``, which reads the session variable
``riskmap_today`` (set on a connection by :func:`set_today`) and falls back to the current date.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb

from engine.config import MIGRATIONS_DIR, SQL_DIR
from engine.errors import ConfigError

from . import postgres
from .connection import connect, now

VIEWS_DIR = SQL_DIR / "views"
MACROS_FILE = SQL_DIR / "macros.sql"
GENERATED_VIEWS = ("v_audit_findings",)
"""Documented views built from other SQL files when the views are created, not kept as a view file."""


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
    """Apply the migrations this database has not had yet, then (re)create the domain-rule macros, so
    every later step of ``init`` can use them; returns the names of the migrations applied.

    The same numbered files create both stores: on PostgreSQL they run natively, in PostgreSQL's
    spelling of the few types the two engines write differently (:func:`postgres.pg_dialect`), and the
    macros are already defined in the process's DuckDB instance (:func:`ensure_postgres_views`)."""
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
    create_macros(con)
    return applied


def view_files() -> list[Path]:
    """The view files (one view each); the generated views are not among them."""
    return sorted(VIEWS_DIR.glob("*.sql"))


def view_names() -> list[str]:
    """Names of the documented views: one per view file, and the generated ones."""
    return sorted([p.stem for p in view_files()] + list(GENERATED_VIEWS))


def view_sql(name: str) -> str:
    """The ``CREATE OR REPLACE VIEW`` statement of a documented view, opening with its purpose comment."""
    if name == "v_audit_findings":
        # engine.audit reads through the store, so it is imported when used, not with the store.
        from engine.audit import render_findings_view

        return render_findings_view()
    path = VIEWS_DIR / f"{name}.sql"
    if not path.is_file():
        raise ConfigError(f"no view {name!r}; views: {', '.join(view_names())}")
    return path.read_text(encoding="utf-8")


def view_purpose(name: str) -> str:
    """What a view is for: the first line of its purpose comment, without the leading ``name:``."""
    for line in view_sql(name).splitlines():
        if line.startswith("--"):
            text = line.lstrip("-").strip()
            return text.split(":", 1)[1].strip() if text.startswith(name + ":") else text
    return ""


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the domain-rule macros of ``engine/sql/macros.sql`` (score, level, open, today...)."""
    try:
        con.execute(MACROS_FILE.read_text(encoding="utf-8"))
    except duckdb.Error as exc:
        raise ConfigError(f"{MACROS_FILE}: cannot create the macros: {exc}") from exc


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create the macros, then every view. Views may depend on each other, so retry until all are
    in place. Returns the names of the views.

    On PostgreSQL the macros and views live in each process's DuckDB instance, not on the server: they
    are (re)defined on the next connection of every instance (:func:`ensure_postgres_views`)."""
    if postgres.is_postgres(con):
        postgres.views_changed()
        return view_names()
    return _define_views(con)


def ensure_postgres_views(store: postgres.PostgresStore) -> None:
    """Define the macros in a PostgreSQL store's DuckDB instance, and the views once its schema is
    current: a store at an older schema (before ``riskmap init`` upgrades it) lacks tables the views read."""
    if store.views_ready:
        return
    with store.lock:
        if store.views_ready:
            return
        cur = store.cursor()
        try:
            cur.execute(f"SET search_path = '{postgres.DEFINITIONS_PATH}'")
            create_macros(cur)
            done = applied_versions(cur)
            if done and max(done) >= max(v for v, _, _ in migrations()):
                store.clear_cache()
                _define_views(cur)
                store.views_ready = True
        finally:
            cur.close()


def definition_statements() -> list[str]:
    """The macros, then every view definition, each after the views it reads (a view reads another when
    it names it): what a session needs to see the documented views."""
    texts = {name: view_sql(name) for name in view_names()}
    ordered: list[str] = [MACROS_FILE.read_text(encoding="utf-8")]
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
    create_macros(con)
    pending = view_names()
    created: list[str] = []
    while pending:
        failed: list[tuple[str, Exception]] = []
        for name in pending:
            try:
                con.execute(view_sql(name))
                created.append(name)
            except duckdb.CatalogException as exc:
                failed.append((name, exc))
        if len(failed) == len(pending):
            raise ConfigError(f"view {failed[0][0]}: cannot create it: {failed[0][1]}")
        pending = [n for n, _ in failed]
    return created


def set_today(con: duckdb.DuckDBPyConnection, today: date | None) -> None:
    """Make ``riskmap_today()``, and so every dated flag of the views and audits, compare with ``today``
    on this connection; ``None`` leaves the connection as it is (on a new one: the current date)."""
    if today is not None:
        con.execute("SET VARIABLE riskmap_today = ?::DATE", [today])


def schema_version(db: str | Path | None = None) -> int:
    with connect(db) as con:
        done = applied_versions(con)
    return max(done) if done else 0
