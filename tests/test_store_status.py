"""The store's state as the app sees it: whether it is ready, and the change stamp its caches are keyed on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine import register, store
from engine.errors import ConfigError

from . import stores

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}


def test_a_store_is_ready_once_initialised(fresh_db: Path, tmp_path: Path) -> None:
    assert store.is_ready(fresh_db)
    assert not store.is_ready(stores.new_db(tmp_path, "empty.duckdb"))


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="cannot connect to the PostgreSQL store") as info:
        store.is_ready("postgresql://ana:s3cret@127.0.0.1:1/riskmap")
    assert "s3cret" not in str(info.value) and "ana:***@" in str(info.value)
    assert store.location_text("postgresql://ana:s3cret@db:5432/riskmap") == "postgresql://ana:***@db:5432/riskmap"


def test_the_stamp_changes_with_every_commit_not_with_reads(fresh_db: Path) -> None:
    """(A write rolled back may change it too: that costs a cache miss, never a stale page.)"""
    before = store.change_stamp(fresh_db)
    register.get_matrix(fresh_db)
    assert store.change_stamp(fresh_db) == before
    register.create_risk(fresh_db, {"title": "Stamped", "management_system": "ISMS", "status": "open"}, **WHO)
    after = store.change_stamp(fresh_db)
    assert after != before and after[0] == str(fresh_db)


@stores.postgres_only("a DuckDB file has one writer, which "
                                                    "holds the file while it writes")
def test_a_stamp_read_during_a_write_differs_from_the_one_after_its_commit(fresh_db: Path) -> None:
    """Many writers: a page cached under a stamp read while another process's write was still running
    must not be taken for current once that write commits."""
    started, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction(fresh_db) as con:
            con.execute("UPDATE risks SET owner = 'late'")
            con.execute("INSERT INTO settings VALUES ('stamp_probe', 'x')")
            started.set()
            finish.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(30)
        during = store.change_stamp(fresh_db)
    finally:
        finish.set()
        thread.join(30)
    assert store.change_stamp(fresh_db) != during


@pytest.mark.parametrize("command", [["risk", "list"], ["audit"], ["shell", "-c", "SELECT 1"], ["query", "SELECT 1"]])
def test_a_command_on_a_store_without_riskmap_says_how_to_create_it(tmp_path: Path, run_cli,
                                                                    command: list[str]) -> None:
    empty = stores.new_db(tmp_path, "nothing.duckdb")
    code, _out, err = run_cli(*command, "--db", empty)
    assert code != 0 and "Traceback" not in err
    assert "riskmap init --db" in err and ("no such database" in err or "holds no riskmap database" in err)
