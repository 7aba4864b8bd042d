"""Concurrency: sessions editing the same risk, SoA row or action never silently overwrite each other, and an
analyst's read-only connection from another process works while the app is serving.

Every edit names the version of the record it was based on. Two sessions that read the same version and
both edit: the first edit lands, the second is refused with StaleEditError (a clear message naming both
versions), and the database holds the first edit with exactly one history row for it. The same holds for
processes racing through the command line, and for two app sessions (AppTest) editing the same row.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine import plan, register, soa, store
from engine.access import SERVICE_ENV
from engine.errors import RiskmapError, StaleEditError
from tests import stores
from tests.access_support import write_roles

from .dbstate import changed_tables, db_state, rows, scalar

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
FW, REF = "iso27001-2022", "A.5.15"


def _riskmap() -> str:
    return str(Path(sys.executable).parent / "riskmap")


@pytest.fixture
def risk_db(fresh_db: Path) -> tuple[Path, str]:
    rid = register.create_risk(fresh_db, {"title": "Shared risk", "management_system": "ISMS", "status": "open",
                                          "owner": "Original"}, actor="setup", channel="api")
    return fresh_db, rid


# ------------------------------------------------------------------------------- engine sessions

def test_stale_risk_edit_is_refused_and_the_first_edit_kept(risk_db: tuple[Path, str]) -> None:
    db, rid = risk_db
    seen_a = register.get_risk(db, rid)["version"]
    seen_b = register.get_risk(db, rid)["version"]
    assert seen_a == seen_b
    register.update_risk(db, rid, {"owner": "Alice"}, seen_a, actor="alice", channel="app")
    before = db_state(db)
    with pytest.raises(StaleEditError) as info:
        register.update_risk(db, rid, {"owner": "Bob", "treatment_notes": "mine"}, seen_b, actor="bob",
                             channel="app")
    message = str(info.value)
    assert rid in message and "changed by someone else" in message
    assert f"version {seen_b}" in message and f"version {seen_b + 1}" in message
    assert changed_tables(before, db_state(db)) == []
    stored = register.get_risk(db, rid)
    assert stored["owner"] == "Alice" and stored["treatment_notes"] is None and stored["version"] == seen_a + 1
    assert rows(db, "SELECT actor, old_value, new_value FROM history WHERE entity = 'risk' AND entity_id = ? "
                    "AND field = 'owner'", [rid]) == [("alice", "Original", "Alice")]


def test_stale_link_change_is_refused(risk_db: tuple[Path, str]) -> None:
    db, rid = risk_db
    seen = register.get_risk(db, rid)["version"]
    register.update_risk(db, rid, {"owner": "Alice"}, seen, actor="alice", channel="app")
    with pytest.raises(StaleEditError):
        register.link_control(db, rid, FW, REF, actor="bob", channel="app", expected_version=seen)
    assert scalar(db, "SELECT count(*) FROM risk_controls WHERE risk_id = ?", [rid]) == 0


def test_stale_soa_edit_is_refused_and_the_first_edit_kept(fresh_db: Path) -> None:
    seen_a = soa.get_row(fresh_db, FW, REF)["version"]
    seen_b = soa.get_row(fresh_db, FW, REF)["version"]
    soa.set_row(fresh_db, FW, REF, applicable=True, reasons=["legal_regulatory"], owner="Alice",
                expected_version=seen_a, actor="alice", channel="app")
    before = db_state(fresh_db)
    with pytest.raises(StaleEditError) as info:
        soa.set_row(fresh_db, FW, REF, applicable=False, justification="not needed", owner="Bob",
                    expected_version=seen_b, actor="bob", channel="app")
    assert f"{FW}:{REF}" in str(info.value) and "changed by someone else" in str(info.value)
    assert changed_tables(before, db_state(fresh_db)) == []
    row = soa.get_row(fresh_db, FW, REF)
    assert row["applicable"] is True and row["owner"] == "Alice" and row["version"] == seen_a + 1
    assert {r[0] for r in rows(fresh_db, "SELECT DISTINCT actor FROM history WHERE entity = 'soa_row' "
                                         "AND entity_id = ?", [f"{FW}:{REF}"])} == {"alice"}


def test_stale_action_edit_is_refused(fresh_db: Path) -> None:
    aid = plan.add_action(fresh_db, title="Encrypt backups", actor="setup", channel="api")
    seen = scalar(fresh_db, "SELECT version FROM actions WHERE id = ?", [aid])
    plan.update_action(fresh_db, aid, owner="Alice", expected_version=seen, actor="alice", channel="app")
    with pytest.raises(StaleEditError):
        plan.update_action(fresh_db, aid, owner="Bob", expected_version=seen, actor="bob", channel="app")
    assert scalar(fresh_db, "SELECT owner FROM actions WHERE id = ?", [aid]) == "Alice"


# ------------------------------------------------------------------------------- racing processes

def _race(commands: list[list[str]], names: list[str], folder: Path) -> list[tuple[int, str]]:
    """Run the commands at once, each as the scheduled job named beside it (a service identity of a roles
    file listing them all), so the history says which process won."""
    roles = write_roles(folder / "racers.yaml", {n: ["contributor"] for n in names})
    base = {k: v for k, v in os.environ.items() if k != SERVICE_ENV}
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**base, "RISKMAP_ROLES": str(roles), SERVICE_ENV: n})
             for c, n in zip(commands, names, strict=True)]
    out = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        out.append((p.returncode, err))
    return out


def test_processes_racing_on_one_risk_one_wins(risk_db: tuple[Path, str], tmp_path: Path) -> None:
    db, rid = risk_db
    seen = register.get_risk(db, rid)["version"]
    names = [f"Racer {i}" for i in range(3)]
    results = _race([[_riskmap(), "risk", "set", rid, "owner", name, "--expected-version", str(seen),
                      "--db", str(db)] for name in names], names, tmp_path)
    winners = [names[i] for i, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1, results
    for code, err in results:
        if code != 0:
            assert code == 1 and "changed by someone else" in err and "Traceback" not in err, err
    stored = register.get_risk(db, rid)
    assert stored["owner"] == winners[0] and stored["version"] == seen + 1
    assert rows(db, "SELECT actor, new_value FROM history WHERE entity_id = ? AND field = 'owner'",
                [rid]) == [(winners[0], winners[0])]


def test_processes_racing_on_one_soa_row_one_wins(fresh_db: Path, tmp_path: Path) -> None:
    seen = soa.get_row(fresh_db, FW, REF)["version"]
    owners = [f"Owner {i}" for i in range(3)]
    results = _race([[_riskmap(), "soa", "set", f"{FW}:{REF}", "--owner", o, "--expected-version", str(seen),
                      "--db", str(fresh_db)] for o in owners], owners, tmp_path)
    winners = [owners[i] for i, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1, results
    assert all("changed by someone else" in err for code, err in results if code != 0), results
    row = soa.get_row(fresh_db, FW, REF)
    assert row["owner"] == winners[0] and row["version"] == seen + 1


# ------------------------------------------------------------------------------- app sessions

@pytest.fixture
def app_db(risk_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    db, rid = risk_db
    monkeypatch.setenv("RISKMAP_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db, rid
    st.cache_data.clear()
    st.cache_resource.clear()


_AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test",
                  "client_id": "riskmap", "client_secret": "secret",
                  "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}}


def _page(page: str, user: str | None = None) -> AppTest:
    """The app on ``page``: signed in as ``user`` (a contributor, through the identity provider's groups), or
    without sign-in."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if user is not None:
        at.secrets.update(_AUTH)
        at.user = {"is_logged_in": True, "email": f"{user.lower()}@example.org", "name": user,
                   "groups": ["riskmap-contributor"], "iat": int(time.time())}
    at.run()
    at.switch_page(f"ui/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _editor_key(at: AppTest, prefix: str) -> str:
    keys = [e.key for e in at.data_editor if e.key and e.key.startswith(prefix)]
    assert keys, f"no editor {prefix!r}"
    return keys[0]


def _edit(at: AppTest, prefix: str, row: int, changes: dict) -> AppTest:
    at.session_state[_editor_key(at, prefix)] = {"edited_rows": {row: changes}, "added_rows": [],
                                                 "deleted_rows": []}
    return at.run()


def _row_of(at: AppTest, prefix: str, column: str, value: str) -> int:
    frame = next(e for e in at.data_editor if e.key == _editor_key(at, prefix)).value
    hits = frame.index[frame[column] == value].tolist()
    assert hits, f"{value!r} not shown"
    return int(frame.index.get_loc(hits[0]))


def test_two_app_sessions_editing_one_risk(app_db: tuple[Path, str]) -> None:
    db, rid = app_db
    alice, bob = _page("register", "Alice"), _page("register", "Bob")
    alice = _edit(alice, "register_editor", _row_of(alice, "register_editor", "id", rid), {"owner": "Alice's"})
    bob = _edit(bob, "register_editor", _row_of(bob, "register_editor", "id", rid), {"owner": "Bob's"})
    alice.button(key="register_save").click().run()
    assert not alice.exception and not alice.error, [e.value for e in alice.error]
    bob.button(key="register_save").click().run()
    assert not bob.exception, [e.value for e in bob.exception]
    errors = " ".join(e.value for e in bob.error)
    assert "Not saved" in errors and "changed by someone else" in errors
    assert scalar(db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "Alice's"
    assert rows(db, "SELECT actor, actor_name, channel, new_value FROM history WHERE entity_id = ? "
                "AND field = 'owner'", [rid]) == [("alice@example.org", "Alice", "app", "Alice's")]
    bob.run()  # Bob's table reloads with what is stored now
    frame = next(e for e in bob.data_editor if e.key == _editor_key(bob, "register_editor")).value
    assert "Alice's" in set(frame["owner"])


def test_two_app_sessions_editing_one_soa_row(app_db: tuple[Path, str]) -> None:
    db, _ = app_db
    alice, bob = _page("soa"), _page("soa")
    row_a = _row_of(alice, "soa_editor", "ref", REF)
    row_b = _row_of(bob, "soa_editor", "ref", REF)
    alice = _edit(alice, "soa_editor", row_a, {"owner": "Alice"})
    bob = _edit(bob, "soa_editor", row_b, {"owner": "Bob"})
    alice.button(key="soa_save").click().run()
    assert not alice.exception and not alice.error, [e.value for e in alice.error]
    bob.button(key="soa_save").click().run()
    assert not bob.exception, [e.value for e in bob.exception]
    assert "changed by someone else" in " ".join(e.value for e in bob.error)
    assert soa.get_row(db, FW, REF)["owner"] == "Alice"


_HOLD_FILE = (
    "import duckdb, sys\n"
    "con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print(con.execute('SELECT count(*) FROM v_risk_register').fetchone()[0], flush=True)\n")
_HOLD_SERVER = (  # the server attached read-only, one transaction held open across both reads
    "import duckdb, sys\n"
    "from engine.store import postgres\n"
    "con = duckdb.connect(config={'allow_unsigned_extensions': 'true'})\n"
    "con.execute(f\"LOAD '{postgres.extension_path()}'\")\n"
    "con.execute(f\"ATTACH '{sys.argv[1]}' AS store (TYPE postgres, READ_ONLY)\")\n"
    "con.execute('USE store.public')\n"
    "con.execute('BEGIN TRANSACTION')\n"
    "print(con.execute('SELECT count(*) FROM risks').fetchone()[0], flush=True)\n")


def _hold_read_only(db: Path) -> subprocess.Popen[str]:
    """An analyst's session in another process: a read-only connection held open until told to close."""
    proc = subprocess.Popen(
        [sys.executable, "-c",
         (_HOLD_SERVER if stores.ON_POSTGRES else _HOLD_FILE)
         + "sys.stdin.readline()\n"
         "print(con.execute('SELECT owner FROM risks ORDER BY id LIMIT 1').fetchone()[0], flush=True)\n"
         "con.close()\n", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.isdigit(), proc.stderr.read() if proc.stderr else line
    return proc


def test_analyst_reads_while_the_app_serves(app_db: tuple[Path, str]) -> None:
    db, rid = app_db
    at = _page("register")            # a session is open and the page has been served
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    if stores.ON_POSTGRES:            # the analyst's `riskmap shell` on the server
        got = subprocess.run([_riskmap(), "shell", "--db", str(db), "--csv", "-c",
                              "SELECT count(*) AS n FROM v_risk_register"], capture_output=True, text=True, timeout=60)
        assert got.returncode == 0 and got.stdout.split() == ["n", "1"], got.stderr
    elif duckdb_cli.exists():         # the analyst's `duckdb -readonly` shell
        got = subprocess.run([str(duckdb_cli), "-readonly", "-csv", "-noheader", str(db),
                              "SELECT count(*) FROM v_risk_register"], capture_output=True, text=True, timeout=60)
        assert got.returncode == 0 and got.stdout.strip() == "1", got.stderr
    analyst = _hold_read_only(db)     # and while an analyst holds the file open, the app keeps serving reads
    try:
        for page in ("overview", "register", "soa", "sql"):
            at.switch_page(f"ui/{page}.py").run()
            assert not at.exception and not at.error, (page, [e.value for e in at.error])
    finally:
        assert analyst.stdin is not None
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        analyst.communicate(timeout=30)
    assert analyst.returncode == 0


@stores.file_only("DuckDB's file lock; on PostgreSQL a held read-only session blocks nothing (next test)")
def test_app_edit_while_an_analyst_holds_the_file(app_db: tuple[Path, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB lets no process write while another holds the file open: the app says so clearly, writes
    nothing, keeps the edit, and saves it once the analyst has closed their session."""
    db, rid = app_db
    monkeypatch.setattr(store.connection, "_LOCK_RETRY_SECONDS", 1.0)
    at = _page("register")
    at = _edit(at, "register_editor", _row_of(at, "register_editor", "id", rid), {"owner": "Saved later"})
    analyst = _hold_read_only(db)
    try:
        before = db_state(db)
        started = time.monotonic()
        at.button(key="register_save").click().run()
        assert time.monotonic() - started < 30
        assert not at.exception, [e.value for e in at.exception]
        assert any("in use by another process" in e.value for e in at.error), [e.value for e in at.error]
        assert changed_tables(before, db_state(db)) == []
    finally:
        assert analyst.stdin is not None
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        out, _ = analyst.communicate(timeout=30)
    assert out.splitlines()[-1] == "Original"
    assert not at.button(key="register_save").disabled  # the edit is still pending
    at.button(key="register_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert scalar(db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "Saved later"


@stores.postgres_only("on a DuckDB file an analyst holding the "
                                                    "file makes a write fail clearly (tested above)")
def test_app_edit_while_an_analyst_holds_a_server_session_lands_at_once(app_db: tuple[Path, str]) -> None:
    """On PostgreSQL an analyst's open read-only transaction makes no write wait: the app's edit is saved
    at once, and the analyst keeps reading the snapshot their transaction began with."""
    db, rid = app_db
    at = _page("register")
    at = _edit(at, "register_editor", _row_of(at, "register_editor", "id", rid), {"owner": "Saved now"})
    analyst = _hold_read_only(db)
    try:
        started = time.monotonic()
        at.button(key="register_save").click().run()
        assert time.monotonic() - started < 5
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert scalar(db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "Saved now"
    finally:
        assert analyst.stdin is not None
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        out, err = analyst.communicate(timeout=30)
    assert analyst.returncode == 0, err
    assert out.splitlines()[-1] == "Original"


@stores.file_only("DuckDB's file lock: a server has no lock an analyst could hold")
def test_engine_write_while_an_analyst_holds_the_file_is_a_clear_error(
        risk_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    db, rid = risk_db
    monkeypatch.setattr(store.connection, "_LOCK_RETRY_SECONDS", 0.5)
    analyst = _hold_read_only(db)
    try:
        with pytest.raises(RiskmapError, match="in use by another process"):
            register.update_risk(db, rid, {"owner": "x"}, None, actor="me", channel="api")
    finally:
        assert analyst.stdin is not None
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        analyst.communicate(timeout=30)
    assert scalar(db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "Original"
