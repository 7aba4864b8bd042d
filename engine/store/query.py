"""Read-only SQL: the engine's query files, the documented views, and analysts' queries (CLI ``query``
and the app's SQL page).

The engine's longer queries live in ``engine/sql/queries/<name>.sql``, each opening with a comment that
says what it is for; :func:`load` gives their text.

Defence in depth for analysts' queries: the statement must be a single SELECT-like statement; it runs on a read-only
connection with external access disabled and the configuration locked, so it cannot write, attach,
copy, export, install or load extensions, change settings, or read files or the network. A runaway
query is interrupted after ``timeout`` seconds, may hold at most ``memory_limit`` of memory (the app's
process and the analyst's machine stay responsive), and results are capped at ``max_rows``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access
from engine.config import SQL_DIR, db_path
from engine.errors import ConfigError, QueryRefused

from . import postgres
from .connection import connect
from .schema import ensure_postgres_views, view_names, view_purpose

QUERIES_DIR = SQL_DIR / "queries"

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_SAFE_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MEMORY_LIMIT = "2GB"
EXAMPLE_QUERY = "SELECT framework, ref, title, kind FROM v_controls WHERE framework = 'iso42001-2023' LIMIT 20"
"""A first query to show an analyst (the app's SQL page opens with it)."""

_VIEW_COLUMNS = """
SELECT table_name AS view, list(column_name ORDER BY ordinal_position) AS columns
FROM information_schema.columns
WHERE table_name IN (SELECT unnest($names::VARCHAR[]))
GROUP BY table_name
"""


@cache
def load(name: str) -> str:
    """The text of the engine's query file ``engine/sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise ConfigError(f"{path}: no such query file")
    return path.read_text(encoding="utf-8")


def documented_views(db: str | Path | None = None) -> pl.DataFrame:
    """The documented views (the analysts' contract): ``view``, ``purpose`` (the first line of its
    purpose comment) and ``columns`` (comma-separated, in order; "(not in this database yet)" for a view
    the database lacks until its next ``riskmap init``)."""
    names = view_names()
    with connect(db) as con:
        cols = con.execute(_VIEW_COLUMNS, {"names": names}).pl()
    purposes = pl.DataFrame({"view": names, "purpose": [view_purpose(n) for n in names]},
                            schema={"view": pl.String, "purpose": pl.String})
    if cols.is_empty():
        cols = pl.DataFrame(schema={"view": pl.String, "columns": pl.List(pl.String)})
    return purposes.join(cols, on="view", how="left").with_columns(
        pl.col("columns").list.join(", ").fill_null("(not in this database yet)"))


@dataclass
class QueryResult:
    frame: pl.DataFrame
    truncated: bool


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one read-only statement, naming what was refused."""
    if not sql or not sql.strip():
        raise QueryRefused("empty query: give one SELECT statement")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"query does not parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise QueryRefused(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type
    if kind not in _ALLOWED:
        name = getattr(kind, "name", str(kind))
        raise QueryRefused(f"refused: {name} statements are not allowed; this is a read-only query (SELECT only)")


def read_only_connection(db: str | Path | None = None,
                         memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A sealed read-only connection for analysts' SQL: the file opened read-only, or on PostgreSQL a
    cursor of an instance of its own that attaches the server READ_ONLY (as ``RISKMAP_READER_URL`` when
    set), so PostgreSQL itself refuses writes; both with the same locked settings."""
    path = db_path(db)
    if postgres.is_url(path):
        return _server_reader(str(path), memory_limit)
    if not path.exists():
        raise ConfigError(f"{path}: no such database; run `riskmap init --db {path}` first")
    try:
        return duckdb.connect(str(path), read_only=True, config={**_SAFE_CONFIG, "memory_limit": memory_limit})
    except duckdb.ParserException as exc:
        raise QueryRefused(f"memory limit {memory_limit!r} is not a size: expected a number with a unit, "
                           "such as 2GB or 500MB") from exc


def _server_reader(url: str, memory_limit: str) -> duckdb.DuckDBPyConnection:
    # The instance locks its configuration itself, once these are set.
    settings = (("memory_limit", memory_limit),
                *((k, v) for k, v in _SAFE_CONFIG.items() if k != "lock_configuration"))
    source = os.environ.get(postgres.READER_URL_ENV) or url
    try:
        inst = postgres.instance(source, read_only=True, settings=settings)
    except duckdb.ParserException as exc:
        raise QueryRefused(f"memory limit {memory_limit!r} is not a size: expected a number with a unit, "
                           "such as 2GB or 500MB") from exc
    ensure_postgres_views(inst)
    return inst.cursor()


_EXPLAIN = re.compile(r"^\s*EXPLAIN\b(\s*\([^)]*\))?(\s+(ANALY[SZ]E|VERBOSE)\b)*", re.IGNORECASE)
"""``EXPLAIN``, its options and keywords: what follows must be a SELECT (``EXPLAIN ANALYZE`` runs it)."""


_OUT_OF_REACH = ("duckdb_secrets", "which_secret")
"""Refused by the file store's locked settings; the server's instance has its secret manager running
(attaching the server started it), so they are refused by name."""
_REACH_MESSAGE = "refused: files, the network and settings are out of reach of read-only queries"


def check_server_functions(con: duckdb.DuckDBPyConnection, sql: str, *, nested: bool = False) -> None:
    """On PostgreSQL, refuse the extension's functions that hand SQL to the server as it is
    (``postgres_query``, ``postgres_scan``...): analysts' queries read the store through its tables and
    views, and a server function would run with the privileges of the store's login. ``query('...')``
    is checked like the statement. Only what reads as a SELECT passes: the instance's own catalog holds
    the views every analyst of the process reads, and ``EXPLAIN ANALYZE CREATE ...`` would run."""
    explain = _EXPLAIN.match(sql)
    inner = sql[explain.end():] if explain else sql
    got = con.execute("SELECT json_serialize_sql(?)", [inner]).fetchone()
    tree = json.loads(str(got[0])) if got else {"error": True}
    if tree.get("error"):
        if nested:
            return  # query() itself takes only a SELECT
        raise QueryRefused("refused: only a SELECT may be explained or run as a read-only query")
    for name, args in _function_calls(tree):
        if name in _OUT_OF_REACH:
            raise QueryRefused(_REACH_MESSAGE)
        if name.startswith("postgres_") or name == "json_execute_serialized_sql":
            raise QueryRefused(f"refused: {name}() passes SQL to the server; read the store's tables and "
                               "views instead")
        if name == "query":  # runs the SELECT given as its argument
            text = _string_constant(args)
            if text is None:
                raise QueryRefused(f"refused: {name}() takes its SELECT written out as one string here")
            check_server_functions(con, text, nested=True)


def _function_calls(node: Any) -> Iterator[tuple[str, list[Any]]]:
    """Every function call of a serialized statement (``json_serialize_sql``): name and arguments."""
    if isinstance(node, dict):
        if "function_name" in node:
            yield str(node["function_name"]).lower(), list(node.get("children") or [])
        for value in node.values():
            yield from _function_calls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _function_calls(value)


def _string_constant(args: list[Any]) -> str | None:
    if len(args) == 1 and args[0].get("type") == "VALUE_CONSTANT":
        value = args[0].get("value") or {}
        if not value.get("is_null") and (value.get("type") or {}).get("id") == "VARCHAR":
            return str(value.get("value"))
    return None


def run_query(sql: str, db: str | Path | None = None, *, timeout: float = DEFAULT_TIMEOUT,
              max_rows: int = DEFAULT_MAX_ROWS, memory_limit: str = DEFAULT_MEMORY_LIMIT,
              principal: access.Principal | str | None = None) -> QueryResult:
    """Run one read-only query and return at most ``max_rows`` rows as a polars frame. SQL reads every
    table of every business unit: ``principal`` (an :class:`engine.access.Principal` or a name), when
    given, needs a role for every unit."""
    if principal is not None:
        access.require(access.resolve(principal), "query")
    location = db_path(db)
    con = read_only_connection(location, memory_limit)
    timer = threading.Timer(timeout, con.interrupt)
    try:
        check_statement(con, sql)
        if postgres.is_url(location):
            check_server_functions(con, sql)
        timer.start()
        try:
            rel = con.execute(sql)
            cols = [d[0] for d in rel.description or []]
            rows = rel.fetchmany(max_rows + 1)
        except duckdb.InterruptException as exc:
            raise QueryRefused(f"query cut off after {timeout:g} s (time limit)") from exc
        except duckdb.OutOfMemoryException as exc:
            raise QueryRefused(f"query cut off: it needs more memory than the {memory_limit} a read-only query "
                               "may use (memory limit); aggregate or filter more, or add a LIMIT") from exc
        except duckdb.PermissionException as exc:
            raise QueryRefused(_REACH_MESSAGE) from exc
        except duckdb.Error as exc:
            if "interrupted" in str(exc).lower():
                raise QueryRefused(f"query cut off after {timeout:g} s (time limit)") from exc
            if "lock" in str(exc).lower() and "configuration" in str(exc).lower():
                raise QueryRefused("refused: settings cannot be changed by read-only queries") from exc
            raise QueryRefused(f"query failed: {str(exc).splitlines()[0]}") from exc
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        # Duplicate column names would collide in a dict; make them unique.
        if len(set(cols)) != len(cols):
            seen: dict[str, int] = {}
            uniq = []
            for c in cols:
                seen[c] = seen.get(c, 0) + 1
                uniq.append(c if seen[c] == 1 else f"{c}_{seen[c]}")
            data = {c: [r[i] for r in rows] for i, c in enumerate(uniq)}
        frame = pl.DataFrame(data, strict=False) if cols else pl.DataFrame()
        return QueryResult(frame, truncated)
    finally:
        timer.cancel()
        con.close()
