"""The Statement of Applicability: rows, decisions, refusals, proposals, snapshots and diffs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine import soa, store
from engine.crosswalk.refs import parse_control
from engine.errors import NotFoundError, RuleViolation, StaleEditError
from engine.lifecycle import init_database
from tests import stores
from tests.access_support import as_service, use_roles
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    return fresh_db


def history_rows(db: Path, entity_id: str) -> list[tuple]:
    with store.connect(db) as con:
        return con.execute("SELECT action, field, old_value, new_value, actor, channel FROM history "
                           "WHERE entity = 'soa_row' AND entity_id = ? ORDER BY id", [entity_id]).fetchall()


def insert_link(db: Path, src: str, tgt: str, relationship: str, strength: int) -> None:
    (sf, sr), (tf, tr) = parse_control(src), parse_control(tgt)
    con = stores.open_db(db, read_only=False)
    con.execute("INSERT INTO crosswalk_links (source_framework, source_ref, target_framework, target_ref, "
                "relationship, strength, rationale_type, justification, origin, path, depth, n_paths) "
                "VALUES (?, ?, ?, ?, ?, ?, 'semantic', 'test link', 'authored', 'test', 1, 1)",
                [sf, sr, tf, tr, relationship, strength])
    con.close()


def test_soa_covers_every_annex_a_control_of_both_standards(db: Path) -> None:
    frame = soa.soa_frame(db)
    assert frame.height == 131
    counts = dict(frame.group_by("framework").len().iter_rows())
    assert counts == {"iso27001-2022": 93, "iso42001-2023": 38}
    assert frame.filter(pl.col("framework") == "iso27001-2022")["ref"][0] == "A.5.1"
    assert set(frame["applicability"]) == {"undecided"}
    for col in ("reasons", "risk_ids", "exclusion_reason", "justification", "status", "implementing_actions",
                "owner", "evidence", "last_verified", "counterparts", "ai_systems", "impact_assessments", "version"):
        assert col in frame.columns


def test_ensure_rows_seeds_once(db: Path) -> None:
    # init seeds every Annex A row; seeding again adds nothing.
    with store.transaction(db) as con:
        assert soa.ensure_rows(con) == 0
        assert con.execute("SELECT count(*) FROM soa_rows").fetchone()[0] == 131


def test_linked_risks_come_from_open_risks_only(db: Path) -> None:
    assert soa.get_row(db, "iso27001-2022", "A.8.7")["risk_ids"] == ["R-1"]
    assert soa.get_row(db, "iso27001-2022", "A.5.30")["risk_ids"] == []   # cited by a closed risk only


def test_set_row_changes_given_fields_bumps_version_and_records_history(db: Path) -> None:
    row = soa.set_row(db, "iso27001-2022", "A.5.1", applicable=True, reasons=["best_practice", "legal_regulatory"],
                      status="implemented", owner="CISO", evidence=["POL-001"], last_verified="2026-02-01", **WHO)
    assert row["applicable"] is True
    assert row["reasons"] == ["legal_regulatory", "best_practice"]   # canonical order
    assert row["version"] == 2
    assert str(row["last_verified"]) == "2026-02-01"
    row = soa.set_row(db, "27001", "A.5.1", owner="Deputy CISO", expected_version=2, **WHO)
    assert row["version"] == 3 and row["status"] == "implemented" and row["evidence"] == ["POL-001"]
    hist = history_rows(db, "iso27001-2022:A.5.1")
    fields = [h[1] for h in hist]
    assert fields.count("owner") == 2 and "status" in fields and "reasons" in fields
    owner_change = [h for h in hist if h[1] == "owner"][-1]
    assert owner_change[2:] == ("CISO", "Deputy CISO", "tester", "api")


def test_unchanged_edit_writes_nothing(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.5.1", owner="CISO", **WHO)
    before = len(history_rows(db, "iso27001-2022:A.5.1"))
    row = soa.set_row(db, "iso27001-2022", "A.5.1", owner="CISO", **WHO)
    assert row["version"] == 2
    assert len(history_rows(db, "iso27001-2022:A.5.1")) == before


def test_not_applicable_without_justification_is_refused_naming_the_row(db: Path) -> None:
    with pytest.raises(RuleViolation, match=r"iso27001-2022:A\.7\.4.*justification"):
        soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, **WHO)
    with pytest.raises(RuleViolation, match="justification"):
        soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification="   ", **WHO)
    row = soa.get_row(db, "iso27001-2022", "A.7.4")
    assert row["applicable"] is None and row["version"] == 1
    assert history_rows(db, "iso27001-2022:A.7.4") == []


def test_clearing_the_justification_of_an_excluded_row_is_refused(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification="No premises of our own",
                exclusion_reason="activity_not_performed", **WHO)
    with pytest.raises(RuleViolation, match="A.7.4"):
        soa.set_row(db, "iso27001-2022", "A.7.4", justification=None, **WHO)


def test_excluding_withdraws_inclusion_reasons_and_including_clears_exclusion_reason(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.7.4", applicable=True, reasons=["best_practice"], **WHO)
    row = soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification="Fully remote company",
                      exclusion_reason="activity_not_performed", **WHO)
    assert row["reasons"] == [] and row["exclusion_reason"] == "activity_not_performed"
    with pytest.raises(RuleViolation, match="cannot keep inclusion reasons"):
        soa.set_row(db, "iso27001-2022", "A.7.5", applicable=False, justification="x", reasons=["business"], **WHO)
    row = soa.set_row(db, "iso27001-2022", "A.7.4", applicable=True, reasons=["contractual"], **WHO)
    assert row["exclusion_reason"] is None and row["applicability"] == "applicable"


def soa_state(db: Path) -> tuple:
    """Every SoA row and the history: what a refusal must leave untouched."""
    with store.connect(db) as con:
        return (con.execute("SELECT * FROM soa_rows ORDER BY framework, ref").fetchall(),
                con.execute("SELECT count(*) FROM history").fetchone(),
                con.execute("SELECT count(*) FROM soa_versions").fetchone())


def test_exclusion_needs_a_reason_code_and_writes_nothing_without_one(db: Path) -> None:
    before = soa_state(db)
    with pytest.raises(RuleViolation, match=r"iso27001-2022:A\.7\.4: excluding a control needs an exclusion reason"):
        soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, justification="Fully remote", **WHO)
    assert soa_state(db) == before


def test_excluding_a_control_open_risks_cite_is_refused_naming_them_and_writes_nothing(db: Path) -> None:
    before = soa_state(db)
    with pytest.raises(RuleViolation) as err:
        soa.set_row(db, "iso27001-2022", "A.8.7", applicable=False, exclusion_reason="no_relevant_risk",
                    justification="Malware is not a concern", **WHO)
    assert "iso27001-2022:A.8.7" in str(err.value) and "R-1" in str(err.value)
    assert soa_state(db) == before
    with pytest.raises(RuleViolation, match="R-1"):   # a blank override is no override
        soa.set_row(db, "iso27001-2022", "A.8.7", applicable=False, exclusion_reason="no_relevant_risk",
                    justification="Malware is not a concern", override_reason="  ", **WHO)
    assert soa_state(db) == before


def test_an_override_with_its_reason_excludes_and_is_recorded_in_the_history(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.8.7", applicable=True, reasons=["risk_treatment"], status="implemented",
                **WHO)
    row = soa.set_row(db, "iso27001-2022", "A.8.7", applicable=False, exclusion_reason="covered_elsewhere",
                      justification="Endpoint protection is the provider's", override_reason="Provider contract "
                      "covers malware protection; R-1 to be re-treated", **WHO)
    assert row["applicability"] == "not applicable" and row["status"] == "not_started"
    assert row["reasons"] == []
    hist = history_rows(db, "iso27001-2022:A.8.7")
    assert ("exclusion_override", "risk_ids", "R-1", "Provider contract covers malware protection; R-1 to be "
            "re-treated", "tester", "api") in hist
    assert ("update", "status", "implemented", "not_started", "tester", "api") in hist


def test_excluding_resets_the_status_and_refuses_an_implemented_one(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.7.4", status="implemented", **WHO)
    with pytest.raises(RuleViolation, match="A.7.4: an excluded control cannot be implemented"):
        soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, exclusion_reason="activity_not_performed",
                    justification="Fully remote", status="implemented", **WHO)
    row = soa.set_row(db, "iso27001-2022", "A.7.4", applicable=False, exclusion_reason="activity_not_performed",
                      justification="Fully remote", **WHO)
    assert row["status"] == "not_started"


def test_cli_exclusion_refusal_names_the_control_and_risks_then_override(db: Path, run_cli) -> None:
    code, _, err = run_cli("soa", "set", "27001:A.8.7", "--not-applicable", "--exclusion-reason", "other",
                           "--justification", "Not needed", "--db", db)
    assert code == 1 and "iso27001-2022:A.8.7" in err and "R-1" in err and "Traceback" not in err
    assert soa.get_row(db, "iso27001-2022", "A.8.7")["applicable"] is None
    code, out, _ = run_cli("soa", "set", "27001:A.8.7", "--not-applicable", "--exclusion-reason", "other",
                           "--justification", "Not needed", "--override-reason", "Risk R-1 is being closed",
                           "--db", db)
    assert code == 0 and "not applicable" in out
    assert ("exclusion_override", "risk_ids", "R-1", "Risk R-1 is being closed", "tester", "cli") in [
        (*h[:5], h[5]) for h in history_rows(db, "iso27001-2022:A.8.7")] or any(
        h[0] == "exclusion_override" and h[3] == "Risk R-1 is being closed" for h in history_rows(
            db, "iso27001-2022:A.8.7"))


def test_approving_with_undecided_rows_needs_a_recorded_confirmation(db: Path) -> None:
    before = soa_state(db)
    with pytest.raises(RuleViolation, match=r"131 row\(s\) undecided \(iso27001-2022:A\.5\.1, .* and 126 more\)"):
        soa.snapshot(db, approved_by="Dana CEO", **WHO)
    assert soa_state(db) == before
    assert soa.approval_check(db)["undecided"][:1] == ["iso27001-2022:A.5.1"]
    v = soa.snapshot(db, approved_by="Dana CEO", confirmation="Board wants a first baseline", **WHO)
    meta = soa.versions(db).row(0, named=True)
    assert (v, meta["n_undecided"], meta["confirmation"]) == (1, 131, "Board wants a first baseline")
    with store.connect(db) as con:
        got = con.execute("SELECT action, new_value FROM history WHERE entity = 'soa_version' "
                          "AND action = 'confirm_incomplete'").fetchall()
    assert got == [("confirm_incomplete", "Board wants a first baseline")]


def test_approving_with_error_findings_needs_a_confirmation(db: Path) -> None:
    with store.transaction(db) as con:
        soa.ensure_rows(con)
        con.execute("UPDATE soa_rows SET applicable = true, reasons = ['best_practice']")
        con.execute("UPDATE risks SET acceptance_approver = 'CEO', acceptance_expiry = DATE '2000-01-01' "
                    "WHERE id = 'R-3'")
    check = soa.approval_check(db)
    assert check["undecided"] == [] and "acceptance_expired: R-3" in check["errors"]
    with pytest.raises(RuleViolation, match=r"error-level audit finding\(s\) open \(acceptance_expired: R-3"):
        soa.snapshot(db, approved_by="Dana CEO", **WHO)
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Acceptance renewal is on the agenda", **WHO)
    meta = soa.versions(db).row(0, named=True)
    assert (meta["n_undecided"], meta["n_error_findings"]) == (0, len(check["errors"]))


def test_stale_edit_is_refused_naming_record_and_versions(db: Path) -> None:
    soa.set_row(db, "iso42001-2023", "A.6.2.8", status="planned", expected_version=1, **WHO)
    with pytest.raises(StaleEditError) as err:
        soa.set_row(db, "iso42001-2023", "A.6.2.8", status="partial", expected_version=1, **WHO)
    assert "iso42001-2023:A.6.2.8" in str(err.value)
    assert "version 1" in str(err.value) and "version 2" in str(err.value)
    assert soa.get_row(db, "iso42001-2023", "A.6.2.8")["status"] == "planned"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reasons": ["because"]}, "unknown inclusion reason because"),
    ({"status": "done"}, "unknown status 'done'"),
    ({"applicable": False, "justification": "x", "exclusion_reason": "lazy"}, "unknown exclusion reason 'lazy'"),
    ({"last_verified": "yesterday"}, "not a date"),
])
def test_invalid_values_are_refused(db: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        soa.set_row(db, "iso27001-2022", "A.5.2", **kwargs, **WHO)


def test_controls_outside_the_soa_are_refused(db: Path) -> None:
    with pytest.raises(NotFoundError, match="clause"):
        soa.set_row(db, "iso27001-2022", "6.1.3", status="planned", **WHO)
    with pytest.raises(NotFoundError, match="no such control"):
        soa.set_row(db, "iso27001-2022", "A.99.1", status="planned", **WHO)
    with pytest.raises(NotFoundError, match="ambiguous"):
        parse_control("A.5.2")
    assert parse_control("42001:A.6.2.8") == ("iso42001-2023", "A.6.2.8")


def test_counterparts_list_the_other_standard_with_relationship_and_strength(db: Path) -> None:
    with store.connect(db) as con:
        src, tgt, rel, strength = con.execute(
            "SELECT source_ref, target_ref, relationship, strength FROM crosswalk_links l "
            "JOIN controls c ON c.framework = l.target_framework AND c.ref = l.target_ref "
            "JOIN controls s ON s.framework = l.source_framework AND s.ref = l.source_ref "
            "WHERE source_framework = 'iso27001-2022' AND target_framework = 'iso42001-2023' "
            "AND origin IN ('authored', 'inverse') AND c.kind = 'annex_a_control' "
            "AND s.kind = 'annex_a_control' ORDER BY s.ordinal, c.ordinal LIMIT 1").fetchone()
    row = soa.get_row(db, "iso27001-2022", src)
    assert f"iso42001-2023:{tgt} {rel} ({strength})" in row["counterparts"]
    assert all(c.startswith("iso42001-2023:") for c in row["counterparts"])


def test_ai_systems_in_scope_and_their_impact_assessments(db: Path) -> None:
    row = soa.get_row(db, "iso42001-2023", "A.6.2.6")
    assert row["ai_systems"] == ["AI-1"] and row["impact_assessments"] == ["IA-1"]
    row = soa.set_row(db, "iso42001-2023", "A.6.2.6", ai_systems=["AI-2"], **WHO)
    assert row["ai_systems"] == ["AI-1", "AI-2"] and row["impact_assessments"] == ["IA-1"]
    with pytest.raises(RuleViolation, match="scoped on iso42001-2023 rows only"):
        soa.set_row(db, "iso27001-2022", "A.5.1", ai_systems=["AI-1"], **WHO)
    with pytest.raises(NotFoundError, match="AI-9"):
        soa.set_row(db, "iso42001-2023", "A.6.2.6", ai_systems=["AI-9"], **WHO)


def test_organisation_controls_join_the_soa_and_survive_init(db: Path) -> None:
    row = soa.add_control(db, "ORG.1", "Clean desk audits", summary="Monthly walk-through.", **WHO)
    assert row["framework"] == "org" and row["custom"] is True and row["applicability"] == "undecided"
    assert soa.soa_frame(db).height == 132
    with pytest.raises(RuleViolation, match="already exists"):
        soa.add_control(db, "ORG.1", "Again", **WHO)
    with pytest.raises(RuleViolation, match="published standard"):
        soa.add_control(db, "X.1", "Sneaky", framework="iso27001-2022", **WHO)
    soa.set_row(db, "org", "ORG.1", applicable=True, reasons=["business"], **WHO)
    init_database(db)
    row = soa.get_row(db, "org", "ORG.1")
    assert row["applicable"] is True and row["title"] == "Clean desk audits"


# ------------------------------------------------------------------------------------------ proposals

def test_a_control_cited_by_a_risk_is_proposed_applicable_not_applied(db: Path) -> None:
    props = soa.proposals(db)
    treat = props.filter(pl.col("kind") == "risk_treatment")
    assert set(treat["proposal_id"]) == {"iso27001-2022:A.8.7/risk_treatment", "iso27001-2022:A.8.13/risk_treatment",
                                         "iso42001-2023:A.6.2.6/risk_treatment"}
    assert treat.filter(pl.col("ref") == "A.8.7")["basis"][0] == "cited by R-1"
    assert soa.get_row(db, "iso27001-2022", "A.8.7")["applicable"] is None   # nothing applied yet
    row = soa.accept_proposal(db, "iso27001-2022:A.8.7/risk_treatment", **WHO)
    assert row["applicable"] is True and row["reasons"] == ["risk_treatment"]
    assert "iso27001-2022:A.8.7/risk_treatment" not in set(soa.proposals(db)["proposal_id"])
    assert ("accept_proposal", "risk_treatment") in [h[:2] for h in history_rows(db, "iso27001-2022:A.8.7")]


def test_accepting_keeps_existing_reasons(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.8.7", applicable=True, reasons=["contractual"], **WHO)
    assert "iso27001-2022:A.8.7/risk_treatment" in set(soa.proposals(db)["proposal_id"])
    row = soa.accept_proposal(db, "iso27001-2022:A.8.7/risk_treatment", **WHO)
    assert row["reasons"] == ["risk_treatment", "contractual"]


def test_implemented_27001_control_proposes_its_42001_counterparts(db: Path) -> None:
    insert_link(db, "iso27001-2022:A.5.15", "iso42001-2023:A.4.2", "equal", 9)
    insert_link(db, "iso27001-2022:A.5.15", "iso42001-2023:A.4.3", "intersects_with", 4)
    assert soa.proposals(db).filter(pl.col("kind") == "counterpart_status").filter(
        pl.col("ref").is_in(["A.4.2", "A.4.3"])).height == 0
    soa.set_row(db, "iso27001-2022", "A.5.15", applicable=True, reasons=["best_practice"], status="implemented",
                **WHO)
    cover = soa.proposals(db).filter(pl.col("kind") == "counterpart_status")
    by_ref = {r["ref"]: r for r in cover.to_dicts()}
    assert by_ref["A.4.2"]["proposed_status"] == "implemented"
    assert "iso27001-2022:A.5.15 implemented, equal (9)" in by_ref["A.4.2"]["basis"]
    assert by_ref["A.4.3"]["proposed_status"] == "partial"
    # an excluded counterpart is not proposed; an already-implemented one neither
    soa.set_row(db, "iso42001-2023", "A.4.3", applicable=False, justification="No such resources",
                exclusion_reason="activity_not_performed", **WHO)
    assert "iso42001-2023:A.4.3/counterpart_status" not in set(soa.proposals(db)["proposal_id"])
    n = soa.accept_proposals(db, kind="counterpart_status", **WHO)
    assert n >= 1
    assert soa.get_row(db, "iso42001-2023", "A.4.2")["status"] == "implemented"
    assert soa.proposals(db).filter(pl.col("kind") == "counterpart_status").height == 0   # no cascade back


def test_rejected_proposal_needs_justification_and_returns_when_its_basis_changes(db: Path) -> None:
    pid = "iso27001-2022:A.8.13/risk_treatment"
    with pytest.raises(RuleViolation, match="justification"):
        soa.reject_proposal(db, pid, justification=" ", **WHO)
    soa.reject_proposal(db, pid, justification="Backups are the supplier's job", **WHO)
    assert pid not in set(soa.proposals(db)["proposal_id"])
    with pytest.raises(NotFoundError, match="no open proposal"):
        soa.accept_proposal(db, pid, **WHO)
    con = stores.open_db(db, read_only=False)
    con.execute("INSERT INTO risk_controls (risk_id, framework, ref) VALUES ('R-3', 'iso27001-2022', 'A.8.13')")
    con.close()
    again = soa.proposals(db).filter(pl.col("proposal_id") == pid)
    assert again["basis"][0] == "cited by R-1, R-3"


def test_accept_proposal_refuses_a_stale_row(db: Path) -> None:
    pid = "iso27001-2022:A.8.7/risk_treatment"
    seen = soa.proposals(db).filter(pl.col("proposal_id") == pid)["row_version"][0]
    soa.set_row(db, "iso27001-2022", "A.8.7", owner="Ops", **WHO)
    with pytest.raises(StaleEditError):
        soa.accept_proposal(db, pid, expected_version=seen, **WHO)


# ------------------------------------------------------------------------------------ versions, diffs

def test_snapshot_then_a_change_then_diff_reports_exactly_that_change(db: Path) -> None:
    soa.set_row(db, "iso27001-2022", "A.5.1", applicable=True, reasons=["best_practice"], status="partial", **WHO)
    v1 = soa.snapshot(db, approved_by="Dana CEO", confirmation="Working copy approved for the test", **WHO)
    soa.set_row(db, "iso27001-2022", "A.5.1", status="implemented", **WHO)
    v2 = soa.snapshot(db, approved_by="Dana CEO", note="after audit", confirmation="Working copy approved for the test", **WHO)
    assert (v1, v2) == (1, 2)
    d = soa.diff(db, v1, v2)
    assert d.to_dicts() == [{"change": "changed", "framework": "iso27001-2022", "ref": "A.5.1",
                             "title": "Policies for information security", "field": "status",
                             "old_value": "partial", "new_value": "implemented"}]
    assert soa.diff(db, v2, "current").height == 0
    meta = soa.versions(db).row(0, named=True)
    assert meta["approved_by"] == "Dana CEO" and meta["n_rows"] == 131 and meta["n_applicable"] == 1
    assert meta["approved_at"] is not None


def test_snapshot_is_frozen_against_later_changes(db: Path) -> None:
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Working copy approved for the test", **WHO)
    soa.set_row(db, "iso27001-2022", "A.5.2", applicable=False, justification="Sole trader",
                exclusion_reason="activity_not_performed", **WHO)
    frozen = soa.soa_frame(db, version=1).filter(pl.col("ref") == "A.5.2")
    assert frozen.filter(pl.col("framework") == "iso27001-2022")["applicability"][0] == "undecided"
    d = soa.diff(db, 1)
    assert set(d["field"]) == {"applicable", "exclusion_reason", "justification"}
    assert d.filter(pl.col("field") == "applicable")["new_value"][0] == "not applicable"


def test_diff_lists_added_and_removed_rows(db: Path) -> None:
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Working copy approved for the test", **WHO)
    soa.add_control(db, "ORG.7", "Board AI ethics review", **WHO)
    soa.snapshot(db, approved_by="Dana CEO", confirmation="Working copy approved for the test", **WHO)
    d = soa.diff(db, 1, 2)
    assert d.select("change", "framework", "ref").to_dicts() == [{"change": "added", "framework": "org",
                                                                    "ref": "ORG.7"}]
    back = soa.diff(db, 2, 1)
    assert back["change"].to_list() == ["removed"]


def test_snapshot_needs_an_approver_and_versions_must_exist(db: Path) -> None:
    with pytest.raises(RuleViolation, match="approving"):
        soa.snapshot(db, approved_by="  ", **WHO)
    with pytest.raises(NotFoundError, match="no SoA version 4"):
        soa.diff(db, 4, "current")


def test_snapshot_refuses_an_exclusion_without_justification(db: Path) -> None:
    with store.transaction(db) as con:
        soa.ensure_rows(con)
        con.execute("UPDATE soa_rows SET applicable = false WHERE framework = 'iso27001-2022' AND ref = 'A.5.9'")
    with pytest.raises(RuleViolation, match="iso27001-2022:A.5.9"):
        soa.snapshot(db, approved_by="Dana CEO", confirmation="Working copy approved for the test", **WHO)


# ----------------------------------------------------------------------------------------------- CLI

def test_cli_set_snapshot_diff(db: Path, run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"ann": ["contributor"], "dana": {"name": "Dana CEO", "roles": ["approver"]}})
    as_service(monkeypatch, "ann")
    code, out, err = run_cli("soa", "set", "iso27001-2022:A.5.10", "--not-applicable", "--db", db)
    assert code == 1 and "iso27001-2022:A.5.10" in err and "justification" in err and "Traceback" not in err
    code, out, _ = run_cli("soa", "set", "27001:A.5.10", "--applicable", "--reason", "legal_regulatory",
                           "--status", "planned", "--expected-version", "1", "--db", db)
    assert code == 0 and "version 2" in out
    code, _, err = run_cli("soa", "snapshot", "--db", db)
    assert code == 77 and "ann (contributor) may not approve a version of the Statement" in err
    as_service(monkeypatch, "dana")
    code, out, err = run_cli("soa", "snapshot", "--db", db)
    assert code == 1 and "130 row(s) undecided" in err and "Traceback" not in err
    code, out, _ = run_cli("soa", "snapshot", "--confirm", "First cut, decisions continue", "--db", db)
    assert code == 0 and "SoA version 1 approved by Dana CEO" in out
    as_service(monkeypatch, "ann")
    run_cli("soa", "set", "27001:A.5.10", "--status", "implemented", "--db", db)
    as_service(monkeypatch, "dana")
    run_cli("soa", "snapshot", "--confirm", "Second cut", "--db", db)
    as_service(monkeypatch, "ann")
    code, out, _ = run_cli("soa", "diff", "1", "2", "--format", "csv", "--db", db)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[1:] == ["changed,iso27001-2022,A.5.10,Acceptable use of information and other associated assets,"
                         "status,planned,implemented"] or len(lines) == 2
    assert "status,planned,implemented" in lines[1]
    code, out, err = run_cli("soa", "set", "27001:A.5.10", "--status", "partial", "--expected-version", "1",
                             "--db", db)
    assert code == 1 and "version 1" in err and "version 3" in err


def test_cli_propose_and_accept(db: Path, run_cli) -> None:
    code, out, _ = run_cli("soa", "propose", "--format", "csv", "--db", db)
    assert code == 0 and "iso27001-2022:A.8.7/risk_treatment" in out
    code, out, _ = run_cli("soa", "accept-proposals", "iso27001-2022:A.8.7/risk_treatment", "--db", db)
    assert code == 0 and "1 proposal(s) accepted" in out
    code, out, _ = run_cli("soa", "show", "--framework", "27001", "--format", "csv", "--db", db)
    line = next(x for x in out.splitlines() if ",A.8.7," in x)
    assert "applicable" in line and "risk_treatment" in line and "R-1" in line
