"""The one write path of every record (engine.records): version check, validation, history, ids.

Every kind of record -- risk, AI system, impact assessment, asset, SoA row, treatment action -- is
edited through ``records.edit``: the same refusal of a stale edit, the same history (one row per
changed field, with actor and channel), the same stamps. A static check keeps it the only path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine import plan, records, register, soa, store
from engine.errors import InputError, RuleViolation, StaleEditError
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parents[1]
WHO = {"actor": "ana", "channel": "test"}

# entity, record id, a change that differs from the seeded value
EDITS: list[tuple[str, str, dict[str, Any]]] = [
    ("risk", "R-1", {"owner": "Carla"}),
    ("ai_system", "AI-1", {"owner": "Carla"}),
    ("impact_assessment", "IA-1", {"assessor": "Carla"}),
    ("soa_row", "iso27001-2022:A.5.1", {"owner": "Carla"}),
    ("action", "A-001", {"owner": "Carla"}),
]


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    plan.add_action(fresh_db, title="Offline backups", owner="Ops", effort=2, risk_ids=["R-1"], **WHO)
    with store.transaction(fresh_db) as con:
        soa.ensure_rows(con)
    return fresh_db


def _history(db: Path, entity: str, record_id: str) -> list[tuple[Any, ...]]:
    with store.connect(db) as con:
        return con.execute("SELECT action, field, old_value, new_value, actor, channel FROM history "
                           "WHERE entity = ? AND entity_id = ? ORDER BY id", [entity, record_id]).fetchall()


@pytest.mark.parametrize(("entity", "record_id", "change"), EDITS, ids=[e[0] for e in EDITS])
def test_every_record_is_edited_the_same_way(db: Path, entity: str, record_id: str, change: dict[str, Any]) -> None:
    before = len(_history(db, entity, record_id))
    with store.transaction(db) as con:
        version = records.fetch(con, entity, record_id)["version"]
        after = records.edit(con, entity, record_id, change, expected_version=version, **WHO)
    assert after["version"] == version + 1 and after["owner" if "owner" in change else "assessor"] == "Carla"
    hist = _history(db, entity, record_id)[before:]
    (field, value), = change.items()
    assert [(h[0], h[1], h[3], h[4], h[5]) for h in hist] == [("update", field, value, "ana", "test")]
    # the same change again writes nothing
    with store.transaction(db) as con:
        again = records.edit(con, entity, record_id, change, expected_version=version + 1, **WHO)
    assert again["version"] == version + 1 and len(_history(db, entity, record_id)) == before + 1
    # an edit based on the old version is refused, naming the record and both versions
    with store.transaction(db) as con, pytest.raises(StaleEditError) as err:
        records.edit(con, entity, record_id, {field: "Dan"}, expected_version=version, **WHO)
    message = str(err.value)
    assert record_id in message and "changed by someone else" in message
    assert f"version {version}," in message and f"version {version + 1};" in message


def test_edits_stamp_the_record(db: Path) -> None:
    row = soa.set_row(db, "iso27001-2022", "A.5.1", owner="CISO", **WHO)
    with store.connect(db) as con:
        by = con.execute("SELECT updated_by, updated_at FROM soa_rows WHERE framework = 'iso27001-2022' "
                         "AND ref = 'A.5.1'").fetchone()
    assert row["version"] == 2 and by is not None and by[0] == "ana" and by[1] is not None


def test_a_link_field_moves_the_version_once_with_the_fields(db: Path) -> None:
    row = soa.set_row(db, "iso42001-2023", "A.6.2.6", ai_systems=["AI-2"], owner="ML lead", expected_version=1,
                      **WHO)
    assert row["version"] == 2 and "AI-2" in row["ai_systems"]
    hist = _history(db, "soa_row", "iso42001-2023:A.6.2.6")
    assert [(h[1], h[2], h[3]) for h in hist] == [("owner", None, "ML lead"), ("ai_systems", "[]", '["AI-2"]')]
    row = soa.set_row(db, "iso42001-2023", "A.6.2.6", ai_systems=[], expected_version=2, **WHO)
    assert row["version"] == 3


def test_field_problems_are_all_reported_in_the_domain_error(db: Path) -> None:
    with pytest.raises(InputError) as err:
        plan.update_action(db, "A-001", title=" ", status="finished", effort=-1, due_date="soon", **WHO)
    assert sorted(p.field for p in err.value.problems) == ["due_date", "effort", "status", "title"]
    assert "unknown status 'finished'" in str(err.value) and "nothing changed" in str(err.value)
    with pytest.raises(RuleViolation, match=r"SoA row iso27001-2022:A\.5\.2: status: unknown status 'done'"):
        soa.set_row(db, "iso27001-2022", "A.5.2", status="done", **WHO)
    # vocabularies accept the spellings people use
    assert plan.update_action(db, "A-001", status="In progress", **WHO)["status"] == "in_progress"
    assert soa.set_row(db, "iso27001-2022", "A.5.2", status="Partially implemented", **WHO)["status"] == "partial"


def test_a_residual_acceptance_is_an_edit_of_the_risk(db: Path) -> None:
    from datetime import date, timedelta

    expiry = date.today() + timedelta(days=90)
    plan.accept_residual(db, "R-3", accepted_by="Alice", expires_on=expiry, justification="Second supplier",
                         expected_version=1, **WHO)
    fields = {h[1] for h in _history(db, "risk", "R-3") if h[0] == "update"}
    assert fields == {"acceptance_approver", "acceptance_date", "acceptance_expiry", "acceptance_justification"}
    assert register.get_risk(db, "R-3")["version"] == 2


def test_ids_are_sequential_per_prefix_and_padded(db: Path) -> None:
    with store.connect(db) as con:
        assert records.next_ids(con, "actions", "A", 2, width=3) == ["A-002", "A-003"]
        assert records.next_ids(con, "risks", "R", 1) == ["R-0005"]   # R-1..R-4 are taken
        assert records.next_ids(con, "impact_assessments", "IA", 1) == ["IA-0002"]
        assert records.next_ids(con, "risks", "K", 0) == []
    plan.add_action(db, title="Given id", action_id="A-999", **WHO)
    assert plan.add_action(db, title="Next", **WHO) == "A-1000"


RECORD_TABLES = ("risks", "ai_systems", "impact_assessments", "assets", "soa_rows", "actions")


def test_only_the_write_path_updates_records() -> None:
    """A record's fields and version change only in engine/records, the one place a rule about writing
    (who may, which version, what is recorded) has to be added."""
    update = re.compile(r"\bUPDATE\s+(" + "|".join(RECORD_TABLES) + r")\b|version\s*=\s*\w*\.?version\s*\+\s*1",
                        re.IGNORECASE)
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in (ROOT / "engine").rglob("*.py")
                 if "records" not in p.relative_to(ROOT / "engine").parts[:1]
                 for m in update.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []
