"""The app's AI risk identification under AppTest: the chart and proposals on the AI systems page, accepting,
rejecting and reopening a scenario, recording characteristics, registering or dismissing unregistered AI use,
and the Overview's figures. Every change made through the page is in the database afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from engine import access, ai
from tests import stores

from .test_app_pages import ACTOR, assert_healthy, db_value, demo_once, open_page

pytestmark = pytest.mark.both_stores


@pytest.fixture
def demo_db(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database (built once per session), which the app opens."""
    path = stores.copy_db(demo_once(tmp_path_factory), tmp_path)
    monkeypatch.setenv("RISKMAP_DB", str(path))
    monkeypatch.setenv("RISKMAP_ACTOR", ACTOR)
    return path


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """st.cache_data outlives an AppTest run within one pytest process."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _ai_page(system: str | None = None):
    at = open_page("ai_systems")
    assert_healthy(at)
    if system:
        at.selectbox(key="scen_system").select(system).run()
        assert_healthy(at)
    return at


def test_the_page_shows_identification_and_unregistered_use(demo_db: Path) -> None:
    at = _ai_page()
    assert len(at.get("plotly_chart")) >= 2
    coverage = ai.coverage(demo_db)
    fully = next(m for m in at.metric if m.label == "Fully assessed")
    assert fully.value == f"{int(coverage['fully_assessed'].sum())} / {coverage.height}"
    assert next(m for m in at.metric if m.label == "Open").value == str(int(coverage["n_open"].sum()))
    unregistered = ai.list_usage(demo_db, unregistered=True)
    shown = [d.value for d in at.dataframe if "user_count" in d.value.columns]
    assert shown and sorted(shown[0]["id"]) == sorted(unregistered["id"].to_list())


def test_accepting_a_proposal_creates_the_risk(demo_db: Path) -> None:
    at = _ai_page("AIS-02")
    at.selectbox(key="scen_pick").select("USE-01").run()
    at.selectbox(key="scen_likelihood").select(2).run()
    at.selectbox(key="scen_impact").select(3).run()
    at.text_input(key="scen_owner").input("Pat Owner").run()
    at.button(key="scen_accept").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    row = ai.identification(demo_db, "AIS-02").filter(scenario_id="USE-01").row(0, named=True)
    assert row["state"] == "identified" and row["decided_by"] == access.os_account()  # the single-user default
    assert db_value(demo_db, "SELECT owner || ' ' || inherent_likelihood || 'x' || inherent_impact FROM risks "
                             "WHERE id = ?", [row["risk_id"]]) == "Pat Owner 2x3"
    assert db_value(demo_db, "SELECT channel FROM v_history WHERE entity = 'ai_scenario_decision' "
                             "AND entity_id = 'AIS-02/USE-01'") == "app"


def test_a_scenario_recorded_as_not_applicable_then_reopened(demo_db: Path) -> None:
    at = _ai_page("AIS-02")
    at.selectbox(key="scen_pick").select("SEC-09").run()
    at.button(key="scen_reject").click().run()
    assert_healthy(at)
    assert at.error and "reason" in at.error[0].value   # refused without a reason, nothing written
    assert ai.identification(demo_db, "AIS-02").filter(scenario_id="SEC-09")["state"].item() == "open"
    at.text_area(key="scen_reason").input("Only our own clinicians reach the summary service").run()
    at.button(key="scen_reject").click().run()
    assert_healthy(at)
    row = ai.identification(demo_db, "AIS-02").filter(scenario_id="SEC-09").row(0, named=True)
    assert (row["state"], row["reason"]) == ("not_applicable", "Only our own clinicians reach the summary service")
    at.selectbox(key="scen_reopen_pick").select("SEC-09").run()
    at.button(key="scen_reopen").click().run()
    assert_healthy(at)
    assert ai.identification(demo_db, "AIS-02").filter(scenario_id="SEC-09")["state"].item() == "open"


def test_saving_characteristics_changes_the_proposals(demo_db: Path) -> None:
    assert "SAFE-01" in set(ai.proposals(demo_db, "AIS-04")["scenario_id"])   # safety_critical not recorded
    at = _ai_page("AIS-04")
    [box] = [b for b in at.selectbox if b.key and b.key.startswith("scen_char_AIS-04_") and
             b.key.endswith("_safety_critical")]
    box.select("no").run()
    [vendor] = [t for t in at.text_input if t.key and t.key.startswith("scen_vendor_AIS-04_")]
    vendor.input("Orbis AI Limited").run()
    at.button(key="scen_char_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT safety_critical FROM ai_systems WHERE id = 'AIS-04'") is False
    assert db_value(demo_db, "SELECT vendor FROM ai_systems WHERE id = 'AIS-04'") == "Orbis AI Limited"
    assert db_value(demo_db, "SELECT domains FROM ai_systems WHERE id = 'AIS-04'") == ["api.orbis.example"]
    assert "SAFE-01" not in set(ai.proposals(demo_db, "AIS-04")["scenario_id"])


def test_registering_and_dismissing_unregistered_use(demo_db: Path) -> None:
    unregistered = ai.list_usage(demo_db, unregistered=True)
    first, second = unregistered["id"][0], unregistered["id"][-1]
    same_tool = unregistered.filter(unregistered["domain"] == unregistered["domain"][0])["id"].to_list()
    at = _ai_page()
    at.selectbox(key="usage_pick").select(first).run()
    at.text_input(key="usage_owner").input("Claire Donnelly").run()
    at.button(key="usage_register").click().run()
    assert_healthy(at)
    usage = ai.list_usage(demo_db)
    system = usage.filter(usage["id"] == first)["ai_system_id"].item()
    assert system is not None
    assert set(usage.filter(usage["ai_system_id"] == system)["id"]) == set(same_tool)  # every entry of that tool
    assert db_value(demo_db, "SELECT owner FROM ai_systems WHERE id = ?", [system]) == "Claire Donnelly"
    assert not ai.proposals(demo_db, system).is_empty()
    at.selectbox(key="usage_pick").select(second).run()
    at.text_area(key="usage_reason").input("Sales trial ended on 2026-11-30").run()
    at.button(key="usage_dismiss").click().run()
    assert_healthy(at)
    assert second not in ai.list_usage(demo_db, unregistered=True)["id"].to_list()


def test_the_overview_shows_how_many_systems_are_fully_assessed(demo_db: Path) -> None:
    at = open_page("overview")
    assert_healthy(at)
    summary = ai.summary(demo_db)
    assert next(m for m in at.metric if m.label == "AI systems fully assessed").value == \
        f"{summary.fully_assessed} / {summary.systems}"
    assert next(m for m in at.metric if m.label == "Unregistered AI use").value == str(summary.unregistered_use)
