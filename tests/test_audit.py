"""Consistency audits: each rule finds exactly the rows that break it, and the view agrees with the files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine import audit, plan, soa, store
from tests import stores
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}
RULES = {"soa_risk_reason_uncited", "soa_excluded_without_justification", "soa_excluded_but_cited",
         "soa_included_without_reason", "soa_ai_system_without_impact_assessment", "risk_above_appetite_untreated",
         "acceptance_expired", "acceptance_expiring", "risk_review_overdue", "action_overdue",
         "mapping_unknown_control", "crosswalk_tailoring_base_changed",
         "ai_scenario_open", "ai_scenario_without_impact_assessment", "ai_usage_unregistered"}


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    return fresh_db


def sql(db: Path, statement: str, params: list | None = None) -> None:
    con = stores.open_db(db, read_only=False)
    con.execute(statement, params or [])
    con.close()


def found(db: Path, rule: str, today: date | None = None) -> list[tuple[str, str]]:
    frame = audit.run_audits(db, today=today, rules=[rule])
    assert set(frame["rule"]) <= {rule}
    return [(r["entity"], r["entity_id"]) for r in frame.to_dicts()]


def test_every_rule_file_has_a_purpose_and_the_finding_columns(fresh_db: Path) -> None:
    assert set(audit.rule_names()) == RULES
    with store.connect(fresh_db) as con:
        for path in audit.audit_files():
            text = path.read_text()
            assert text.startswith(f"-- {path.stem}: "), path.name
            assert len(audit.rule_purpose(path)) > 40
            cols = [d[0] for d in con.execute(f"SELECT * FROM ({text}) LIMIT 0").description]
            assert cols == audit.FINDING_COLUMNS, path.name


def test_a_fresh_database_is_healthy(fresh_db: Path) -> None:
    assert audit.run_audits(fresh_db).height == 0


def test_the_view_is_the_union_of_the_rule_files(db: Path) -> None:
    assert not (store.VIEWS_DIR / "v_audit_findings.sql").exists(), "the view is built from the rule files"
    assert "v_audit_findings" in store.view_names()
    sql(db, "INSERT INTO risk_controls (risk_id, framework, ref) VALUES ('R-3', 'iso27001-2022', 'A.5.99')")
    with store.connect(db) as con:
        view = con.execute("SELECT * FROM v_audit_findings ORDER BY ALL").fetchall()
    assert view == sorted(audit.run_audits(db).rows())
    # the seeded AI systems were never assessed for risk: AI-1 is in scope of the SoA, AI-2 has no assessment
    assert sorted((r[0], r[3]) for r in view) == [
        ("ai_scenario_open", "AI-1"), ("ai_scenario_without_impact_assessment", "AI-2"),
        ("mapping_unknown_control", "R-3 -> iso27001-2022:A.5.99"), ("risk_above_appetite_untreated", "R-3")]


def settle_ai_identification(db: Path) -> None:
    """Record every scenario of the seeded AI systems as decided and assess AI-2, so that the AI
    identification rules find nothing (written directly, as the other seeded data is)."""
    sql(db, "INSERT INTO ai_scenario_decisions SELECT ai_system_id, scenario_id, 'not_applicable', NULL, "
            "'seeded test system', 'tester', now()::TIMESTAMP, 'api' FROM v_ai_risk_identification")
    sql(db, "INSERT INTO impact_assessments (id, ai_system_id, title) VALUES ('IA-2', 'AI-2', 'Chatbot')")


def test_the_view_follows_the_rule_files_when_the_views_are_created(db: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule file added (or changed) is in v_audit_findings after the next `riskmap init`: the view is
    generated from the files, never kept by hand."""
    rules = tmp_path / "audits"
    rules.mkdir()
    for path in audit.audit_files():
        (rules / path.name).write_text(path.read_text())
    (rules / "risk_without_owner.sql").write_text(
        "-- risk_without_owner: a risk nobody owns.\n"
        "SELECT 'risk_without_owner' AS rule, 'warning' AS severity, 'risk' AS entity, id AS entity_id,\n"
        "       'no owner' AS detail FROM risks WHERE owner IS NULL\n")
    sql(db, "UPDATE risks SET owner = NULL WHERE id = 'R-2'")
    monkeypatch.setattr(audit, "AUDITS_DIR", rules)
    with store.transaction(db) as con:
        assert "v_audit_findings" in store.create_views(con)
    with store.connect(db) as con:
        got = con.execute("SELECT entity_id FROM v_audit_findings WHERE rule = 'risk_without_owner'").fetchall()
    assert got == [("R-2",)]


