"""Importing a treatment plan kept in a spreadsheet: risks by the registers' own ids or riskmap's, controls
per standard, statuses and efforts in the words teams use; re-imports update, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import plan, register
from engine.errors import InputError
from engine.plan.importing import parse_effort

from .test_register_support import ACTOR, data, query, risk_by_key, snapshot

pytestmark = pytest.mark.both_stores

WHO = {"actor": ACTOR, "channel": "test"}


@pytest.fixture
def registers(fresh_db: Path) -> Path:
    register.import_risks(fresh_db, data("good_risk_register.csv"), "plain", **WHO)
    register.import_risks(fresh_db, data("good_ai_register.csv"), "ai", **WHO)
    return fresh_db


def test_an_action_plan_by_register_ids(registers: Path) -> None:
    report = plan.import_actions(registers, data("action_plan_register_ids.csv"), **WHO)
    assert [x["id"] for x in report.created] == ["ACT-1", "ACT-2", "ACT-3", "ACT-4"]
    got = {r[0]: r[1:] for r in query(registers, "SELECT action_id, status, effort, risk_ids, controls_27001, "
                                                 "controls_42001, owner, due_date FROM v_treatment_plan")}
    assert got["ACT-1"][:2] == ("in_progress", 5.0)
    assert got["ACT-2"][:2] == ("planned", 15.0)        # "3 weeks" of five days
    assert got["ACT-3"][:2] == ("done", 2.5)            # "20h" of eight-hour days
    assert set(got["ACT-3"][2]) == {risk_by_key(registers, "plain", "P-3"), risk_by_key(registers, "plain", "P-1")}
    assert str(got["ACT-2"][6]) == "2026-11-30"          # 30/11/2026
    # a 2013 reference becomes its 2022 successor; the 42001 column's bare refs are 42001
    assert got["ACT-4"][3] == ["iso27001-2022:A.8.15"] and got["ACT-4"][4] == ["iso42001-2023:A.6.2.8"]
    assert query(registers, "SELECT count(*) FROM v_history WHERE entity = 'action' AND action = 'create'")[0][0] == 4


def test_a_plan_in_other_words_by_riskmap_ids(registers: Path) -> None:
    report = plan.import_actions(registers, data("action_plan_other_wordings.xlsx"), **WHO)
    assert [x["title"] for x in report.created] == ["Quarterly access reviews", "Patch the web server monthly"]
    got = {r[0]: r[1:] for r in query(registers, "SELECT title, status, effort, risk_ids, controls_27001, "
                                                 "controls_42001 FROM v_treatment_plan")}
    assert got["Quarterly access reviews"] == ("in_progress", 10.0, ["R-0001"], ["iso27001-2022:A.5.18"],
                                               ["iso42001-2023:A.3.2"])
    assert got["Patch the web server monthly"][0] == "done"


def test_a_reimport_updates_with_history_and_lists_differences(registers: Path, tmp_path: Path) -> None:
    plan.import_actions(registers, data("action_plan_register_ids.csv"), **WHO)
    plan.update_action(registers, "ACT-1", owner="Someone else", actor="ana", channel="app")
    changed = tmp_path / "plan.csv"
    changed.write_text(data("action_plan_register_ids.csv").read_text(encoding="utf-8")
                       .replace("P-3; P-1", "P-3"), encoding="utf-8")
    report = plan.import_actions(registers, changed, **WHO)
    f = report.files[0]
    assert {(d["id"], d["field"], d["stored"], d["imported"]) for d in f.differences} == {
        ("ACT-1", "owner", "Someone else", "Ana Silva")}
    assert {u["id"] for u in f.updated} == {"ACT-1", "ACT-3"}
    assert query(registers, "SELECT risk_ids FROM v_treatment_plan WHERE action_id = 'ACT-3'")[0][0] == [
        risk_by_key(registers, "plain", "P-3")]
    assert query(registers, "SELECT count(*) FROM v_history WHERE entity = 'action' AND action = 'unlink'")[0][0] == 1
    again = plan.import_actions(registers, changed, **WHO)
    assert again.files[0].unchanged == 4 and not again.files[0].updated


@pytest.mark.parametrize(("name", "row", "words"), [
    ("action_plan_unknown_risk.csv", 3, "no risk has this id"),
    ("action_plan_control_in_words.csv", 2, "not a control reference"),
])
def test_a_plan_with_a_problem_changes_nothing(registers: Path, name: str, row: int, words: str) -> None:
    before = snapshot(registers)
    with pytest.raises(InputError) as err:
        plan.import_actions(registers, data(name), **WHO)
    (p,) = err.value.problems
    assert p.record == row and words in p.message
    if name == "action_plan_control_in_words.csv":
        assert "iso27001-2022:A.8.5" in (p.expected or "") or "A.5.17" in (p.expected or "")  # the likely control
    assert snapshot(registers) == before


def test_a_register_id_two_risks_share_is_a_problem(fresh_db: Path, tmp_path: Path) -> None:
    register.import_risks(fresh_db, data("good_risk_register.csv"), "one", **WHO)
    other = tmp_path / "other.csv"
    other.write_text("Risk ID,Title\nP-1,A different risk altogether\n", encoding="utf-8")
    register.import_risks(fresh_db, other, "two", **WHO)
    f = tmp_path / "plan.csv"
    f.write_text("Action,Risks\nDo something,P-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="2 imported risks have this register id"):
        plan.import_actions(fresh_db, f, **WHO)


@pytest.mark.parametrize(("text", "days"), [("15", 15), ("15 days", 15), ("3 weeks", 15), ("20h", 2.5),
                                            ("1,5", 1.5), ("2 months", 40), ("4 pd", 4)])
def test_effort_as_teams_write_it(text: str, days: float) -> None:
    assert parse_effort(text) == days


def test_import_actions_on_the_command_line(registers: Path, run_cli) -> None:
    code, out, err = run_cli("import", "actions", data("action_plan_register_ids.csv"), "--dry-run", "--db", registers)
    assert code == 0, err
    assert "dry run, nothing written" in out and "new      row 2: ACT-1" in out
    assert query(registers, "SELECT count(*) FROM actions")[0][0] == 0
    code, out, err = run_cli("import", "actions", data("action_plan_register_ids.csv"), "--db", registers)
    assert code == 0 and "4 new" in out, err
