"""Read-only SQL: what analysts may run, and what is refused with a clear message."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine import query
from engine.errors import QueryRefused

# Each hostile query with the words the refusal must contain.
HOSTILE = [
    ("DELETE FROM controls", "DELETE"),
    ("UPDATE controls SET title = 'x'", "UPDATE"),
    ("INSERT INTO settings VALUES ('a', 'b')", "INSERT"),
    ("DROP TABLE controls", "DROP"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("ALTER TABLE controls ADD COLUMN x INT", "ALTER"),
    ("ATTACH '/tmp/other.duckdb' AS o", "ATTACH"),
    ("COPY controls TO '/tmp/out.csv'", "COPY"),
    ("EXPORT DATABASE '/tmp/exported'", "EXPORT"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("SET threads = 1", "SET"),
    ("RESET threads", "SET"),
    ("PRAGMA enable_profiling", "refused"),
    ("SELECT * FROM read_csv('/etc/passwd')", "files, the network"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "files, the network"),
    ("SELECT * FROM glob('/etc/*')", "files, the network"),
    ("SELECT * FROM read_text('/etc/hostname')", "files, the network"),
    ("SELECT * FROM 'https://example.org/a.csv'", "files, the network"),
    ("SELECT 1; DELETE FROM controls", "one statement"),
    ("CHECKPOINT", "refused"),
    ("", "empty"),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("sql", "needle"), HOSTILE)
def test_hostile_queries_are_refused_and_change_nothing(fresh_db: Path, sql: str, needle: str) -> None:
    before = _digest(fresh_db)
    with pytest.raises(QueryRefused) as info:
        query.run_query(sql, fresh_db)
    assert needle.lower() in str(info.value).lower()
    assert _digest(fresh_db) == before


def test_select_returns_a_frame(fresh_db: Path) -> None:
    res = query.run_query("SELECT framework, count(*) AS n FROM v_controls GROUP BY 1 ORDER BY 1", fresh_db)
    assert res.frame.columns == ["framework", "n"]
    assert res.frame.height == 3
    assert not res.truncated


def test_row_limit_truncates(fresh_db: Path) -> None:
    res = query.run_query("SELECT * FROM range(1000)", fresh_db, max_rows=10)
    assert res.frame.height == 10 and res.truncated


def test_runaway_query_is_cut_off(fresh_db: Path) -> None:
    with pytest.raises(QueryRefused, match="cut off"):
        query.run_query("SELECT count(*) FROM range(100000000000) a", fresh_db, timeout=0.5)


def test_cli_query_refuses_delete_and_file_read(fresh_db: Path, run_cli) -> None:
    before = _digest(fresh_db)
    code, out, err = run_cli("query", "DELETE FROM controls", "--db", fresh_db)
    assert code != 0 and "DELETE statements are not allowed" in err and "Traceback" not in err
    code, out, err = run_cli("query", "SELECT * FROM read_csv('/etc/passwd')", "--db", fresh_db)
    assert code != 0 and "out of reach" in err and "root:" not in out
    assert _digest(fresh_db) == before


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_query_formats(fresh_db: Path, run_cli, fmt: str) -> None:
    code, out, _ = run_cli("query", "SELECT ref, title FROM v_controls WHERE framework = 'iso42001-2023' "
                           "AND ref = 'A.6.2.8'", "--db", fresh_db, "--format", fmt)
    assert code == 0
    assert "AI system recording of event logs" in out
