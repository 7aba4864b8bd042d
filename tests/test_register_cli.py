"""The register commands: imports, merges, single risks, the matrix and rescoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engine.access import os_account

from .access_support import EVERY_ROLE, as_service, use_roles
from .test_register_support import data, query, risk_by_key, snapshot

pytestmark = pytest.mark.both_stores


@pytest.fixture(autouse=True)
def roles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A scheduled job's service identity (cli-user) and the account running the tests hold every role."""
    use_roles(monkeypatch, tmp_path, {"cli-user": EVERY_ROLE}, me=EVERY_ROLE)


def _load(run_cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    as_service(monkeypatch, "cli-user")
    for kind, name in (("assets", "good_assets.csv"), ("ai-systems", "good_ai_systems.csv"),
                       ("assessments", "good_assessments.csv")):
        code, out, err = run_cli("import", kind, data(name), "--db", db)
        assert code == 0, err
    code, out, err = run_cli("import", "risks", data("good_security_register.xlsx"), "--source", "security",
                             "--db", db)
    assert code == 0, err
    assert "6 new" in out and "27001:2013 reference(s) translated" in out
    as_service(monkeypatch, None)


def test_import_dry_run_then_import(run_cli, fresh_db: Path,  # type: ignore[no-untyped-def]
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _load(run_cli, fresh_db, monkeypatch)
    before = snapshot(fresh_db)
    code, out, _ = run_cli("import", "risks", data("good_ai_register.csv"), "--source", "ai", "--dry-run",
                           "--db", fresh_db)
    assert code == 0 and out.startswith("dry run, nothing written")
    assert "merge    row 2 into" in out and "new      row 3" in out
    assert snapshot(fresh_db) == before
    code, out, _ = run_cli("import", "risks", data("good_ai_register.csv"), "--source", "ai", "--db", fresh_db)
    assert code == 0 and "3 new, 1 merged" in out
    actors = {r[0] for r in query(fresh_db, "SELECT DISTINCT actor FROM history WHERE channel = 'cli'")}
    assert actors == {"cli-user", os_account()}  # the service identity, then the login name


def test_a_bad_file_exits_2_naming_row_and_column(run_cli, fresh_db: Path) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(fresh_db)
    code, out, err = run_cli("import", "risks", data("bad_likelihood_value.csv"), "--source", "x", "--db", fresh_db)
    assert code == 2
    assert "bad_likelihood_value.csv:3:Likelihood" in err and "'often'" in err and "expected" in err
    assert "Traceback" not in err
    assert snapshot(fresh_db) == before


def test_several_files_with_one_source_are_refused(run_cli, fresh_db: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("import", "risks", data("good_risk_register.csv"), data("good_ai_register.csv"),
                           "--source", "x", "--db", fresh_db)
    assert code == 2 and "--source" in err


def test_merges_list_and_undo(run_cli, fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _load(run_cli, fresh_db, monkeypatch)
    run_cli("import", "risks", data("good_ai_register.csv"), "--source", "ai", "--db", fresh_db)
    code, out, _ = run_cli("merges", "--db", fresh_db, "--format", "json")
    assert code == 0
    merges = json.loads(out)
    assert len(merges) == 1 and merges[0]["status"] == "active" and merges[0]["source_key"] == "AI-1"
    code, out, _ = run_cli("merges", "undo", merges[0]["id"], "--db", fresh_db)
    assert code == 0 and "is now risk" in out
    assert risk_by_key(fresh_db, "ai", "AI-1") != risk_by_key(fresh_db, "security", "SR-03")
    code, _, err = run_cli("merges", "undo", merges[0]["id"], "--db", fresh_db)
    assert code == 1 and "already undone" in err
    code, _, err = run_cli("merges", "undo", "M-9999", "--db", fresh_db)
    assert code == 1 and "no merge" in err


def test_risk_show_and_set(run_cli, fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _load(run_cli, fresh_db, monkeypatch)
    rid = risk_by_key(fresh_db, "security", "SR-06")
    code, out, _ = run_cli("risk", "show", rid, "--db", fresh_db)
    assert code == 0
    assert "iso27001-2022:A.8.15" in out and "from iso27001-2013:A.12.4.1" in out and "security:7" in out
    code, out, _ = run_cli("risk", "set", rid, "owner", "Dana Lee", "--expected-version", "1", "--db", fresh_db)
    assert code == 0 and "version 2" in out
    code, _, err = run_cli("risk", "set", rid, "owner", "Eve", "--expected-version", "1", "--db", fresh_db)
    assert code == 1 and "changed by someone else" in err
    code, _, err = run_cli("risk", "set", rid, "inherent_impact", "7", "--expected-version", "2", "--db", fresh_db)
    assert code == 2 and "inherent_impact" in err and "1 to 5" in err
    code, out, _ = run_cli("risk", "show", rid, "--format", "json", "--db", fresh_db)
    shown = json.loads(out)
    assert shown["owner"] == "Dana Lee" and shown["history"][-1]["new_value"] == "Dana Lee"
    code, out, _ = run_cli("risk", "list", "--format", "csv", "--db", fresh_db)
    assert code == 0 and out.count("\n") == 7


def test_risk_set_without_expected_version_applies_and_is_recorded(run_cli, fresh_db: Path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripts edit without knowing the version: the change applies to the current one and is in the
    history; given, a version that moved on is refused and nothing is written."""
    _load(run_cli, fresh_db, monkeypatch)
    rid = risk_by_key(fresh_db, "security", "SR-06")
    code, out, err = run_cli("risk", "set", rid, "owner", "Scripted Owner", "--db", fresh_db)
    assert code == 0 and "version 2" in out, err
    assert query(fresh_db, "SELECT owner, version FROM risks WHERE id = ?", [rid]) == [("Scripted Owner", 2)]
    assert query(fresh_db, "SELECT new_value, channel FROM v_history WHERE entity = 'risk' AND entity_id = ? "
                           "AND field = 'owner' ORDER BY id DESC LIMIT 1", [rid]) == [("Scripted Owner", "cli")]
    code, _, err = run_cli("risk", "set", rid, "owner", "Stale Owner", "--expected-version", "1", "--db", fresh_db)
    assert code == 1 and "changed by someone else" in err
    assert query(fresh_db, "SELECT owner FROM risks WHERE id = ?", [rid]) == [("Scripted Owner",)]
    code, _, err = run_cli("risk", "show", "R-9999", "--db", fresh_db)
    assert code == 1 and "no risk" in err


def test_matrix_show_set_and_rescore(run_cli, fresh_db: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _load(run_cli, fresh_db, monkeypatch)
    code, out, _ = run_cli("matrix", "show", "--db", fresh_db)
    assert code == 0 and "version 1: 5x5, appetite 6" in out and "25 Critical" in out
    code, out, _ = run_cli("matrix", "show", "--format", "yaml", "--db", fresh_db)
    doc = yaml.safe_load(out)
    doc.update(size=4, likelihood_labels=["Rare", "Unlikely", "Likely", "Frequent"],
               impact_labels=["Minor", "Moderate", "Major", "Severe"], appetite=4,
               levels=[{"name": "Low", "min": 1, "colour": "#00aa00"}, {"name": "High", "min": 6, "colour": "#cc0000"}])
    f = tmp_path / "matrix.yaml"
    f.write_text(yaml.safe_dump(doc))
    code, out, _ = run_cli("matrix", "set", f, "--db", fresh_db, "--note", "four by four")
    assert code == 0 and "matrix version 2 recorded" in out and "riskmap rescore" in out
    rid = risk_by_key(fresh_db, "security", "SR-01")  # 4 x 5 on version 1
    assert query(fresh_db, "SELECT inherent_likelihood, inherent_impact, matrix_version FROM risks WHERE id = ?",
                 [rid]) == [(4, 5, 1)]
    code, out, _ = run_cli("rescore", "--dry-run", "--db", fresh_db)
    assert code == 0 and out.startswith("dry run") and query(
        fresh_db, "SELECT count(*) FROM risks WHERE matrix_version = 2")[0][0] == 0
    code, out, _ = run_cli("rescore", "--db", fresh_db)
    assert code == 0 and "6 risk(s) rescored onto matrix version 2" in out
    assert query(fresh_db, "SELECT inherent_likelihood, inherent_impact, matrix_version FROM risks WHERE id = ?",
                 [rid]) == [(3, 4, 2)]
    bad = tmp_path / "bad.yaml"
    bad.write_text("size: 9\n")
    code, _, err = run_cli("matrix", "set", bad, "--db", fresh_db)
    assert code == 2 and "3 to 6" in err


def test_several_files_import_in_one_run(run_cli, fresh_db: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("import", "risks", data("good_security_register.xlsx"), data("good_ai_register.csv"),
                             "--db", fresh_db)
    assert code == 0, err
    assert "[good_security_register] 6 rows: 6 new" in out and "[good_ai_register] 4 rows: 3 new, 1 merged" in out
    assert query(fresh_db, "SELECT DISTINCT source FROM risk_sources ORDER BY 1") == [
        ("good_ai_register",), ("good_security_register",)]
