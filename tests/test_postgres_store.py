"""The PostgreSQL store: a real server started for the tests, the demo on it, the same answers as the
DuckDB file, backup and restore with PostgreSQL's tools, the read-only role, and the analyst shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest

from engine import demo, lifecycle, store
from engine.errors import StaleEditError
from engine.store import postgres
from engine.store.backup import backup, restore
from tests.pg_server import Server

WHO = {"actor": "tester", "channel": "api"}


@pytest.fixture(scope="module")
def demo_pg(server: Server) -> str:
    url = server.database()
    demo._build(url, lambda _line: None)
    return url


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "riskmap.duckdb"
    demo.build_demo(path)
    return path


def _rows(db: str | Path, view: str) -> pl.DataFrame:
    with store.connect(db) as con:
        frame = con.execute(f"SELECT * FROM {view}").pl()
    drop = [c for c in frame.columns if c in ("created_at", "updated_at", "changed_at", "decided_at", "id")
            and view in ("v_history",)] + [c for c in ("created_at", "updated_at", "decided_at", "reversed_at",
                                                           "plan_approved_at", "dismissed_at") if c in frame.columns]
    frame = frame.drop(drop)
    return frame.sort(frame.columns, nulls_last=True) if frame.height else frame


def test_init_is_idempotent_and_creates_the_reader_role(server: Server) -> None:
    url = server.database()
    first = lifecycle.init_database(url)
    assert first.migrations and first.catalog_rows > 400
    assert not lifecycle.init_database(url).changed
    with store.connect(url) as con:
        assert postgres.is_postgres(con)
        roles = postgres.rows(con, f"SELECT rolname FROM pg_roles WHERE rolname = '{postgres.READER_ROLE}'")
    assert roles == [(postgres.READER_ROLE,)]


@pytest.mark.parametrize("view", store.view_names())
def test_every_view_gives_the_same_rows_on_both_stores(demo_pg: str, demo_file: Path, view: str) -> None:
    on_file, on_server = _rows(demo_file, view), _rows(demo_pg, view)
    assert on_server.columns == on_file.columns
    if view == "v_history":  # ids and times differ; what happened must not
        keys = ["actor", "channel", "entity", "entity_id", "action", "field", "old_value", "new_value"]
        on_file, on_server = on_file.select(keys).sort(keys), on_server.select(keys).sort(keys)
    assert on_server.height == on_file.height
    assert on_server.equals(on_file), f"{view} differs between the stores"


def test_an_edit_that_lost_the_race_is_refused_and_writes_nothing(server: Server) -> None:
    """Two transactions change one risk: the one that commits first wins; the other, whose snapshot is
    older, is refused as changed meanwhile and nothing of it is written."""
    url = server.database()
    demo._build(url, lambda _line: None)
    with pytest.raises(StaleEditError, match="changed by someone else meanwhile"):
        with store.transaction(url) as late:
            late.execute("SELECT version FROM risks WHERE id = 'R-0001'").fetchone()
            with store.transaction(url) as early:
                early.execute("UPDATE risks SET owner = 'Ann', version = version + 1 WHERE id = 'R-0001'")
            late.execute("UPDATE risks SET owner = 'Ben', version = version + 1 WHERE id = 'R-0001'")
    with store.connect(url) as con:
        assert con.execute("SELECT owner FROM risks WHERE id = 'R-0001'").fetchone() == ("Ann",)


def test_edits_of_different_risks_in_overlapping_transactions_both_land(server: Server) -> None:
    url = server.database()
    demo._build(url, lambda _line: None)
    with store.transaction(url) as one:
        one.execute("UPDATE risks SET owner = 'Ann' WHERE id = 'R-0001'")
        with store.transaction(url) as two:
            two.execute("UPDATE risks SET owner = 'Ben' WHERE id = 'R-0002'")
    with store.connect(url) as con:
        got = con.execute("SELECT id, owner FROM risks WHERE id IN ('R-0001', 'R-0002') ORDER BY id").fetchall()
    assert got == [("R-0001", "Ann"), ("R-0002", "Ben")]


def test_backup_and_restore_with_pg_dump(server: Server, tmp_path: Path) -> None:
    url = server.database()
    demo._build(url, lambda _line: None)
    dump = tmp_path / "store.dump"
    digest = backup(url, dump)
    assert len(digest) == 64 and Path(str(dump) + ".sha256").read_text().startswith(digest)
    with store.transaction(url) as con:
        con.execute("DELETE FROM risk_controls")
    kept = restore(dump, url)
    assert kept and kept.exists()
    with store.connect(url) as con:
        assert con.execute("SELECT count(*) FROM risk_controls").fetchone()[0] > 0


def test_restore_refuses_a_file_that_is_not_a_dump(server: Server, tmp_path: Path) -> None:
    from engine.errors import InputError

    url = server.database()
    lifecycle.init_database(url)
    bogus = tmp_path / "x.dump"
    bogus.write_text("hello")
    with pytest.raises(InputError, match="not a PostgreSQL dump"):
        restore(bogus, url)


def test_a_reader_login_can_read_and_cannot_write(server: Server, demo_pg: str) -> None:
    dbname = demo_pg.rsplit("/", 1)[-1]
    server.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ana') THEN "
               "CREATE ROLE ana LOGIN; END IF; END $$; GRANT riskmap_reader TO ana;")
    reader = server.url(dbname, user="ana")
    psql = server.psql
    port = str(server.port)
    read = subprocess.run([psql, "-X", "-h", "127.0.0.1", "-p", port, "-U", "ana", "-d", dbname, "-tAc",
                           "SELECT count(*) FROM risks"], capture_output=True, text=True)
    assert read.returncode == 0 and int(read.stdout.strip()) == 90   # 85 from the registers, 5 from scenarios
    write = subprocess.run([psql, "-X", "-h", "127.0.0.1", "-p", port, "-U", "ana", "-d", dbname, "-c",
                            "UPDATE risks SET owner = 'x'"], capture_output=True, text=True)
    assert write.returncode != 0 and "permission denied" in write.stderr
    assert reader


def test_shell_runs_one_statement_on_the_views(server: Server, demo_pg: str, demo_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.cli import main

    for db in (demo_pg, str(demo_file)):
        got = subprocess.run([str(Path(__import__("sys").executable).parent / "riskmap"), "shell", "--db", db,
                              "--csv", "-c", "SELECT count(*) AS n FROM v_risk_register"],
                             capture_output=True, text=True, timeout=120)
        assert got.returncode == 0, got.stderr
        assert got.stdout.strip().splitlines()[-1] == "90"
    assert main


IMPORT_PROBE = """
import csv, sys
from engine import lifecycle, register
from engine.store import postgres

