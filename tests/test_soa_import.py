"""Importing a Statement of Applicability as organisations keep it: 27001:2022 (93 rows), 42001 (38), both
in one file (131), and a 27001:2013 SoA (114 rows) carried onto 2022 through the transition crosswalk."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine import soa
from engine.errors import InputError

from .test_register_support import ACTOR, data, query, snapshot

pytestmark = pytest.mark.both_stores

WHO = {"actor": ACTOR, "channel": "test"}


def rows(db: Path, framework: str) -> dict[str, dict]:
    return {r["ref"]: r for r in soa.soa_frame(db, framework=framework).iter_rows(named=True)}


def test_a_27001_2022_soa_with_yes_no(fresh_db: Path) -> None:
    report = soa.import_soa(fresh_db, data("soa_27001_2022_yes_no.csv"), **WHO)
    assert len(report.updated) == 93
    got = rows(fresh_db, "27001")
    assert sum(r["applicable"] is True for r in got.values()) == 91
    excluded = got["A.8.30"]
    assert excluded["applicable"] is False and excluded["justification"] == "We develop no software through outsourcing"
    a51 = got["A.5.1"]
    assert (a51["status"], a51["owner"], a51["evidence"], str(a51["last_verified"])) == (
        "implemented", "Claire Donnelly", ["ISMS-000"], "2026-03-15")
    assert got["A.5.2"]["status"] == "partial" and got["A.5.4"]["status"] == "planned"
    batch = query(fresh_db, "SELECT kind, source FROM import_batches")
    assert batch == [("soa", "soa_27001_2022_yes_no")]
    # every change went through the write path, with its history
    assert query(fresh_db, "SELECT count(DISTINCT entity_id) FROM v_history WHERE entity = 'soa_row'")[0][0] == 93


def test_a_42001_soa_with_check_marks_and_reasons_in_words(fresh_db: Path) -> None:
    soa.import_soa(fresh_db, data("soa_42001_included_excluded.xlsx"), **WHO)
    got = rows(fresh_db, "42001")
    assert len(got) == 38 and all(r["applicable"] is not None for r in got.values())
    out = got["A.10.4"]
    assert out["applicable"] is False and out["exclusion_reason"] == "other"
    assert out["justification"] == "We have no customers of our AI systems"
    assert {got["A.2.2"]["status"], got["A.2.3"]["status"], got["A.2.4"]["status"]} == {
        "implemented", "partial", "not_started"}


def test_both_standards_in_one_file_with_marked_reason_columns(fresh_db: Path) -> None:
    report = soa.import_soa(fresh_db, data("soa_both_standards.csv"), **WHO)
    assert len(report.updated) == 131
    r27, r42 = rows(fresh_db, "27001"), rows(fresh_db, "42001")
    # A.5.2 is a control of both standards: the Standard column decides
    assert r27["A.5.2"]["title"] == "Information security roles and responsibilities"
    assert r27["A.5.1"]["reasons"] == ["risk_treatment", "legal_regulatory", "contractual", "business",
                                       "best_practice"]
    assert r27["A.5.2"]["reasons"] == ["risk_treatment"]
    assert (r27["A.5.1"]["status"], r27["A.5.2"]["status"], r27["A.5.3"]["status"]) == (
        "implemented", "partial", "not_started")
    assert r42["A.10.4"]["applicable"] is False


def test_without_a_standard_column_titles_and_the_files_ids_decide(fresh_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "soa.csv"
    f.write_text("Ref,Name,Applicable\nA.5.2,AI system impact assessment process,Yes\n"
                 "A.6.2.8,AI system recording of event logs,Yes\nA.7.4,Quality of data for AI systems,Yes\n",
                 encoding="utf-8")
    soa.import_soa(fresh_db, f, **WHO)
    assert rows(fresh_db, "42001")["A.5.2"]["applicable"] is True
    assert rows(fresh_db, "27001")["A.5.2"]["applicable"] is None


def test_a_2013_soa_is_carried_onto_2022_with_every_merge_listed(fresh_db: Path) -> None:
    report = soa.import_soa(fresh_db, data("soa_27001_2013_legacy.xlsx"), dry_run=True, **WHO)
    f = report.files[0]
    carried = {c["ref"]: c for c in f.carried}
    logging = carried["iso27001-2022:A.8.15"]
    assert "A.12.4.1" in logging["sources"] and "A.12.4.2" in logging["sources"] and "A.12.4.3" in logging["sources"]
    assert logging["outcome"] == "applicable, partial"       # applicable wins; the least implemented status
    assert any("applicable wins" in n for n in f.notes)
    assert any("stay undecided" in n and "A.5.7" in n for n in f.notes)    # new in 2022
    text = "\n".join(report.lines())
    assert "carried  iso27001-2022:A.8.15 <- A.12.4.1" in text and len(report.lines()) < 200
    soa.import_soa(fresh_db, data("soa_27001_2013_legacy.xlsx"), **WHO)
    a815 = rows(fresh_db, "27001")["A.8.15"]
    assert a815["applicable"] is True and a815["status"] == "partial"
    assert "2013 A.12.4.2: Log protection is provided by the SIEM service" in a815["justification"]
    assert any(e.startswith("2013 A.12.4.1: ") for e in a815["evidence"])
    assert rows(fresh_db, "27001")["A.5.7"]["applicable"] is None
    assert query(fresh_db, "SELECT count(*) FROM soa_rows WHERE framework = 'iso27001-2013'")[0][0] == 0


def test_a_decided_row_is_updated_with_history_and_each_difference_listed(fresh_db: Path) -> None:
    soa.set_row(fresh_db, "iso27001-2022", "A.5.1", applicable=True, owner="Someone else", status="planned",
                actor="ana", channel="app")
    report = soa.import_soa(fresh_db, data("soa_27001_2022_yes_no.csv"), dry_run=True, **WHO)
    diffs = {(d["id"], d["field"]): d for d in report.files[0].differences}
    d = diffs[("iso27001-2022:A.5.1", "owner")]
    assert (d["stored"], d["imported"]) == ("Someone else", "Claire Donnelly")
    assert ("iso27001-2022:A.5.1", "status") in diffs
    assert "differs  row 2: iso27001-2022:A.5.1 owner" in "\n".join(report.lines())
    assert rows(fresh_db, "27001")["A.5.1"]["owner"] == "Someone else"      # a dry run writes nothing
    soa.import_soa(fresh_db, data("soa_27001_2022_yes_no.csv"), **WHO)
    hist = query(fresh_db, "SELECT old_value, new_value, channel FROM v_history WHERE entity = 'soa_row' "
                           "AND entity_id = 'iso27001-2022:A.5.1' AND field = 'owner' ORDER BY id")
    assert hist[-1] == ("Someone else", "Claire Donnelly", "test")
    again = soa.import_soa(fresh_db, data("soa_27001_2022_yes_no.csv"), **WHO)
    assert again.files[0].unchanged == 93 and not again.files[0].updated


def test_the_crosswalk_proposes_42001_rows_that_reuse_27001_evidence(fresh_db: Path) -> None:
    report = soa.import_soa(fresh_db, data("soa_27001_2022_yes_no.csv"), **WHO)
    proposals = report.files[0].proposals
    assert proposals and all(p["proposal_id"].startswith("iso42001-2023:") for p in proposals)
    assert any("implemented: 42001" in p["basis"] and "reuse its evidence" in p["basis"] for p in proposals)
    frame = soa.proposals(fresh_db).filter(pl.col("kind") == "counterpart_status")
    with_evidence = frame.filter(pl.col("proposed_evidence").list.len() > 0).row(0, named=True)
    soa.accept_proposal(fresh_db, with_evidence["proposal_id"], **WHO)
    row = soa.get_row(fresh_db, with_evidence["framework"], with_evidence["ref"])
    assert set(with_evidence["proposed_evidence"]) <= set(row["evidence"])
    assert all(e.startswith("27001 A.") for e in row["evidence"])


@pytest.mark.parametrize(("name", "row", "words"), [
    ("soa_excluded_without_justification.csv", 90, "needs a justification"),
    ("soa_unknown_control.csv", 5, "no Annex A control A.8.99"),
    ("soa_control_twice.csv", 5, "decided twice (also in row 3)"),
    ("soa_bad_applicability.csv", 4, "not an applicability"),
])
def test_a_soa_with_a_problem_changes_nothing(fresh_db: Path, name: str, row: int, words: str) -> None:
    before = snapshot(fresh_db)
    with pytest.raises(InputError) as err:
        soa.import_soa(fresh_db, data(name), **WHO)
    (p,) = err.value.problems
    assert p.record == row and words in p.message and p.file.endswith(name)
    assert snapshot(fresh_db) == before


def test_import_soa_on_the_command_line(fresh_db: Path, run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("import", "soa", data("soa_27001_2013_legacy.xlsx"), "--dry-run", "--db", fresh_db)
    assert code == 0, err
    assert "dry run, nothing written" in out and "carried  iso27001-2022:A.8.15" in out
    problems = tmp_path / "problems.csv"
    code, _, err = run_cli("import", "soa", data("soa_unknown_control.csv"), "--db", fresh_db, "--problems", problems)
    assert code == 2 and "A.8.99" in err and str(problems) in err
    assert "A.8.99" in problems.read_text(encoding="utf-8")
    code, _, err = run_cli("import", "soa", data("soa_27001_2022_yes_no.csv"), "--framework", "27005", "--db", fresh_db)
    assert code == 2 and "unknown framework" in err
