"""The demo organisation, Northwind Health, and the analysts' Parquet export.

Northwind Health Ltd is a fictional health-technology company (about 450 staff, Leeds) that develops
TriageAssist, an AI triage product sold to GP practices and urgent care centres, and uses several
third-party AI services. Its files in ``data/demo`` are kept the way its teams keep them: an asset
inventory, an AI system inventory and impact assessments (CSV), the security team's legacy risk
register in Excel (1-5 scales, ISO/IEC 27001:2013 references), the AI governance group's risk register
(CSV, Low/Medium/High, ISO/IEC 42001 references), a treatment action list, a partly completed SoA, the
web proxy's export of AI services staff use, and the AI governance group's worksheet of decisions on the
risk scenarios proposed for each AI system.

:func:`build_demo` builds the demo database from those files through the same importers and public
functions a user runs (no direct writes to register tables), every change recorded with actor and
channel ``demo`` (the principal :data:`ACTOR`: riskmap itself, holding every role). A DuckDB file is
built in a temporary file next to the target and moved into place when complete, so a failed build
leaves the previous database as it was. On PostgreSQL the demo's tables are dropped and the demo built
again in place (a server database cannot be swapped for a new one under the app's feet); a failed build
there leaves a partial demo, which the next ``riskmap demo`` replaces. Rebuilding gives the same content
every time, on either store.

:func:`export_views_parquet` writes every documented view as Parquet for analysts.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from engine import access, ai, plan, register, soa, store
from engine.errors import ConfigError, InputError, Problem

from .config import DATA_DIR, db_path
from .errors import RuleViolation
from .lifecycle import init_database

DEMO_DIR = DATA_DIR / "demo"
ACTOR = access.Principal.everything("demo", "riskmap demo build", auth="system")
CHANNEL = "demo"
ORGANISATION = "Northwind Health Ltd"

ASSETS = DEMO_DIR / "assets.csv"
AI_SYSTEMS = DEMO_DIR / "ai-systems.csv"
ASSESSMENTS = DEMO_DIR / "impact-assessments.csv"
SECURITY_REGISTER = DEMO_DIR / "security-risk-register.xlsx"
SECURITY_MAPPING = DEMO_DIR / "security-risk-register.mapping.yaml"
AI_REGISTER = DEMO_DIR / "ai-risk-register.csv"
AI_MAPPING = DEMO_DIR / "ai-risk-register.mapping.yaml"
ACTIONS = DEMO_DIR / "actions.csv"
SOA_DECISIONS = DEMO_DIR / "soa-decisions.csv"
AI_USAGE = DEMO_DIR / "ai-usage.csv"
IDENTIFICATION = DEMO_DIR / "ai-risk-identification.csv"

SECURITY_SOURCE = "Security risk register"
AI_SOURCE = "AI risk register"

Progress = Callable[[str], None]

# What the AI governance group did with the shadow tools the proxy export showed: one registered (it then
# gets its scenario proposals), one dismissed; the others are still open findings.
SHADOW_REGISTERED = ("MeetNote", "AIS-09", {
    "name": "MeetNote meeting transcription",
    "purpose": "Transcribes and summarises clinical safety meetings; adopted by the team before approval",
    "owner": "Dr Tomasz Nowak", "processes_personal_data": True, "processes_sensitive_data": True,
    "decides_about_people": False, "generative": True, "external_input": False, "interacts_with_people": False,
    "safety_critical": False, "fully_automated": False, "affects_vulnerable_groups": False})
SHADOW_DISMISSED = ("SlideGenie", "Blocked at the web proxy on 2026-11-20; marketing uses the approved Workspace "
                                  "Copilot instead")


@dataclass
class DemoReport:
    """What :func:`build_demo` built."""

    path: str | Path
    assets: int = 0
    ai_systems: int = 0
    assessments: int = 0
    source_rows: int = 0
    risks: int = 0
    merged: int = 0
    translated: int = 0
    actions: int = 0
    soa_decided: int = 0
    soa_rows: int = 0
    scenario_risks: int = 0
    identified: int = 0
    not_applicable: int = 0
    open_scenarios: int = 0
    usage: int = 0
    unregistered: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{store.location_text(self.path)}: demo organisation {ORGANISATION} built in {self.seconds:.1f} s: "
                f"{self.assets} assets, {self.ai_systems} AI systems, {self.assessments} impact assessments, "
                f"{self.source_rows} register rows consolidated into {self.risks - self.scenario_risks} risks "
                f"({self.merged} merged, "
                f"{self.translated} ISO 27001:2013 references translated), {self.actions} treatment actions, "
                f"{self.soa_decided} of {self.soa_rows} SoA rows decided; AI risk scenarios: {self.identified} "
                f"identified ({self.scenario_risks} as new risks: {self.risks} risks in all), {self.not_applicable} "
                f"not applicable, {self.open_scenarios} open; observed AI use: "
                f"{self.usage} entries, {self.unregistered} unregistered")


# ------------------------------------------------------------------------------------- what is there

def database_kind(db: str | Path | None) -> str:
    """``missing``, ``empty`` (riskmap schema, nothing anyone entered), ``demo`` (built by
    :func:`build_demo`), ``other`` (someone's data, or not a riskmap database).

    A PostgreSQL database with no table at all is ``missing``; a server that cannot be reached raises
    :class:`ConfigError`."""
    location = db_path(db)
    on_server = store.postgres.is_url(location)
    if not on_server and not Path(location).exists():
        return "missing"
    try:
        with store.connect(location) as con:
            return _kind_of(con)
    except ConfigError:
        if on_server:
            raise
        return "other"
    except duckdb.Error:
        return "other"


def _kind_of(con: duckdb.DuckDBPyConnection) -> str:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = "
                                        "'BASE TABLE' AND table_schema IN ('main', 'public')").fetchall()}
    if not tables and store.postgres.is_postgres(con):
        return "missing"
    if "schema_migrations" not in tables or "history" not in tables:
        return "other"
    demo_rows, other_rows = con.execute(
        "SELECT count(*) FILTER (WHERE channel = ? AND actor = ?), count(*) FILTER (WHERE channel <> ?) "
        "FROM history", [CHANNEL, ACTOR, CHANNEL]).fetchone() or (0, 0)
    if demo_rows:
        return "demo"
    if other_rows:
        return "other"
    for table in ("assets", "ai_systems", "risks", "actions"):
        if table in tables and (con.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,))[0]:
            return "other"
    return "empty"


# ------------------------------------------------------------------------------------------ the build

def build_demo(db: str | Path | None = None, progress: Progress | None = None, *,
               force: bool = False, actor: access.Principal | str | None = None) -> DemoReport:
    """Build the Northwind Health demo database at ``db`` (default: ``RISKMAP_DB``, else the embedded default).

    Steps: ``init``; import assets, AI systems and impact assessments; import the legacy security
    register (27001:2013 references translated to 2022) and the AI register (the same risk in both is
    merged, keeping both lineages); add the treatment actions; record the SoA decisions. ``progress``
    receives one line (or a few) per step.

    A database the demo built is rebuilt from scratch (changes made to it since are lost, which is what
    rebuilding the demo means); a missing or empty one is built. Any other database is refused with
    :class:`RuleViolation` unless ``force``. On PostgreSQL, rebuilding drops every table of the
    database's ``public`` schema first (:func:`_clear_server`). Replacing an existing database is a
    restore: ``actor`` (default: the local principal) needs the role admin.
    """
    target = db_path(db)
    kind = database_kind(target)
    if kind in ("demo", "other"):
        access.require(access.resolve(actor), "restore", what="replace the database with the demo")
    shown = store.location_text(target)
    if kind == "other" and not force:
        raise RuleViolation(f"{shown} holds data that is not the demo; refusing to replace it. Use another "
                            f"--db, or --force to replace it (its content is lost)")
    say = progress or (lambda _text: None)
    started = time.monotonic()
    if store.postgres.is_url(target):
        if kind != "missing":
            _clear_server(str(target))
        report = _build(target, say)
    else:
        report = _build_file(Path(target), say)
    report.path = target
    report.seconds = time.monotonic() - started
    return report


def _build_file(target: Path, say: Progress) -> DemoReport:
    """Build beside the target (same file system, so the final rename is atomic), named like a database
    file so that the repository's ignore rules cover it if a build is interrupted."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.stem}.demo-build{target.suffix or '.duckdb'}")
    _remove(work)
    try:
        report = _build(work, say)
        _remove(Path(str(target) + ".wal"))
        os.replace(work, target)
    finally:
        _remove(work)
    return report


def _clear_server(url: str) -> None:
    """Drop every table, view and sequence of the server's ``public`` schema, in one transaction, so the
    demo is built on an empty schema (a server database cannot be swapped for a new file)."""
    with store.transaction(url) as con:
        store.postgres.native(con, store.query.load("pg_drop_public"))
    store.postgres.schema_changed(url)


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        if p.exists():
            p.unlink()


def _build(path: str | Path, say: Progress) -> DemoReport:
    report = DemoReport(path)
    init_database(path)
    say("database initialised: catalogs and crosswalks loaded")

    # The order matters: risks name assets and AI systems, and the AI register's rows are recognised as
    # risks the security register already holds.
    for importer, file in ((register.import_assets, ASSETS), (register.import_ai_systems, AI_SYSTEMS),
                           (register.import_assessments, ASSESSMENTS)):
        say("\n".join(importer(path, file, actor=ACTOR, channel=CHANNEL).lines()))
    for file, source, mapping in ((SECURITY_REGISTER, SECURITY_SOURCE, SECURITY_MAPPING),
                                  (AI_REGISTER, AI_SOURCE, AI_MAPPING)):
        got = register.import_risks(path, file, source, mapping=mapping, actor=ACTOR, channel=CHANNEL)
        say("\n".join(got.lines()))

    n_actions = _add_actions(path)
    say(f"{ACTIONS.name}: {n_actions} treatment actions added")
    n_soa = _record_soa(path)
    say(f"{SOA_DECISIONS.name}: {n_soa} SoA decisions recorded")
    say("\n".join(_observed_use(path)))
    n_decided = _identify(path)
    say(f"{IDENTIFICATION.name}: {n_decided} decisions on proposed AI risk scenarios recorded")

    with store.connect(path) as con:
        counts = con.execute("""
            SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM ai_systems),
                   (SELECT count(*) FROM impact_assessments), (SELECT count(*) FROM risk_sources),
                   (SELECT count(*) FROM risks), (SELECT count(*) FROM risk_merges WHERE reversed_at IS NULL),
                   (SELECT count(*) FROM risk_controls WHERE translated_from IS NOT NULL),
                   (SELECT count(*) FROM actions),
                   (SELECT count(*) FROM v_soa WHERE applicable IS NOT NULL), (SELECT count(*) FROM v_soa),
                   (SELECT count(*) FROM risks r WHERE NOT EXISTS (SELECT 1 FROM risk_sources s WHERE s.risk_id = r.id)),
                   (SELECT count(*) FROM v_ai_risk_identification WHERE state = 'identified'),
                   (SELECT count(*) FROM v_ai_risk_identification WHERE state = 'not_applicable'),
                   (SELECT count(*) FROM v_ai_risk_identification WHERE state = 'open'),
                   (SELECT count(*) FROM v_ai_usage), (SELECT count(*) FROM v_ai_usage WHERE unregistered)
        """).fetchone() or ()
    (report.assets, report.ai_systems, report.assessments, report.source_rows, report.risks, report.merged,
     report.translated, report.actions, report.soa_decided, report.soa_rows, report.scenario_risks, report.identified,
     report.not_applicable, report.open_scenarios, report.usage, report.unregistered) = (int(n) for n in counts)
    return report


# ---------------------------------------------------------------------------- actions and SoA decisions

def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def risk_ids_by_source_key(db: str | Path | None) -> dict[str, str]:
    """The consolidated risk of each source register key (``ISR-046`` -> ``R-0046``), from the lineage."""
    with store.connect(db) as con:
        rows = con.execute("SELECT DISTINCT source_key, risk_id FROM risk_sources "
                           "WHERE source_key IS NOT NULL ORDER BY source_key").fetchall()
    out: dict[str, str] = {}
    for key, risk_id in rows:
        if key in out and out[key] != risk_id:
            raise ConfigError(f"register key {key} belongs to two risks ({out[key]}, {risk_id})")
        out[key] = risk_id
    return out


def _add_actions(db: str | Path) -> int:
    """Import the treatment actions of ``actions.csv`` with the action plan importer users run
    (``riskmap import actions``): risks named by the registers' own ids, controls per standard."""
    report = plan.import_actions(db, ACTIONS, actor=ACTOR, channel=CHANNEL)
    return sum(len(f.created) + len(f.updated) + f.unchanged for f in report.files)


def _record_soa(db: str | Path) -> int:
    """Import the decisions of ``soa-decisions.csv`` with the SoA importer users run (``riskmap import soa``)."""
    report = soa.import_soa(db, SOA_DECISIONS, actor=ACTOR, channel=CHANNEL)
    return sum(len(f.updated) + f.unchanged for f in report.files)


def _observed_use(db: str | Path) -> list[str]:
    """Import the proxy's export of AI services, register one shadow tool and dismiss another."""
    report = ai.import_usage(db, AI_USAGE, source="Web proxy", actor=ACTOR, channel=CHANNEL)
    lines = report.lines()
    by_tool = {r["tool"]: r["id"] for r in ai.list_usage(db).iter_rows(named=True)}
    tool, system_id, fields = SHADOW_REGISTERED
    ai.register_usage(db, by_tool[tool], fields=dict(fields), ai_system_id=system_id, actor=ACTOR, channel=CHANNEL)
    tool_dismissed, reason = SHADOW_DISMISSED
    ai.dismiss_usage(db, by_tool[tool_dismissed], reason, actor=ACTOR, channel=CHANNEL)
    lines.append(f"  {tool} registered as {system_id}; {tool_dismissed} dismissed: {reason}")
    return lines


def _identify(db: str | Path) -> int:
    """Record the decisions of ``ai-risk-identification.csv`` on the scenarios proposed per AI system:
    identified as an existing register risk (by its register key) or as a new one (scored), or not
    applicable with a reason."""
    by_key = risk_ids_by_source_key(db)
    rows = _read_csv(IDENTIFICATION)
    problems: list[Problem] = []
    for n, row in enumerate(rows, start=2):
        if row["Decision"] not in ("identified", "not applicable"):
            problems.append(Problem(IDENTIFICATION.name, n, "Decision", "unknown decision", row["Decision"],
                                    "identified or not applicable"))
        if row["Register Key"] and row["Register Key"] not in by_key:
            problems.append(Problem(IDENTIFICATION.name, n, "Register Key", "no imported risk has this register key",
                                    row["Register Key"]))
    if problems:
        raise InputError(problems, f"{IDENTIFICATION}: cannot record the identification decisions")
    for row in rows:
        system, scenario = row["AI System"], row["Scenario"]
        if row["Decision"] == "not applicable":
            ai.reject(db, system, scenario, row["Reason"], actor=ACTOR, channel=CHANNEL)
        elif row["Register Key"]:
            ai.accept(db, system, scenario, risk_id=by_key[row["Register Key"]], actor=ACTOR, channel=CHANNEL)
        else:
            ai.accept(db, system, scenario, likelihood=row["Likelihood"], impact=row["Impact"],
                      owner=row["Owner"] or None, actor=ACTOR, channel=CHANNEL)
    return len(rows)


# ------------------------------------------------------------------------------- analysts' export

def export_views_parquet(db: str | Path | None, out_dir: str | Path, *,
                         principal: access.Principal | str | None = None) -> list[tuple[Path, int]]:
    """Write every documented view (:func:`engine.store.view_names`) as ``out_dir/<view>.parquet``.

    Reads through a read-only connection (DuckDB ``COPY ... TO ... (FORMAT parquet)``), so it runs while
    the app is open. Returns (file, rows) per view, in view order. Every view of every business unit:
    ``principal``, when given, needs a role for every unit.
    """
    if principal is not None:
        access.require(access.resolve(principal), "query")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, int]] = []
    with store.connect(db) as con:
        for view in store.view_names():
            target = out / f"{view}.parquet"
            quoted = str(target).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {view}) TO '{quoted}' (FORMAT parquet)")
            counted = con.execute(f"SELECT count(*) FROM {view}").fetchone()
            written.append((target, int(counted[0]) if counted else 0))
    return written
