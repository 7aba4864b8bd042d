"""Control suggestions: the controls proposed for the words a register wrote, decided by a person.

An import proposes Annex A controls for each phrase of a risk's control cells ("MFA" -> 27001:2022
A.8.5 Secure authentication, 0.95; see :mod:`engine.register.suggest`). Nothing is linked until a
person decides: :func:`accept_suggestions` links the control to the risk through the register's
link path (the risk's version moves, the link is in its history, written as the phrase) and marks
the suggestion accepted; :func:`reject_suggestions` marks it rejected. Either decision is a change of
the suggestion record through the one write path (:mod:`engine.records`), with who, when and an
optional note; a decided suggestion is never proposed again by a later import of the same register.
``v_control_suggestions`` lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import records, store
from engine.errors import NotFoundError, RuleViolation
from engine.records import TEXT, FieldSpec
from engine.records.vocab import codes

from .records import RISK
from .risks import _link_on

__all__ = ["SUGGESTION", "SUGGESTION_STATUSES", "accept_suggestions", "list_suggestions", "reject_suggestions"]

SUGGESTION_STATUSES = ("proposed", "accepted", "rejected")

SUGGESTION = records.declare(records.Entity(
    "control_suggestion", "control_suggestions", "control suggestion",
    {"status": FieldSpec("enum", True, codes(SUGGESTION_STATUSES), noun="status"), "decided_by": TEXT,
     "note": TEXT},
    stamps=("decided_at",)))


def list_suggestions(db: str | Path | None = None, *, status: str | None = None, risk_id: str | None = None,
                     min_score: float | None = None) -> pl.DataFrame:
    """The suggestions (``v_control_suggestions``), best first within each risk, optionally filtered."""
    if status is not None and status not in SUGGESTION_STATUSES:
        raise RuleViolation(f"unknown suggestion status {status!r}; expected {', '.join(SUGGESTION_STATUSES)}")
    sql, params = "SELECT * FROM v_control_suggestions WHERE true", []
    for cond, value in (("status = ?", status), ("risk_id = ?", risk_id), ("score >= ?", min_score)):
        if value is not None:
            sql += f" AND {cond}"
            params.append(value)
    with store.connect(db) as con:
        return con.execute(sql + " ORDER BY risk_id, score DESC, phrase, framework, ref", params).pl()


def _chosen(con: duckdb.DuckDBPyConnection, ids: list[str] | None, min_score: float | None,
            risk_id: str | None) -> list[dict[str, Any]]:
    """The suggestions named by id, or the proposed ones matching the filters (at least one given)."""
    if ids:
        rows = con.execute("SELECT * FROM control_suggestions WHERE id IN (SELECT unnest(?)) ORDER BY id",
                           [list(ids)]).pl().to_dicts()
        missing = sorted(set(ids) - {r["id"] for r in rows})
        if missing:
            raise NotFoundError(f"no control suggestion {', '.join(missing)}; list them with `riskmap suggestions`")
        return rows
    if min_score is None and risk_id is None:
        raise RuleViolation("name the suggestions to decide (ids), or choose them with a minimum score or a risk")
    sql = "SELECT * FROM control_suggestions WHERE status = 'proposed'"
    params: list[object] = []
    if min_score is not None:
        sql += " AND score >= ?"
        params.append(min_score)
    if risk_id is not None:
        sql += " AND risk_id = ?"
        params.append(risk_id)
    return con.execute(sql + " ORDER BY id", params).pl().to_dicts()


def _decide(con: duckdb.DuckDBPyConnection, row: dict[str, Any], status: str, note: str | None, actor: str,
            channel: str) -> None:
    records.edit(con, SUGGESTION, row["id"], {"status": status, "decided_by": actor, "note": note},
                 expected_version=None, actor=actor, channel=channel, action="decide")


def accept_suggestions(db: str | Path | None, ids: list[str] | None = None, *, min_score: float | None = None,
                       risk_id: str | None = None, note: str | None = None, actor: str, channel: str) -> list[str]:
    """Accept suggestions (by id, or every proposed one from ``min_score`` up and/or of ``risk_id``):
    link each control to its risk (existing or planned, as the phrase's column said) written as the
    phrase, and mark it accepted.
    One transaction; returns the ids accepted (one already accepted is left as it is)."""
    done = []
    with store.transaction(db) as con:
        for row in _chosen(con, ids, min_score, risk_id):
            if row["status"] == "accepted":
                continue
            records.current(con, RISK, row["risk_id"])
            actor = records.authorize(con, RISK, [row["risk_id"]], actor=actor)
            if _link_on(con, row["risk_id"], "control", f"{row['framework']}:{row['ref']}", actor=actor,
                        channel=channel, batch_id=row["id"], status=row["link_status"], as_written=row["phrase"]):
                records.bump(con, RISK, row["risk_id"], actor=actor)
            _decide(con, row, "accepted", note, actor, channel)
            done.append(row["id"])
    return done


def reject_suggestions(db: str | Path | None, ids: list[str] | None = None, *, min_score: float | None = None,
                       risk_id: str | None = None, note: str | None = None, actor: str, channel: str) -> list[str]:
    """Reject suggestions (by id, or the proposed ones chosen as for :func:`accept_suggestions`). A
    rejected suggestion leaves the risk as it is; a control accepted before stays linked (unlink it
    on the risk). Returns the ids rejected."""
    done = []
    with store.transaction(db) as con:
        for row in _chosen(con, ids, min_score, risk_id):
            if row["status"] == "rejected":
                continue
            _decide(con, row, "rejected", note, actor, channel)
            done.append(row["id"])
    return done
