"""Importing registers: one register from many, all-or-nothing, dry runs, re-imports, merges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine import register
from engine.errors import InputError, RuleViolation
from engine.register.imports import RiskFile

from .test_register_support import (
    ACTOR,
    data,
    load_both_registers,
    load_inventories,
    query,
    risk_by_key,
    snapshot,
)

pytestmark = pytest.mark.both_stores


@pytest.fixture
def loaded_db(fresh_db: Path) -> Path:
    """A database holding the inventories and both registers."""
    load_both_registers(fresh_db)
    return fresh_db

# -- the two registers become one ---------------------------------------------------------------------


def test_security_excel_and_ai_csv_import_into_one_register(fresh_db: Path) -> None:
    sec, ai = load_both_registers(fresh_db)
    assert len(sec.created) == 6 and sec.merged == []
    assert len(ai.created) == 3 and len(ai.merged) == 1
    assert query(fresh_db, "SELECT count(*) FROM risks")[0][0] == 9
    systems = dict(query(fresh_db, "SELECT management_system, count(*) FROM risks GROUP BY 1"))
    assert systems == {"ISMS": 5, "AIMS": 3, "both": 1}


def test_a_risk_in_both_registers_is_one_risk_with_two_lineages(loaded_db: Path) -> None:
    rid = risk_by_key(loaded_db, "security", "SR-03")
    assert risk_by_key(loaded_db, "ai", "AI-1") == rid
    row = register.get_risk(loaded_db, rid)
    assert row["management_system"] == "both"
    assert sorted(row["sources"]) == ["ai:2", "security:4"]
    assert {s["source_key"] for s in row["lineage"]} == {"SR-03", "AI-1"}
    # both registers' controls are on the one risk: 2013 A.9.4.1 as 2022 A.8.3, 42001 and 2022 refs of the AI row
    assert row["controls_27001"] == ["A.8.3", "A.8.12"]
    assert row["controls_42001"] == ["A.6.2.8", "A.7.4"]
    assert row["ai_systems"] == ["Customer chatbot"]
    assert row["ai_objectives"] == ["privacy"]
    merges = register.list_merges(loaded_db)
    assert merges.height == 1
    m = merges.row(0, named=True)
    assert (m["kept_risk_id"], m["source"], m["source_row"], m["source_key"]) == (rid, "ai", 2, "AI-1")
    assert "customer chatbot" in m["reason"] and m["similarity"] >= 0.8


def test_legacy_references_appear_as_2022_controls(loaded_db: Path) -> None:
    rows = query(loaded_db, "SELECT rc.ref, rc.translated_from, rc.as_written FROM risk_controls rc "
                            "JOIN risk_sources s ON s.risk_id = rc.risk_id "
                            "WHERE s.source = 'security' AND s.source_key = 'SR-06'")
    assert rows == [("A.8.15", "iso27001-2013:A.12.4.1; iso27001-2013:A.12.4.3", "A.12.4.1; A.12.4.3")]
    assert query(loaded_db, "SELECT count(*) FROM risk_controls WHERE framework = 'iso27001-2013'")[0][0] == 0
    # a newline also separates references: SR-04 lists A.6.2.1 and A.8.3.1 on two lines
    rid = risk_by_key(loaded_db, "security", "SR-04")
    assert register.get_risk(loaded_db, rid)["controls_27001"] == ["A.7.10", "A.8.1"]


def test_scales_are_normalised_and_originals_kept(loaded_db: Path) -> None:
    rid = risk_by_key(loaded_db, "ai", "AI-2")  # High / High
    assert query(loaded_db, "SELECT inherent_likelihood, inherent_impact FROM risks WHERE id = ?", [rid]) == [(5, 5)]
    lineage = query(loaded_db, "SELECT original_likelihood, original_impact, scale_note, CAST(raw AS VARCHAR) "
                               "FROM risk_sources WHERE risk_id = ?", [rid])[0]
    assert lineage[:2] == ("High", "High")
    assert "Low/Medium/High onto 1-5" in lineage[2]
    assert json.loads(lineage[3])["Risk"] == "Chatbot gives harmful advice"


def test_register_view_shows_levels_appetite_and_lists(loaded_db: Path) -> None:
    rid = risk_by_key(loaded_db, "security", "SR-01")  # 4 x 5 = 20
    row = register.get_risk(loaded_db, rid)
    assert (row["inherent_score"], row["inherent_level"], row["level"]) == (20, "Critical", "Critical")
    assert row["within_appetite"] is False
    assert (row["confidentiality"], row["integrity"], row["availability"]) == (True, True, True)
    assert row["assets"] == ["File servers"] and row["treatment"] == "modify"
    assert row["acceptance_status"] == "none"
    supplier = register.get_risk(loaded_db, risk_by_key(loaded_db, "security", "SR-05"))
    assert supplier["treatment"] == "retain" and supplier["assets"] == []


def test_an_asset_cell_naming_an_ai_system_links_the_ai_system(loaded_db: Path) -> None:
    assert query(loaded_db, "SELECT count(*) FROM assets WHERE lower(name) = 'customer chatbot'")[0][0] == 0
    assert query(loaded_db, "SELECT name FROM assets WHERE id NOT LIKE 'AST-%'") == [("Email",)]


# -- all or nothing -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "row", "column", "value"), [
    ("bad_likelihood_value.csv", 3, "Likelihood", "often"),
    ("unknown_control_ref.csv", 4, "Controls", "A.99.9"),
    ("duplicate_column_heading.csv", 1, "Likelihood", "Likelihood"),
    ("missing_title_column.csv", 1, None, None),
    ("empty.csv", None, None, None),
])
def test_a_file_with_a_problem_changes_nothing(loaded_db: Path, name: str, row: int | None, column: str | None,
                                               value: str | None) -> None:
    before = snapshot(loaded_db)
    with pytest.raises(InputError) as err:
        register.import_risks(loaded_db, data(name), "broken", actor=ACTOR)
    assert snapshot(loaded_db) == before
    p = err.value.problems[0]
    assert p.file.endswith(name)
    assert (p.record, p.field) == (row, column)
    if value is not None:
        assert p.value == value
    assert p.expected
    assert name in str(err.value)


def test_a_problem_after_blank_workbook_rows_names_the_workbook_row(fresh_db: Path, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Risk ID", "Title", "Likelihood", "Impact"])
    sheet.append(["R1", "Laptop theft", 3, 4])
    sheet.append([])
    sheet.append([None, None, None, None])
    sheet.append(["R2", "Supplier outage", "often", 2])
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, path, "gaps", actor=ACTOR)
    assert [(p.record, p.field, p.value) for p in err.value.problems] == [(5, "Likelihood", "often")]


def test_every_problem_of_a_file_is_listed(fresh_db: Path) -> None:
    before = snapshot(fresh_db)
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, data("several_problems.csv"), "x", actor=ACTOR)
    found = [(p.record, p.field, p.value) for p in err.value.problems]
    assert found == [(2, "Impact", "extreme"), (3, "Controls", "A.5.77"), (4, "Title", None),
                     (5, "Review date", "someday")]
    assert "nothing was imported" in str(err.value)
    assert snapshot(fresh_db) == before


def test_a_bad_file_in_a_run_stops_the_whole_run(fresh_db: Path) -> None:
    before = snapshot(fresh_db)
    with pytest.raises(InputError) as err:
        register.import_risk_files(fresh_db, [RiskFile(data("good_risk_register.csv"), "plain"),
                                              RiskFile(data("unknown_control_ref.csv"), "other")], actor=ACTOR)
    assert [p.file.endswith("unknown_control_ref.csv") for p in err.value.problems] == [True]
    assert snapshot(fresh_db) == before


def test_a_database_error_midway_rolls_everything_back(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.register.imports import write

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(write, "_insert_links", boom)  # after the new risks are inserted
    before = snapshot(fresh_db)
    with pytest.raises(RuntimeError):
        register.import_risks(fresh_db, data("good_risk_register.csv"), "plain", actor=ACTOR)
    assert snapshot(fresh_db) == before


# -- dry run ------------------------------------------------------------------------------------------

def test_dry_run_reports_what_would_change_and_writes_nothing(fresh_db: Path) -> None:
    load_inventories(fresh_db)
    register.import_risks(fresh_db, data("good_security_register.xlsx"), "security", actor=ACTOR)
    before = snapshot(fresh_db)
    dry = register.import_risks(fresh_db, data("good_ai_register.csv"), "ai", actor=ACTOR, dry_run=True)
    assert snapshot(fresh_db) == before
    assert dry.dry_run and len(dry.created) == 3 and len(dry.merged) == 1
    real = register.import_risks(fresh_db, data("good_ai_register.csv"), "ai", actor=ACTOR)
    assert [(x["row"], x["id"]) for x in real.created] == [(x["row"], x["id"]) for x in dry.created]
    assert [(x["row"], x["risk_id"]) for x in real.merged] == [(x["row"], x["risk_id"]) for x in dry.merged]


# -- re-imports ---------------------------------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing(loaded_db: Path) -> None:
    before = snapshot(loaded_db)
    again = register.import_risks(loaded_db, data("good_ai_register.csv"), "ai", actor=ACTOR)
    assert snapshot(loaded_db) == before
    assert again.created == [] and again.merged == [] and again.updated == []
    assert again.files[0].unchanged == 4 and again.files[0].batch_id is None


def test_a_changed_row_updates_its_risk_by_source_key(loaded_db: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(data("good_ai_register.csv"), infer_schema=False)
    frame = frame.with_columns(pl.when(pl.col("ID") == "AI-3").then(pl.lit("Low")).otherwise(pl.col("Likelihood"))
                               .alias("Likelihood"),
                               pl.when(pl.col("ID") == "AI-3").then(pl.lit("Frank Moss")).otherwise(pl.col("Owner"))
                               .alias("Owner"))
    frame = pl.concat([frame.filter(pl.col("ID") != "AI-1"), frame.filter(pl.col("ID") == "AI-1")])  # rows move
    changed = tmp_path / "ai.csv"
    frame.write_csv(changed)
    rid = risk_by_key(loaded_db, "ai", "AI-3")
    n_risks = query(loaded_db, "SELECT count(*) FROM risks")[0][0]
    rep = register.import_risks(loaded_db, changed, "ai", actor=ACTOR)
    assert rep.created == [] and rep.merged == []
    assert rep.updated == [{"row": 3, "id": rid, "fields": ["owner", "inherent_likelihood"],
                            "changes": {"owner": ("Eva Novak", "Frank Moss"), "inherent_likelihood": (3, 1)}}]
    assert query(loaded_db, "SELECT count(*) FROM risks")[0][0] == n_risks
    assert query(loaded_db, "SELECT owner, inherent_likelihood FROM risks WHERE id = ?", [rid]) == [("Frank Moss", 1)]
    hist = query(loaded_db, "SELECT field, old_value, new_value, channel FROM history WHERE entity_id = ? "
                            "AND action = 'update' ORDER BY field", [rid])
    assert hist == [("inherent_likelihood", "3", "1", "import"), ("owner", "Eva Novak", "Frank Moss", "import")]
    # lineage follows the rows to their new places, merges included
    assert query(loaded_db, "SELECT source_row FROM risk_sources WHERE source = 'ai' AND source_key = 'AI-1'") == [(5,)]
    assert register.list_merges(loaded_db)["source_row"].to_list() == [5]


def test_an_unchanged_reimport_keeps_an_edit_made_since(loaded_db: Path) -> None:
    rid = risk_by_key(loaded_db, "ai", "AI-2")
    version = query(loaded_db, "SELECT version FROM risks WHERE id = ?", [rid])[0][0]
    register.update_risk(loaded_db, rid, {"owner": "New Owner"}, version, actor=ACTOR)
    register.import_risks(loaded_db, data("good_ai_register.csv"), "ai", actor=ACTOR)
    assert query(loaded_db, "SELECT owner FROM risks WHERE id = ?", [rid]) == [("New Owner",)]


def test_several_files_in_one_run_merge_into_risks_the_run_creates(fresh_db: Path) -> None:
    load_inventories(fresh_db)
    rep = register.import_risk_files(fresh_db, [RiskFile(data("good_security_register.xlsx"), "security"),
                                                RiskFile(data("good_ai_register.csv"), "ai")], actor=ACTOR)
    assert [len(f.created) for f in rep.files] == [6, 3]
    assert rep.files[1].merged[0]["risk_id"] == risk_by_key(fresh_db, "security", "SR-03")
    assert query(fresh_db, "SELECT count(*) FROM import_batches WHERE kind = 'risks'")[0][0] == 2


# -- mapping files ------------------------------------------------------------------------------------

def test_yaml_mapping_names_columns_scales_and_framework(fresh_db: Path) -> None:
    rep = register.import_risks(fresh_db, data("custom_headings.csv"), "custom", actor=ACTOR,
                                mapping=data("custom_headings_mapping.yaml"))
    assert len(rep.created) == 2
    rows = query(fresh_db, "SELECT title, inherent_likelihood, inherent_impact, management_system FROM risks ORDER BY id")
    assert rows == [("Backup restore fails", 5, 5, "ISMS"), ("Shadow IT subscriptions", 1, 1, "ISMS")]
    # bare refs read as 27001:2013 per the mapping file, stored as their 2022 successors
    assert query(fresh_db, "SELECT ref, translated_from FROM risk_controls ORDER BY ref") == [
        ("A.5.9", "iso27001-2013:A.8.1.1"), ("A.8.13", "iso27001-2013:A.12.3.1")]
    raw = json.loads(query(fresh_db, "SELECT CAST(raw AS VARCHAR) FROM risk_sources WHERE source_key = 'C-1'")[0][0])
    assert raw["Kept aside"] == "x"


def test_csv_mapping_names_columns(fresh_db: Path) -> None:
    rep = register.import_risks(fresh_db, data("custom_headings.csv"), "custom", actor=ACTOR,
                                mapping=data("custom_headings_mapping.csv"), framework="iso27001-2013")
    assert [x["title"] for x in rep.created] == ["Backup restore fails", "Shadow IT subscriptions"]


def test_mapping_problems_are_reported(fresh_db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  Nr: identifier\n  Missing: title\nscales:\n  likelihood: 1-99x\ncolour: red\n")
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, data("custom_headings.csv"), "c", actor=ACTOR, mapping=bad)
    text = str(err.value)
    assert "identifier" in text and "unknown field" in text and "1-99x" in text and "colour" in text


def test_headings_with_different_wordings_are_recognised(fresh_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "wordings.csv"
    f.write_text("Ref;Risk name;Probability (%);Severity;Risk owner;Annex A controls;Treatment option;C;I;A\n"
                 "W-1;Power cut;35%;Major;Ana;A 5.30;Reduce;;;x\n", encoding="utf-8")
    register.import_risks(fresh_db, f, "w", actor=ACTOR)
    assert query(fresh_db, "SELECT title, inherent_likelihood, inherent_impact, owner, treatment, availability, "
                           "confidentiality FROM risks") == [("Power cut", 2, 4, "Ana", "modify", True, False)]
    assert query(fresh_db, "SELECT framework, ref FROM risk_controls") == [("iso27001-2022", "A.5.30")]


# -- merges are visible and reversible ----------------------------------------------------------------

def test_undoing_a_merge_splits_the_row_back_into_its_own_risk(loaded_db: Path) -> None:
    kept = risk_by_key(loaded_db, "security", "SR-03")
    merge_id = register.list_merges(loaded_db)["id"][0]
    split = register.undo_merge(loaded_db, merge_id, actor=ACTOR)
    assert split != kept
    assert risk_by_key(loaded_db, "ai", "AI-1") == split
    k, s = register.get_risk(loaded_db, kept), register.get_risk(loaded_db, split)
    # the security row named the chatbot itself (in its Asset column), so the kept risk keeps that link
    assert (k["management_system"], k["sources"], k["ai_systems"]) == ("ISMS", ["security:4"], ["Customer chatbot"])
    assert k["controls_42001"] == [] and k["controls_27001"] == ["A.8.3"] and k["ai_objectives"] is None
    assert (s["management_system"], s["sources"], s["ai_systems"]) == ("AIMS", ["ai:2"], ["Customer chatbot"])
    assert s["controls_42001"] == ["A.6.2.8", "A.7.4"] and s["controls_27001"] == ["A.8.12"]
    assert (s["inherent_likelihood"], s["inherent_impact"]) == (3, 5)
    m = register.list_merges(loaded_db).row(0, named=True)
    assert (m["status"], m["split_risk_id"], m["reversed_by"]) == ("reversed", split, ACTOR)
    actions = [r[0] for r in query(loaded_db, "SELECT action FROM history WHERE batch_id = ? ORDER BY id", [merge_id])]
    assert "merge" in actions and "unmerge" in actions and "create" in actions
    with pytest.raises(RuleViolation):
        register.undo_merge(loaded_db, merge_id, actor=ACTOR)
    # re-importing the AI register afterwards keeps the split: the row is known by its key
    before = snapshot(loaded_db)
    register.import_risks(loaded_db, data("good_ai_register.csv"), "ai", actor=ACTOR)
    assert snapshot(loaded_db) == before


def test_undo_keeps_a_field_someone_changed_after_the_merge(loaded_db: Path) -> None:
    kept = risk_by_key(loaded_db, "security", "SR-03")
    version = query(loaded_db, "SELECT version FROM risks WHERE id = ?", [kept])[0][0]
    register.update_risk(loaded_db, kept, {"consequence_individuals": "Customers and staff"}, version, actor=ACTOR)
    register.undo_merge(loaded_db, register.list_merges(loaded_db)["id"][0], actor=ACTOR)
    assert query(loaded_db, "SELECT consequence_individuals FROM risks WHERE id = ?", [kept]) == [
        ("Customers and staff",)]


# -- inventories ----------------------------------------------------------------------------------------

def test_inventories_import_and_reimport_idempotently(fresh_db: Path) -> None:
    load_inventories(fresh_db)
    assert query(fresh_db, "SELECT id, lifecycle_stage, role FROM ai_systems ORDER BY id") == [
        ("AIS-1", "operation", "developer, provider"), ("AIS-2", "verification", "user")]
    assert query(fresh_db, "SELECT id, ai_system_id, severity, assessed_on::VARCHAR, next_review_due::VARCHAR "
                           "FROM impact_assessments ORDER BY id") == [
        ("IA-2026-1", "AIS-1", "medium", "2026-01-15", "2027-01-15"),
        ("IA-2026-2", "AIS-2", "high", "2026-02-15", "2026-08-15")]
    before = snapshot(fresh_db)
    load_inventories(fresh_db)
    assert snapshot(fresh_db) == before


def test_an_inventory_file_with_a_problem_changes_nothing(fresh_db: Path) -> None:
    load_inventories(fresh_db)
    before = snapshot(fresh_db)
    with pytest.raises(InputError) as err:
        register.import_ai_systems(fresh_db, data("bad_lifecycle_stage.csv"), actor=ACTOR)
    p = err.value.problems[0]
    assert (p.record, p.field, p.value) == (3, "Lifecycle Stage", "half-built")
    with pytest.raises(InputError) as err:
        register.import_assessments(fresh_db, data("unknown_ai_system_assessment.csv"), actor=ACTOR)
    assert (err.value.problems[0].field, err.value.problems[0].value) == ("AI System", "Crystal ball")
    assert snapshot(fresh_db) == before


def test_an_inventory_change_is_an_update_with_history(fresh_db: Path, tmp_path: Path) -> None:
    load_inventories(fresh_db)
    f = tmp_path / "systems.csv"
    shutil.copy(data("good_ai_systems.csv"), f)
    f.write_text(f.read_text().replace("Verification", "Deployment"))
    rep = register.import_ai_systems(fresh_db, f, actor=ACTOR)
    assert rep.updated == [{"row": 3, "id": "AIS-2", "fields": ["lifecycle_stage"]}]
    assert query(fresh_db, "SELECT old_value, new_value, version FROM history h JOIN ai_systems s ON s.id = h.entity_id "
                           "WHERE h.entity = 'ai_system' AND h.action = 'update'") == [
        ("verification", "deployment", 2)]


# -- inventory views ----------------------------------------------------------------------------------

def test_inventory_views_count_risks_and_assessments(loaded_db: Path) -> None:
    from datetime import date

    systems = {r["id"]: r for r in register.list_ai_systems(loaded_db).iter_rows(named=True)}
    # the chatbot: SR-03 (its Asset cell names it) merged with AI-1, and AI-2
    assert systems["AIS-1"]["n_risks"] == 2 and systems["AIS-1"]["n_assessments"] == 1
    assert systems["AIS-2"]["risk_ids"] == [risk_by_key(loaded_db, "ai", "AI-3")]
    assert systems["AIS-2"]["assessment_overdue"] == (date(2026, 8, 15) < date.today())
    assessments = register.list_assessments(loaded_db)
    assert assessments["ai_system_name"].to_list() == ["Customer chatbot", "CV screening model"]
    assets = {r["id"]: r["n_risks"] for r in register.list_assets(loaded_db).iter_rows(named=True)}
    assert assets["AST-1"] == 2 and assets["AST-2"] == 0  # file servers: SR-01 and SR-06
    history = query(loaded_db, "SELECT count(*) FROM v_history WHERE entity = 'risk' AND action = 'create'")[0][0]
    assert history == query(loaded_db, "SELECT count(*) FROM risks")[0][0]


def test_a_register_without_an_id_column_is_keyed_by_title(fresh_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "noid.csv"
    f.write_text("Risk,Likelihood,Impact\nFlood in the basement,2,4\nPower cut,3,3\n", encoding="utf-8")
    first = register.import_risks(fresh_db, f, "noid", actor=ACTOR)
    assert len(first.created) == 2 and any("keyed by their title" in n for n in first.files[0].notes)
    before = snapshot(fresh_db)
    register.import_risks(fresh_db, f, "noid", actor=ACTOR)
    assert snapshot(fresh_db) == before
    f.write_text("Risk,Likelihood,Impact\nPower cut,2,4\nPower cut,3,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, f, "noid", actor=ACTOR)
    assert (err.value.problems[0].record, err.value.problems[0].field) == (3, "Risk")
    assert "same title twice" in err.value.problems[0].message


def test_a_control_moving_to_planned_is_a_status_change_not_a_removal(fresh_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "reg.csv"
    f.write_text("ID,Title,Controls,Planned controls\nX-1,Weak passwords,\"A.5.17, A.8.5\",\n", encoding="utf-8")
    register.import_risks(fresh_db, f, "reg", actor=ACTOR)
    rid = risk_by_key(fresh_db, "reg", "X-1")
    f.write_text("ID,Title,Controls,Planned controls\nX-1,Weak passwords,A.5.17,A.8.5\n", encoding="utf-8")
    rep = register.import_risks(fresh_db, f, "reg", actor=ACTOR)
    assert [{k: u[k] for k in ("row", "id", "fields")} for u in rep.updated] == [
        {"row": 2, "id": rid, "fields": ["controls"]}]
    assert query(fresh_db, "SELECT ref, status FROM risk_controls WHERE risk_id = ? ORDER BY ref", [rid]) == [
        ("A.5.17", "existing"), ("A.8.5", "planned")]
    assert query(fresh_db, "SELECT version FROM risks WHERE id = ?", [rid]) == [(2,)]
    f.write_text("ID,Title,Controls,Planned controls\nX-1,Weak passwords,A.5.17,\n", encoding="utf-8")
    register.import_risks(fresh_db, f, "reg", actor=ACTOR)
    assert query(fresh_db, "SELECT ref FROM risk_controls WHERE risk_id = ?", [rid]) == [("A.5.17",)]
    assert query(fresh_db, "SELECT action, field, old_value FROM history WHERE entity_id = ? AND action = 'unlink'",
                 [rid]) == [("unlink", "control", "iso27001-2022:A.8.5")]


# -- next quarter's register updates this quarter's ----------------------------------------------------------

TEAM_TITLES = ["Phishing of staff", "Laptop theft", "Ransomware on the file server", "Supplier data breach",
               "Cloud storage misconfiguration", "Insider data leak", "DDoS on the website", "Backup failure"]


def _team_register(folder: Path, name: str, likelihood_of_3: int = 2, titles: list[str] | None = None) -> Path:
    """The team's register as a quarter's file: eight risks RR-001..RR-008."""
    lines = ["Risk ID,Title,Likelihood,Impact,Owner"]
    for i, title in enumerate(titles or TEAM_TITLES, 1):
        likelihood = likelihood_of_3 if i == 3 else 2
        lines.append(f"RR-00{i},{title},{likelihood},{3 + i % 2},Ana Silva")
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_next_quarters_register_under_a_new_file_name_updates_the_risks(fresh_db: Path, tmp_path: Path) -> None:
    q3 = _team_register(tmp_path, "team_register_Q3.csv")
    q4 = _team_register(tmp_path, "team_register_Q4.csv", likelihood_of_3=4)
    first = register.import_risks(fresh_db, q3, q3.stem, actor=ACTOR)
    assert len(first.created) == 8
    rid = risk_by_key(fresh_db, "team_register_Q3", "RR-003")
    before = snapshot(fresh_db)
    dry = register.import_risks(fresh_db, q4, q4.stem, actor=ACTOR, dry_run=True)
    assert snapshot(fresh_db) == before
    f = dry.files[0]
    assert (len(f.created), len(f.merged), len(f.updated), f.unchanged) == (0, 0, 1, 7)
    assert f.source == "team_register_Q3" and any("recognised as the register 'team_register_Q3'" in n
                                                  for n in f.notes)
    assert f.updated[0]["id"] == rid and f.updated[0]["changes"] == {"inherent_likelihood": (2, 4)}
    assert f"  update   row 4: {rid} (inherent_likelihood 2 -> 4)" in dry.lines()
    done = register.import_risks(fresh_db, q4, q4.stem, actor=ACTOR)
    assert (len(done.created), len(done.merged), len(done.updated)) == (0, 0, 1)
    assert query(fresh_db, "SELECT inherent_likelihood FROM risks WHERE id = ?", [rid]) == [(4,)]
    assert query(fresh_db, "SELECT max(n) FROM (SELECT count(*) AS n FROM risk_sources GROUP BY risk_id)") == [(1,)]
    assert query(fresh_db, "SELECT count(*) FROM risk_merges") == [(0,)]
    assert query(fresh_db, "SELECT old_value, new_value FROM history WHERE entity = 'risk' AND entity_id = ? "
                           "AND field = 'inherent_likelihood' AND action = 'update'", [rid]) == [("2", "4")]


def test_a_register_with_the_same_ids_but_other_risks_is_not_taken_for_another(fresh_db: Path,
                                                                                tmp_path: Path) -> None:
    register.import_risks(fresh_db, _team_register(tmp_path, "team_a.csv"), "team_a", actor=ACTOR)
    other = [f"Other team risk {c}" for c in "ABCDEFGH"]
    rep = register.import_risks(fresh_db, _team_register(tmp_path, "team_b.csv", titles=other), "team_b",
                                actor=ACTOR)
    assert rep.files[0].source == "team_b" and len(rep.created) == 8
    assert not any("recognised" in n for n in rep.files[0].notes)


def test_a_register_chosen_by_name_updates_and_known_registers_are_listed(fresh_db: Path, tmp_path: Path,
                                                                          run_cli) -> None:
    register.import_risks(fresh_db, _team_register(tmp_path, "q3.csv"), "team", actor=ACTOR)
    code, out, _ = run_cli("import", "registers", "--format", "csv", "--db", fresh_db)
    assert code == 0 and out.splitlines()[0].startswith("register,risks,ids") and "team,8,8" in out
    renamed = _team_register(tmp_path, "q4.csv", likelihood_of_3=5)
    code, out, err = run_cli("import", "risks", renamed, "--source", "team", "--dry-run", "--db", fresh_db)
    assert code == 0, err
    assert "0 new, 0 merged, 1 updated, 7 unchanged" in out and "inherent_likelihood 2 -> 5" in out


def test_the_registers_own_ids_are_in_the_view_searchable_and_exported(fresh_db: Path, tmp_path: Path) -> None:
    from engine import exports
    from engine.register import browse

    register.import_risks(fresh_db, _team_register(tmp_path, "q3.csv"), "team", actor=ACTOR)
    rid = risk_by_key(fresh_db, "team", "RR-004")
    assert query(fresh_db, "SELECT source_keys FROM v_risk_register WHERE id = ?", [rid]) == [(["RR-004"],)]
    page = browse.register_page(fresh_db, text="rr-004")
    assert page.rows["id"].to_list() == [rid] and page.filtered == 1
    assert browse.register_page(fresh_db, text="Laptop").rows["id"].to_list() == [
        risk_by_key(fresh_db, "team", "RR-002")]
    frame = exports.register_frame(fresh_db)
    assert frame.filter(pl.col("id") == rid)["source_keys"].to_list() == [["RR-004"]]


def test_the_check_shows_how_every_score_value_is_read_on_the_matrix(fresh_db: Path) -> None:
    """Before anything is written, the dry run lists each likelihood and impact value as written and the
    matrix point it is read as (the app shows it above the Import button)."""
    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    got = register.import_risks(fresh_db, demo / "ai-risk-register.csv", "AI risk register", actor=ACTOR,
                                dry_run=True)
    readings = got.files[0].scales
    by = {(r["field"], r["value"]): r["read_as"] for r in readings}
    assert by[("inherent_likelihood", "High")].split()[0] in {"4", "5"}
    assert by[("inherent_likelihood", "Low")].startswith(("1 ", "2 "))
    assert {r["column"] for r in readings if r["field"] == "inherent_impact"} == {"Impact"}
    assert all(r["read_as"].split()[0].isdigit() and len(r["read_as"].split()) > 1 for r in readings)
    assert register.list_risks(fresh_db).is_empty()       # a check writes nothing
