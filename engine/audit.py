"""Consistency audits: SQL files that return the rows breaking a rule; zero rows means healthy.

Each rule is one file in ``engine/sql/audits`` opening with a comment that says what it checks and
why (citing the ISO clause). Every rule returns the columns ``rule, severity, entity, entity_id,
detail``; ``severity`` is ``error`` or ``warning``.

The view ``v_audit_findings`` is the UNION ALL of the rule files, so analysts see the same rows in
SQL. It is built from the files (:func:`render_findings_view`) whenever the views are created
(``riskmap init``), so there is no second copy to keep in step.

Rules apply the domain rules of ``engine/sql/macros.sql`` (``risk_open``, ``risk_score``...). Rules that
compare dates use ``riskmap_today()``: :func:`run_audits` sets it from its ``today`` argument
(``riskmap audit --today``), so a check can be run "as of" a date.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from engine import store
from engine.store.schema import set_today

from .config import SQL_DIR

__all__ = ["AUDITS_DIR", "FINDING_COLUMNS", "audit_files", "findings", "render_findings_view", "rule_names",
           "rule_purpose", "run_audits", "set_today", "summary"]

AUDITS_DIR = SQL_DIR / "audits"
FINDING_COLUMNS = ["rule", "severity", "entity", "entity_id", "detail"]
_SCHEMA = pl.Schema({c: pl.String() for c in FINDING_COLUMNS})


def audit_files() -> list[Path]:
    """The rule files, in name order."""
    return sorted(AUDITS_DIR.glob("*.sql"))


def rule_names() -> list[str]:
    return [p.stem for p in audit_files()]


def rule_purpose(path: Path) -> str:
    """The purpose comment at the top of a rule file, as one line."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    text = " ".join(lines)
    prefix = path.stem + ":"
    return text[len(prefix):].strip() if text.startswith(prefix) else text


def _query(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip().rstrip(";").strip()


def _union(paths: list[Path], share: bool = True) -> str:
    """One statement of every rule in ``paths``: the UNION ALL of their rows, each column as text.

    With ``share``, a view several rules read (``v_soa``: each of its 131 rows aggregates the risks
    citing its control) is computed once for all of them, as a materialized CTE of the same name,
    instead of once per rule: at 100,000 risks that was most of an audit run, and on a PostgreSQL
    store each computation also reads the risks and their links from the server again. (DuckDB
    takes such a CTE for a circular reference inside a view definition, so ``v_audit_findings``
    does without.)"""
    texts = [_query(p) for p in paths]
    shared = [v for v in store.view_names() if share and sum(bool(re.search(rf"\b{v}\b", t)) for t in texts) > 1]
    cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in FINDING_COLUMNS)
    body = "\nUNION ALL\n".join(f"SELECT {cols} FROM (\n{t}\n)" for t in texts)
    if not shared:
        return body
    return "WITH " + ", ".join(f"{v} AS MATERIALIZED (SELECT * FROM {v})" for v in shared) + "\n" + body


def findings(con: duckdb.DuckDBPyConnection, rules: list[str] | None = None) -> pl.DataFrame:
    """Run the rules on an open connection, in one statement; one frame of every offending row."""
    known = {p.stem: p for p in audit_files()}
    for name in rules or []:
        if name not in known:
            from .errors import NotFoundError

            raise NotFoundError(f"no audit rule {name!r}; rules: {', '.join(known)}")
    paths = [known[n] for n in rules] if rules else list(known.values())
    if not paths:
        return pl.DataFrame(schema=_SCHEMA)
    frame = con.execute(_union(paths)).pl().cast(_SCHEMA)
    return frame.sort(["severity", "rule", "entity_id"])


def run_audits(db: str | Path | None = None, *, today: date | None = None,
               rules: list[str] | None = None) -> pl.DataFrame:
    """Every finding of every rule (or of the named ``rules``), as of ``today`` (default: the current date).

    Columns: rule, severity (error | warning), entity, entity_id, detail. Read-only.
    """
    with store.connect(db) as con:
        set_today(con, today)
        return findings(con, rules)


def summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Findings per rule (every rule listed, healthy ones with 0), with each rule's purpose."""
    counts = dict(frame.group_by("rule").len().iter_rows()) if frame.height else {}
    return pl.DataFrame(
        {"rule": rule_names(),
         "findings": [counts.get(n, 0) for n in rule_names()],
         "purpose": [rule_purpose(p) for p in audit_files()]},
        schema={"rule": pl.String, "findings": pl.Int64, "purpose": pl.String},
    )


def render_findings_view() -> str:
    """The statement creating ``v_audit_findings``: the UNION ALL of every rule file, with a purpose
    comment. Run by ``engine.store.create_views`` with the other views."""
    head = (
        "-- v_audit_findings: every finding of the consistency audits (engine/sql/audits/*.sql), one row per\n"
        "-- offending record: rule, severity (error | warning), entity, entity_id, detail. Zero rows: healthy.\n"
        "-- Built from the rule files by engine/audit.py whenever the views are created.\n"
        "CREATE OR REPLACE VIEW v_audit_findings AS\n"
    )
    return head + _union(audit_files(), share=False) + ";\n"
