"""The treatment plan: actions, "do once, satisfy both" ranking, residual risk, approvals, acceptances.

Scores on the test matrix (version 2: levels Low 1, Medium 5, High 10, Critical 17; appetite 8):
R-1 current 20 -> target residual 6; R-2 current 12 -> 4; R-3 current 9, no target; R-4 closed.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from engine import plan, store
from engine.errors import InputError, NotFoundError, RuleViolation, StaleEditError
from tests import stores
from tests.access_support import as_service, use_roles
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}
FUTURE = date.today() + timedelta(days=365)


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    return fresh_db


@pytest.fixture
def planned(db: Path) -> Path:
    plan.add_action(db, title="Immutable offline backups", owner="Ops", due_date="2026-06-30", effort=5,
                         risk_ids=["R-1"], controls=["iso27001-2022:A.8.13"], **WHO)
    plan.add_action(db, title="Drift monitoring with alerting", owner="ML team", due_date="2026-03-31",
                         effort=2, risk_ids=["R-2"], controls=["42001:A.6.2.6", "27001:A.8.16"], **WHO)
    return db


def by_id(frame: pl.DataFrame, key: str = "action_id") -> dict[str, dict]:
    return {r[key]: r for r in frame.to_dicts()}


def test_actions_get_ids_links_and_history(planned: Path) -> None:
    rows = by_id(plan.ranking(planned))
    assert set(rows) == {"A-001", "A-002"}
    a2 = rows["A-002"]
    assert a2["risk_ids"] == ["R-2"]
    assert a2["controls_42001"] == ["iso42001-2023:A.6.2.6"] and a2["controls_27001"] == ["iso27001-2022:A.8.16"]
    assert a2["satisfies_both"] is True
    with store.connect(planned) as con:
        hist = con.execute("SELECT action, field, new_value FROM history WHERE entity = 'action' "
                           "AND entity_id = 'A-002' ORDER BY id").fetchall()
    assert hist[0] == ("create", "title", "Drift monitoring with alerting")
    assert ("link", "risk", "R-2") in hist and ("link", "control", "iso42001-2023:A.6.2.6") in hist


def test_ranking_by_reduction_and_controls_per_effort(planned: Path) -> None:
    rows = by_id(plan.ranking(planned))
    a1, a2 = rows["A-001"], rows["A-002"]
    assert a1["risk_reduction"] == 14 and a2["risk_reduction"] == 8
    assert a1["reduction_per_effort"] == pytest.approx(2.8) and a2["reduction_per_effort"] == pytest.approx(4.0)
    assert a2["rank_reduction"] == 1 and a1["rank_reduction"] == 2
    assert a2["controls_per_effort"] == pytest.approx(a2["n_controls_satisfied"] / 2)
    assert a2["rank"] == 1 and a1["rank"] == 2
    assert a2["score"] == pytest.approx(2.0)   # best on both ratios
    assert plan.ranking(planned)["action_id"].to_list() == ["A-002", "A-001"]


def test_a_control_reached_through_the_crosswalk_counts_for_both_standards(planned: Path) -> None:
    before = by_id(plan.ranking(planned))["A-001"]
    con = stores.open_db(planned, read_only=False)
    con.execute("INSERT INTO crosswalk_links (source_framework, source_ref, target_framework, target_ref, "
                "relationship, strength, rationale_type, justification, origin, path, depth, n_paths) "
                "VALUES ('iso27001-2022', 'A.8.13', 'iso42001-2023', 'A.7.2', 'superset_of', "
                "7, 'semantic', 'test', 'authored', 'test', 1, 1)")
    con.close()
    after = by_id(plan.ranking(planned))["A-001"]
    assert "iso42001-2023:A.7.2" in after["controls_via_crosswalk"]
    assert after["n_controls_satisfied"] == before["n_controls_satisfied"] + 1
    assert after["satisfies_both"] is True


def test_risk_reduction_is_shared_between_actions_treating_the_same_risk(planned: Path) -> None:
    plan.add_action(planned, title="EDR rollout", effort=10, risk_ids=["R-1"], **WHO)
    rows = by_id(plan.ranking(planned))
    assert rows["A-001"]["risk_reduction"] == 7 and rows["A-003"]["risk_reduction"] == 7


def test_actions_without_effort_rank_last_and_closed_actions_are_not_ranked(planned: Path) -> None:
    plan.add_action(planned, title="Think about it", risk_ids=["R-3"], **WHO)
    frame = plan.ranking(planned)
    assert frame["action_id"].to_list()[-1] == "A-003"
    assert by_id(frame)["A-003"]["score"] is None
    plan.update_action(planned, "A-002", status="done", **WHO)
    assert "A-002" not in plan.ranking(planned)["action_id"].to_list()
    closed = by_id(plan.ranking(planned, include_closed=True))["A-002"]
    assert closed["rank"] is None and closed["status"] == "done"


def test_overdue_is_judged_against_the_given_day(planned: Path) -> None:
    rows = by_id(plan.ranking(planned, today=date(2026, 5, 1)))
    assert rows["A-002"]["overdue"] is True and rows["A-001"]["overdue"] is False


def test_residual_after_plan(planned: Path) -> None:
    rows = by_id(plan.residual_after_plan(planned), "risk_id")
    assert set(rows) == {"R-1", "R-2", "R-3"}   # the closed risk is left out
    r1, r3 = rows["R-1"], rows["R-3"]
    assert (r1["current_score"], r1["current_level"], r1["residual_after_plan"], r1["residual_level_after_plan"]) \
        == (20, "Critical", 6, "Medium")
    assert r1["above_appetite_now"] is True and r1["above_appetite_after_plan"] is False
    assert r1["action_ids"] == ["A-001"]
    assert (r3["residual_after_plan"], r3["above_appetite_after_plan"]) == (9, True)   # no action, no change


def test_invalid_action_fields_are_reported_together(db: Path) -> None:
    with pytest.raises(InputError) as err:
        plan.add_action(db, title=" ", status="someday", effort=-1, due_date="soon", **WHO)
    fields = sorted(p.field for p in err.value.problems)
    assert fields == ["due_date", "effort", "status", "title"]
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM actions").fetchone()[0] == 0


def test_unknown_risks_and_controls_are_refused(db: Path) -> None:
    with pytest.raises(NotFoundError, match="R-99"):
        plan.add_action(db, title="x", risk_ids=["R-99"], **WHO)
    with pytest.raises(NotFoundError, match="A.99.9"):
        plan.add_action(db, title="x", controls=["iso27001-2022:A.99.9"], **WHO)
    with pytest.raises(NotFoundError, match="ambiguous"):
        plan.add_action(db, title="x", controls=["A.8.13"], **WHO)
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM actions").fetchone()[0] == 0


def test_link_and_unlink(planned: Path) -> None:
    assert plan.link_risk(planned, "A-001", "R-3", **WHO) is True
    assert plan.link_risk(planned, "A-001", "R-3", **WHO) is False
    assert plan.link_control(planned, "A-001", "42001:A.7.2", **WHO) is True
    row = by_id(plan.ranking(planned))["A-001"]
    assert row["risk_ids"] == ["R-1", "R-3"] and "iso42001-2023:A.7.2" in row["controls_42001"]
    assert plan.unlink_control(planned, "A-001", "42001:A.7.2", **WHO) is True
    assert plan.unlink_risk(planned, "A-001", "R-3", **WHO) is True
    assert plan.unlink_risk(planned, "A-001", "R-3", **WHO) is False
    with pytest.raises(NotFoundError, match="A-404"):
        plan.link_risk(planned, "A-404", "R-1", **WHO)


def test_update_action_refuses_a_stale_edit(planned: Path) -> None:
    row = plan.update_action(planned, "A-001", status="in_progress", expected_version=1, **WHO)
    assert row["version"] == 2
    with pytest.raises(StaleEditError, match=r"A-001.*version 1.*version 2"):
        plan.update_action(planned, "A-001", owner="Someone", expected_version=1, **WHO)


def test_plan_approval_comes_from_the_risk_owner(planned: Path) -> None:
    with pytest.raises(RuleViolation, match="owned by Alice"):
        plan.approve_plan(planned, approved_by="Bob", risk_ids=["R-1"], **WHO)
    with pytest.raises(RuleViolation, match="not in the future"):
        plan.approve_plan(planned, approved_by="Alice", expires_on=date(2020, 1, 1), **WHO)
    with pytest.raises(RuleViolation, match="R-3 has no actions"):
        plan.approve_plan(planned, approved_by="Alice", risk_ids=["R-3"], **WHO)
    assert plan.approve_plan(planned, approved_by="alice", expires_on=FUTURE, **WHO) == ["R-1"]
    r1 = by_id(plan.residual_after_plan(planned), "risk_id")["R-1"]
    assert r1["plan_approved_by"] == "alice" and r1["plan_approval_expires"] == FUTURE
    assert r1["plan_approval_current"] is True
    got = plan.approvals(planned).row(0, named=True)
    assert got["risk_id"] == "R-1" and got["action_ids"] == ["A-001"] and got["approved_at"] is not None
    # the plan for R-1 changes: the approval no longer covers it
    plan.add_action(planned, title="Second measure", risk_ids=["R-1"], effort=1, **WHO)
    assert by_id(plan.residual_after_plan(planned), "risk_id")["R-1"]["plan_approval_current"] is False


def test_residual_acceptance_is_recorded_with_who_when_and_expiry(planned: Path) -> None:
    with pytest.raises(RuleViolation, match="justification"):
        plan.accept_residual(planned, "R-3", accepted_by="Alice", expires_on=FUTURE, justification="", **WHO)
    with pytest.raises(RuleViolation, match="expiry date in the future"):
        plan.accept_residual(planned, "R-3", accepted_by="Alice", expires_on="2020-01-01", justification="ok",
                                  **WHO)
    with pytest.raises(RuleViolation, match="owned by Alice"):
        plan.accept_residual(planned, "R-3", accepted_by="Bob", expires_on=FUTURE, justification="ok", **WHO)
    with pytest.raises(RuleViolation, match="closed"):
        plan.accept_residual(planned, "R-4", accepted_by="Bob", expires_on=FUTURE, justification="ok", **WHO)
    with pytest.raises(StaleEditError, match="R-3"):
        plan.accept_residual(planned, "R-3", accepted_by="Alice", expires_on=FUTURE, justification="ok",
                                  expected_version=7, **WHO)
    got = plan.accept_residual(planned, "R-3", accepted_by="Alice", expires_on=FUTURE.isoformat(),
                                    justification="Second supplier contracted", expected_version=1, **WHO)
    assert got["residual_score"] == 9 and got["acceptance_expiry"] == FUTURE
    with store.connect(planned) as con:
        risk = con.execute("SELECT acceptance_approver, acceptance_date, acceptance_expiry, "
                           "acceptance_justification, version FROM risks WHERE id = 'R-3'").fetchone()
        fields = {r[0] for r in con.execute("SELECT field FROM history WHERE entity = 'risk' AND entity_id = 'R-3'"
                                            ).fetchall()}
    assert risk[0] == "Alice" and risk[1] == store.now().date() and risk[2] == FUTURE and risk[4] == 2
    assert {"acceptance_approver", "acceptance_expiry", "acceptance_justification"} <= fields
    log = plan.acceptances(planned).row(0, named=True)
    assert (log["risk_id"], log["accepted_by"], log["residual_score"]) == ("R-3", "Alice", 9)
    assert by_id(plan.residual_after_plan(planned), "risk_id")["R-3"]["acceptance_current"] is True


def test_cli_plan(db: Path, run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"ml": ["contributor"], "alice": {"name": "Alice", "roles": ["viewer"]},
                                      "bob": {"name": "Bob", "roles": ["viewer"]}})
    as_service(monkeypatch, "ml")
    code, out, _ = run_cli("plan", "add", "--title", "Model cards", "--owner", "ML team", "--effort", "3",
                           "--due", "2026-09-01", "--risk", "R-2", "--control", "42001:A.6.2.7",
                           "--control", "27001:A.5.37", "--db", db)
    assert code == 0 and "added A-001" in out
    code, out, _ = run_cli("plan", "rank", "--format", "csv", "--db", db)
    assert code == 0 and out.splitlines()[1].startswith("1,A-001,Model cards")
    as_service(monkeypatch, "alice")  # neither the risk owner nor an approver
    code, _, err = run_cli("plan", "approve", "--risk", "R-2", "--db", db)
    assert code == 77 and "Alice <alice> (viewer) may not approve the treatment plan" in err
    assert "needs the role approver (or be the risk owner)" in err
    as_service(monkeypatch, "bob")  # the owner of R-2
    code, out, _ = run_cli("plan", "approve", "--db", db)
    assert code == 0 and "plan approved by Bob for R-2" in out
    code, out, _ = run_cli("plan", "accept-residual", "R-2", "--expires", FUTURE.isoformat(), "--justification",
                           "Monitored monthly", "--db", db)
    assert code == 0 and "residual score 4 accepted by Bob" in out
    code, out, _ = run_cli("plan", "residual", "--format", "csv", "--db", db)
    assert code == 0 and "R-2" in out
    with store.connect(db) as con:
        assert con.execute("SELECT recorded_by, recorded_by_name, channel FROM plan_approvals").fetchall() == [
            ("bob", "Bob", "cli")]
    as_service(monkeypatch, "ml")
    code, _, err = run_cli("plan", "add", "--title", "", "--effort", "0", "--db", db)
    assert code == 2 and "effort" in err and "title" in err
