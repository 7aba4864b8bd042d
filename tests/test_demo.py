"""The demo organisation: `riskmap demo` builds Northwind Health through the importers users run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from engine import demo, store
from engine.errors import InputError, RuleViolation
from engine.lifecycle import init_database

from . import stores
from .demo_support import demo_copy, demo_template

pytestmark = pytest.mark.both_stores

DEMO_DIR = Path(demo.DEMO_DIR)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


one = stores.one
frame = stores.frame


# ------------------------------------------------------------------------------------------- contents

def test_inventories(template: Path) -> None:
    assert one(template, "SELECT count(*) FROM v_assets") == 40
    assert one(template, "SELECT count(*) FROM v_ai_systems") == 9   # 8 in the inventory, 1 registered from use
    assert one(template, "SELECT count(*) FROM v_impact_assessments") == 4
    roles = set(one(template, "SELECT list(DISTINCT trim(r)) FROM v_ai_systems, unnest(string_split(role, ',')) "
                              "AS t(r)"))
    assert {"developer", "provider", "user"} <= roles
    # Every assessment names an AI system of the inventory; no asset or AI system was invented by a typo.
    assert one(template, "SELECT count(*) FROM v_impact_assessments WHERE ai_system_name IS NULL") == 0
    assert one(template, "SELECT count(*) FROM v_assets WHERE id NOT LIKE 'AST-%'") == 0
    assert one(template, "SELECT count(*) FROM v_ai_systems WHERE id NOT LIKE 'AIS-%'") == 0


def test_two_registers_consolidated_into_one(template: Path) -> None:
    assert one(template, "SELECT count(*) FROM risk_sources") == 90          # 60 security + 30 AI rows
    assert one(template, "SELECT count(*) FROM v_risk_register WHERE n_sources > 0") == 85
    both = frame(template, "SELECT id, management_system, sources FROM v_risk_register WHERE n_sources > 1")
    assert both.height == 5
    assert set(both["management_system"]) == {"both"}
    for sources in both["sources"]:
        assert len(sources) == 2
        assert any(s.startswith(demo.SECURITY_SOURCE + ":") for s in sources)
        assert any(s.startswith(demo.AI_SOURCE + ":") for s in sources)
    assert one(template, "SELECT count(*) FROM v_risk_merges WHERE status = 'active'") == 5
    counts = dict(frame(template, "SELECT management_system, count(*) FROM v_risk_register WHERE n_sources > 0 "
                                  "GROUP BY 1").rows())
    assert counts == {"ISMS": 55, "AIMS": 25, "both": 5}
    # and the 5 accepted from risk scenarios, which no register row holds
    assert one(template, "SELECT count(*) FROM v_risk_register WHERE n_sources = 0") == 5


def test_legacy_references_translated_to_2022(template: Path) -> None:
    assert one(template, "SELECT count(*) FROM risk_controls WHERE framework = 'iso27001-2013'") == 0
    translated = frame(template, "SELECT * FROM v_risk_controls WHERE translated_from IS NOT NULL")
    assert translated.height > 100
    assert set(translated["framework"]) == {"iso27001-2022"}
    assert translated["translated_from"].str.starts_with("iso27001-2013:A.").all()
    written = frame(template, "SELECT as_written, translated_from, ref FROM v_risk_controls "
                              "WHERE as_written LIKE 'ISO 27001:2013%'")
    assert written.height >= 1  # "ISO 27001:2013 A.9.2.3" as people write it
    # The AI register's own 27001:2022 references are kept as they are.
    assert one(template, "SELECT count(*) FROM v_risk_controls WHERE management_system = 'AIMS' "
                         "AND framework = 'iso27001-2022' AND translated_from IS NULL") > 5


def test_scales_mapped_onto_one_matrix(template: Path) -> None:
    scores = frame(template, "SELECT DISTINCT inherent_likelihood AS v FROM v_risk_register "
                             "WHERE management_system = 'AIMS' AND n_sources > 0")
    assert set(scores["v"]) <= {1, 3, 5}            # Low/Medium/High on the 5x5 matrix
    notes = frame(template, "SELECT DISTINCT scale_note FROM risk_sources WHERE scale_note IS NOT NULL")
    assert notes.height >= 1


def test_treatment_plan_and_partly_completed_soa(template: Path) -> None:
    assert one(template, "SELECT count(*) FROM v_treatment_plan") == 26
    assert one(template, "SELECT count(*) FROM v_treatment_plan WHERE satisfies_both") >= 10
    assert one(template, "SELECT count(*) FROM action_risks") >= 40
    statuses = set(frame(template, "SELECT DISTINCT status FROM v_treatment_plan")["status"])
    assert statuses == {"planned", "in_progress", "done", "cancelled"}
    soa = frame(template, "SELECT framework, applicable, justification, status FROM v_soa")
    assert soa.height == 131
    decided = soa.filter(pl.col("applicable").is_not_null())
    assert decided.height == 92
    assert 0 < soa.filter(pl.col("applicable").is_null()).height < 131
    excluded = soa.filter(pl.col("applicable") == False)  # noqa: E712
    assert excluded.height == 2 and excluded["justification"].is_not_null().all()
    assert soa.filter(pl.col("framework") == "iso42001-2023")["applicable"].is_null().sum() > 0


def test_ai_risk_identification_shows_every_state(template: Path) -> None:
    states = dict(frame(template, "SELECT state, count(*) FROM v_ai_risk_identification GROUP BY 1").rows())
    assert set(states) == {"identified", "not_applicable", "open"}
    assert states["identified"] + states["not_applicable"] == one(template, "SELECT count(*) FROM ai_scenario_decisions")
    # TriageAssist is fully assessed; every other system still has open scenarios
    open_per = dict(frame(template, "SELECT ai_system_id, count(*) FILTER (WHERE state = 'open') "
                                    "FROM v_ai_risk_identification GROUP BY 1").rows())
    assert open_per.pop("AIS-01") == 0 and all(n > 0 for n in open_per.values())
    assert one(template, "SELECT count(*) FROM v_ai_risk_identification WHERE state = 'not_applicable' "
                         "AND trim(coalesce(reason, '')) = ''") == 0
    # an accepted scenario either linked a risk of the registers or became a new, scored risk
    new = frame(template, "SELECT r.* FROM v_risk_register r WHERE n_sources = 0")
    assert new["inherent_score"].is_not_null().all() and new["cause"].is_not_null().all()
    assert (new["ai_system_ids"].list.len() == 1).all()
    # the characteristics came from the inventory's own columns
    assert one(template, "SELECT count(*) FROM v_ai_characteristics WHERE recorded") > 80


def test_observed_ai_use_shows_shadow_tools(template: Path) -> None:
    usage = frame(template, "SELECT * FROM v_ai_usage")
    assert usage.height == 10
    assert usage.filter(pl.col("ai_system_id").is_not_null())["matched_by"].unique().to_list() == ["domain"]
    unregistered = usage.filter(pl.col("unregistered"))
    assert set(unregistered["tool"]) == {"ParrotChat", "Lingo Translate"} and unregistered.height == 3
    assert usage.filter(pl.col("dismissed_reason").is_not_null())["tool"].to_list() == ["SlideGenie"]
    assert usage.filter(pl.col("tool") == "MeetNote")["ai_system_id"].item() == "AIS-09"
    findings = frame(template, "SELECT * FROM v_audit_findings WHERE rule = 'ai_usage_unregistered'")
    assert sorted(findings["entity_id"]) == sorted(unregistered["id"])


def test_everything_recorded_as_the_demo(template: Path) -> None:
    """No back door: every record came through an importer or a public function, all in the history."""
    channels = frame(template, "SELECT DISTINCT actor, channel FROM v_history")
    assert channels.rows() == [("demo", "demo")]
    created = dict(frame(template, "SELECT entity, count(*) FROM v_history WHERE action = 'create' "
                                   "GROUP BY 1").rows())
    assert created["risk"] == 90 and created["asset"] == 40 and created["ai_system"] == 9
    assert created["impact_assessment"] == 4 and created["action"] == 26
    batches = frame(template, "SELECT kind, imported_by FROM import_batches ORDER BY id")
    # the plan and the SoA come through their importers too, each with its import batch
    assert batches["kind"].to_list() == ["assets", "ai_systems", "assessments", "risks", "risks", "actions", "soa",
                                         "ai_usage"]
    assert set(batches["imported_by"]) == {"demo"}
    assert demo.database_kind(template) == "demo"


def test_demo_source_has_no_direct_register_writes() -> None:
    text = (Path(demo.__file__)).read_text(encoding="utf-8").upper()
    for statement in ("INSERT INTO", "UPDATE RISKS", "DELETE FROM"):
        assert statement not in text


# --------------------------------------------------------------------------------------- rebuilding

def _snapshot(db: Path) -> dict[str, pl.DataFrame]:
    """The demo's content without the times it was written at."""
    return {
        "risks": frame(db, "SELECT * EXCLUDE (created_at, updated_at) FROM v_risk_register ORDER BY id"),
        "controls": frame(db, "SELECT * FROM v_risk_controls ORDER BY ALL"),
        "merges": frame(db, "SELECT kept_risk_id, source, source_row, reason FROM v_risk_merges ORDER BY ALL"),
        "plan": frame(db, "SELECT * EXCLUDE (created_at, updated_at) FROM v_treatment_plan ORDER BY action_id"),
        "soa": frame(db, "SELECT * EXCLUDE (updated_at) FROM v_soa ORDER BY framework, ordinal"),
        "identification": frame(db, "SELECT * EXCLUDE (decided_at) FROM v_ai_risk_identification ORDER BY ALL"),
        "usage": frame(db, "SELECT * EXCLUDE (dismissed_at) FROM v_ai_usage ORDER BY id"),
        # The same changes; the order of rows written in one bulk statement is not part of the contract.
        "history": frame(db, "SELECT entity, entity_id, action, field, new_value FROM v_history ORDER BY ALL"),
    }