def test_risk_treatment_reason_without_a_citing_risk(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.5.7", applicable=True, reasons=["risk_treatment"], **WHO)
    soa.set_row(db, "iso27001-2022", "A.8.7", applicable=True, reasons=["risk_treatment"], **WHO)   # R-1 cites it
    assert found(db, "soa_risk_reason_uncited") == [("soa_row", "iso27001-2022:A.5.7")]


def test_exclusion_without_justification_written_behind_the_engines_back(db: Path) -> None:
    with store.transaction(db) as con:
        soa.ensure_rows(con)
    sql(db, "UPDATE soa_rows SET applicable = false WHERE framework = 'iso42001-2023' AND ref = 'A.10.4'")
    soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification="Remote only",
                exclusion_reason="activity_not_performed", **WHO)
    assert found(db, "soa_excluded_without_justification") == [("soa_row", "iso42001-2023:A.10.4")]


def test_excluded_control_cited_by_a_risk_and_inclusion_without_reason(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.8.7", applicable=False, justification="We trust users",
                exclusion_reason="other", override_reason="Kept for the audit's own check", **WHO)
    soa.set_row(db, "iso27001-2022", "A.5.1", applicable=True, **WHO)
    assert found(db, "soa_excluded_but_cited") == [("soa_row", "iso27001-2022:A.8.7")]
    assert found(db, "soa_included_without_reason") == [("soa_row", "iso27001-2022:A.5.1")]


def test_risk_above_appetite_with_neither_treatment_nor_acceptance(db: Path) -> None:
    assert found(db, "risk_above_appetite_untreated") == [("risk", "R-3")]   # 9 > 8, untreated
    sql(db, "UPDATE risks SET treatment = 'retain' WHERE id = 'R-3'")
    detail = audit.run_audits(db, rules=["risk_above_appetite_untreated"])["detail"][0]
    assert "retained without a recorded acceptance" in detail and "score 9" in detail
    plan.accept_residual(db, "R-3", accepted_by="Alice", expires_on=date(2099, 1, 1),
                              justification="Second supplier on call", **WHO)
    assert found(db, "risk_above_appetite_untreated") == []


def test_expired_acceptance(db: Path) -> None:
    plan.accept_residual(db, "R-3", accepted_by="Alice", expires_on=date(2099, 1, 1), justification="ok", **WHO)
    assert found(db, "acceptance_expired") == []
    assert found(db, "acceptance_expired", today=date(2099, 1, 2)) == [("risk", "R-3")]


def test_overdue_action(db: Path) -> None:
    plan.add_action(db, title="Patch", due_date="2030-01-31", risk_ids=["R-1"], **WHO)
    plan.add_action(db, title="Done already", due_date="2030-01-01", status="done", **WHO)
    assert found(db, "action_overdue", today=date(2030, 1, 31)) == []
    assert found(db, "action_overdue", today=date(2030, 2, 1)) == [("action", "A-001")]


def test_ai_system_in_scope_without_impact_assessment(db: Path) -> None:
    assert found(db, "soa_ai_system_without_impact_assessment") == []   # AI-1 has IA-1
    soa.set_row(db, "iso42001-2023", "A.6.2.6", ai_systems=["AI-2"], **WHO)
    got = audit.run_audits(db, rules=["soa_ai_system_without_impact_assessment"]).to_dicts()
    assert [(g["entity_id"], g["detail"]) for g in got] == [
        ("iso42001-2023:A.6.2.6", "AI systems in scope without an impact assessment: AI-2")]
    sql(db, "INSERT INTO impact_assessments (id, ai_system_id, title) VALUES ('IA-2', 'AI-2', 'Chatbot')")
    assert found(db, "soa_ai_system_without_impact_assessment") == []


def test_mapping_to_an_unknown_control(db: Path) -> None:
    sql(db, "INSERT INTO risk_controls (risk_id, framework, ref) VALUES ('R-3', 'iso27001-2022', 'A.5.99')")
    sql(db, "INSERT INTO action_controls VALUES ('A-9', 'iso42001-2023', 'A.5.2')")   # A.5.2 exists in 42001
    sql(db, "INSERT INTO action_controls VALUES ('A-9', 'iso42001-2023', 'A.11.1')")
    assert sorted(found(db, "mapping_unknown_control")) == [
        ("action_control", "A-9 -> iso42001-2023:A.11.1"), ("risk_control", "R-3 -> iso27001-2022:A.5.99")]


def test_cli_audit_strict_fails_only_when_something_is_found(db: Path, fresh_db: Path, run_cli) -> None:
    settle_ai_identification(db)
    code, out, _ = run_cli("audit", "--db", db)
    assert code == 0 and "risk_above_appetite_untreated" in out and "R-3" in out
    code, out, err = run_cli("audit", "--strict", "--db", db)
    assert code != 0 and "1 audit finding" in err
    plan.accept_residual(db, "R-3", accepted_by="Alice", expires_on=date(2099, 1, 1), justification="ok", **WHO)
    code, out, _ = run_cli("audit", "--strict", "--db", db)
    assert code == 0 and "no findings" in out
    code, out, _ = run_cli("audit", "--strict", "--today", "2099-06-01", "--format", "csv", "--db", db)
    assert code != 0 and "acceptance_expired" in out
