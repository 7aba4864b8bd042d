"""Approved SoA versions: numbered, dated snapshots and the differences between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, audit, store
from engine.config import ISO27001, ISO42001
from engine.errors import NotFoundError, RuleViolation
from engine.store import history, scalar

from .rows import _snapshot_select, ensure_rows

SNAPSHOT_FIELDS = ("title", "applicable", "reasons", "risk_ids", "exclusion_reason", "justification", "status",
                   "implementing_actions", "implementation_notes", "owner", "evidence", "last_verified",
                   "counterparts", "ai_systems", "impact_assessments")
"""The fields of an SoA row that a snapshot freezes and :func:`diff` compares, in document order."""


def _open_issues(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """What an approver must confirm before approving: the undecided rows (framework:ref) and the
    error-level audit findings (rule: entity id)."""
    undecided = [r[0] for r in con.execute(
        "SELECT framework || ':' || ref FROM v_soa WHERE applicable IS NULL ORDER BY framework, ordinal").fetchall()]
    found = audit.findings(con).filter(pl.col("severity") == "error")
    errors = [f"{r['rule']}: {r['entity_id']}" for r in found.iter_rows(named=True)]
    return undecided, errors


def _sample(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def approval_check(db: str | Path | None = None) -> dict[str, list[str]]:
    """What approving the working copy now would need confirmed: ``undecided`` rows (framework:ref) and
    ``errors`` (error-level audit findings, ``rule: entity id``); both empty when nothing does."""
    with store.connect(db) as con:
        undecided, errors = _open_issues(con)
    return {"undecided": undecided, "errors": errors}


def snapshot(db: str | Path | None, *, actor: access.Principal | str, channel: str,
             approved_by: str | None = None, note: str | None = None, confirmation: str | None = None) -> int:
    """Freeze the working copy as the next numbered, dated, approved version; returns its number.

    The principal ``actor`` approves it and needs the role approver; the version records its display
    name as ``approved_by`` (unless the name it is approved in is given), its id as ``created_by``, and
    the channel. Refused while a row is excluded without a justification (ISO 27001 6.1.3 d). While rows
    are undecided or error-level audit findings are open (:func:`approval_check`), it is refused unless
    ``confirmation`` gives the approver's reason for approving anyway; the version then records the
    confirmation with the number of undecided rows and error findings (``soa_versions.confirmation``,
    ``n_undecided``, ``n_error_findings``).
    """
    actor = access.resolve(actor)
    access.require(actor, "approve_soa")
    approved_by = (actor.name if approved_by is None else approved_by).strip()
    if not approved_by:
        raise RuleViolation("an SoA version needs the name of the person approving it")
    with store.transaction(db) as con:
        ensure_rows(con)
        bad = [r[0] for r in con.execute(
            "SELECT framework || ':' || ref FROM v_soa WHERE applicable = false "
            "AND trim(coalesce(justification, '')) = ''").fetchall()]
        if bad:
            raise RuleViolation("cannot approve the SoA: excluded without justification: " + ", ".join(bad))
        undecided, errors = _open_issues(con)
        confirmation = (confirmation or "").strip() or None
        if (undecided or errors) and confirmation is None:
            parts = ([f"{len(undecided)} row(s) undecided ({_sample(undecided)})"] if undecided else []) + (
                [f"{len(errors)} error-level audit finding(s) open ({_sample(errors)})"] if errors else [])
            raise RuleViolation("cannot approve the SoA as it stands: " + "; ".join(parts)
                                + ". Decide them first, or confirm the approval anyway with your reason")
        version = scalar(con, "SELECT coalesce(max(version), 0) + 1 FROM soa_versions")
        fields = ", ".join(SNAPSHOT_FIELDS)
        con.execute(f"INSERT INTO soa_version_rows (version, framework, ref, {fields}, row_version, ordinal) "
                    f"SELECT ?, framework, ref, {fields}, version, ordinal FROM v_soa", [version])
        n_rows = scalar(con, "SELECT count(*) FROM soa_version_rows WHERE version = ?", [version])
        n_app = scalar(con, "SELECT count(*) FROM soa_version_rows WHERE version = ? AND applicable", [version])
        con.execute("INSERT INTO soa_versions (version, approved_by, approved_at, created_by, note, n_rows, "
                    "n_applicable, created_by_name, channel, n_undecided, n_error_findings, confirmation) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [version, approved_by, store.now(), actor.id, note, n_rows, n_app, actor.name, channel,
                     len(undecided), len(errors), confirmation])
        history.record(con, entity="soa_version", entity_id=str(version), action="create", actor=actor,
                       channel=channel, field="approved_by", new=approved_by)
        if confirmation is not None and (undecided or errors):
            history.record(con, entity="soa_version", entity_id=str(version), action="confirm_incomplete",
                           actor=actor, channel=channel, field="confirmation",
                           old=f"{len(undecided)} undecided, {len(errors)} error finding(s)", new=confirmation)
        return int(version)


def versions(db: str | Path | None = None) -> pl.DataFrame:
    """The approved versions: version, approved_by, approved_at, created_by, note, n_rows, n_applicable,
    created_by_name, channel, n_undecided, n_error_findings, confirmation."""
    with store.connect(db) as con:
        return con.execute("SELECT * FROM soa_versions ORDER BY version").pl()


def latest_version(db: str | Path | None = None) -> dict[str, Any] | None:
    """The newest approved version as a dict, or None before the first snapshot."""
    frame = versions(db)
    return frame.row(-1, named=True) if frame.height else None


def _side(con: duckdb.DuckDBPyConnection, version: int | str | None) -> str:
    if version is None or str(version).strip().lower() in ("current", "working", "head"):
        return "SELECT * FROM v_soa"
    try:
        number = int(version)
    except (TypeError, ValueError) as exc:
        raise NotFoundError(f"SoA version {version!r}: expected a number or 'current'") from exc
    return _snapshot_select(con, number)


def diff(db: str | Path | None, v1: int | str, v2: int | str | None = "current") -> pl.DataFrame:
    """What changed from SoA version ``v1`` to ``v2`` (a number, or 'current' for the working copy).

    One row per added row, removed row, and changed field of a row present in both:
    change (added | removed | changed), framework, ref, title, field, old_value, new_value
    (lists shown as '; '-joined text; applicable as applicable | not applicable | undecided).
    """
    with store.connect(db) as con:
        a, b = _side(con, v1), _side(con, v2)

        def txt(col: str, alias: str) -> str:
            expr = f"{alias}.{col}"
            if col == "applicable":
                return f"{alias}.applicability"
            if col in ("reasons", "risk_ids", "implementing_actions", "evidence", "counterparts", "ai_systems",
                       "impact_assessments"):
                return f"array_to_string({expr}, '; ')"
            return f"CAST({expr} AS VARCHAR)"

        changed = "\nUNION ALL\n".join(
            f"SELECT 'changed' AS change, b.framework, b.ref, b.title, '{f}' AS field, {i} AS pos, "
            f"{txt(f, 'a')} AS old_value, {txt(f, 'b')} AS new_value, b.ordinal "
            f"FROM a JOIN b ON a.framework = b.framework AND a.ref = b.ref "
            f"WHERE {txt(f, 'a')} IS DISTINCT FROM {txt(f, 'b')}"
            for i, f in enumerate(SNAPSHOT_FIELDS))
        sql = f"""
            WITH a AS ({a}), b AS ({b}),
            d AS (
                SELECT 'added' AS change, b.framework, b.ref, b.title, NULL AS field, -1 AS pos,
                       NULL AS old_value, b.applicability AS new_value, b.ordinal
                FROM b ANTI JOIN a ON a.framework = b.framework AND a.ref = b.ref
                UNION ALL
                SELECT 'removed', a.framework, a.ref, a.title, NULL, -1, a.applicability, NULL, a.ordinal
                FROM a ANTI JOIN b ON a.framework = b.framework AND a.ref = b.ref
                UNION ALL
                {changed}
            )
            SELECT change, framework, ref, title, field, old_value, new_value FROM d
            ORDER BY CASE framework WHEN '{ISO27001}' THEN 1 WHEN '{ISO42001}' THEN 2 ELSE 3 END,
                     framework, ordinal, ref, pos
        """
        return con.execute(sql).pl().cast({"field": pl.String, "old_value": pl.String, "new_value": pl.String})