def test_rebuild_is_idempotent(template: Path, tmp_path: Path, run_cli) -> None:
    db = demo_copy(template, tmp_path)
    code, out, err = run_cli("demo", "--db", db, "--quiet")
    assert code == 0, err
    assert "90 risks" in out and "5 merged" in out
    assert not list(tmp_path.glob(".*demo-build*")), "the temporary build file was left behind"
    before, after = _snapshot(template), _snapshot(db)
    for name in before:
        assert before[name].equals(after[name]), f"{name} differs after a rebuild"


def test_refuses_to_replace_someone_elses_database(tmp_path: Path, run_cli) -> None:
    from engine import register

    db = stores.new_db(tmp_path, "ours.duckdb")
    assert demo.database_kind(db) == "missing"
    init_database(db)
    assert demo.database_kind(db) == "empty"
    register.import_assets(db, demo.ASSETS, actor="alice", channel="cli")
    assert demo.database_kind(db) == "other"
    with pytest.raises(RuleViolation, match="not the demo"):
        demo.build_demo(db)
    code, _out, err = run_cli("demo", "--db", db)
    assert code != 0 and "--force" in err
    assert one(db, "SELECT count(*) FROM history WHERE actor = 'alice'") > 0


def test_force_replaces_it(tmp_path: Path, template: Path) -> None:
    db = stores.new_db(tmp_path, "ours.duckdb")
    if stores.ON_POSTGRES:   # a server database holding someone else's tables
        with stores.writing(db) as con:
            store.postgres.native(con, "CREATE TABLE payroll (who TEXT); INSERT INTO payroll VALUES ('x')")
            con.execute("CALL pg_clear_cache()")
    else:
        db.write_bytes(b"not a database at all")
    assert demo.database_kind(db) == "other"
    with pytest.raises(RuleViolation, match="not the demo"):
        demo.build_demo(db)
    report = demo.build_demo(db, force=True)
    assert report.risks == 90
    assert _snapshot(db)["risks"].equals(_snapshot(template)["risks"])


