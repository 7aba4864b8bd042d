"""Backup and restore round-trip a database exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from engine import store


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
