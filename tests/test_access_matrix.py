"""Role x operation over every write path of the engine: each role is allowed exactly the operations of its
role, a principal without the role is refused with PermissionDenied, and a refusal writes nothing (every
table, the change history included, is as it was). An allowed write records the principal's id, display
name and channel in the history."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine import ai, plan, records, register, soa, store
from engine.access import OPERATIONS, Principal
from engine.crosswalk import imported, set_depth, tailoring
from engine.demo import build_demo
from engine.errors import PermissionDenied
from engine.register import suggestions
from engine.register.scoring import default_matrix
from engine.store.backup import backup, restore
from tests.reliability.dbstate import db_state, rows
from tests.test_register_support import data, load_both_registers

FUTURE = date.today() + timedelta(days=200)
SETUP = Principal.everything("setup", "Test Setup", auth="api")
PRINCIPALS = {
    "nobody": Principal("nora", "Nora Nobody"),
    "viewer": Principal("vic", "Vic Viewer", {"viewer": None}),
    "contributor": Principal("cora", "Cora Contributor", {"contributor": None}),
    "approver": Principal("abe", "Abe Approver", {"approver": None}),
    "admin": Principal("ada", "Ada Admin", {"admin": None}),
}
R_PLAT, R_CLIN, MERGE = "R-0001", "R-0007", "M-0001"
UNITS = {"Platform": ["R-0001", "R-0002", "R-0004", "R-0005", "R-0006"],
         "Clinical": ["R-0003", "R-0007", "R-0008", "R-0009"]}
LIBS = Path(__file__).resolve().parent / "data" / "libraries"
LOGS, LOGGING = "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15"  # a shipped link the organisation may tailor
NEW_FILES = {
    "actions_csv": "Action ID,Action,Owner,Effort (days),Risks\nX-1,Offline copies,Ana Silva,2,R-0001\n",
    "risks_csv": "Risk ID,Title,Likelihood,Impact,Owner,Business unit\nN-1,Printer jam,2,2,Ana Silva,Platform\n",
    "assets_csv": "Asset ID,Asset,Asset Owner\nAST-9,Printer,Chris Wong\n",
    "ai_csv": "System ID,AI System,Purpose\nAIS-9,Forecasting model,Predicts demand\n",
    "assessments_csv": "Assessment ID,AI System,Title,Severity\nIA-9,AIS-1,Chatbot second look,low\n",
    "usage_csv": "Tool,Domain,Users\nPromptPad,promptpad.example,4\n",
}


def organisation(db: Path, work: Path) -> dict[str, str]:
    """The test organisation: two registers imported (one merge), business units on every risk, a second
    matrix version (so rescoring has work), actions, a backup taken before a last change. Returns ids."""
    load_both_registers(db)
    for unit, ids in UNITS.items():
        for rid in ids:
            register.update_risk(db, rid, {"business_unit": unit}, None, actor=SETUP)
    register.link_ai_system(db, R_CLIN, "AIS-2", actor=SETUP)
    spec = default_matrix()
    register.set_matrix(db, type(spec)(**{**spec.__dict__, "appetite": 9, "version": None}), actor=SETUP)
    plan.add_action(db, title="Backups offline", risk_ids=[R_PLAT], controls=["iso27001-2022:A.8.13"], effort=3,
                    actor=SETUP, channel="api")
    plan.add_action(db, title="Chatbot guardrails", risk_ids=[R_CLIN], effort=2, actor=SETUP, channel="api")
    bak = work / "before.duckdb"
    backup(db, bak, actor=SETUP)
    soa.set_row(db, "iso27001-2022", "A.5.2", owner="Changed after the backup", actor=SETUP, channel="api")
    proposal = soa.proposals(db)["proposal_id"][0]
    register.import_risks(db, data("free_text_controls_register.csv"), "ft", actor=SETUP)  # control suggestions
    waiting = suggestions.list_suggestions(db, status="proposed")["id"].to_list()
    tailoring.tailor(db, "iso42001-2023:5.3", "iso27001-2022:5.3", "accept", reason="Reviewed", actor=SETUP,
                     channel="api")
    files = {key: work / f"{key}.csv" for key in NEW_FILES}
    for key, path in files.items():
        path.write_text(NEW_FILES[key], encoding="utf-8")
    scenarios = ai.proposals(db, "AIS-1")["scenario_id"].to_list()  # AI risk scenarios still to decide
    ai.reject(db, "AIS-1", scenarios[2], "Ruled out for the test", actor=SETUP)
    seen = work / "seen.csv"
    seen.write_text("Tool,Domain,Users\nWordWizard,wordwizard.example,2\nSumUp AI,sumup.example,3\n", encoding="utf-8")
    usage = ai.import_usage(db, seen, actor=SETUP).unregistered
    return {"backup": str(bak), "proposal": proposal, "suggestion": waiting[0], "other_suggestion": waiting[1],
            "scenario": scenarios[0], "other_scenario": scenarios[1], "decided_scenario": scenarios[2],
            "usage": usage[0]["id"], "other_usage": usage[1]["id"], **{k: str(p) for k, p in files.items()}}


@pytest.fixture(scope="module")
def seeded(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("matrix")
    db = work / "seeded.duckdb"
    shutil.copyfile(template_db, db)
    return db, organisation(db, work)


@dataclass(frozen=True)
class Case:
    operation: str
    run: Callable[[Path, Principal, dict[str, str]], object]
    history: bool = True  # the write records history rows naming the principal


def _matrix(db: Path, who: Principal, ids: dict[str, str]) -> object:
    spec = default_matrix()
    return register.set_matrix(db, type(spec)(**{**spec.__dict__, "appetite": 7, "version": None}), actor=who)


def _bump(db: Path, who: Principal, ids: dict[str, str]) -> None:
    with store.transaction(db) as con:
        records.bump(con, "risk", R_PLAT, actor=who)


API = "api"
CASES: dict[str, Case] = {
    # risks and their links (the record write path)
    "create risk": Case("edit_risk", lambda db, who, ids: register.create_risk(
        db, {"title": "New", "management_system": "ISMS", "business_unit": "Platform"}, actor=who)),
    "update risk": Case("edit_risk", lambda db, who, ids: register.update_risk(db, R_PLAT, {"owner": "Zed"}, None,
                                                                              actor=who)),
    "bump risk (records.bump)": Case("edit_risk", _bump, history=False),
    "link control": Case("edit_risk", lambda db, who, ids: register.link_control(
        db, R_PLAT, "iso27001-2022", "A.5.1", actor=who)),
    "unlink control": Case("edit_risk", lambda db, who, ids: register.unlink_control(
        db, R_PLAT, "iso27001-2022", "A.8.7", actor=who)),
    "link asset": Case("edit_risk", lambda db, who, ids: register.link_asset(db, R_PLAT, "AST-2", actor=who)),
    "unlink asset": Case("edit_risk", lambda db, who, ids: register.unlink_asset(db, R_PLAT, "AST-1", actor=who)),
    "link AI system": Case("edit_risk", lambda db, who, ids: register.link_ai_system(db, R_PLAT, "AIS-1",
                                                                                    actor=who)),
    "unlink AI system": Case("edit_risk", lambda db, who, ids: register.unlink_ai_system(db, R_CLIN, "AIS-2",
                                                                                        actor=who)),
    "undo merge": Case("undo_merge", lambda db, who, ids: register.undo_merge(db, MERGE, actor=who)),
    # inventories
    "create AI system": Case("edit_register", lambda db, who, ids: register.create_ai_system(
        db, {"name": "New model"}, actor=who)),
    "update AI system": Case("edit_register", lambda db, who, ids: register.update_ai_system(
        db, "AIS-1", {"owner": "Zed"}, None, actor=who)),
    "create assessment": Case("edit_register", lambda db, who, ids: register.create_assessment(
        db, {"ai_system_id": "AIS-1", "title": "Second look"}, actor=who)),
    "update assessment": Case("edit_register", lambda db, who, ids: register.update_assessment(
        db, "IA-2026-1", {"severity": "low"}, None, actor=who)),
    "create asset": Case("edit_register", lambda db, who, ids: register.create_asset(db, {"name": "Printer"},
                                                                                    actor=who)),
    "update asset": Case("edit_register", lambda db, who, ids: register.update_asset(db, "AST-1", {"owner": "Zed"},
                                                                                    None, actor=who)),
    # imports
    "import risks": Case("import", lambda db, who, ids: register.import_risks(db, ids["risks_csv"], "new",
                                                                             actor=who)),
    "import assets": Case("import", lambda db, who, ids: register.import_assets(db, ids["assets_csv"], actor=who)),
    "import AI systems": Case("import", lambda db, who, ids: register.import_ai_systems(db, ids["ai_csv"],
                                                                                       actor=who)),
    "import assessments": Case("import", lambda db, who, ids: register.import_assessments(
        db, ids["assessments_csv"], actor=who)),
    "import SoA": Case("import", lambda db, who, ids: soa.import_soa(db, data("soa_27001_2022_yes_no.csv"),
                                                                     actor=who)),
    "import action plan": Case("import", lambda db, who, ids: plan.import_actions(db, ids["actions_csv"],
                                                                                  actor=who)),
    "accept control suggestion": Case("edit_risk", lambda db, who, ids: suggestions.accept_suggestions(
        db, [ids["suggestion"]], actor=who, channel=API)),
    "reject control suggestion": Case("edit_risk", lambda db, who, ids: suggestions.reject_suggestions(
        db, [ids["other_suggestion"]], actor=who, channel=API)),
    # the AI risk scenarios and observed AI use
    "accept an AI risk scenario": Case("identify_ai_risk", lambda db, who, ids: ai.accept(
        db, "AIS-1", ids["scenario"], likelihood=2, impact=3, actor=who, channel=API)),
    "reject an AI risk scenario": Case("identify_ai_risk", lambda db, who, ids: ai.reject(
        db, "AIS-1", ids["other_scenario"], "Not for this system", actor=who, channel=API)),
    "reopen an AI risk scenario": Case("identify_ai_risk", lambda db, who, ids: ai.reopen(
        db, "AIS-1", ids["decided_scenario"], actor=who, channel=API)),
    "set AI system characteristics": Case("edit_register", lambda db, who, ids: ai.set_characteristics(
        db, "AIS-1", {"vendor": "Acme"}, None, actor=who, channel=API)),
    "import observed AI use": Case("import", lambda db, who, ids: ai.import_usage(db, ids["usage_csv"], actor=who)),
    "register observed AI use": Case("edit_register", lambda db, who, ids: ai.register_usage(
        db, ids["usage"], actor=who, channel=API)),
    "dismiss observed AI use": Case("edit_register", lambda db, who, ids: ai.dismiss_usage(
        db, ids["other_usage"], "Blocked at the proxy", actor=who, channel=API)),
    # the risk matrix
    "set matrix": Case("set_matrix", _matrix),
    "rescore": Case("rescore", lambda db, who, ids: register.rescore(db, actor=who)),
    # the SoA
    "set SoA row": Case("edit_soa", lambda db, who, ids: soa.set_row(db, "iso27001-2022", "A.5.1", owner="Zed",
                                                                     actor=who, channel=API)),
    "add SoA control": Case("edit_soa", lambda db, who, ids: soa.add_control(db, "ORG.1", "Our own", actor=who,
                                                                             channel=API)),
    "accept proposal": Case("edit_soa", lambda db, who, ids: soa.accept_proposal(db, ids["proposal"], actor=who,
                                                                                 channel=API)),
    "accept proposals": Case("edit_soa", lambda db, who, ids: soa.accept_proposals(db, actor=who, channel=API)),
    "reject proposal": Case("edit_soa", lambda db, who, ids: soa.reject_proposal(
        db, ids["proposal"], justification="Not for us", actor=who, channel=API)),
    "approve SoA version": Case("approve_soa", lambda db, who, ids: soa.snapshot(db, actor=who, channel=API,
                                                                                     confirmation="As it stands")),
    # the treatment plan
    "add action": Case("edit_plan", lambda db, who, ids: plan.add_action(db, title="New", risk_ids=[R_PLAT],
                                                                         actor=who, channel=API)),
    "update action": Case("edit_plan", lambda db, who, ids: plan.update_action(db, "A-001", status="in_progress",
                                                                               actor=who, channel=API)),
    "action links a risk": Case("edit_plan", lambda db, who, ids: plan.link_risk(db, "A-001", "R-0002", actor=who,
                                                                                 channel=API)),
    "action unlinks a risk": Case("edit_plan", lambda db, who, ids: plan.unlink_risk(db, "A-001", R_PLAT,
                                                                                     actor=who, channel=API)),
    "action links a control": Case("edit_plan", lambda db, who, ids: plan.link_control(
        db, "A-001", "iso27001-2022:A.5.1", actor=who, channel=API)),
    "action unlinks a control": Case("edit_plan", lambda db, who, ids: plan.unlink_control(
        db, "A-001", "iso27001-2022:A.8.13", actor=who, channel=API)),
    "approve plan": Case("approve_plan", lambda db, who, ids: plan.approve_plan(
        db, risk_ids=[R_PLAT], expires_on=FUTURE, actor=who, channel=API)),
    "accept residual": Case("accept_residual", lambda db, who, ids: plan.accept_residual(
        db, R_CLIN, expires_on=FUTURE, justification="Watched monthly", actor=who, channel=API)),
    # crosswalk and store
    "set crosswalk depth": Case("set_depth", lambda db, who, ids: set_depth(db, 2, actor=who)),
    "tailor the crosswalk": Case("edit_crosswalk", lambda db, who, ids: tailoring.tailor(
        db, LOGS, LOGGING, "dispute", reason="Separate logs", actor=who, channel=API)),
    "withdraw a tailoring": Case("edit_crosswalk", lambda db, who, ids: tailoring.withdraw(
        db, "T-0001", reason="Wrong after all", actor=who, channel=API)),
    "import a crosswalk library": Case("edit_crosswalk", lambda db, who, ids: imported.import_library(
        db, LIBS / "good_extra_framework.yaml", actor=who, channel=API)),
    "restore a backup": Case("restore", lambda db, who, ids: restore(Path(ids["backup"]), db, actor=who),
                             history=False),
}


def _allowed(role: str, operation: str) -> bool:
    return role in OPERATIONS[operation].roles


@pytest.mark.parametrize("role", list(PRINCIPALS))
@pytest.mark.parametrize("name", list(CASES))
def test_role_x_operation(name: str, role: str, seeded: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, ids = seeded
    db = tmp_path / "db.duckdb"
    shutil.copyfile(src, db)
    case, who = CASES[name], PRINCIPALS[role]
    before = db_state(db)
    if not _allowed(role, case.operation):
        with pytest.raises(PermissionDenied) as got:
            case.run(db, who, ids)
        assert str(got.value).startswith(who.describe() + " may not "), got.value
        assert " or ".join(OPERATIONS[case.operation].roles) in str(got.value)
        assert db_state(db) == before, f"{name} refused for {role} but wrote something"
        return
    last = rows(db, "SELECT coalesce(max(id), 0) FROM history")[0][0]
    case.run(db, who, ids)
    assert db_state(db) != before, f"{name} allowed for {role} but wrote nothing"
    if case.history:
        written = rows(db, "SELECT DISTINCT actor, actor_name, channel FROM history WHERE id > ?", [last])
        assert written and {(r[0], r[1]) for r in written} == {(who.id, who.name)}, written


def test_every_operation_that_writes_has_a_case() -> None:
    reads = {"read", "export", "query", "backup", "manage_users"}  # tested in test_access and test_access_units
    assert {c.operation for c in CASES.values()} == set(OPERATIONS) - reads


@pytest.mark.parametrize("role", ["nobody", "viewer", "contributor", "approver"])
def test_only_an_admin_may_replace_a_database_with_the_demo(role: str, seeded: tuple[Path, dict[str, str]],
                                                           tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    shutil.copyfile(seeded[0], db)
    before = db_state(db)
    with pytest.raises(PermissionDenied, match="may not replace the database with the demo: needs the role admin"):
        build_demo(db, force=True, actor=PRINCIPALS[role])
    assert db_state(db) == before


@pytest.mark.parametrize("role", list(PRINCIPALS))
def test_a_backup_needs_a_role_for_every_unit(role: str, seeded: tuple[Path, dict[str, str]],
                                              tmp_path: Path) -> None:
    target = tmp_path / "copy.duckdb"
    if role == "nobody":
        with pytest.raises(PermissionDenied, match="may not back up the whole database"):
            backup(seeded[0], target, actor=PRINCIPALS[role])
        assert not target.exists()
        return
    backup(seeded[0], target, actor=PRINCIPALS[role])
    assert target.exists()
    limited = Principal("lim", grants={"admin": {"Clinical"}})
    with pytest.raises(PermissionDenied, match="for every business unit"):
        backup(seeded[0], tmp_path / "other.duckdb", actor=limited)
