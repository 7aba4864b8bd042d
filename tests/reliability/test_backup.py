"""`riskmap backup FILE` and `riskmap restore FILE` round-trip a database exactly, and restore never installs a
file it has not checked: a damaged, truncated or foreign file is refused and the database is left as it was."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from engine import plan, register, soa, store
from tests import stores

from .dbstate import changed_tables, db_state

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile"

pytestmark = [pytest.mark.both_stores, stores.file_only(
    "backup and restore of the file byte for byte, its write-ahead log and lock; on PostgreSQL they are "
    "pg_dump and pg_restore, tested in tests/test_postgres_store.py")]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content(path: Path) -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                            "table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return [(t, con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()) for t in tables]
    finally:
        con.close()


def _readable(path: Path) -> bool:
    """The file opens, and every column of every row of every table can be read back."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_type = 'BASE TABLE'").fetchall():
            con.execute(f'SELECT count(*), sum(length(CAST(t AS VARCHAR))) FROM "{table}" AS t').fetchall()
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


@pytest.fixture
def busy_db(fresh_db: Path) -> Path:
    """A database with a register (hostile text included), SoA decisions, a plan and an approved SoA."""
    for name in ("good.csv", "unicode_text.csv", "markup_and_sql_text.csv", "formula_cells.xlsx"):
        register.import_risks(fresh_db, HOSTILE / name, Path(name).stem, actor="setup")
    soa.set_row(fresh_db, "iso27001-2022", "A.5.1", applicable=True, reasons=["legal_regulatory"],
                status="implemented", actor="setup", channel="api")
    soa.set_row(fresh_db, "iso27001-2022", "A.7.4", applicable=False, justification="<b>remote</b> only",
                exclusion_reason="activity_not_performed", actor="setup", channel="api")
    plan.add_action(fresh_db, title="=cmd|' /C calc'!A0", owner="Ops", effort=2, actor="setup", channel="api")
    soa.snapshot(fresh_db, approved_by="CISO", confirmation="Baseline", actor="setup", channel="api")
    return fresh_db


