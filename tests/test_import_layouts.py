"""Risk registers as practitioners publish them: no title column, controls in words, references written
with spaces, titles and years in any spelling, and the register's own score and rating beside the
likelihood and impact. None of these is refused; only a row with nothing to name it by, or an id that
is truly unknown, is a problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import register
from engine.errors import InputError
from engine.register import suggestions

from .access_support import EVERY_ROLE, as_service, use_roles
from .test_register_support import ACTOR, data, query, risk_by_key, snapshot

pytestmark = pytest.mark.both_stores

WHO = {"actor": ACTOR, "channel": "test"}


# -- the asset / threat / vulnerability layout ----------------------------------------------------------

def test_a_register_without_titles_gets_them_composed_and_keeps_its_fields(fresh_db: Path) -> None:
    report = register.import_risks(fresh_db, data("asset_threat_vulnerability_register.csv"), "atv", **WHO)
    f = report.files[0]
    assert len(f.created) == 6
    assert any("titles composed from Threat / Vulnerability and Asset" in n for n in f.notes)
    rid = risk_by_key(fresh_db, "atv", "R1")
    risk = register.get_risk(fresh_db, rid)
    assert risk["title"] == "Data breach of Customer Database"
    assert (risk["threat"], risk["vulnerability"], risk["assets"]) == ("Data breach", "Weak access controls",
                                                                      ["Customer Database"])
    # a row without an asset is named by what happens alone
    assert register.get_risk(fresh_db, risk_by_key(fresh_db, "atv", "R6"))["title"] == "Power outage"


def test_the_registers_own_score_and_rating_are_checked_as_warnings(fresh_db: Path, run_cli) -> None:
    report = register.import_risks(fresh_db, data("asset_threat_vulnerability_register.csv"), "atv", dry_run=True,
                                   **WHO)
    warnings = report.files[0].warnings
    assert [(w.record, w.field) for w in warnings] == [(5, "Risk Score"), (6, "Risk Rating")]
    assert "3 x 4 = 12" in str(warnings[0].value) and "Medium" in str(warnings[1].value)
    code, out, err = run_cli("import", "risks", data("asset_threat_vulnerability_register.csv"), "--db", fresh_db)
    assert code == 0, err
    assert "warning: " in out and ":5:Risk Score:" in out and ":6:Risk Rating:" in out
    # the scores imported are the likelihood and impact, never the register's own arithmetic
    assert query(fresh_db, "SELECT inherent_score FROM v_risk_register WHERE title LIKE 'Insider fraud%'") == [(12,)]


def test_only_a_row_with_nothing_to_name_it_by_is_refused(fresh_db: Path) -> None:
    before = snapshot(fresh_db)
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, data("nothing_to_name_a_row_by.csv"), "atv", **WHO)
    (p,) = err.value.problems
    assert (p.record, p.message) == (4, "nothing to name the risk by")
    assert snapshot(fresh_db) == before


# -- controls written in words ------------------------------------------------------------------------

def test_controls_in_words_are_kept_and_proposed_not_linked(fresh_db: Path) -> None:
    report = register.import_risks(fresh_db, data("free_text_controls_register.csv"), "ft", **WHO)
    assert report.files[0].suggested
    rid = risk_by_key(fresh_db, "ft", "FT-1")
    risk = register.get_risk(fresh_db, rid)
    assert risk["controls_text"] == "Existing controls: MFA, email filtering, awareness training"
    assert risk["controls_27001"] == []          # nothing linked silently
    got = suggestions.list_suggestions(fresh_db, risk_id=rid)
    assert set(got["status"]) == {"proposed"}
    by_phrase = {(r["phrase"], r["framework"], r["ref"]) for r in got.iter_rows(named=True)}
    assert {("MFA", "iso27001-2022", "A.8.5"), ("email filtering", "iso27001-2022", "A.8.7"),
            ("awareness training", "iso27001-2022", "A.6.3")} <= by_phrase
    assert got["score"].min() > 0.5 and got["reason"].is_not_null().all()


def test_a_mixed_cell_links_its_references_and_proposes_for_its_words(fresh_db: Path) -> None:
    register.import_risks(fresh_db, data("free_text_controls_register.csv"), "ft", **WHO)
    rid = risk_by_key(fresh_db, "ft", "FT-3")           # "A.8.5, MFA; A.5.15 Access control"
    assert register.get_risk(fresh_db, rid)["controls_27001"] == ["A.5.15", "A.8.5"]
    refs = set(suggestions.list_suggestions(fresh_db, risk_id=rid)["ref"])
    assert "A.5.17" in refs and "A.8.5" not in refs     # what the cell already names is not proposed


def test_suggestions_are_accepted_or_rejected_by_a_person(fresh_db: Path, run_cli, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {ACTOR: EVERY_ROLE, "ana": ["contributor"]})
    as_service(monkeypatch, "ana")  # the person deciding runs the command line
    register.import_risks(fresh_db, data("free_text_controls_register.csv"), "ft", **WHO)
    rid = risk_by_key(fresh_db, "ft", "FT-2")
    listed = suggestions.list_suggestions(fresh_db, risk_id=rid)
    backup = listed.filter(listed["phrase"] == "Backups")["id"][0]
    planned = listed.filter(listed["phrase"] == "disaster recovery plan")["id"].to_list()
    version = register.get_risk(fresh_db, rid)["version"]
    code, out, err = run_cli("suggestions", "accept", backup, *planned, "--db", fresh_db)
    assert code == 0 and "accepted" in out, err
    risk = register.get_risk(fresh_db, rid)
    assert "A.8.13" in risk["controls_27001"] and risk["version"] > version
    assert {"iso27001-2022:A.5.29", "iso27001-2022:A.5.30"} <= set(risk["controls_planned"])  # from the planned column
    written = {c["ref"]: c["as_written"] for c in risk["controls"]}
    assert written["A.8.13"] == "Backups"
    hist = query(fresh_db, "SELECT actor, action, new_value FROM v_history WHERE entity = 'risk' AND entity_id = ? "
                           "AND action = 'link'", [rid])
    assert ("ana", "link", "iso27001-2022:A.8.13") in hist
    logging = listed.filter(listed["phrase"] == "logging")["id"].to_list()
    code, _, err = run_cli("suggestions", "reject", *logging, "--note", "logging is the supplier's", "--db",
                           fresh_db)
    assert code == 0, err
    after = suggestions.list_suggestions(fresh_db, risk_id=rid)
    assert set(after.filter(after["id"].is_in(logging))["status"]) == {"rejected"}
    assert "A.8.15" not in register.get_risk(fresh_db, rid)["controls_27001"]
    # a re-import of the changed file proposes nothing decided before again
    register.import_risks(fresh_db, data("free_text_controls_register.csv"), "ft", **WHO)
    assert suggestions.list_suggestions(fresh_db, risk_id=rid).height == after.height
    code, out, _ = run_cli("suggestions", "list", "--status", "rejected", "--db", fresh_db, "--format", "csv")
    assert code == 0 and "logging" in out


def test_accepting_by_score_and_unknown_ids_refused(fresh_db: Path, run_cli) -> None:
    register.import_risks(fresh_db, data("free_text_controls_register.csv"), "ft", **WHO)
    done = suggestions.accept_suggestions(fresh_db, min_score=0.95, **WHO)
    assert done and all(s >= 0.95 for s in suggestions.list_suggestions(fresh_db, status="accepted")["score"])
    code, _, err = run_cli("suggestions", "accept", "S-99999", "--db", fresh_db)
    assert code == 1 and "no control suggestion S-99999" in err
    code, _, err = run_cli("suggestions", "accept", "--db", fresh_db)
    assert code == 1 and "name the suggestions" in err


# -- references as registers write them ---------------------------------------------------------------

def test_references_with_spaces_titles_and_any_year_spelling_all_resolve(fresh_db: Path) -> None:
    report = register.import_risks(fresh_db, data("references_as_written_register.csv"), "aw", **WHO)
    assert len(report.created) == 7

    def controls(key: str) -> tuple[list[str], list[str]]:
        r = register.get_risk(fresh_db, risk_by_key(fresh_db, "aw", key))
        return r["controls_27001"], r["controls_42001"]

    assert controls("AW-1")[0] == ["A.5.19", "A.5.22"]      # A.15.1.1 A.15.2.1
    assert controls("AW-2")[0] == ["A.8.15", "A.8.16"]      # with their titles
    assert controls("AW-3")[0] == ["A.8.15"]                # 12.4.1 12.4.3: no "A.", four-part: 2013
    assert controls("AW-4")[0] == ["A.8.2"]                 # ISO/IEC 27001:2013 A.9.2.3
    assert controls("AW-5")[0] == ["A.8.8"]                 # 27001-2013 A.12.6.1; ISO 27002:2022 8.8
    assert controls("AW-6")[0] == ["A.5.15", "A.5.18"]
    assert controls("AW-7")[1] == ["A.6.2.8"]               # ISO/IEC 42001 (2023) A.6.2.8
    assert report.files[0].suggested == []                  # every item was a reference


def test_only_a_truly_unknown_id_is_a_problem(fresh_db: Path) -> None:
    with pytest.raises(InputError) as err:
        register.import_risks(fresh_db, data("unknown_id_among_references.csv"), "aw", **WHO)
    assert [(p.record, p.value, p.message) for p in err.value.problems] == [
        (3, "A.8.99", "unknown control reference")]


def test_a_reimport_without_the_words_clears_the_kept_text(fresh_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text("Ref,Risk,Controls\nW-1,Phishing,MFA\nW-2,Outage,A.8.13\n", encoding="utf-8")
    register.import_risks(fresh_db, path, "words", **WHO)
    rid = risk_by_key(fresh_db, "words", "W-1")
    assert register.get_risk(fresh_db, rid)["controls_text"] == "MFA"
    assert register.get_risk(fresh_db, risk_by_key(fresh_db, "words", "W-2"))["controls_text"] is None
    path.write_text("Ref,Risk,Controls\nW-1,Phishing,A.8.5\nW-2,Outage,A.8.13\n", encoding="utf-8")
    report = register.import_risks(fresh_db, path, "words", **WHO)
    assert [u["id"] for u in report.updated] == [rid]
    risk = register.get_risk(fresh_db, rid)
    assert risk["controls_text"] is None and risk["controls_27001"] == ["A.8.5"]