@stores.file_only("the file is built beside the target and moved into place; a server database is rebuilt in place")
def test_a_failed_build_leaves_the_database_as_it_was(template: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = demo_copy(template, tmp_path)
    before = stores.content(db)
    bad = tmp_path / "actions.csv"
    text = (DEMO_DIR / "actions.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("ISR-003; ISR-005", "ISR-999; ISR-005"), encoding="utf-8")
    monkeypatch.setattr(demo, "ACTIONS", bad)
    with pytest.raises(InputError, match="ISR-999"):
        demo.build_demo(db)
    assert stores.content(db) == before
    assert not list(tmp_path.glob(".*demo-build*"))


@stores.postgres_only("a DuckDB file is built beside the target")
def test_a_failed_rebuild_on_a_server_is_replaced_by_the_next(template: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """On a server the demo is rebuilt in place: a failed build leaves a partial demo, still known as the
    demo, which the next build replaces with the whole demo."""
    db = demo_copy(template, tmp_path)
    bad = tmp_path / "actions.csv"
    bad.write_text((DEMO_DIR / "actions.csv").read_text(encoding="utf-8").replace("ISR-003; ISR-005", "ISR-999"),
                   encoding="utf-8")
    monkeypatch.setattr(demo, "ACTIONS", bad)
    with pytest.raises(InputError, match="ISR-999"):
        demo.build_demo(db)
    assert demo.database_kind(db) == "demo"
    assert one(db, "SELECT count(*) FROM actions") == 0
    monkeypatch.undo()
    demo.build_demo(db)
    for name, content in _snapshot(template).items():
        assert content.equals(_snapshot(db)[name]), f"{name} differs after the rebuild"


def test_progress_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    monkeypatch.setattr(demo, "_add_actions", lambda db: 0)
    monkeypatch.setattr(demo, "_record_soa", lambda db: 0)
    report = demo.build_demo(stores.new_db(tmp_path, "d.duckdb"), progress=lines.append)
    assert report.risks == 90 and report.actions == 0
    text = "\n".join(lines)
    for name in ("assets.csv", "ai-systems.csv", "impact-assessments.csv", "security-risk-register.xlsx",
                 "ai-risk-register.csv", "ai-usage.csv", "ai-risk-identification.csv"):
        assert name in text


# ------------------------------------------------------------------------------------------ the files

def _generator():
    spec = importlib.util.spec_from_file_location("build_files", DEMO_DIR / "build_files.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_workbook_is_what_the_generator_writes(tmp_path: Path) -> None:
    gen = _generator()
    fresh = gen.write_workbook(tmp_path / "fresh.xlsx")

    def read(path: Path) -> pl.DataFrame:
        return fastexcel.read_excel(str(path)).load_sheet(gen.SHEET).to_polars()

    kept = read(DEMO_DIR / "security-risk-register.xlsx")
    assert kept.equals(read(fresh)), "data/demo/security-risk-register.xlsx is stale: run data/demo/build_files.py"
    assert kept.height == 60


def test_files_look_like_a_real_teams() -> None:
    gen = _generator()
    for heading in ("Risk Ref", "Risk Description", "Asset", "Threat", "Vulnerability", "Likelihood (1-5)",
                    "Impact (1-5)", "Risk Owner", "Existing Controls (ISO 27001:2013)", "Treatment", "Review Date"):
        assert heading in gen.COLUMNS
    controls = [r[11] for r in gen.RISKS]
    assert any(c.startswith("ISO 27001:2013 A.") for c in controls)
    assert any(", " in c for c in controls) and any("; " in c for c in controls)
    ai = pl.read_csv(DEMO_DIR / "ai-risk-register.csv", infer_schema=False)
    assert ai.height == 30
    assert set(ai["Likelihood"]) | set(ai["Impact"]) <= {"Low", "Medium", "High"}
    assert ai["Mapped Controls"].str.contains("ISO 27001:2022").any()
    assert ai["Risk Source (ISO 42001 Annex C)"].is_not_null().all()
    assert sorted(p.name for p in DEMO_DIR.glob("*.csv")) == [
        "actions.csv", "ai-risk-identification.csv", "ai-risk-register.csv", "ai-systems.csv", "ai-usage.csv",
        "assets.csv", "impact-assessments.csv", "soa-decisions.csv"]
