"""Treatment actions: add, change, link to the risks they treat and the controls they implement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from engine import records, store
from engine.crosswalk.refs import parse_control
from engine.errors import NotFoundError, RuleViolation
from engine.records import DATE, REQUIRED, TEXT, FieldSpec
from engine.records.vocab import codes
from engine.soa.vocab import UNSET
from engine.store import history, scalar

ACTION_STATUSES = ("planned", "in_progress", "done", "cancelled")

ACTION_FIELDS: dict[str, FieldSpec] = {
    "title": REQUIRED,
    "description": TEXT,
    "owner": TEXT,
    "due_date": DATE,
    "status": FieldSpec("enum", True, codes(ACTION_STATUSES), noun="status"),
    "effort": FieldSpec("positive"),  # person-days
}
"""The fields of a treatment action a user may change."""

ACTION = records.declare(records.Entity("action", "actions", "action", ACTION_FIELDS, stamps=("updated_at",),
                                        created_at=True, defaults={"status": "planned"}))


def _require_action(con: duckdb.DuckDBPyConnection, action_id: str) -> dict[str, Any]:
    return records.current(con, ACTION, action_id)


def _check_risks(con: duckdb.DuckDBPyConnection, risk_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(str(r).strip() for r in risk_ids if str(r).strip()))
    known = {r[0] for r in con.execute("SELECT id FROM risks").fetchall()}
    missing = [r for r in ids if r not in known]
    if missing:
        raise NotFoundError(f"unknown risk {', '.join(missing)}")
    return ids


def _check_controls(con: duckdb.DuckDBPyConnection, controls: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for c in controls:
        fw, ref = parse_control(c) if isinstance(c, str) else c
        if not scalar(con, "SELECT count(*) FROM controls WHERE framework = ? AND ref = ?", [fw, ref]):
            raise NotFoundError(f"{fw}:{ref}: no such control in the loaded catalogs")
        if (fw, ref) not in out:
            out.append((fw, ref))
    return out


@store.retrying
def add_action(db: str | Path | None, *, title: str, owner: str | None = None, due_date: date | str | None = None,
               effort: float | None = None, status: str = "planned", description: str | None = None,
               risk_ids: Iterable[str] = (), controls: Iterable[str | tuple[str, str]] = (),
               action_id: str | None = None, actor: str, channel: str) -> str:
    """Add an action to the treatment plan, with the risks it treats and the controls it implements.

    ``controls`` are ``framework:ref`` strings (or pairs) in either standard. The id is ``A-NNN`` unless
    given. Every field problem is reported at once (:class:`InputError`). Returns the action id.
    """
    with store.transaction(db) as con:
        aid = (action_id or "").strip() or records.next_ids(con, "actions", "A", 1, width=3)[0]
        if scalar(con, "SELECT count(*) FROM actions WHERE id = ?", [aid]):
            raise RuleViolation(f"action {aid} already exists")
        fields = records.validate(ACTION, None, {"title": title, "description": description, "owner": owner,
                                                 "due_date": due_date, "status": status, "effort": effort})
        risks = _check_risks(con, risk_ids)
        ctrls = _check_controls(con, controls)
        records.create(con, ACTION, aid, fields, actor=actor, channel=channel, note=("title", fields["title"]))
        for rid in risks:
            _link_risk(con, aid, rid, actor, channel)
        for fw, ref in ctrls:
            _link_control(con, aid, fw, ref, actor, channel)
        return aid


def update_action(db: str | Path | None, action_id: str, *, title: str = UNSET, description: str | None = UNSET,
                  owner: str | None = UNSET, due_date: date | str | None = UNSET, status: str = UNSET,
                  effort: float | None = UNSET, expected_version: int | None = None, actor: str,
                  channel: str) -> dict[str, Any]:
    """Change an action's fields (only those given). ``expected_version`` refuses a stale edit."""
    given = {k: v for k, v in {"title": title, "description": description, "owner": owner, "due_date": due_date,
                                "status": status, "effort": effort}.items() if v is not UNSET}
    with store.transaction(db) as con:
        return records.edit(con, ACTION, action_id, given, expected_version=expected_version, actor=actor,
                            channel=channel)


def _link_risk(con: duckdb.DuckDBPyConnection, action_id: str, risk_id: str, actor: str, channel: str) -> bool:
    if scalar(con, "SELECT count(*) FROM action_risks WHERE action_id = ? AND risk_id = ?", [action_id, risk_id]):
        return False
    con.execute("INSERT INTO action_risks VALUES (?, ?)", [action_id, risk_id])
    history.record(con, entity="action", entity_id=action_id, action="link", actor=actor, channel=channel,
                   field="risk", new=risk_id)
    return True


def _link_control(con: duckdb.DuckDBPyConnection, action_id: str, fw: str, ref: str, actor: str,
                  channel: str) -> bool:
    if scalar(con, "SELECT count(*) FROM action_controls WHERE action_id = ? AND framework = ? AND ref = ?",
              [action_id, fw, ref]):
        return False
    con.execute("INSERT INTO action_controls VALUES (?, ?, ?)", [action_id, fw, ref])
    history.record(con, entity="action", entity_id=action_id, action="link", actor=actor, channel=channel,
                   field="control", new=f"{fw}:{ref}")
    return True


def link_risk(db: str | Path | None, action_id: str, risk_id: str, *, actor: str, channel: str) -> bool:
    """Record that the action treats the risk; False if it already did."""
    with store.transaction(db) as con:
        _require_action(con, action_id)
        (rid,) = _check_risks(con, [risk_id])
        return _link_risk(con, action_id, rid, actor, channel)


def unlink_risk(db: str | Path | None, action_id: str, risk_id: str, *, actor: str, channel: str) -> bool:
    """Remove a risk from an action; False if it was not linked."""
    with store.transaction(db) as con:
        _require_action(con, action_id)
        # Counted, then deleted: PostgreSQL's attached tables take no DELETE ... RETURNING.
        where = "WHERE action_id = ? AND risk_id = ?"
        n = store.scalar(con, f"SELECT count(*) FROM action_risks {where}", [action_id, risk_id])
        if n:
            con.execute(f"DELETE FROM action_risks {where}", [action_id, risk_id])
            history.record(con, entity="action", entity_id=action_id, action="unlink", actor=actor,
                           channel=channel, field="risk", old=risk_id)
        return bool(n)


def link_control(db: str | Path | None, action_id: str, control: str | tuple[str, str], *, actor: str,
                 channel: str) -> bool:
    """Record that the action implements the control (``framework:ref``); False if it already did."""
    with store.transaction(db) as con:
        _require_action(con, action_id)
        ((fw, ref),) = _check_controls(con, [control])
        return _link_control(con, action_id, fw, ref, actor, channel)


def unlink_control(db: str | Path | None, action_id: str, control: str | tuple[str, str], *, actor: str,
                   channel: str) -> bool:
    """Remove a control from an action; False if it was not linked."""
    fw, ref = parse_control(control) if isinstance(control, str) else control
    with store.transaction(db) as con:
        _require_action(con, action_id)
        where = "WHERE action_id = ? AND framework = ? AND ref = ?"
        n = store.scalar(con, f"SELECT count(*) FROM action_controls {where}", [action_id, fw, ref])
        if n:
            con.execute(f"DELETE FROM action_controls {where}", [action_id, fw, ref])
            history.record(con, entity="action", entity_id=action_id, action="unlink", actor=actor,
                           channel=channel, field="control", old=f"{fw}:{ref}")
        return bool(n)
