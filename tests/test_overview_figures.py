"""The Overview's figures: risks counted at the score they stand at today (done actions applied, inherent
when no current score), and the lists needing attention as audits (overdue reviews and actions, acceptances
expired or expiring within 30 days)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine import audit, plan
from tests import stores
from tests.test_soa_support import seed_register

WHO = {"actor": "tester", "channel": "api"}
TODAY = date(2026, 3, 1)


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    return fresh_db


def sql(db: Path, statement: str) -> None:
    con = stores.open_db(db, read_only=False)
    try:
        con.execute(statement)
    finally:
        con.close()


def by_id(picture: plan.Picture) -> dict[str, dict]:
    return {r["id"]: r for r in picture.risks.iter_rows(named=True)}


def test_open_risks_count_at_their_current_score_else_inherent(db: Path) -> None:
    sql(db, "UPDATE risks SET current_likelihood = NULL, current_impact = NULL WHERE id = 'R-3'")
    pic = plan.current_picture(db, today=TODAY)
    rows = by_id(pic)
    assert sorted(rows) == ["R-1", "R-2", "R-3"]           # R-4 is closed
    assert (rows["R-1"]["score"], rows["R-1"]["score_basis"]) == (20, "current")
    assert (rows["R-3"]["score"], rows["R-3"]["score_basis"]) == (9, "inherent")
    assert pic.above_appetite == 3 and pic.by_basis == {"current": 2, "inherent": 1}
    assert "1 at their inherent score (no current score given)" in pic.basis_text()


def test_done_actions_lower_the_picture_to_the_target_residual_score(db: Path) -> None:
    a1 = plan.add_action(db, title="Offline backups", risk_ids=["R-1"], **WHO)
    plan.add_action(db, title="Drift monitoring", risk_ids=["R-2"], status="in_progress", **WHO)
    assert plan.current_picture(db, today=TODAY).above_appetite == 3   # nothing done yet
    plan.update_action(db, a1, status="done", **WHO)
    pic = plan.current_picture(db, today=TODAY)
    rows = by_id(pic)
    assert (rows["R-1"]["score"], rows["R-1"]["score_basis"], rows["R-1"]["above_appetite"]) == (
        6, "residual (actions done)", False)
    assert (rows["R-2"]["score"], rows["R-2"]["score_basis"]) == (12, "current")   # its action is still open
    assert pic.above_appetite == 2
    # a second, still open, action on R-1 puts it back at its current score until that is done too
    plan.add_action(db, title="Restore drills", risk_ids=["R-1"], **WHO)
    assert by_id(plan.current_picture(db, today=TODAY))["R-1"]["score"] == 20


def test_a_done_action_on_a_risk_without_a_target_residual_keeps_the_current_score(db: Path) -> None:
    a = plan.add_action(db, title="Second supplier", risk_ids=["R-3"], **WHO)
    plan.update_action(db, a, status="done", **WHO)
    row = by_id(plan.current_picture(db, today=TODAY))["R-3"]
    assert (row["score"], row["score_basis"]) == (9, "current")


def test_overdue_reviews_and_expired_or_expiring_acceptances_are_audits(db: Path) -> None:
    sql(db, "UPDATE risks SET next_review = DATE '2026-02-01' WHERE id IN ('R-2', 'R-4')")   # R-4 is closed
    sql(db, "UPDATE risks SET next_review = DATE '2026-03-01' WHERE id = 'R-3'")              # due today
    sql(db, "UPDATE risks SET acceptance_approver = 'CEO', acceptance_expiry = DATE '2026-02-15' WHERE id = 'R-1'")
    sql(db, "UPDATE risks SET acceptance_approver = 'CFO', acceptance_expiry = DATE '2026-03-31' WHERE id = 'R-3'")
    sql(db, "UPDATE risks SET acceptance_approver = 'CFO', acceptance_expiry = DATE '2026-04-01' WHERE id = 'R-2'")
    found = audit.run_audits(db, today=TODAY, rules=["risk_review_overdue", "acceptance_expired",
                                                     "acceptance_expiring"])
    got = sorted((r["rule"], r["entity_id"]) for r in found.iter_rows(named=True))
    assert got == [("acceptance_expired", "R-1"), ("acceptance_expiring", "R-3"), ("risk_review_overdue", "R-2")]
    detail = found.filter(found["rule"] == "risk_review_overdue")["detail"][0]
    assert detail == "review was due on 2026-02-01, owner Bob"
    later = audit.run_audits(db, today=date(2026, 3, 2), rules=["acceptance_expiring"])
    assert sorted(later["entity_id"].to_list()) == ["R-2", "R-3"]    # 1 April is now within 30 days


def test_every_headline_has_a_definition() -> None:
    from engine.plan.picture import ATTENTION_RULES, DEFINITIONS

    assert set(ATTENTION_RULES) <= set(DEFINITIONS)
    assert all(rule in audit.rule_names() for rules in ATTENTION_RULES.values() for rule in rules)
    assert "inherent" in DEFINITIONS["above_appetite"] and "residual" in DEFINITIONS["above_appetite"]
