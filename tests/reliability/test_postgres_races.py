"""Races on the PostgreSQL store, one at a time: what the many-writers run (test_postgres_writers.py) found.

A transaction at REPEATABLE READ sees only what was committed when it began, so a long one (an import)
chose as its next ids the ones others had committed since, and failed with a raw duplicate-key error
however often it ran; two edits of one SoA row's AI-system scope, both based on one version, met in
the link table with the same error. Now new ids count what is committed and what others are still
choosing; a key taken meanwhile is the clean "changed meanwhile" refusal, which a creation (based on
no version) answers by running again; and an edit meets its rival at the record's own row.
"""

from __future__ import annotations

import threading
import time

import pytest

from engine import lifecycle, plan, records, register, soa, store
from engine.errors import RuleViolation, StaleEditError
from engine.register.records import RISK
from engine.soa.rows import edit_row
from engine.store import postgres
from tests.pg_server import Server

WHO = {"actor": "tester", "channel": "api"}
ROW = ("iso42001-2023", "A.6.2.4")


@pytest.fixture(scope="module")
def template(server: Server) -> str:
    url = server.database()
    lifecycle.init_database(url)
    register.create_ai_system(url, {"name": "Scoring model"}, ai_system_id="AIS-01", **WHO)
    register.create_ai_system(url, {"name": "Chat assistant"}, ai_system_id="AIS-02", **WHO)
    postgres.reset()  # a template database must have no one connected
    return url.rsplit("/", 1)[1]


@pytest.fixture
def url(server: Server, template: str) -> str:
    return server.database(template=template)


def _add_risk(con, title: str, rid: str | None = None) -> str:
    """What create_risk does inside its transaction: the next id (unless given), then the record."""
    values = records.validate(RISK, None, {"title": title, "management_system": "ISMS"}, con=con, size=5)
    rid = rid or records.next_ids(con, "risks", "R", 1)[0]
    records.create(con, RISK, rid, values, extra={"matrix_version": 1}, **WHO)
    return rid


def _count(url: str, sql: str, params: list | None = None) -> int:
    with store.connect(url) as con:
        return int(con.execute(sql, params or []).fetchone()[0])


def test_a_transaction_older_than_a_new_risk_chooses_the_id_after_it(url: str) -> None:
    with store.transaction(url) as late:
        late.execute("SELECT count(*) FROM risks").fetchone()  # its snapshot: no risk yet
        assert register.create_risk(url, {"title": "First", "management_system": "ISMS"}, **WHO) == "R-0001"
        assert _add_risk(late, "Second") == "R-0002"
        assert records.next_ids(late, "risks", "R", 2) == ["R-0003", "R-0004"]  # its own new risk counts
    with store.connect(url) as con:
        assert con.execute("SELECT id, title FROM risks ORDER BY id").fetchall() == [("R-0001", "First"),
                                                                                      ("R-0002", "Second")]


def test_a_key_taken_meanwhile_is_refused_cleanly_and_writes_nothing(url: str) -> None:
    with pytest.raises(postgres.LostRace, match="changed by someone else meanwhile.*same key.*R-0500"):
        with store.transaction(url) as late:
            late.execute("SELECT count(*) FROM risks").fetchone()
            with store.transaction(url) as early:
                _add_risk(early, "First", "R-0500")
            _add_risk(late, "Second", "R-0500")
    assert _count(url, "SELECT count(*) FROM risks") == 1
    assert _count(url, "SELECT count(*) FROM history WHERE entity = 'risk' AND new_value LIKE '%Second%'") == 0


def test_an_action_id_taken_meanwhile_is_answered_as_taken(url: str) -> None:
    """Two people add action A-100 at once: the second waits for the first, runs again and is told the
    id exists (the refusal it gets when it comes later), not a database error."""
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with store.transaction(url) as con:
            con.execute("INSERT INTO actions (id, title, created_at, updated_at) VALUES ('A-100', 'First', now(), now())")
            holding.set()
            release.wait(30)

    t = threading.Thread(target=first)
    t.start()
    assert holding.wait(30)
    threading.Timer(0.3, release.set).start()
    with pytest.raises(RuleViolation, match="action A-100 already exists"):
        plan.add_action(url, title="Second", action_id="A-100", **WHO)
    t.join(30)
    assert _count(url, "SELECT count(*) FROM actions WHERE id = 'A-100' AND title = 'First'") == 1


def test_adding_a_risk_beside_an_open_transaction_that_took_its_id_lands_on_the_next_one(url: str) -> None:
    """An import (here: a transaction holding a new R-0001, not committed yet) and an app session adding
    a risk at once: the session waits for the import to commit, then takes the next id."""
    holding, release, done = threading.Event(), threading.Event(), {}

    def importer() -> None:
        with store.transaction(url) as con:
            done["import"] = _add_risk(con, "Imported")
            holding.set()
            release.wait(30)

    t = threading.Thread(target=importer)
    t.start()
    assert holding.wait(30)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    rid = register.create_risk(url, {"title": "Added in the app", "management_system": "ISMS"}, **WHO)
    t.join(30)
    assert (done["import"], rid) == ("R-0001", "R-0002")
    assert time.monotonic() - started >= 0.4  # it waited for the import instead of failing at once
    with store.connect(url) as con:
        assert con.execute("SELECT id, title FROM risks ORDER BY id").fetchall() == [
            ("R-0001", "Imported"), ("R-0002", "Added in the app")]
        assert con.execute("SELECT entity_id FROM history WHERE entity = 'risk' AND action = 'create' "
                           "ORDER BY id").fetchall() == [("R-0001",), ("R-0002",)]


def test_a_creation_that_keeps_losing_is_refused_after_the_last_attempt(url: str) -> None:
    calls = []

    @store.retrying
    def always_late() -> None:
        calls.append(1)
        with store.transaction(url) as late:
            late.execute("SELECT count(*) FROM risks").fetchone()
            with store.transaction(url) as early:
                _add_risk(early, "Winner", f"R-{len(calls):04d}")
            _add_risk(late, "Loser", f"R-{len(calls):04d}")

    with pytest.raises(postgres.LostRace):
        always_late()
    assert len(calls) == store.connection.RACE_ATTEMPTS
    assert _count(url, "SELECT count(*) FROM risks WHERE title = 'Loser'") == 0


def test_two_scope_edits_of_one_version_one_wins_and_the_other_is_refused_at_the_row(url: str) -> None:
    """Both edits add the same AI system to one SoA row's scope, based on the same version. The loser is
    refused at the SoA row itself (the record is written before its link rows), not by the link
    table's key, and nothing of it is written."""
    seen = soa.get_row(url, *ROW)["version"]
    with pytest.raises(StaleEditError) as info:
        with store.transaction(url) as late:
            late.execute("SELECT count(*) FROM soa_rows").fetchone()
            soa.set_row(url, *ROW, ai_systems=["AIS-01"], expected_version=seen, actor="ann",
                        channel="app")
            edit_row(late, *ROW, {"ai_systems": ["AIS-01", "AIS-02"]}, expected_version=seen, actor="ben",
                     channel="app")
    assert "another write committed first" in str(info.value) and "same key" not in str(info.value)
    row = soa.get_row(url, *ROW)
    assert row["version"] == seen + 1
    assert _count(url, "SELECT count(*) FROM soa_row_ai_systems WHERE framework = ? AND ref = ?", list(ROW)) == 1
    assert _count(url, "SELECT count(*) FROM history WHERE actor = 'ben'") == 0