def test_backup_then_restore_round_trips_exactly(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    backup = tmp_path / "backup.duckdb"
    code, out, err = run_cli("backup", backup, "--db", fresh_db)
    assert code == 0, err
    assert _sha(backup) == _sha(fresh_db)
    assert (tmp_path / "backup.duckdb.sha256").read_text().split()[0] == _sha(backup)
    original = _content(fresh_db)
    with store.transaction(fresh_db) as con:
        con.execute("DELETE FROM mappings")
        con.execute("UPDATE controls SET summary = 'changed'")
    assert _content(fresh_db) != original
    code, out, err = run_cli("restore", backup, "--db", fresh_db)
    assert code == 0, err
    assert _content(fresh_db) == original
    assert _sha(fresh_db) == _sha(backup)
    kept = list(tmp_path.glob("riskmap.duckdb.before-restore-*"))
    assert len(kept) == 1
    con = duckdb.connect(str(kept[0]), read_only=True)
    assert con.execute("SELECT count(*) FROM mappings").fetchone()[0] == 0
    con.close()


def test_a_working_database_round_trips_exactly(busy_db: Path, tmp_path: Path, run_cli) -> None:
    backup = tmp_path / "busy.backup.duckdb"
    assert run_cli("backup", backup, "--db", busy_db)[0] == 0
    original = _content(busy_db)
    original_state = db_state(busy_db)
    assert original_state["risks"][0] > 10 and original_state["history"][0] > 10
    # a day's work after the backup: edits, a new import, a new SoA version
    rid = register.list_risks(busy_db)["id"][0]
    register.update_risk(busy_db, rid, {"owner": "Later"}, None, actor="later", channel="app")
    register.import_risks(busy_db, HOSTILE / "bom_and_crlf.csv", "later", actor="later")
    soa.snapshot(busy_db, approved_by="CISO", confirmation="Second baseline", actor="later", channel="api")
    assert changed_tables(original_state, db_state(busy_db))
    code, _, err = run_cli("restore", backup, "--db", busy_db)
    assert code == 0, err
    assert _content(busy_db) == original
    assert _sha(busy_db) == _sha(backup)
    # the restored database is a working one: the engine writes to it again
    register.update_risk(busy_db, rid, {"owner": "After restore"}, None, actor="me", channel="cli")
    assert register.get_risk(busy_db, rid)["owner"] == "After restore"


def _leave_a_write_ahead_log(db: Path, sql: str) -> None:
    """Commit ``sql`` in another process that then dies without closing: the change is only in the log."""
    code = ("import duckdb, os, sys\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "con.execute(\"SET checkpoint_threshold = '1GB'\")\n"
            "con.execute(sys.argv[2])\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(db), sql], check=True, timeout=60)
    assert Path(f"{db}.wal").exists()


def test_backup_includes_changes_still_in_the_write_ahead_log(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    _leave_a_write_ahead_log(fresh_db, "INSERT INTO settings VALUES ('only-in-wal', 'yes')")
    backup = tmp_path / "wal.backup.duckdb"
    code, _, err = run_cli("backup", backup, "--db", fresh_db)
    assert code == 0, err
    assert not Path(f"{backup}.wal").exists()
    con = duckdb.connect(str(backup), read_only=True)
    try:
        assert con.execute("SELECT value FROM settings WHERE key = 'only-in-wal'").fetchone() == ("yes",)
    finally:
        con.close()


def test_restore_over_a_database_with_a_write_ahead_log(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", backup, "--db", fresh_db)[0] == 0
    original = _content(fresh_db)
    _leave_a_write_ahead_log(fresh_db, "INSERT INTO settings VALUES ('after-backup', 'yes')")
    code, _, err = run_cli("restore", backup, "--db", fresh_db)
    assert code == 0, err
    assert not Path(f"{fresh_db}.wal").exists()
    assert _content(fresh_db) == original
    kept = next(tmp_path.glob("riskmap.duckdb.before-restore-*"))
    con = duckdb.connect(str(kept), read_only=True)
    try:  # the replaced database kept beside it has the change that was only in its log
        assert con.execute("SELECT value FROM settings WHERE key = 'after-backup'").fetchone() == ("yes",)
    finally:
        con.close()


def test_restore_refuses_a_damaged_or_foreign_file(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    before = _sha(fresh_db)
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all")
    code, _, err = run_cli("restore", junk, "--db", fresh_db)
    assert code != 0 and "not a DuckDB database" in err
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", backup, "--db", fresh_db)[0] == 0
    data = bytearray(backup.read_bytes())
    data[5000] ^= 0xFF
    backup.write_bytes(bytes(data))
    code, _, err = run_cli("restore", backup, "--db", fresh_db)
    assert code != 0 and "checksum mismatch" in err
    assert _sha(fresh_db) == before


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_restore_refuses_a_truncated_copy_without_its_checksum(fresh_db: Path, tmp_path: Path, run_cli,
                                                               fraction: float) -> None:
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", backup, "--db", fresh_db)[0] == 0
    Path(f"{backup}.sha256").unlink()
    data = backup.read_bytes()
    backup.write_bytes(data[: int(len(data) * fraction)])
    before = _sha(fresh_db)
    code, _, err = run_cli("restore", backup, "--db", fresh_db)
    assert code == 2 and "not a DuckDB database" in err
    assert _sha(fresh_db) == before


def _opens_as_riskmap(path: Path) -> bool:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        return bool(store.applied_versions(con))
    except duckdb.Error:
        return False
    finally:
        con.close()


def _damage_inside_table_data(backup: Path) -> None:
    """Flip one byte of ``backup`` where it still opens as a riskmap database but a table no longer reads
    back: damage a copy on the way can do, and that only a full read finds."""
    data = backup.read_bytes()
    probe = backup.with_name("probe.duckdb")
    for offset in range(262_144 + 1000, len(data) - 1, 131_072):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        probe.write_bytes(bytes(damaged))
        if _opens_as_riskmap(probe) and not _readable(probe):
            backup.write_bytes(bytes(damaged))
            probe.unlink()
            return
    pytest.fail("found no byte whose damage leaves the file opening but a table unreadable")


def test_restore_refuses_a_damaged_copy_without_its_checksum(busy_db: Path, tmp_path: Path, run_cli) -> None:
    """A backup copied without its .sha256 and damaged on the way: restore must not install it. It refuses,
    leaving the database as it was (or, if it installs it, what it installed reads back in full)."""
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", backup, "--db", busy_db)[0] == 0
    Path(f"{backup}.sha256").unlink()
    _damage_inside_table_data(backup)
    before = _sha(busy_db)
    code, _, err = run_cli("restore", backup, "--db", busy_db)
    assert "Traceback" not in err
    if code == 0:
        assert _readable(busy_db), "restore reported success but installed a database that cannot be read back"
    else:
        assert code == 2
        assert _sha(busy_db) == before


WRITER = """
import duckdb, sys, time
db, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    while True:
        try:
            con = duckdb.connect(db)
            break
        except duckdb.IOException:  # another process holds the file: wait for it
            time.sleep(0.002)
    con.execute("INSERT INTO settings VALUES (?, 'committed')", [f"write-{i}"])
    con.close()
    print(f"write-{i}", flush=True)
"""


def _keys(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT key FROM settings WHERE key LIKE 'write-%'").fetchall()}
    finally:
        con.close()


def test_restore_loses_no_write_committed_while_it_runs(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    """Another process (the app, the CLI) keeps committing while `riskmap restore` runs. Every write it was
    told had committed is in the database restore replaced (kept beside it) or in the restored one."""
    with store.transaction(fresh_db) as con:  # a database of working size: the copies take a moment
        con.execute("CREATE TABLE ballast AS SELECT range AS id, repeat('x', 200) AS pad FROM range(100000)")
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", backup, "--db", fresh_db)[0] == 0
    for attempt in range(3):
        for old in tmp_path.glob("riskmap.duckdb.before-restore-*"):
            old.unlink()
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(fresh_db), "60"], stdout=subprocess.PIPE,
                                  text=True)
        assert writer.stdout is not None
        committed = [writer.stdout.readline().strip() for _ in range(5)]
        code, _, err = run_cli("restore", backup, "--db", fresh_db)
        assert code == 0, err
        rest, _ = writer.communicate(timeout=120)
        committed += rest.split()
        assert writer.returncode == 0 and len(committed) == 60
        kept = list(tmp_path.glob("riskmap.duckdb.before-restore-*"))
        assert len(kept) == 1
        lost = set(committed) - _keys(kept[0]) - _keys(fresh_db)
        assert lost == set(), f"attempt {attempt}: writes committed during the restore were lost: {sorted(lost)}"
        with store.transaction(fresh_db) as con:
            con.execute("DELETE FROM settings WHERE key LIKE 'write-%'")


PROBE = """
import duckdb, sys
try:
    duckdb.connect(sys.argv[1]).close()
    print("opened")
except duckdb.IOException:
    print("locked")
"""


def test_restore_holds_the_file_lock_until_the_restored_bytes_are_in_place(fresh_db: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing any handle of a file ends the process's POSIX lock on it: a copy of the database made with a
    handle of its own would let another process in before the restored bytes are written. Each time restore
    makes its bytes durable, another process tries to open the database and must find it locked."""
    from engine.store import backup as backup_mod

    copy = tmp_path / "b.duckdb"
    backup_mod.backup(fresh_db, copy)
    seen = []
    real_fsync = backup_mod.os.fsync

    def fsync_then_probe(fd: int) -> None:
        real_fsync(fd)
        seen.append(subprocess.run([sys.executable, "-c", PROBE, str(fresh_db)], capture_output=True, text=True,
                                   check=True).stdout.strip())

    monkeypatch.setattr(backup_mod.os, "fsync", fsync_then_probe)
    assert backup_mod.restore(copy, fresh_db) is not None
    assert seen and set(seen) == {"locked"}, seen


def test_backup_taken_while_another_process_writes_is_consistent(fresh_db: Path, tmp_path: Path,
                                                                run_cli) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(fresh_db), "40"], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    for _ in range(5):
        writer.stdout.readline()
    backup = tmp_path / "during.duckdb"
    code, _, err = run_cli("backup", backup, "--db", fresh_db)
    assert code == 0, err
    writer.communicate(timeout=120)
    assert writer.returncode == 0
    assert _readable(backup)
    keys = _keys(backup)
    assert len(keys) >= 5 and keys == {f"write-{i}" for i in range(len(keys))}  # a moment of the history
    assert Path(f"{backup}.sha256").read_text().split()[0] == _sha(backup)


def test_restore_refuses_a_duckdb_file_that_is_not_riskmap(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    before = _sha(fresh_db)
    code, _, err = run_cli("restore", other, "--db", fresh_db)
    assert code == 2 and "not a riskmap database" in err
    assert _sha(fresh_db) == before


def test_backup_and_restore_refuse_what_makes_no_sense(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("backup", fresh_db, "--db", fresh_db)
    assert code == 2 and "must not overwrite the database itself" in err
    code, _, err = run_cli("backup", tmp_path / "x.duckdb", "--db", tmp_path / "missing.duckdb")
    assert code == 2 and "no such database" in err
    code, _, err = run_cli("restore", tmp_path / "missing.duckdb", "--db", fresh_db)
    assert code == 2 and "no such backup file" in err
    assert not (tmp_path / "x.duckdb").exists()
