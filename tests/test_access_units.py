"""Business units: a role limited to units writes only those units' records and reads only their risks
(register, plan, audits, exports); a risk owner approves and accepts their own risks."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from engine import audit, exports, plan, register, soa
from engine.access import Principal
from engine.errors import NotFoundError, PermissionDenied
from engine.register import browse
from engine.store import query
from tests.reliability.dbstate import db_state, rows
from tests.test_access_matrix import FUTURE, R_CLIN, R_PLAT, UNITS, organisation

CLINICAL = {"Clinical"}
CONTRIBUTOR = Principal("cara", "Cara Clinical", {"contributor": CLINICAL})
VIEWER = Principal("val", "Val Clinical", {"viewer": CLINICAL})
APPROVER = Principal("aldo", "Aldo Approver", {"approver": CLINICAL})
API = "api"


@pytest.fixture(scope="module")
def seeded(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("units")
    db = work / "seeded.duckdb"
    shutil.copyfile(template_db, db)
    return db, organisation(db, work)


@pytest.fixture
def db(seeded: tuple[Path, dict[str, str]], tmp_path: Path) -> Path:
    path = tmp_path / "db.duckdb"
    shutil.copyfile(seeded[0], path)
    return path


def refused(db: Path, write, match: str = "for business unit Platform") -> None:  # type: ignore[no-untyped-def]
    before = db_state(db)
    with pytest.raises(PermissionDenied, match=match):
        write()
    assert db_state(db) == before, "a refused write changed the database"


# -- writes --------------------------------------------------------------------------------------

def test_a_unit_contributor_edits_its_units_risks_only(db: Path) -> None:
    register.update_risk(db, R_CLIN, {"owner": "Cara"}, None, actor=CONTRIBUTOR)
    refused(db, lambda: register.update_risk(db, R_PLAT, {"owner": "Cara"}, None, actor=CONTRIBUTOR))
    refused(db, lambda: register.update_risk(db, R_CLIN, {"business_unit": "Platform"}, None, actor=CONTRIBUTOR))
    refused(db, lambda: register.link_control(db, R_PLAT, "iso27001-2022", "A.5.1", actor=CONTRIBUTOR))
    refused(db, lambda: register.create_risk(db, {"title": "T", "management_system": "ISMS",
                                                  "business_unit": "Platform"}, actor=CONTRIBUTOR))
    refused(db, lambda: register.create_risk(db, {"title": "T", "management_system": "ISMS"}, actor=CONTRIBUTOR),
            match=r"for business unit \(none\)")
    new = register.create_risk(db, {"title": "Clinical risk", "management_system": "AIMS",
                                    "business_unit": "Clinical"}, actor=CONTRIBUTOR)
    assert rows(db, "SELECT business_unit FROM risks WHERE id = ?", [new]) == [("Clinical",)]


def test_a_unit_contributor_changes_actions_of_its_units_only(db: Path) -> None:
    a_clin = plan.add_action(db, title="Clinical work", risk_ids=[R_CLIN], actor=CONTRIBUTOR, channel=API)
    plan.update_action(db, a_clin, status="in_progress", actor=CONTRIBUTOR, channel=API)
    refused(db, lambda: plan.update_action(db, "A-001", status="done", actor=CONTRIBUTOR, channel=API))
    refused(db, lambda: plan.link_risk(db, a_clin, R_PLAT, actor=CONTRIBUTOR, channel=API))
    refused(db, lambda: plan.add_action(db, title="Both", risk_ids=[R_CLIN, R_PLAT], actor=CONTRIBUTOR,
                                        channel=API))
    refused(db, lambda: plan.add_action(db, title="No risk", actor=CONTRIBUTOR, channel=API),
            match="for every business unit")  # an action treating no risk belongs to the organisation


def test_organisation_wide_records_need_a_role_for_every_unit(db: Path) -> None:
    refused(db, lambda: soa.set_row(db, "iso27001-2022", "A.5.1", owner="Cara", actor=CONTRIBUTOR, channel=API),
            match="for every business unit")
    refused(db, lambda: register.update_ai_system(db, "AIS-1", {"owner": "Cara"}, None, actor=CONTRIBUTOR),
            match="for every business unit")


def test_a_unit_contributor_imports_rows_of_its_units_only(db: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "clinical.csv", tmp_path / "mixed.csv"
    good.write_text("Risk ID,Title,Likelihood,Impact,Business unit\nC-1,Sepsis missed,3,5,Clinical\n",
                    encoding="utf-8")
    bad.write_text("Risk ID,Title,Likelihood,Impact,Business unit\nM-1,Sepsis missed,3,5,Clinical\n"
                   "M-2,Server down,2,4,Platform\n", encoding="utf-8")
    refused(db, lambda: register.import_risks(db, bad, "mixed", actor=CONTRIBUTOR),
            match="may not import registers for risk R-.* of unit Platform")
    report = register.import_risks(db, good, "clinical", actor=CONTRIBUTOR)
    assert report.files[0].created
    refused(db, lambda: register.import_assets(db, tmp_path / "any.csv", actor=CONTRIBUTOR),
            match="for every business unit")  # the inventories are organisation-wide


def test_a_risk_owner_approves_and_accepts_their_own_risks_only(db: Path) -> None:
    owner_of_clin = rows(db, "SELECT owner FROM risks WHERE id = ?", [R_CLIN])[0][0]
    owner = Principal("dana", owner_of_clin, {"viewer": None})
    assert plan.approve_plan(db, expires_on=FUTURE, actor=owner, channel=API) == [R_CLIN]  # "every risk I own"
    got = plan.accept_residual(db, R_CLIN, expires_on=FUTURE, justification="Watched", actor=owner, channel=API)
    assert got["acceptance_approver"] == owner_of_clin
    assert rows(db, "SELECT accepted_by, recorded_by, recorded_by_name, channel FROM residual_acceptances") == [
        (owner_of_clin, "dana", owner_of_clin, API)]
    refused(db, lambda: plan.approve_plan(db, risk_ids=[R_PLAT], actor=owner, channel=API),
            match=r"needs the role approver \(or be the risk owner\)")


def test_a_unit_approver_approves_the_plans_of_its_units(db: Path) -> None:
    assert plan.approve_plan(db, risk_ids=[R_CLIN], actor=APPROVER, channel=API) == [R_CLIN]
    assert rows(db, "SELECT approved_by, recorded_by, recorded_by_name FROM plan_approvals") == [
        ("Aldo Approver", "aldo", "Aldo Approver")]
    refused(db, lambda: plan.approve_plan(db, risk_ids=[R_PLAT], actor=APPROVER, channel=API))
    refused(db, lambda: plan.accept_residual(db, R_PLAT, expires_on=FUTURE, justification="x", actor=APPROVER,
                                             channel=API))
    refused(db, lambda: soa.snapshot(db, actor=APPROVER, channel=API), match="for every business unit")


# -- reads ---------------------------------------------------------------------------------------

def test_a_unit_viewer_sees_its_units_risks_only(db: Path) -> None:
    clinical = set(UNITS["Clinical"])
    page = browse.register_page(db, principal=VIEWER, statuses=())
    assert set(page.rows["id"]) == clinical and page.total == len(clinical) == page.filtered
    assert int(page.cells.filter(pl.col("stage") == "inherent")["n"].sum()) == len(clinical)
    assert set(register.list_risks(db, principal=VIEWER)["id"]) == clinical
    assert set(browse.open_risks(db, principal=VIEWER)["id"]) <= clinical
    assert set(plan.residual_after_plan(db, principal=VIEWER)["risk_id"]) <= clinical
    every = rows(db, "SELECT count(*) FROM risks")[0][0]
    assert len(register.list_risks(db)) == every > len(clinical)  # the API without a principal sees every unit
    with pytest.raises(NotFoundError, match=R_PLAT):
        register.get_risk(db, R_PLAT, principal=VIEWER)
    with pytest.raises(NotFoundError, match=R_PLAT):
        register.risk_history(db, R_PLAT, principal=VIEWER)
    assert register.get_risk(db, R_CLIN, principal=VIEWER)["id"] == R_CLIN
    merges = register.list_merges(db, principal=VIEWER)
    assert set(merges["kept_risk_id"]) <= clinical


def test_exports_and_audits_hold_the_units_risks_only(db: Path, tmp_path: Path) -> None:
    plan.approve_plan(db, risk_ids=[R_PLAT], expires_on=FUTURE, actor="setup", channel=API)
    out = exports.export_register(db, "csv", tmp_path / "register.csv", principal=VIEWER)
    assert set(pl.read_csv(out)["id"]) == set(UNITS["Clinical"])
    book = exports.plan_xlsx_bytes(db, principal=VIEWER)
    residual = pl.read_excel(book, sheet_name="Residual risk")
    assert R_PLAT not in residual["risk_id"].to_list() and R_CLIN in residual["risk_id"].to_list()
    assert plan.approvals(db, principal=VIEWER).is_empty() and plan.approvals(db).height == 1
    found = audit.run_audits(db, principal=VIEWER)
    risks = set(found.filter(pl.col("entity") == "risk")["entity_id"])
    assert risks <= set(UNITS["Clinical"])
    everything = set(audit.run_audits(db).filter(pl.col("entity") == "risk")["entity_id"])
    assert everything - risks, "the test organisation should have findings about Platform risks"


def test_sql_is_for_roles_that_see_every_unit(db: Path) -> None:
    with pytest.raises(PermissionDenied, match="may not run SQL on every table"):
        query.run_query("SELECT count(*) FROM risks", db, principal=VIEWER)
    whole = Principal("wes", grants={"viewer": None})
    assert query.run_query("SELECT count(*) AS n FROM risks", db, principal=whole).frame["n"][0] == \
        rows(db, "SELECT count(*) FROM risks")[0][0]
    with pytest.raises(PermissionDenied, match="may not read"):
        browse.register_page(db, principal=Principal("nobody"))
