"""The organisation's tailoring of the crosswalk: stored apart from the shipped records, recorded in the
history, winning over the shipped record in every computation, surviving init and upgrades of the shipped
files, and flagged when the shipped record beneath it changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from engine import audit, crosswalk, plan, soa, store
from engine.crosswalk import coverage, tailoring
from engine.errors import InputError, StaleEditError
from engine.lifecycle import init_database

from . import stores

pytestmark = pytest.mark.both_stores

WHO = {"actor": "Ada Owner", "channel": "cli"}
LOGS = ("iso42001-2023", "A.6.2.8")        # AI system event logs
LOGGING = ("iso27001-2022", "A.8.15")      # logging: shipped intersects_with (7) with LOGS


def link(db: Path, source: tuple[str, str], target: tuple[str, str]) -> tuple | None:
    with store.connect(db) as con:
        return con.execute("SELECT relationship, strength, origin, provenance, review_status, reviewer "
                           "FROM v_crosswalk WHERE source_framework = ? AND source_ref = ? AND target_framework = ? "
                           "AND target_ref = ?", [*source, *target]).fetchone()


def coverage_of(db: Path, framework: str, ref: str, by: str) -> tuple:
    with store.connect(db) as con:
        return con.execute("SELECT coverage, n_links, max_strength FROM v_coverage WHERE framework = ? AND ref = ? "
                           "AND counterpart_framework = ?", [framework, ref, by]).fetchone()


def test_a_dispute_wins_in_links_coverage_and_counterparts(fresh_db: Path) -> None:
    assert link(fresh_db, LOGS, LOGGING)[:4] == ("intersects_with", 7, "authored", "shipped")
    assert coverage_of(fresh_db, *LOGS, "iso27001-2022")[0] == "partial"
    row = tailoring.tailor(fresh_db, LOGS, LOGGING, "dispute", reason="Our AI platform keeps its own logs.", **WHO)
    assert (row["id"], row["relationship"], row["strength"], row["base_relationship"]) == \
        ("T-0001", "no_relationship", 0, "intersects_with")
    assert link(fresh_db, LOGS, LOGGING) == ("no_relationship", 0, "authored", "tailored", "authored", None)
    assert link(fresh_db, LOGGING, LOGS)[:4] == ("no_relationship", 0, "inverse", "tailored")
    assert coverage_of(fresh_db, *LOGS, "iso27001-2022") == ("none", 0, 0)   # A.8.15 was its only link
    found = coverage.counterparts(fresh_db, *LOGS).filter(pl.col("target_ref") == "A.8.15")
    assert found.select("relationship", "provenance", "tailoring", "beneath").row(0) == \
        ("no_relationship", "tailored", "dispute", "shipped: intersects_with (7)")
    gap = coverage.gaps(fresh_db, "iso27001-2022", "iso42001-2023", ["A.8.15"])
    assert gap.rows.filter(pl.col("ref") == "A.6.2.8")["coverage"][0] == "none"
    # the tailored record is in the shipped table's place only in computations: the shipped one is untouched
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT relationship, strength FROM mappings WHERE source_ref = 'A.6.2.8' "
                           "AND target_ref = 'A.8.15'").fetchone() == ("intersects_with", 7)


def test_the_soa_and_the_plan_follow_the_tailoring(fresh_db: Path) -> None:
    # 42001 7.5.3 equals 27001 7.5.3 (shipped); an action on 27001 A.5.9 reaches 42001 A.4.5 via the crosswalk
    aid = plan.add_action(fresh_db, title="Inventory", controls=["iso27001-2022:A.5.9"], **WHO)
    before = plan.ranking(fresh_db).filter(plan_row(aid))["controls_via_crosswalk"][0].to_list()
    assert "iso42001-2023:A.4.5" in before
    soa_before = soa.soa_frame(fresh_db).filter(soa_row("iso42001-2023", "A.4.5"))["counterparts"][0].to_list()
    assert any(c.startswith("iso27001-2022:A.5.9 ") for c in soa_before)
    tailoring.tailor(fresh_db, "iso42001-2023:A.4.5", "iso27001-2022:A.5.9", "weaken",
                     relationship="intersects_with", reason="Our GPU pool sits outside the asset inventory.", **WHO)
    after = plan.ranking(fresh_db).filter(plan_row(aid))["controls_via_crosswalk"][0]
    assert "iso42001-2023:A.4.5" not in (after.to_list() if after is not None else [])
    soa_after = soa.soa_frame(fresh_db).filter(soa_row("iso42001-2023", "A.4.5"))["counterparts"][0].to_list()
    assert "iso27001-2022:A.5.9 intersects_with (7)" in soa_after


def plan_row(aid: str) -> pl.Expr:
    return pl.col("action_id") == aid


def soa_row(fw: str, ref: str) -> pl.Expr:
    return (pl.col("framework") == fw) & (pl.col("ref") == ref)


def test_a_decision_given_the_other_way_round_is_kept_in_the_shipped_direction(fresh_db: Path) -> None:
    row = tailoring.tailor(fresh_db, LOGGING, LOGS, "strengthen", strength=9,
                           reason="Model decisions go into the same central log.", **WHO)
    assert (row["source_framework"], row["source_ref"], row["target_ref"]) == ("iso42001-2023", "A.6.2.8", "A.8.15")
    assert link(fresh_db, LOGS, LOGGING)[:4] == ("intersects_with", 9, "authored", "tailored")
    # a subset_of pair tailored from the 27001 side reads inversely: A.5.9 superset_of A.4.5
    row = tailoring.tailor(fresh_db, "iso27001-2022:A.5.9", "iso42001-2023:A.4.5", "strengthen",
                           relationship="equal", reason="Our inventory is the AI resource register.", **WHO)
    assert (row["source_ref"], row["relationship"], row["base_relationship"]) == ("A.4.5", "equal", "subset_of")


def test_accept_records_a_named_review(fresh_db: Path) -> None:
    row = tailoring.tailor(fresh_db, LOGS, LOGGING, "accept", **WHO)
    assert (row["relationship"], row["strength"], row["review_status"], row["reviewer"], row["author"]) == \
        ("intersects_with", 7, "reviewed", "Ada Owner", "riskmap crosswalk team")
    assert link(fresh_db, LOGS, LOGGING)[3:] == ("tailored", "reviewed", "Ada Owner")


@pytest.mark.parametrize(("decision", "kwargs", "message"), [
    ("strengthen", {"strength": 5}, "5) is not stronger than the record beneath, intersects_with (7)"),
    ("weaken", {"strength": 7}, "nothing to weaken: the record beneath is already intersects_with (7)"),
    ("dispute", {}, "a decision to dispute gives its reason"),
    ("add", {"relationship": "equal", "strength": 5}, "this pair is already linked"),
    ("accept", {"strength": 3}, "accept takes the record as it is"),
    ("strengthen", {"strength": 11}, "strength out of range"),
])
def test_wrong_decisions_are_refused_with_the_reason(fresh_db: Path, decision: str, kwargs: dict,
                                                     message: str) -> None:
    reason = None if decision == "dispute" else "because"
    with pytest.raises(InputError) as err:
        tailoring.tailor(fresh_db, LOGS, LOGGING, decision, reason=reason, **kwargs, **WHO)
    assert message in str(err.value)
    assert "iso42001-2023:A.6.2.8 -> iso27001-2022:A.8.15" in str(err.value)
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM crosswalk_tailoring").fetchone() == (0,)


def test_add_needs_a_pair_without_a_link(fresh_db: Path) -> None:
    with pytest.raises(InputError, match="nothing to strengthen: no shipped or imported link"):
        tailoring.tailor(fresh_db, "iso42001-2023:A.7.4", "iso27001-2022:A.5.12", "strengthen", strength=4,
                         reason="x", **WHO)
    # A.6.2.8 / A.8.17 is a pair the shipped crosswalk rejected: adding a link overrides the rejection
    tailoring.tailor(fresh_db, LOGS, "iso27001-2022:A.8.17", "add", relationship="intersects_with", strength=3,
                     reason="Our model logs need synchronised clocks to be evidence.", **WHO)
    assert link(fresh_db, LOGS, ("iso27001-2022", "A.8.17"))[:4] == ("intersects_with", 3, "authored", "tailored")


def test_history_versions_and_withdrawal(fresh_db: Path) -> None:
    tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=8, reason="first", **WHO)
    with pytest.raises(StaleEditError, match="tailored meanwhile"):
        tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=9, reason="I saw none", expected_version=0,
                         **WHO)
    row = tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=9, reason="second", expected_version=1,
                           actor="Bo", channel="app")
    assert row["version"] == 2
    with pytest.raises(StaleEditError):
        tailoring.withdraw(fresh_db, "T-0001", reason="gone", expected_version=1, **WHO)
    tailoring.withdraw(fresh_db, "T-0001", reason="The shipped record is right after all.", expected_version=2,
                       **WHO)
    assert link(fresh_db, LOGS, LOGGING)[:4] == ("intersects_with", 7, "authored", "shipped")
    with store.connect(fresh_db) as con:
        rows = con.execute("SELECT actor, channel, action, field, old_value, new_value FROM v_history "
                           "WHERE entity = 'crosswalk_tailoring' AND entity_id = 'T-0001' ORDER BY id").fetchall()
    assert rows[0][:4] == ("Ada Owner", "cli", "create", "decision")
    assert ("Bo", "app", "update", "strength", "8", "9") in rows
    assert ("Ada Owner", "cli", "update", "status", "active", "withdrawn") in rows
    assert tailoring.tailorings_frame(fresh_db).is_empty()
    assert tailoring.tailorings_frame(fresh_db, include_withdrawn=True)["status"].to_list() == ["withdrawn"]


def test_tailoring_survives_init_and_an_upgrade_beneath_it_is_flagged(fresh_db: Path) -> None:
    tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=9, reason="Central log.", **WHO)
    init_database(fresh_db)  # nothing changed in the files: the tailoring stands
    assert link(fresh_db, LOGS, LOGGING)[:4] == ("intersects_with", 9, "authored", "tailored")
    assert audit.run_audits(fresh_db).height == 0
    # an upgrade of the shipped crosswalk changes the record beneath
    records = [replace(m, strength=5) if (m.source_ref, m.target_ref) == ("A.6.2.8", "A.8.15") else m
               for m in crosswalk.load_crosswalk_files()]
    with store.transaction(fresh_db) as con:
        assert crosswalk.sync_mappings(con, records) == 2
    assert link(fresh_db, LOGS, LOGGING)[:4] == ("intersects_with", 9, "authored", "tailored")  # still wins
    found = audit.run_audits(fresh_db, rules=["crosswalk_tailoring_base_changed"])
    assert found["entity_id"].to_list() == ["T-0001"]
    assert "changed from intersects_with (7) to intersects_with (5)" in found["detail"][0]
    listed = tailoring.tailorings_frame(fresh_db)
    assert listed["base_changed"].to_list() == [True]
    # deciding again records the new base, and the flag goes
    tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=9, reason="Still a central log.", **WHO)
    assert audit.run_audits(fresh_db, rules=["crosswalk_tailoring_base_changed"]).height == 0


def test_cli_tailor_commands(fresh_db: Path, run_cli) -> None:
    code, out, err = run_cli("tailor", "dispute", "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15",
                             "--reason", "Separate logs.", "--db", fresh_db)
    assert code == 0, err
    assert out.startswith("T-0001 (version 1): iso42001-2023:A.6.2.8 no_relationship (0) iso27001-2022:A.8.15")
    code, out, _ = run_cli("tailor", "list", "--format", "csv", "--db", fresh_db)
    assert code == 0 and "T-0001,iso42001-2023:A.6.2.8 -> iso27001-2022:A.8.15,dispute" in out
    code, _, err = run_cli("tailor", "weaken", "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.16", "--strength", "2",
                           "--reason", "x", "--db", fresh_db)
    assert code == 2 and "nothing to weaken: no shipped or imported link for this pair" in err
    code, _, err = run_cli("tailor", "add", "iso42001-2023:A.7.4", "iso27001-2022:A.5.12", "--relationship",
                           "overlaps", "--strength", "3", "--reason", "x", "--db", fresh_db)
    assert code == 2 and "'overlaps' is not one of" in err
    code, out, _ = run_cli("tailor", "withdraw", "T-0001", "--reason", "Wrong after all.", "--db", fresh_db)
    assert code == 0 and "T-0001 withdrawn (version 2)" in out


def test_the_tailoring_table_is_a_migration_and_init_keeps_it(fresh_db: Path) -> None:
    assert ("crosswalk_tailoring",) in stores.rows(fresh_db, "SELECT name FROM schema_migrations")


def test_init_says_when_a_tailoring_rests_on_a_changed_record(fresh_db: Path, run_cli) -> None:
    tailoring.tailor(fresh_db, LOGS, LOGGING, "strengthen", strength=9, reason="Central log.", **WHO)
    code, out, _ = run_cli("init", "--db", fresh_db)
    assert code == 0 and "tailored mapping" not in out
    with stores.writing(fresh_db) as con:  # as if it had been decided against an older shipped record
        con.execute("UPDATE crosswalk_tailoring SET base_strength = 5")
    code, out, _ = run_cli("init", "--db", fresh_db)
    assert code == 0
    assert "1 tailored mapping(s) rest on a record that changed since they were decided" in out
