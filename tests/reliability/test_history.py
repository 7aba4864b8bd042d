"""The change history is append-only and covers every write path (command line, app, import).

- Statically: no module of the engine, the app or its pages updates, deletes, truncates, drops or alters
  the ``history`` table, and only ``engine/store/history.py`` inserts into it.
- Behaviourally: a sequence of writes through every path (CLI imports and edits, engine imports, app edits
  through the engine with channel ``app``) each append rows with the right channel and actor, and leave
  every earlier row exactly as it was; afterwards every record that was ever changed has history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import register, soa
from engine.register.records import TABLES
from tests.access_support import EVERY_ROLE, as_service, use_roles

from .dbstate import rows, scalar

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parents[2]

WRITE_ON_HISTORY = re.compile(
    r"\b(?:UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE|"
    r"INSERT\s+OR\s+REPLACE\s+INTO|REPLACE\s+INTO|COPY)\s+[\"`]?(?:main\.)?history\b(?!\s+ADD\s+COLUMN)",
    re.IGNORECASE)
"""A statement that changes or removes history rows. A migration adding a column (0008: the actor's display
name) changes no row, so it is not one."""
INSERT_INTO_HISTORY = re.compile(r"\bINSERT\s+INTO\s+[\"`]?(?:main\.)?history\b", re.IGNORECASE)


def _sources() -> list[Path]:
    files = [p for p in (ROOT / "engine").rglob("*") if p.suffix in (".py", ".sql")]
    return [*files, ROOT / "app.py", *(ROOT / "ui").glob("*.py")]


def test_no_module_changes_or_removes_history_rows() -> None:
    offenders = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in WRITE_ON_HISTORY.finditer(text)]
    assert offenders == []


def test_only_the_history_module_appends_history() -> None:
    writers = {str(p.relative_to(ROOT)) for p in _sources()
               if INSERT_INTO_HISTORY.search(p.read_text(encoding="utf-8"))
               and "migrations" not in p.parts}
    assert writers == {"engine/store/history.py"}


def test_the_history_table_is_created_once_and_never_altered() -> None:
    creates = [p.name for p in (ROOT / "engine" / "migrations").glob("*.sql")
               if re.search(r"CREATE\s+TABLE\s+history\b", p.read_text(encoding="utf-8"), re.IGNORECASE)]
    assert creates == ["0001_catalog.sql"]


# ------------------------------------------------------------------------------- every write path

RISKS_CSV = ("Risk ID,Title,Owner,Asset,Likelihood,Impact,Controls\n"
             "K-1,Payroll data leak,Ann,Payroll DB,4,4,A.5.15\n"
             "K-2,Model drift in triage,Ben,Triage model,3,4,42001:A.6.2.6\n"
             "K-3,Supplier outage,Ann,CRM,2,3,A.5.19\n")
SECOND_CSV = "ID,Title,Owner,Likelihood,Impact\nS-1,Ransomware on file servers,Cy,3,5\n"
ASSETS_CSV = "Asset ID,Name,Type,Owner\nAS-1,Billing system,application,Ann\n"
AI_CSV = "Name,Purpose,Lifecycle stage,Owner\nFraud scorer,Score card payments,operation,Ben\n"


def _history(db: Path) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT * FROM history ORDER BY id")


def _risk_version(db: Path, rid: str) -> int:
    return int(scalar(db, "SELECT version FROM risks WHERE id = ?", [rid]))


def _risk_by_key(db: Path, key: str) -> str:
    return str(scalar(db, "SELECT risk_id FROM risk_sources WHERE source_key = ?", [key]))


def test_every_write_path_appends_history_with_its_channel(fresh_db: Path, tmp_path: Path, run_cli,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = fresh_db
    # the command line runs as a scheduled job's service identity; the app and the importer are API callers
    use_roles(monkeypatch, tmp_path, {name: EVERY_ROLE for name in ("Cli Person", "App Person", "Importer")})
    as_service(monkeypatch, "Cli Person")
    files = {}
    for name, text in (("risks.csv", RISKS_CSV), ("second.csv", SECOND_CSV), ("assets.csv", ASSETS_CSV),
                       ("ai.csv", AI_CSV)):
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")

    def cli(*args: Any) -> Callable[[], None]:
        def run() -> None:
            code, out, err = run_cli(*args, "--db", db)
            assert code == 0, (args, out, err)
        return run

    def risk_set() -> None:
        rid = _risk_by_key(db, "K-1")
        cli("risk", "set", rid, "owner", "Dana", "--expected-version", str(_risk_version(db, rid)))()

    def app_risk_edit() -> None:
        rid = _risk_by_key(db, "K-2")
        register.update_risk(db, rid, {"treatment": "modify", "treatment_notes": "retrain monthly"},
                             _risk_version(db, rid), actor="App Person", channel="app")

    def app_soa_edit() -> None:
        version = soa.get_row(db, "iso42001-2023", "A.6.2.6")["version"]
        soa.set_row(db, "iso42001-2023", "A.6.2.6", applicable=True, reasons=["risk_treatment"],
                    status="planned", expected_version=version, actor="App Person", channel="app")

    def engine_import() -> None:
        register.import_risks(db, files["second.csv"], "second-register", actor="Importer")

    def plan_add() -> None:
        cli("plan", "add", "--title", "Encrypt payroll exports", "--owner", "Ann", "--effort", "2",
            "--risk", _risk_by_key(db, "K-1"), "--control", "27001:A.8.24", "--control", "42001:A.7.2")()

    steps: list[tuple[str, Callable[[], None], str, str, set[str]]] = [
        # (step, write, channel, actor, entities its history rows name)
        ("cli import risks", cli("import", "risks", files["risks.csv"], "--source", "team-register"), "cli",
         "Cli Person", {"risk", "asset"}),
        ("engine import risks", engine_import, "import", "Importer", {"risk"}),
        ("cli risk set", risk_set, "cli", "Cli Person", {"risk"}),
        ("app risk edit", app_risk_edit, "app", "App Person", {"risk"}),
        ("cli soa set", cli("soa", "set", "27001:A.5.15", "--applicable", "--reason", "legal_regulatory",
                            "--owner", "CISO"), "cli", "Cli Person", {"soa_row"}),
        ("app soa edit", app_soa_edit, "app", "App Person", {"soa_row"}),
        ("cli plan add", plan_add, "cli", "Cli Person", {"action"}),
        ("cli plan update", cli("plan", "update", "A-001", "--status", "in_progress"), "cli", "Cli Person",
         {"action"}),
        ("cli plan link-risk", lambda: cli("plan", "link-risk", "A-001", _risk_by_key(db, "K-3"))(), "cli",
         "Cli Person", {"action"}),
        ("cli plan approve", lambda: cli("plan", "approve", "--risk", _risk_by_key(db, "K-3"))(), "cli",
         "Cli Person", {"risk"}),
        ("cli soa add-control", cli("soa", "add-control", "ORG.1", "--title", "Clean desk audits"), "cli",
         "Cli Person", {"framework", "control"}),
        ("cli soa snapshot", cli("soa", "snapshot", "--confirm", "Baseline"), "cli", "Cli Person",
         {"soa_version"}),
        ("cli import assets", cli("import", "assets", files["assets.csv"]), "cli", "Cli Person", {"asset"}),
        ("cli import ai-systems", cli("import", "ai-systems", files["ai.csv"]), "cli", "Cli Person",
         {"ai_system"}),
    ]
    seen = _history(db)
    for name, write, channel, actor, entities in steps:
        write()
        now = _history(db)
        assert now[: len(seen)] == seen, f"{name}: an earlier history row changed or disappeared"
        added = now[len(seen):]
        assert added, f"{name}: wrote without a history row"
        assert not seen or min(r[0] for r in added) > seen[-1][0], f"{name}: ids must keep increasing"
        assert {r[3] for r in added} == {channel}, f"{name}: channels {({r[3] for r in added})}"
        assert {r[2] for r in added} == {actor}, f"{name}: actors {({r[2] for r in added})}"
        assert {r[4] for r in added} == entities, f"{name}: entities {({r[4] for r in added})}"
        seen = now

    # the command-line import's rows belong to its batch
    batch = scalar(db, "SELECT id FROM import_batches WHERE source = 'team-register'")
    assert scalar(db, "SELECT count(*) FROM history WHERE batch_id = ? AND action = 'create' "
                      "AND entity = 'risk'", [batch]) == 3

    # every record that was ever created or changed through these paths has its history
    for entity, table in TABLES.items():
        missing = rows(db, f"SELECT id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM history h "
                           "WHERE h.entity = ? AND h.entity_id = t.id)", [entity])
        assert missing == [], f"{table} rows without any history: {missing}"
    changed_soa = rows(db, "SELECT framework || ':' || ref FROM soa_rows s WHERE version > 1 AND NOT EXISTS "
                           "(SELECT 1 FROM history h WHERE h.entity = 'soa_row' "
                           "AND h.entity_id = s.framework || ':' || s.ref)")
    assert changed_soa == []
    actions = rows(db, "SELECT id FROM actions a WHERE NOT EXISTS (SELECT 1 FROM history h "
                       "WHERE h.entity = 'action' AND h.entity_id = a.id AND h.action = 'create')")
    assert actions == []


def test_a_refused_write_adds_no_history(fresh_db: Path, run_cli) -> None:
    before = _history(fresh_db)
    code, _, err = run_cli("soa", "set", "27001:A.5.1", "--not-applicable", "--db", fresh_db)
    assert code != 0 and "justification" in err
    code, _, err = run_cli("risk", "set", "R-9999", "owner", "x", "--expected-version", "1", "--db", fresh_db)
    assert code != 0
    assert _history(fresh_db) == before


def test_changing_the_crosswalk_depth_is_recorded(fresh_db: Path, run_cli) -> None:
    """`riskmap depth` changes a setting and rebuilds the inferred crosswalk links auditors read: a write
    path like any other, so it must leave a history row."""
    before = _history(fresh_db)
    old = scalar(fresh_db, "SELECT value FROM settings WHERE key = 'crosswalk_depth'")
    code, _, err = run_cli("depth", "2", "--db", fresh_db)
    assert code == 0, err
    added = _history(fresh_db)[len(before):]
    assert [(r[3], r[5], r[7], r[8], r[9]) for r in added] == [("cli", "crosswalk_depth", "value", old, "2")]
