"""Editing the register: validation, optimistic concurrency, links, history, matrix versions and rescoring."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine import register
from engine.errors import InputError, NotFoundError, StaleEditError
from engine.register import DEFAULT_MATRIX, default_matrix

from .test_register_support import ACTOR, load_inventories, query, snapshot

pytestmark = pytest.mark.both_stores


@pytest.fixture
def risk(fresh_db: Path) -> tuple[Path, str]:
    load_inventories(fresh_db)
    rid = register.create_risk(fresh_db, {"title": "Model drift", "management_system": "AIMS",
                                          "inherent_likelihood": 4, "inherent_impact": 4, "owner": "Eva"},
                               actor=ACTOR, controls=["iso42001-2023:A.6.2.6"], ai_systems=["AIS-1"])
    return fresh_db, rid


def _version(db: Path, rid: str) -> int:
    return query(db, "SELECT version FROM risks WHERE id = ?", [rid])[0][0]


def test_create_risk_records_values_links_and_history(risk: tuple[Path, str]) -> None:
    db, rid = risk
    row = register.get_risk(db, rid)
    assert (row["title"], row["inherent_level"], row["matrix_version"], row["version"]) == ("Model drift", "Critical", 1, 1)
    assert row["controls_42001"] == ["A.6.2.6"] and row["ai_system_ids"] == ["AIS-1"]
    actions = [r[0] for r in query(db, "SELECT action FROM history WHERE entity_id = ? ORDER BY id", [rid])]
    assert actions == ["create", "link", "link"]


def test_update_writes_changed_fields_and_history(risk: tuple[Path, str]) -> None:
    db, rid = risk
    after = register.update_risk(db, rid, {"current_likelihood": "2", "current_impact": 3, "treatment": "Mitigate",
                                           "owner": "Eva"}, expected_version=1, actor="ana", channel="app")
    assert (after["current_likelihood"], after["current_impact"], after["treatment"], after["version"]) == (2, 3, "modify", 2)
    hist = query(db, "SELECT actor, channel, field, old_value, new_value FROM history WHERE entity_id = ? "
                     "AND action = 'update' ORDER BY field", [rid])
    assert hist == [("ana", "app", "current_impact", None, "3"), ("ana", "app", "current_likelihood", None, "2"),
                    ("ana", "app", "treatment", None, "modify")]  # owner unchanged: no row
    assert register.get_risk(db, rid)["level"] == "Medium"  # current 2 x 3 = 6


def test_an_edit_based_on_an_old_version_is_refused(risk: tuple[Path, str]) -> None:
    db, rid = risk
    register.update_risk(db, rid, {"owner": "Ana"}, expected_version=1, actor="ana")
    before = snapshot(db)
    with pytest.raises(StaleEditError) as err:
        register.update_risk(db, rid, {"owner": "Ben"}, expected_version=1, actor="ben")
    assert "version 2" in str(err.value) and "version 1" in str(err.value)
    assert snapshot(db) == before


def test_every_bad_value_is_reported_and_nothing_changes(risk: tuple[Path, str]) -> None:
    db, rid = risk
    before = snapshot(db)
    with pytest.raises(InputError) as err:
        register.update_risk(db, rid, {"inherent_likelihood": 9, "treatment": "ignore", "next_review": "soon",
                                       "colour": "red", "title": " "}, expected_version=1, actor=ACTOR)
    fields = sorted(p.field for p in err.value.problems)
    assert fields == ["colour", "inherent_likelihood", "next_review", "title", "treatment"]
    likelihood = next(p for p in err.value.problems if p.field == "inherent_likelihood")
    assert (likelihood.record, likelihood.value, likelihood.expected) == (rid, 9, "a whole number from 1 to 5")
    assert snapshot(db) == before


def test_likelihood_and_impact_go_together(risk: tuple[Path, str]) -> None:
    db, rid = risk
    with pytest.raises(InputError) as err:
        register.update_risk(db, rid, {"residual_likelihood": 2}, expected_version=1, actor=ACTOR)
    assert err.value.problems[0].field == "residual_impact"


def test_unknown_risk(fresh_db: Path) -> None:
    with pytest.raises(NotFoundError):
        register.update_risk(fresh_db, "R-9999", {"owner": "x"}, expected_version=1, actor=ACTOR)


def test_acceptance_status_follows_the_expiry(risk: tuple[Path, str]) -> None:
    db, rid = risk
    today = date.today()
    register.update_risk(db, rid, {"acceptance_approver": "CISO", "acceptance_date": today - timedelta(days=30),
                                   "acceptance_expiry": today + timedelta(days=30)}, 1, actor=ACTOR)
    assert register.get_risk(db, rid)["acceptance_status"] == "accepted"
    register.update_risk(db, rid, {"acceptance_expiry": today - timedelta(days=1)}, 2, actor=ACTOR)
    assert register.get_risk(db, rid)["acceptance_status"] == "expired"
    with pytest.raises(InputError):
        register.update_risk(db, rid, {"acceptance_expiry": today - timedelta(days=60)}, 3, actor=ACTOR)


def test_linking_controls_translates_2013_and_records_history(risk: tuple[Path, str]) -> None:
    db, rid = risk
    assert register.link_control(db, rid, "iso27001-2013", "A.12.4.1", actor=ACTOR, status="planned",
                                 expected_version=1) is True
    assert register.link_control(db, rid, "iso27001-2022", "A.8.15", actor=ACTOR, status="planned") is False
    row = register.get_risk(db, rid)
    assert row["controls_27001"] == ["A.8.15"] and row["controls_planned"] == ["iso27001-2022:A.8.15"]
    assert query(db, "SELECT translated_from FROM risk_controls WHERE risk_id = ? AND ref = 'A.8.15'", [rid]) == [
        ("iso27001-2013:A.12.4.1",)]
    assert register.link_control(db, rid, "iso27001-2022", "A.8.15", actor=ACTOR, status="existing") is True
    assert register.unlink_control(db, rid, "iso27001-2022", "A.8.15", actor=ACTOR) is True
    assert register.unlink_control(db, rid, "iso27001-2022", "A.8.15", actor=ACTOR) is False
    hist = query(db, "SELECT action, field, old_value, new_value FROM history WHERE entity_id = ? AND field LIKE "
                     "'control%' AND (new_value LIKE '%A.8.15' OR old_value LIKE '%A.8.15' OR field LIKE '%A.8.15%') "
                     "ORDER BY id", [rid])
    assert hist == [("link", "control", None, "iso27001-2022:A.8.15"),
                    ("update", "control iso27001-2022:A.8.15 status", "planned", "existing"),
                    ("unlink", "control", "iso27001-2022:A.8.15", None)]
    with pytest.raises(InputError):
        register.link_control(db, rid, "iso27001-2022", "A.9.9", actor=ACTOR)
    with pytest.raises(StaleEditError):
        register.link_control(db, rid, "iso27001-2022", "A.5.1", actor=ACTOR, expected_version=1)


def test_asset_and_ai_system_links(risk: tuple[Path, str]) -> None:
    db, rid = risk
    assert register.link_asset(db, rid, "AST-2", actor=ACTOR) is True
    assert register.unlink_ai_system(db, rid, "AIS-1", actor=ACTOR) is True
    row = register.get_risk(db, rid)
    assert (row["asset_ids"], row["ai_system_ids"]) == (["AST-2"], [])
    with pytest.raises(NotFoundError):
        register.link_asset(db, rid, "AST-404", actor=ACTOR)


def test_ai_system_and_assessment_edits(fresh_db: Path) -> None:
    load_inventories(fresh_db)
    s = register.update_ai_system(fresh_db, "AIS-2", {"lifecycle_stage": "production", "role": "user, deployer"}, 1,
                                  actor=ACTOR)
    assert (s["lifecycle_stage"], s["role"], s["version"]) == ("operation", "user", 2)
    with pytest.raises(StaleEditError):
        register.update_ai_system(fresh_db, "AIS-2", {"owner": "x"}, 1, actor=ACTOR)
    with pytest.raises(InputError) as err:
        register.update_ai_system(fresh_db, "AIS-2", {"role": "oracle"}, 2, actor=ACTOR)
    assert "oracle" in str(err.value)
    ia = register.create_assessment(fresh_db, {"ai_system_id": "AIS-2", "title": "Second look", "severity": "4",
                                               "next_review_due": "2027-01-31"}, actor=ACTOR)
    assert ia.startswith("IA-")
    got = register.get_assessment(fresh_db, ia)
    assert (got["severity"], got["ai_system_name"], got["status"]) == ("very high", "CV screening model", "current")
    register.update_assessment(fresh_db, ia, {"severity": "low"}, 1, actor=ACTOR)
    with pytest.raises(InputError):
        register.update_assessment(fresh_db, ia, {"ai_system_id": "AIS-404"}, 2, actor=ACTOR)
    entities = {r[0] for r in query(fresh_db, "SELECT DISTINCT entity FROM history WHERE action = 'update'")}
    assert entities == {"ai_system", "impact_assessment"}
    assert register.list_ai_systems(fresh_db).filter(register.list_ai_systems(fresh_db)["id"] == "AIS-2")[
        "n_assessments"].to_list() == [2]


# -- the matrix ---------------------------------------------------------------------------------------

def test_changing_the_matrix_never_rescales_old_scores(risk: tuple[Path, str]) -> None:
    db, rid = risk
    change = register.set_matrix(db, default_matrix(3), actor=ACTOR, note="simpler")
    assert change.created and change.matrix.version == 2 and change.risks_on_older_versions == 1
    row = register.get_risk(db, rid)
    # still scored 4 x 4 under version 1, read with version 1's levels
    assert (row["inherent_likelihood"], row["matrix_version"], row["inherent_level"], row["matrix_current"]) == (
        4, 1, "Critical", False)
    # edits validate against the risk's own version until it is rescored
    register.update_risk(db, rid, {"current_likelihood": 5, "current_impact": 5}, 1, actor=ACTOR)
    assert register.set_matrix(db, default_matrix(3), actor=ACTOR).created is False


def test_rescore_is_explicit_and_recorded(risk: tuple[Path, str]) -> None:
    db, rid = risk
    register.set_matrix(db, default_matrix(3), actor=ACTOR)
    dry = register.rescore(db, actor=ACTOR, dry_run=True)
    assert query(db, "SELECT matrix_version FROM risks WHERE id = ?", [rid]) == [(1,)]
    assert dry.risks[0]["changes"]["inherent_likelihood"] == (4, 3)  # 1-5 onto 1-3: 1, 2, 2, 3, 3
    report = register.rescore(db, actor=ACTOR)
    assert report.to_version == 2 and [r["id"] for r in report.risks] == [rid]
    row = register.get_risk(db, rid)
    assert (row["inherent_likelihood"], row["inherent_impact"], row["matrix_version"]) == (3, 3, 2)
    assert row["inherent_level"] == register.get_matrix(db).level(9) == "High"
    hist = query(db, "SELECT field, old_value, new_value FROM history WHERE entity_id = ? AND action = 'rescore' "
                     "ORDER BY field", [rid])
    assert hist == [("inherent_impact", "4", "3"), ("inherent_likelihood", "4", "3"), ("matrix_version", "1", "2")]
    assert register.rescore(db, actor=ACTOR).risks == []


def test_new_matrix_versions_are_validated(fresh_db: Path) -> None:
    with pytest.raises(InputError):
        register.set_matrix(fresh_db, replace(DEFAULT_MATRIX, appetite=99), actor=ACTOR)
    assert [m.version for m in register.matrix_versions(fresh_db)] == [1]
