"""Creating, linking and closing records in the app, saves that report every refused edit, and the History
page: each under AppTest on a private copy of the demo organisation, checked in the database afterwards."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from engine.store import history
from tests.test_access_app import VIEWER, signed_in
from tests.test_app_pages import (
    ACTOR,
    assert_healthy,
    db_value,
    demo_db,
    demo_template,
    edit_cells,
    editor,
    frame_with,
    open_page,
    row_index,
    unescaped,
)

__all__ = ["demo_db", "demo_template"]  # fixtures

pytestmark = pytest.mark.both_stores


def _messages(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [unescaped(m.value) for m in [*at.success, *at.error, *at.warning]]


def _unscored_current_risk(db: Path) -> str:
    """An open risk without a current score: giving it a current likelihood alone is refused."""
    return db_value(db, "SELECT id FROM risks WHERE status <> 'closed' AND current_likelihood IS NULL "
                        "AND current_impact IS NULL ORDER BY id LIMIT 1")


# --- creating and linking --------------------------------------------------------------------------

def test_a_risk_is_added_on_the_matrix_with_a_control(demo_db: Path) -> None:
    at = open_page("register")
    assert "Impact" in frame_with(at, "Impact").columns, "the matrix is shown beside the scores"
    at.text_input(key="reg_new_title").set_value("Backups of the triage database are never restored")
    at.selectbox(key="reg_new_ms").set_value("ISMS")
    at.selectbox(key="reg_new_inherent_l").set_value(4)
    at.selectbox(key="reg_new_inherent_i").set_value(5)
    controls = at.multiselect(key="reg_new_controls")
    assert "ISO/IEC 27001:2022 A.8.13 Information backup" in controls.options
    controls.set_value(["iso27001-2022:A.8.13", "iso42001-2023:A.6.2.8"])
    at.run()
    assert any("score 20" in m.value for m in at.markdown), "the level the scores give is shown"
    at.button(key="reg_new_add").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    rid = db_value(demo_db, "SELECT id FROM risks WHERE title = 'Backups of the triage database are never restored'")
    assert rid and any(f"Risk {rid} added" in m for m in _messages(at))
    assert db_value(demo_db, "SELECT inherent_likelihood * inherent_impact FROM risks WHERE id = ?", [rid]) == 20
    assert db_value(demo_db, "SELECT list(framework || ':' || ref ORDER BY framework) FROM risk_controls "
                             "WHERE risk_id = ?", [rid]) == ["iso27001-2022:A.8.13", "iso42001-2023:A.6.2.8"]
    assert db_value(demo_db, "SELECT count(*) FROM history WHERE entity = 'risk' AND entity_id = ? AND channel = 'app' "
                             "AND actor = ?", [rid, ACTOR]) >= 3


def test_a_risk_with_no_title_is_refused_with_the_reason(demo_db: Path) -> None:
    before = db_value(demo_db, "SELECT count(*) FROM risks")
    at = open_page("register")
    at.button(key="reg_new_add").click().run()
    assert_healthy(at)
    assert at.error and db_value(demo_db, "SELECT count(*) FROM risks") == before


def test_a_risks_controls_assets_and_ai_systems_are_linked_and_unlinked(demo_db: Path) -> None:
    rid = "R-0001"
    at = open_page("register")
    at.selectbox(key="reg_link_risk").set_value(rid).run()
    at.multiselect(key=f"reg_link_{rid}_control_add").set_value(["iso42001-2023:A.6.2.8"])
    at.multiselect(key=f"reg_link_{rid}_control_drop").set_value(["iso27001-2022:A.8.13"])
    at.run()
    at.button(key=f"reg_link_{rid}_control_apply").click().run()
    assert_healthy(at)
    linked = db_value(demo_db, "SELECT list(framework || ':' || ref) FROM risk_controls WHERE risk_id = ?", [rid])
    assert "iso42001-2023:A.6.2.8" in linked and "iso27001-2022:A.8.13" not in linked
    system = db_value(demo_db, "SELECT min(id) FROM ai_systems")
    at.multiselect(key=f"reg_link_{rid}_ai_add").set_value([system])
    at.run()
    at.button(key=f"reg_link_{rid}_ai_apply").click().run()
    assert db_value(demo_db, "SELECT count(*) FROM risk_ai_systems WHERE risk_id = ? AND ai_system_id = ?",
                    [rid, system]) == 1
    asset = db_value(demo_db, "SELECT min(asset_id) FROM risk_assets WHERE risk_id = ?", [rid])
    at.multiselect(key=f"reg_link_{rid}_asset_drop").set_value([asset])
    at.run()
    at.button(key=f"reg_link_{rid}_asset_apply").click().run()
    assert db_value(demo_db, "SELECT count(*) FROM risk_assets WHERE risk_id = ? AND asset_id = ?", [rid, asset]) == 0
    got = db_value(demo_db, "SELECT list(action || ' ' || field || ' ' || coalesce(new_value, old_value) ORDER BY id) "
                            "FROM history WHERE entity = 'risk' AND entity_id = ? AND channel = 'app'", [rid])
    assert got == ["link control iso42001-2023:A.6.2.8", "unlink control iso27001-2022:A.8.13",
                   f"link ai_system {system}", f"unlink asset {asset}"]


def test_closing_a_risk_keeps_it_with_its_history(demo_db: Path) -> None:
    rid = "R-0002"
    at = open_page("register")
    at.selectbox(key="reg_link_risk").set_value(rid).run()
    at.text_input(key=f"reg_close_{rid}_why").set_value("the service was decommissioned")
    at.button(key=f"reg_close_{rid}").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT status FROM risks WHERE id = ?", [rid]) == "closed"
    assert "decommissioned" in db_value(demo_db, "SELECT treatment_notes FROM risks WHERE id = ?", [rid])
    assert db_value(demo_db, "SELECT new_value FROM history WHERE entity_id = ? AND field = 'status' "
                             "ORDER BY id DESC LIMIT 1", [rid]) == "closed"


def test_ai_system_asset_and_assessment_are_added_and_a_system_retired(demo_db: Path) -> None:
    at = open_page("ai_systems")
    at.text_input(key="ai_new_name").set_value("Rota Planner")
    at.button(key="FormSubmitter:ai_new_system_form-Add the AI system").click().run()
    assert_healthy(at)
    system = db_value(demo_db, "SELECT id FROM ai_systems WHERE name = 'Rota Planner'")
    assert system, _messages(at)
    at.text_input(key="asset_new_name").set_value("Rota database")
    at.button(key="FormSubmitter:asset_new_form-Add the asset").click().run()
    assert db_value(demo_db, "SELECT count(*) FROM assets WHERE name = 'Rota database'") == 1
    at.selectbox(key="ia_new_system").set_value(system)
    at.text_input(key="ia_new_title").set_value("Rota Planner fairness review")
    at.button(key="FormSubmitter:ia_new_form-Add the assessment").click().run()
    assert db_value(demo_db, "SELECT ai_system_id FROM impact_assessments WHERE title = 'Rota Planner fairness review'"
                    ) == system
    at.selectbox(key="retire_target").set_value(f"ai_system:{system}")
    at.button(key="FormSubmitter:retire_form-Retire").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT status FROM ai_systems WHERE id = ?", [system]) == "retired"
    assert db_value(demo_db, "SELECT count(*) FROM history WHERE entity IN ('ai_system', 'asset', 'impact_assessment') "
                             "AND channel = 'app'") >= 4


def test_an_action_is_added_for_a_risk_and_its_links_changed(demo_db: Path) -> None:
    rid = db_value(demo_db, "SELECT id FROM risks WHERE status <> 'closed' AND id NOT IN "
                            "(SELECT risk_id FROM action_risks) ORDER BY id LIMIT 1")
    at = open_page("treatment")
    at.text_input(key="plan_new_title").set_value("Restore test of every backup each quarter")
    at.multiselect(key="plan_new_risks").set_value([rid])
    at.multiselect(key="plan_new_controls").set_value(["iso27001-2022:A.8.13"])
    at.button(key="FormSubmitter:plan_new_form-Add the action").click().run()
    assert_healthy(at)
    aid = db_value(demo_db, "SELECT id FROM actions WHERE title = 'Restore test of every backup each quarter'")
    assert aid, _messages(at)
    assert db_value(demo_db, "SELECT list(risk_id) FROM action_risks WHERE action_id = ?", [aid]) == [rid]
    assert db_value(demo_db, "SELECT list(ref) FROM action_controls WHERE action_id = ?", [aid]) == ["A.8.13"]
    at.selectbox(key="plan_link_action").set_value(aid).run()
    at.multiselect(key=f"plan_link_{aid}_control_add").set_value(["iso42001-2023:A.6.2.8"])
    at.multiselect(key=f"plan_link_{aid}_risk_drop").set_value([rid])
    at.run()
    at.button(key=f"plan_link_{aid}_control_apply").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT count(*) FROM action_controls WHERE action_id = ?", [aid]) == 2
    at.multiselect(key=f"plan_link_{aid}_risk_drop").set_value([rid])
    at.run()
    at.button(key=f"plan_link_{aid}_risk_apply").click().run()
    assert db_value(demo_db, "SELECT count(*) FROM action_risks WHERE action_id = ?", [aid]) == 0


def test_a_viewer_is_offered_no_create_or_link_controls(demo_db: Path) -> None:
    for page in ("register", "treatment", "ai_systems"):
        at = signed_in(page, VIEWER)
        assert_healthy(at)
        labels = [b.label for b in at.button]
        assert not {"Add the risk", "Apply", "Close the risk"} & set(labels), (page, labels)
        assert not at.get("form"), page


# --- saves that tell the truth ---------------------------------------------------------------------

def test_a_mixed_register_save_saves_the_valid_edit_and_keeps_the_refused_one(demo_db: Path) -> None:
    bad = _unscored_current_risk(demo_db)
    good = db_value(demo_db, "SELECT id FROM risks WHERE status <> 'closed' AND id <> ? ORDER BY id LIMIT 1", [bad])
    at = open_page("register")
    at = edit_cells(at, "register_editor", {row_index(at, "register_editor", "id", good): {"owner": "Nadia Valid"},
                                            row_index(at, "register_editor", "id", bad): {"current_likelihood": 3}})
    assert any(c.value == "2 risk(s) changed, not saved yet" for c in at.caption)
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT owner FROM risks WHERE id = ?", [good]) == "Nadia Valid"
    assert db_value(demo_db, "SELECT current_likelihood FROM risks WHERE id = ?", [bad]) is None
    assert any(f"Saved 1 risk(s): {good}" in m for m in _messages(at)), _messages(at)
    assert any(bad in e and "go together" in e for e in _messages(at)), _messages(at)
    refusals = frame_with(at, "record", "field", "value", "why")
    assert list(refusals["record"]) == [bad] and list(refusals["field"]) == ["Current impact"]
    shown = editor(at, "register_editor").value.set_index("id")
    assert shown.loc[bad, "current_likelihood"] == 3 and shown.loc[good, "owner"] == "Nadia Valid"
    assert any(c.value == "1 risk(s) changed, not saved yet" for c in at.caption), [c.value for c in at.caption]
    # corrected in place, the kept edit saves
    at = edit_cells(at, "register_editor", {row_index(at, "register_editor", "id", bad): {"current_impact": 2}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT current_likelihood * 10 + current_impact FROM risks WHERE id = ?", [bad]) == 32
    assert not [d for d in at.dataframe if "why" in d.value.columns]
    assert any(c.value == "No unsaved changes" for c in at.caption)


def test_a_mixed_plan_save_lists_the_refused_effort(demo_db: Path) -> None:
    good, bad = [r for r in pl.DataFrame({"id": db_value(demo_db, "SELECT list(id ORDER BY id) FROM actions "
                                                                   "WHERE status = 'planned'")})["id"][:2]]
    at = open_page("treatment")
    at = edit_cells(at, "plan_editor", {row_index(at, "plan_editor", "action_id", good): {"owner": "Omar Valid"},
                                        row_index(at, "plan_editor", "action_id", bad): {"effort": 0}})
    at.button(key="plan_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT owner FROM actions WHERE id = ?", [good]) == "Omar Valid"
    refusals = frame_with(at, "record", "field", "value", "why")
    assert list(refusals["record"]) == [bad] and list(refusals["field"]) == ["Effort (days)"]
    assert editor(at, "plan_editor").value.set_index("action_id").loc[bad, "effort"] == 0


def test_a_mixed_soa_save_saves_one_and_keeps_the_other(demo_db: Path) -> None:
    at = open_page("soa")
    ok, ko = row_index(at, "soa_editor", "ref", "A.5.2"), row_index(at, "soa_editor", "ref", "A.5.3")
    at = edit_cells(at, "soa_editor", {ok: {"owner": "Sam Valid"},
                                       ko: {"applicability": "not applicable", "justification": ""}})
    at.button(key="soa_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT owner FROM soa_rows WHERE framework = 'iso27001-2022' AND ref = 'A.5.2'") \
        == "Sam Valid"
    refusals = frame_with(at, "record", "field", "value", "why")
    assert set(refusals["record"]) == {"iso27001-2022:A.5.3"}
    assert not at.button(key="soa_save").disabled


# --- the History page ------------------------------------------------------------------------------

def test_history_page_filters_and_exports(demo_db: Path) -> None:
    from engine import register

    rid = "R-0003"
    register.update_risk(demo_db, rid, {"owner": "Hist Owner"}, None, actor=ACTOR, channel="cli")
    at = open_page("history")
    assert_healthy(at)
    at.selectbox(key="hist_entity").set_value("risk")
    at.text_input(key="hist_id").set_value(rid.lower())
    at.run()
    table = frame_with(at, "changed_at", "actor_name")
    assert set(table["entity_id"]) == {rid} and set(table["entity"]) == {"Risk"}
    assert "Hist Owner" in set(table["new_value"])
    at.selectbox(key="hist_channel").set_value("cli").run()
    table = frame_with(at, "changed_at", "actor_name")
    assert len(table) == 1 and table["channel"].iloc[0] == "Command line" and table["field"].iloc[0] == "Owner"
    assert any(c.value.startswith("1 change(s) match") for c in at.caption)
    at.selectbox(key="hist_person").set_value(ACTOR).run()
    assert set(frame_with(at, "changed_at", "actor_name")["actor_name"]) == {ACTOR}
    assert history.changes(demo_db, person="riskmap demo build", entity="risk", entity_id=rid).matched \
        == db_value(demo_db, "SELECT count(*) FROM history WHERE entity_id = ? AND actor_name = 'riskmap demo build'",
                    [rid]) > 0
    at.date_input(key="hist_days").set_value((date(2000, 1, 1), date(2000, 12, 31))).run()
    assert len(frame_with(at, "changed_at", "actor_name")) == 0
    got = history.changes(demo_db, entity="risk", entity_id=rid, channel="cli")
    assert got.matched == 1
    from engine import exports
    from ui.history import readable
    book = openpyxl.load_workbook(io.BytesIO(exports.table_bytes(readable(got.rows), "xlsx", sheet="History")))
    rows = list(book.active.values)
    assert rows[0][:3] == ("changed_at", "actor_name", "channel") and rows[1][7:9] == (db_value(demo_db, "SELECT old_value FROM history WHERE entity_id = ? AND channel = 'cli'", [rid]), "Hist Owner")
    assert b"Hist Owner" in exports.table_bytes(readable(got.rows), "csv")


def test_history_respects_the_principals_units(demo_db: Path, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text("groups:\n  clinical-viewers: {roles: [viewer], units: [Clinical]}\nusers: {}\n")
    monkeypatch.setenv("RISKMAP_ROLES", str(roles))
    at = signed_in("history", {**VIEWER, "email": "val@northwind.example", "groups": ["clinical-viewers"]})
    assert_healthy(at)
    at.selectbox(key="hist_entity").set_value("risk").run()
    shown = set(frame_with(at, "changed_at", "actor_name")["entity_id"])
    clinical = set(db_value(demo_db, "SELECT list(id) FROM risks WHERE business_unit = 'Clinical'"))
    assert shown and shown <= clinical
    everyone = history.changes(demo_db, entity="risk").rows
    assert set(everyone["entity_id"]) - clinical, "other units' risks have history the viewer does not see"
