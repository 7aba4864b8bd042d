"""Observed AI use matched to the inventory, and the inventory's characteristics read from common wordings."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine import ai, audit, register
from engine.errors import InputError, NotFoundError, RuleViolation
from tests import stores

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one(db: Path, sql: str, params: list | None = None):
    con = stores.open_db(db)
    try:
        row = con.execute(sql, params or []).fetchone()
        return row[0] if row else None
    finally:
        con.close()


# -------------------------------------------------------------------- characteristics in the inventory

INVENTORY = """AI System,Our Role,Lifecycle Stage,Processes personal data,Uses Third-Party Model,Generative (yes/no),Makes decisions about people,Vendor,Domain
Chat helper,User,In production,yes,Y,Yes,no,Parrot Labs Ltd,https://chat.parrot.example/app
Scorer,Developer,Live,No,,unknown,TRUE,,
"""


def test_ai_system_import_reads_characteristics_in_common_wordings(fresh_db: Path, tmp_path: Path) -> None:
    report = register.import_ai_systems(fresh_db, write(tmp_path / "inventory.csv", INVENTORY), **WHO)
    assert len(report.created) == 2
    rows = {r["name"]: r for r in stores.open_db(fresh_db).execute(
        "SELECT * FROM ai_systems").pl().iter_rows(named=True)}
    chat, scorer = rows["Chat helper"], rows["Scorer"]
    assert (chat["processes_personal_data"], chat["uses_third_party_model"], chat["generative"],
            chat["decides_about_people"]) == (True, True, True, False)
    assert (scorer["processes_personal_data"], scorer["uses_third_party_model"], scorer["generative"],
            scorer["decides_about_people"]) == (False, None, None, True)
    assert chat["vendor"] == "Parrot Labs Ltd" and chat["domains"] == ["https://chat.parrot.example/app"]
    assert scorer["trained_in_house"] is None   # no column: not recorded


def test_a_bad_characteristic_value_is_reported_and_nothing_imported(fresh_db: Path, tmp_path: Path) -> None:
    bad = INVENTORY.replace("Y,Yes,no", "Y,perhaps,no")
    with pytest.raises(InputError) as err:
        register.import_ai_systems(fresh_db, write(tmp_path / "bad.csv", bad), **WHO)
    [problem] = err.value.problems
    assert (problem.record, problem.field, problem.value) == (2, "Generative (yes/no)", "perhaps")
    assert "yes, no" in problem.expected
    assert one(fresh_db, "SELECT count(*) FROM ai_systems") == 0


def test_reimport_changes_a_characteristic_with_history(fresh_db: Path, tmp_path: Path) -> None:
    register.import_ai_systems(fresh_db, write(tmp_path / "a.csv", INVENTORY), **WHO)
    changed = INVENTORY.replace("Scorer,Developer,Live,No,", "Scorer,Developer,Live,Yes,")
    report = register.import_ai_systems(fresh_db, write(tmp_path / "b.csv", changed), **WHO)
    assert [u["fields"] for u in report.updated] == [["processes_personal_data"]]
    assert one(fresh_db, "SELECT count(*) FROM v_history WHERE entity = 'ai_system' AND "
                         "field = 'processes_personal_data' AND old_value = 'False' AND new_value = 'True'") == 1


# ----------------------------------------------------------------------------------------- observed use

CASB = """Application,Domain,Category,Department,Users,First Seen,Last Seen,Risk Score
ParrotChat,chat.parrot.example,Generative AI,Sales,9,2026-06-02,2026-11-28,High
Parrot Chat,sub.chat.parrot.example,Generative AI,Support,3,2026-06-02,2026-11-28,High
Scorer Pro,,Analytics,Finance,2,2026-01-05,2026-03-01,Low
Lingo,lingo.example,Translation,Support,7,02/01/2026,26/11/2026,Medium
"""


@pytest.fixture
def usage_db(fresh_db: Path, tmp_path: Path) -> Path:
    register.import_ai_systems(fresh_db, write(tmp_path / "inventory.csv", INVENTORY), **WHO)
    ai.import_usage(fresh_db, write(tmp_path / "casb.csv", CASB), source="CASB", **WHO)
    return fresh_db


def test_usage_is_matched_by_domain_and_name_or_flagged(usage_db: Path) -> None:
    frame = ai.list_usage(usage_db)
    by_tool = {r["tool"]: r for r in frame.iter_rows(named=True)}
    chat_id = one(usage_db, "SELECT id FROM ai_systems WHERE name = 'Chat helper'")
    scorer_id = one(usage_db, "SELECT id FROM ai_systems WHERE name = 'Scorer'")
    assert (by_tool["ParrotChat"]["ai_system_id"], by_tool["ParrotChat"]["matched_by"]) == (chat_id, "domain")
    assert by_tool["Parrot Chat"]["matched_by"] == "domain"                    # a sub-domain of it
    assert (by_tool["Scorer Pro"]["ai_system_id"], by_tool["Scorer Pro"]["matched_by"]) == (scorer_id, "name")
    assert by_tool["Lingo"]["ai_system_id"] is None and by_tool["Lingo"]["unregistered"]
    assert str(by_tool["Lingo"]["first_seen"]) == "2026-01-02" and by_tool["Lingo"]["user_count"] == 7
    assert ai.list_usage(usage_db, unregistered=True)["tool"].to_list() == ["Lingo"]
    found = audit.run_audits(usage_db, rules=["ai_usage_unregistered"])
    assert found["entity_id"].to_list() == [by_tool["Lingo"]["id"]]
    assert "Lingo (lingo.example) used by Support, 7 user(s)" in found["detail"][0]


def test_matching_by_vendor(fresh_db: Path, tmp_path: Path) -> None:
    register.import_ai_systems(fresh_db, write(tmp_path / "inventory.csv", INVENTORY), **WHO)
    expenses = "Merchant,Description,Date,Amount,Cost centre\nPARROT LABS LIMITED,Team plan,2026-10-31,240.00,Sales\n"
    report = ai.import_usage(fresh_db, write(tmp_path / "expenses.csv", expenses), **WHO)
    assert [m["matched_by"] for m in report.matched] == ["vendor"]
    row = ai.list_usage(fresh_db).row(0, named=True)
    assert row["tool"] is None and row["vendor"] == "PARROT LABS LIMITED" and row["department"] == "Sales"
    assert str(row["first_seen"]) == str(row["last_seen"]) == "2026-10-31"


def test_the_host_macro_normalises_urls(usage_db: Path) -> None:
    con = stores.open_db(usage_db)
    try:
        for text, host in (("https://WWW.Example.AI/path?q=1", "example.ai"), ("*.tools.example", "tools.example"),
                           ("api.example.com:443", "api.example.com"), ("", None), (None, None)):
            assert con.execute("SELECT ai_host(?)", [text]).fetchone()[0] == host, text
    finally:
        con.close()


def test_registering_unregistered_use_matches_it_and_proposes_scenarios(usage_db: Path) -> None:
    lingo = ai.list_usage(usage_db, unregistered=True)["id"].item()
    sid = ai.register_usage(usage_db, lingo, fields={"owner": "Olu", "generative": True}, **WHO)
    system = register.get_ai_system(usage_db, sid)
    assert (system["name"], system["owner"], system["role"], system["lifecycle_stage"]) == ("Lingo", "Olu", "user",
                                                                                            "operation")
    assert lingo in system["purpose"]
    assert ai.list_usage(usage_db, unregistered=True).is_empty()
    assert ai.list_usage(usage_db).filter(pl.col("id") == lingo)["ai_system_id"].item() == sid
    proposed = set(ai.proposals(usage_db, sid)["scenario_id"])
    assert {"SEC-02", "USE-01", "ROB-02"} <= proposed and "SEC-04" not in proposed  # third-party, not trained here
    with pytest.raises(RuleViolation, match="already matched"):
        ai.register_usage(usage_db, lingo, **WHO)
    with pytest.raises(NotFoundError):
        ai.register_usage(usage_db, "U-9999", **WHO)


def test_a_registered_name_must_still_match_the_tool(fresh_db: Path, tmp_path: Path) -> None:
    ai.import_usage(fresh_db, write(tmp_path / "u.csv", "Tool,Users\nQuillBot,3\n"), **WHO)
    uid = ai.list_usage(fresh_db)["id"].item()
    with pytest.raises(InputError, match="would not match"):
        ai.register_usage(fresh_db, uid, name="Paraphrasing service", **WHO)
    assert ai.register_usage(fresh_db, uid, name="QuillBot paraphraser", **WHO)
    assert ai.list_usage(fresh_db)["matched_by"].item() == "name"


def test_recording_a_domain_on_a_system_matches_its_use(usage_db: Path, run_cli) -> None:
    scorer = one(usage_db, "SELECT id FROM ai_systems WHERE name = 'Scorer'")
    version = ai.matching_keys(usage_db, scorer)["version"]
    code, out, err = run_cli("scenarios", "characteristics", scorer, "domains=Lingo.example, other.example",
                             "vendor=Lingo GmbH", "--expected-version", version, "--db", usage_db)
    assert code == 0, err
    assert "lingo.example, other.example" in out and "Lingo GmbH" in out
    assert ai.matching_keys(usage_db, scorer)["domains"] == ["lingo.example", "other.example"]
    lingo = ai.list_usage(usage_db).filter(pl.col("tool") == "Lingo").row(0, named=True)
    assert (lingo["ai_system_id"], lingo["matched_by"], lingo["unregistered"]) == (scorer, "domain", False)


def test_dismissing_needs_a_reason_and_ends_the_finding(usage_db: Path) -> None:
    lingo = ai.list_usage(usage_db, unregistered=True)["id"].item()
    with pytest.raises(InputError, match="reason"):
        ai.dismiss_usage(usage_db, lingo, " ", **WHO)
    ai.dismiss_usage(usage_db, lingo, "Blocked at the proxy", **WHO)
    row = ai.list_usage(usage_db).filter(pl.col("id") == lingo).row(0, named=True)
    assert (row["unregistered"], row["dismissed_reason"], row["dismissed_by"]) == (False, "Blocked at the proxy",
                                                                                   "tester")
    assert audit.run_audits(usage_db, rules=["ai_usage_unregistered"]).is_empty()


def test_a_later_export_updates_entries_instead_of_duplicating(usage_db: Path, tmp_path: Path) -> None:
    later = CASB.replace("Sales,9,2026-06-02,2026-11-28", "Sales,12,2026-07-01,2026-12-15")
    report = ai.import_usage(usage_db, write(tmp_path / "casb2.csv", later), source="CASB", **WHO)
    assert len(report.created) == 0 and len(report.updated) == 1 and report.unchanged == 3
    row = ai.list_usage(usage_db).filter(pl.col("tool") == "ParrotChat").row(0, named=True)
    assert row["user_count"] == 12 and str(row["first_seen"]) == "2026-06-02" and str(row["last_seen"]) == "2026-12-15"
    assert one(usage_db, "SELECT count(*) FROM ai_usage") == 4
    assert one(usage_db, "SELECT count(*) FROM v_history WHERE entity = 'ai_usage' AND action = 'update'") == 2


def test_a_per_user_export_is_counted_not_stored(fresh_db: Path, tmp_path: Path) -> None:
    proxy = ("User,Destination Host,Department,Last Access\nann@example.org,chat.parrot.example,Sales,2026-11-01\n"
             "bob@example.org,chat.parrot.example,Sales,2026-11-03\nann@example.org,chat.parrot.example,Sales,2026-11-02\n")
    report = ai.import_usage(fresh_db, write(tmp_path / "proxy.csv", proxy), **WHO)
    assert len(report.created) == 1 and any("names not stored" in n for n in report.notes)
    row = ai.list_usage(fresh_db).row(0, named=True)
    assert row["user_count"] == 2 and str(row["last_seen"]) == "2026-11-03"
    text = " ".join(str(v) for v in stores.open_db(fresh_db).execute(
        "SELECT * FROM ai_usage").fetchone())
    history = one(fresh_db, "SELECT string_agg(new_value, ' ') FROM history WHERE entity = 'ai_usage'")
    assert "ann@" not in text and "ann@" not in history


def test_every_problem_of_a_file_is_reported_and_nothing_written(fresh_db: Path, tmp_path: Path) -> None:
    bad = ("Application,Domain,Users,Last Seen\nParrotChat,chat.parrot.example,many,2026-11-01\n"
           ",,3,2026-11-01\nLingo,lingo.example,2,yesterday\nLingo,lingo.example,4,2026-11-02\n")
    with pytest.raises(InputError) as err:
        ai.import_usage(fresh_db, write(tmp_path / "bad.csv", bad), **WHO)
    got = {(p.record, p.field) for p in err.value.problems}
    assert got == {(2, "Users"), (3, "Application"), (4, "Last Seen"), (5, "Application")}
    assert one(fresh_db, "SELECT count(*) FROM ai_usage") == 0
    with pytest.raises(InputError, match="no tool, domain or vendor column"):
        ai.import_usage(fresh_db, write(tmp_path / "none.csv", "Department,Users\nSales,3\n"), **WHO)


def test_dry_run_writes_nothing(fresh_db: Path, tmp_path: Path) -> None:
    report = ai.import_usage(fresh_db, write(tmp_path / "casb.csv", CASB), dry_run=True, **WHO)
    assert len(report.created) == 4 and len(report.unregistered) == 4
    assert report.lines()[0].startswith("dry run, nothing written")
    assert one(fresh_db, "SELECT count(*) FROM ai_usage") == 0
    assert one(fresh_db, "SELECT count(*) FROM import_batches") == 0


def test_cli_import_list_register_dismiss(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    path = write(tmp_path / "casb.csv", CASB)
    code, out, err = run_cli("import", "ai-usage", path, "--source", "CASB", "--db", fresh_db)
    assert code == 0, err
    assert "4 new" in out and "4 unregistered" in out and "unregistered  U-0004 Lingo (lingo.example)" in out
    code, out, _ = run_cli("ai-usage", "list", "--unregistered", "--db", fresh_db, "--format", "csv")
    assert out.count("\nU-") == 4
    code, out, err = run_cli("ai-usage", "register", "U-0004", "generative=yes", "--owner", "Olu", "--id",
                             "AIS-77", "--db", fresh_db)
    assert code == 0 and "AIS-77" in out, err
    assert register.get_ai_system(fresh_db, "AIS-77")["owner"] == "Olu"
    code, out, _ = run_cli("ai-usage", "dismiss", "U-0003", "--reason", "Trial ended", "--db", fresh_db)
    assert code == 0
    code, out, _ = run_cli("ai-usage", "list", "--db", fresh_db, "--format", "json")
    assert '"dismissed_reason":"Trial ended"' in out
    code, _out, err = run_cli("import", "ai-usage", tmp_path / "missing.csv", "--db", fresh_db)
    assert code != 0 and "no such file" in err and "Traceback" not in err
