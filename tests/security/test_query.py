"""Read-only SQL (the CLI ``query`` and the app's SQL page): what analysts may run, and what is refused.

Every hostile query below is listed with the words its refusal must contain. Each case also asserts that
the database file is byte-for-byte unchanged and that no file the query named was created.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from engine.errors import QueryRefused
from engine.store import query
from tests import stores

pytestmark = pytest.mark.both_stores

FILES = "files, the network"
"""The refusal of a query that reaches for a file or the network."""
READ_ONLY = "not allowed; this is a read-only query"

# (query, words the refusal must contain). ``{tmp}`` is a private folder: a query writing there must
# leave it empty.
HOSTILE: list[tuple[str, str | tuple[str, ...]]] = [
    # writes and DDL
    ("DELETE FROM controls", "DELETE statements are " + READ_ONLY),
    ("UPDATE controls SET title = 'x'", "UPDATE statements are " + READ_ONLY),
    ("INSERT INTO settings VALUES ('a', 'b')", "INSERT statements are " + READ_ONLY),
    ("INSERT INTO controls SELECT * FROM controls RETURNING *", "INSERT statements"),
    ("DROP TABLE controls", "DROP statements"),
    ("/* harmless? */ DROP TABLE controls", "DROP statements"),
    ("CREATE TABLE t AS SELECT 1", "CREATE statements"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE statements"),
    ("CREATE MACRO m(a) AS a", "CREATE statements"),
    ("CREATE SECRET s (TYPE S3, KEY_ID 'x', SECRET 'y')", "CREATE statements"),
    ("ALTER TABLE controls ADD COLUMN x INT", "ALTER statements"),
    ("TRUNCATE history", "DELETE statements"),
    ("UPDATE history SET actor = 'someone else'", "UPDATE statements"),
    ("DELETE FROM history", "DELETE statements"),
    ("WITH d AS (DELETE FROM controls RETURNING *) SELECT * FROM d", "does not parse"),
    ("SELECT * FROM (DELETE FROM controls RETURNING *)", "does not parse"),
    ("SELECT * FROM query('DELETE FROM controls')", "query failed"),
    ("EXPLAIN ANALYZE DELETE FROM controls", ("query failed", "only a SELECT may be explained")),
    ("PREPARE p AS DELETE FROM controls", "PREPARE statements"),
    ("EXECUTE p", "EXECUTE statements"),
    ("VACUUM", "statements are " + READ_ONLY),
    ("ANALYZE", "statements are " + READ_ONLY),
    ("CHECKPOINT", "statements are " + READ_ONLY),
    ("FORCE CHECKPOINT", "statements are " + READ_ONLY),
    ("BEGIN TRANSACTION", "TRANSACTION statements"),
    ("COMMIT", "TRANSACTION statements"),
    # more than one statement: the second one never runs
    ("SELECT 1; DELETE FROM controls", "one statement at a time, got 2"),
    ("SELECT * FROM controls WHERE title = '';DROP TABLE controls;--'", "one statement at a time"),
    # other databases, files written, extensions
    ("ATTACH '{tmp}/other.duckdb' AS o", "ATTACH statements"),
    ("ATTACH ':memory:' AS m", "ATTACH statements"),
    ("DETACH riskmap", "DETACH statements"),
    ("USE memory", "statements are " + READ_ONLY),
    ("COPY controls TO '{tmp}/out.csv'", "COPY statements"),
    ("COPY (SELECT * FROM history) TO '{tmp}/h.parquet' (FORMAT parquet)", "COPY statements"),
    ("EXPLAIN COPY controls TO '{tmp}/explained.csv'", (FILES, "only a SELECT may be explained")),
    ("EXPLAIN ANALYZE COPY controls TO '{tmp}/analyzed.csv'", (FILES, "only a SELECT may be explained")),
    ("EXPORT DATABASE '{tmp}/exported'", "EXPORT statements"),
    ("IMPORT DATABASE '{tmp}'", "disabled by configuration"),  # expanded while parsing
    ("INSTALL httpfs", "LOAD statements"),
    ("FORCE INSTALL httpfs", "LOAD statements"),
    ("INSTALL httpfs FROM 'http://127.0.0.1:9'", "LOAD statements"),
    ("LOAD httpfs", "LOAD statements"),
    ("LOAD '{tmp}/evil.duckdb_extension'", "LOAD statements"),
    # settings
    ("SET threads = 1", "SET statements"),
    ("SET enable_external_access = true", "SET statements"),
    ("SET lock_configuration = false", "SET statements"),
    ("RESET threads", "SET statements"),
    ("SET VARIABLE x = 1", "SET statements"),
    ("PRAGMA enable_profiling", "refused"),
    ("PRAGMA memory_limit = '1GB'", "SET statements"),
    ("CALL pragma_version()", "CALL statements"),
    # files and the network through table functions, in every spelling
    ("SELECT * FROM read_csv('/etc/passwd')", FILES),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", FILES),
    ("SELECT * FROM sniff_csv('/etc/passwd')", FILES),
    ("SELECT * FROM read_parquet('{tmp}/x.parquet')", FILES),
    ("SELECT * FROM read_parquet(['{tmp}/a.parquet', '{tmp}/b.parquet'])", FILES),
    ("SELECT * FROM parquet_metadata('{tmp}/x.parquet')", FILES),
    ("SELECT * FROM read_json('/etc/hostname')", FILES),
    ("SELECT * FROM read_text('/etc/hostname')", FILES),
    ("SELECT * FROM read_text('~/.bashrc')", FILES),
    ("SELECT * FROM read_blob('/etc/hostname')", FILES),
    ("SELECT * FROM glob('/etc/*')", FILES),
    ("SELECT * FROM glob('*')", FILES),
    ("SELECT * FROM '/etc/passwd'", "query failed"),
    ("SELECT * FROM 'https://example.org/a.csv'", FILES),
    ("SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')", FILES),
    ("SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')", FILES),
    ("SELECT * FROM sqlite_scan('{tmp}/x.db', 't')", "query failed"),
    ("SELECT * FROM duckdb_secrets()", FILES),
    ("SELECT * FROM which_secret('s3://bucket/x', 's3')", FILES),
    ("EXPLAIN ANALYZE SELECT * FROM read_csv('/etc/passwd')", FILES),
    ("SELECT getenv('HOME')", "query failed"),
    # malformed or empty
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("SELEC 1", "does not parse"),
    ("SELECT " + "+".join(["1"] * 5000), "does not parse"),  # expression depth limit
    ("SELECT " + "(" * 100_000 + "1" + ")" * 100_000, "does not parse"),  # parser memory limit
]


def _digest(path: Path) -> str:
    return stores.digest(path)


@pytest.mark.parametrize(("sql", "needle"), HOSTILE, ids=[q[:60] for q, _ in HOSTILE])
def test_hostile_queries_are_refused_and_change_nothing(fresh_db: Path, tmp_path: Path, sql: str,
                                                        needle: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    before = _digest(fresh_db)
    with pytest.raises(QueryRefused) as info:
        query.run_query(sql.replace("{tmp}", str(target)), fresh_db, timeout=5)
    message = str(info.value)
    # a few refusals are worded by the store that refuses them (the file, or the check before the server)
    assert any(n.lower() in message.lower() for n in ((needle,) if isinstance(needle, str) else needle))
    assert "root:" not in message  # nothing of a file it reached for leaks through the message
    assert _digest(fresh_db) == before
    assert list(target.iterdir()) == []


SERVER_HOSTILE = [
    # the extension's functions that hand SQL to the server as it is, with the store login's privileges
    "SELECT * FROM postgres_query('store', 'SELECT pg_read_file(''PG_VERSION'')')",
    "SELECT * FROM POSTGRES_QUERY('store', 'DELETE FROM history RETURNING 1')",
    "WITH x AS (SELECT * FROM postgres_query('store', 'SELECT 1')) SELECT * FROM x",
    "SELECT (SELECT count(*) FROM postgres_scan('{url}', 'public', 'history')) AS n",
    "EXPLAIN ANALYZE SELECT * FROM postgres_query('store', 'SELECT 1')",
    "SELECT * FROM query('SELECT * FROM postgres_query(''store'', ''SELECT 1'')')",
    "SELECT * FROM json_execute_serialized_sql('{}')",
]


@stores.postgres_only("the postgres extension's functions")
@pytest.mark.parametrize("sql", SERVER_HOSTILE, ids=[q[:60] for q in SERVER_HOSTILE])
def test_server_functions_are_refused(fresh_db: Path, sql: str) -> None:
    before = _digest(fresh_db)
    with pytest.raises(QueryRefused, match="passes SQL to the server"):
        query.run_query(sql.replace("{url}", str(fresh_db)), fresh_db, timeout=5)
    assert _digest(fresh_db) == before


@stores.postgres_only("the view definitions of the query instance")
def test_explain_analyze_defines_nothing_in_the_query_instance(fresh_db: Path) -> None:
    """The query instance holds the views every analyst of the process reads: EXPLAIN ANALYZE, which runs
    what it explains, must not replace one."""
    for sql in ("EXPLAIN ANALYZE CREATE OR REPLACE VIEW v_controls AS SELECT 1 AS x",
                "EXPLAIN (ANALYZE) CREATE OR REPLACE VIEW v_controls AS SELECT 1 AS x",
                "EXPLAIN (ANALYZE true, FORMAT json) CREATE TABLE memory.main.t AS SELECT 1",
                "-- a comment first\nEXPLAIN ANALYSE CREATE TABLE memory.main.t AS SELECT 1"):
        with pytest.raises(QueryRefused, match="only a SELECT may be explained"):
            query.run_query(sql, fresh_db)
    assert query.run_query("EXPLAIN (ANALYZE) SELECT count(*) FROM v_controls", fresh_db).frame.height
    with pytest.raises(QueryRefused, match="takes its SELECT written out"):
        query.run_query("SELECT * FROM query('SELECT ' || '1')", fresh_db)
    assert query.run_query("SELECT count(*) AS n FROM v_controls", fresh_db).frame["n"][0] > 400


@stores.postgres_only("the server's read-only transaction")
def test_the_server_itself_refuses_a_write_through_the_query_connection(fresh_db: Path) -> None:
    """Below the statement check, the query connection attaches the server READ_ONLY: PostgreSQL runs its
    transactions read-only, so even SQL passed to the server as it is cannot write."""
    before = _digest(fresh_db)
    con = query.read_only_connection(fresh_db)
    try:
        for sql in ("DELETE FROM controls", "CALL postgres_execute('store', 'DELETE FROM controls')",
                    "DETACH store", "ATTACH 'postgresql://postgres@127.0.0.1:1/x' AS other (TYPE postgres)"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
                if sql.startswith("DETACH"):  # a detach would leave the next query without a store
                    pytest.fail("DETACH was accepted")
    finally:
        con.close()
    assert _digest(fresh_db) == before
    assert query.run_query("SELECT count(*) AS n FROM controls", fresh_db).frame["n"][0] > 400


ALLOWED = [
    ("SELECT framework, count(*) AS n FROM v_controls GROUP BY 1 ORDER BY 1", 3),
    ("FROM controls LIMIT 2", 2),
    ("SELECT 1 --; DROP TABLE controls", 1),
    ("SELECT * FROM query_table('controls') LIMIT 3", 3),
    ("SELECT * FROM pragma_table_info('controls') LIMIT 1", 1),
    ("SELECT current_setting('enable_external_access') AS v", 1),
    ("EXPLAIN SELECT * FROM controls", None),
    ("DESCRIBE controls", None),
    ("SUMMARIZE controls", None),
    ("SHOW TABLES", None),
]


@pytest.mark.parametrize(("sql", "rows"), ALLOWED)
def test_harmless_reads_are_allowed(fresh_db: Path, sql: str, rows: int | None) -> None:
    before = _digest(fresh_db)
    res = query.run_query(sql, fresh_db)
    assert res.frame.height > 0
    if rows is not None:
        assert res.frame.height == rows
    assert _digest(fresh_db) == before


def test_external_access_is_off_inside_the_query(fresh_db: Path) -> None:
    res = query.run_query("SELECT current_setting('enable_external_access') AS ext, "
                          "current_setting('lock_configuration') AS locked", fresh_db)
    assert res.frame.row(0) == (False, True)


def test_the_query_connection_itself_refuses_writes_and_settings(fresh_db: Path) -> None:
    """Defence in depth: even a statement that slipped past the statement check meets a read-only,
    locked, file-less connection."""
    con = query.read_only_connection(fresh_db)
    try:
        for sql in ("DELETE FROM controls", "CREATE TABLE t (x INT)", "SET enable_external_access = true",
                    "SELECT * FROM read_csv('/etc/passwd')", "INSTALL httpfs", "LOAD httpfs"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert con.execute("SELECT count(*) FROM controls").fetchone()[0] > 0
    finally:
        con.close()


def test_a_query_that_needs_too_much_memory_is_cut_off_with_a_reason(fresh_db: Path) -> None:
    before = _digest(fresh_db)
    with pytest.raises(QueryRefused, match=r"more memory than the 64MB .*memory limit"):
        query.run_query("SELECT string_agg(repeat('x', 1000), '') FROM range(1000000)", fresh_db,
                        memory_limit="64MB")
    assert query.run_query("SELECT current_setting('memory_limit') AS m", fresh_db).frame.item() != "64.0 MiB"
    assert _digest(fresh_db) == before


def test_a_memory_limit_that_is_not_a_size_is_refused(fresh_db: Path) -> None:
    with pytest.raises(QueryRefused, match=r"memory limit 'lots' is not a size.*2GB"):
        query.run_query("SELECT 1", fresh_db, memory_limit="lots")


def test_the_default_memory_limit_applies_inside_the_query(fresh_db: Path) -> None:
    res = query.run_query("SELECT current_setting('memory_limit') AS m", fresh_db)
    assert res.frame.item() == "1.8 GiB"  # 2 GB


def test_select_returns_a_frame(fresh_db: Path) -> None:
    res = query.run_query("SELECT framework, count(*) AS n FROM v_controls GROUP BY 1 ORDER BY 1", fresh_db)
    assert res.frame.columns == ["framework", "n"]
    assert res.frame.height == 3
    assert not res.truncated


def test_duplicate_column_names_are_kept_apart(fresh_db: Path) -> None:
    res = query.run_query("SELECT 1 AS a, 2 AS a, 3 AS a", fresh_db)
    assert res.frame.columns == ["a", "a_2", "a_3"]
    assert res.frame.row(0) == (1, 2, 3)


def test_row_limit_truncates(fresh_db: Path) -> None:
    res = query.run_query("SELECT * FROM range(1000)", fresh_db, max_rows=10)
    assert res.frame.height == 10 and res.truncated


def test_row_limit_bounds_a_huge_result(fresh_db: Path) -> None:
    res = query.run_query("SELECT * FROM range(100000000) t(x)", fresh_db, max_rows=50, timeout=20)
    assert res.frame.height == 50 and res.truncated


RUNAWAY = [
    "SELECT count(*) FROM range(100000000000) a",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
    "SELECT * FROM range(100000000) a ORDER BY random()",
    "SELECT string_agg(x::VARCHAR, ',') FROM range(1000000000) t(x)",
]


@pytest.mark.parametrize("sql", RUNAWAY)
def test_runaway_query_is_cut_off(fresh_db: Path, sql: str) -> None:
    import time

    start = time.monotonic()
    with pytest.raises(QueryRefused, match="cut off after 0.5 s"):
        query.run_query(sql, fresh_db, timeout=0.5)
    assert time.monotonic() - start < 10


def test_cli_query_refuses_delete_and_file_read(fresh_db: Path, run_cli) -> None:
    before = _digest(fresh_db)
    code, out, err = run_cli("query", "DELETE FROM controls", "--db", fresh_db)
    assert code != 0 and "DELETE statements are not allowed" in err and "Traceback" not in err
    code, out, err = run_cli("query", "SELECT * FROM read_csv('/etc/passwd')", "--db", fresh_db)
    assert code != 0 and "out of reach" in err and "root:" not in out
    assert _digest(fresh_db) == before


@pytest.mark.parametrize(("sql", "needle"), [
    ("ATTACH '/tmp/x.duckdb' AS o", "ATTACH"),
    ("COPY controls TO '/tmp/riskmap-never.csv'", "COPY"),
    ("SET threads = 1", "SET"),
    ("SELECT * FROM glob('/etc/*')", "out of reach"),
    ("SELECT 1; SELECT 2", "one statement"),
])
def test_cli_query_refusals_are_one_clear_line(fresh_db: Path, run_cli, sql: str, needle: str) -> None:
    before = _digest(fresh_db)
    code, out, err = run_cli("query", sql, "--db", fresh_db)
    assert code == 1
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert out == ""
    assert _digest(fresh_db) == before


def test_cli_query_time_limit(fresh_db: Path, run_cli) -> None:
    code, _, err = run_cli("query", RUNAWAY[1], "--db", fresh_db, "--timeout", "0.5")
    assert code == 1 and "cut off after 0.5 s" in err


def test_cli_query_row_limit(fresh_db: Path, run_cli) -> None:
    code, out, err = run_cli("query", "SELECT * FROM range(1000) t(x)", "--db", fresh_db, "--max-rows", "5",
                             "--format", "csv")
    assert code == 0
    assert out.splitlines() == ["x", "0", "1", "2", "3", "4"]
    assert "truncated at 5 rows" in err


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_query_formats(fresh_db: Path, run_cli, fmt: str) -> None:
    code, out, _ = run_cli("query", "SELECT ref, title FROM v_controls WHERE framework = 'iso42001-2023' "
                           "AND ref = 'A.6.2.8'", "--db", fresh_db, "--format", fmt)
    assert code == 0
    assert "AI system recording of event logs" in out


@stores.file_only("a read-only DuckDB session holding the file in another process; a server has no file lock")
def test_analyst_query_runs_while_another_process_reads(fresh_db: Path) -> None:
    """A read-only query works while an analyst holds the file open read-only in another process."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "c.execute('SELECT count(*) FROM controls').fetchone(); print('open', flush=True); sys.stdin.read()",
         str(fresh_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        res = query.run_query("SELECT count(*) AS n FROM controls", fresh_db)
        assert res.frame["n"][0] > 0
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