url, rows, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lifecycle.init_database(url)
with open(path, "w", newline="", encoding="utf-8") as fh:
    out = csv.writer(fh)
    out.writerow(["Risk ID", "Title", "Owner", "Likelihood", "Impact", "Controls"])
    for i in range(rows):
        out.writerow([f"P-{i}", f"Probe risk {i}", f"Owner {i % 7}", 1 + i % 5, 1 + i % 4, "A.5.15, A.8.2"])
postgres.instance(url).db.execute("SET pg_debug_show_queries = true")  # every statement sent, on stderr
register.import_risks(url, path, "probe", actor="probe")
"""


def _statements_of_an_import(server: Server, tmp_path: Path, rows: int) -> list[str]:
    import sys

    url = server.database()
    got = subprocess.run([sys.executable, "-c", IMPORT_PROBE, url, str(rows), str(tmp_path / f"r{rows}.csv")],
                         capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parent.parent)
    assert got.returncode == 0, got.stderr[-3000:]
    return [line for line in got.stderr.splitlines() if line.strip()]


def test_an_import_writes_through_copy_not_row_by_row(server: Server, tmp_path: Path) -> None:
    """The new risks, their controls, lineage and history reach the server through COPY: the statements an
    import sends do not grow with its rows, and none of them is an INSERT."""
    small, large = (_statements_of_an_import(server, tmp_path, n) for n in (20, 400))
    assert not [s for s in large if s.lstrip().upper().startswith("INSERT")]
    for table in ("risks", "risk_controls", "risk_sources", "history"):
        assert any(s.startswith(f'COPY "public"."{table}"') and "FROM STDIN" in s for s in large), table
    assert len(large) == len(small)
