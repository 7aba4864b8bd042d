"""Treatment actions: add, change, link to the risks they treat and the controls they implement."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from engine import store
from engine.crosswalk.refs import parse_control
from engine.errors import InputError, NotFoundError, Problem, RuleViolation, StaleEditError
from engine.soa.vocab import UNSET
from engine.store import history, scalar

ACTION_STATUSES = ("planned", "in_progress", "done", "cancelled")


_ACTION_FIELDS = ("title", "description", "owner", "due_date", "status", "effort")


_ID = re.compile(r"^A-(\d+)$")


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _check_action_fields(action_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Normalise the given action fields; every problem found, located by action and field."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in fields.items():
        if key in ("title", "description", "owner"):
            value = value.strip() if isinstance(value, str) else value
            value = value or None
            if key == "title" and not value:
                problems.append(Problem("action", action_id, "title", "a title is required"))
        elif key == "status":
            if value not in ACTION_STATUSES:
                problems.append(Problem("action", action_id, "status", "unknown status", value,
                                        " | ".join(ACTION_STATUSES)))
        elif key == "effort":
            if value is not None and value != "":
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    value = -1.0
                if not value > 0:
                    problems.append(Problem("action", action_id, "effort", "effort must be positive", fields[key],
                                            "person-days, greater than 0"))
            else:
                value = None
        elif key == "due_date":
            try:
                value = _date(value)
            except ValueError:
                problems.append(Problem("action", action_id, "due_date", "not a date", value, "YYYY-MM-DD"))
        out[key] = value
    return out, problems


def _next_id(con: duckdb.DuckDBPyConnection) -> str:
    numbers = [int(m.group(1)) for (i,) in con.execute("SELECT id FROM actions").fetchall() if (m := _ID.match(i))]
    return f"A-{(max(numbers) if numbers else 0) + 1:03d}"


def _require_action(con: duckdb.DuckDBPyConnection, action_id: str) -> tuple[Any, ...]:
    row = con.execute(f"SELECT {', '.join(_ACTION_FIELDS)}, version FROM actions WHERE id = ?",
                      [action_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no action {action_id!r}")
    return row


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


def add_action(db: str | Path | None, *, title: str, owner: str | None = None, due_date: date | str | None = None,
               effort: float | None = None, status: str = "planned", description: str | None = None,
               risk_ids: Iterable[str] = (), controls: Iterable[str | tuple[str, str]] = (),
               action_id: str | None = None, actor: str, channel: str) -> str:
    """Add an action to the treatment plan, with the risks it treats and the controls it implements.

    ``controls`` are ``framework:ref`` strings (or pairs) in either standard. The id is ``A-NNN`` unless
    given. Every field problem is reported at once (:class:`InputError`). Returns the action id.
    """
    with store.transaction(db) as con:
        aid = (action_id or "").strip() or _next_id(con)
        if scalar(con, "SELECT count(*) FROM actions WHERE id = ?", [aid]):
            raise RuleViolation(f"action {aid} already exists")
        fields, problems = _check_action_fields(aid, {"title": title, "description": description, "owner": owner,
                                                      "due_date": due_date, "status": status, "effort": effort})
        if problems:
            raise InputError(problems, f"action {aid} not added")
        risks = _check_risks(con, risk_ids)
        ctrls = _check_controls(con, controls)
        ts = store.now()
        con.execute(f"INSERT INTO actions (id, {', '.join(fields)}, created_at, updated_at) "
                    f"VALUES (?, {', '.join('?' for _ in fields)}, ?, ?)", [aid, *fields.values(), ts, ts])
        history.record(con, entity="action", entity_id=aid, action="create", actor=actor, channel=channel,
                       field="title", new=fields["title"])
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
        row = _require_action(con, action_id)
        before = dict(zip(_ACTION_FIELDS, row[:-1], strict=True))
        if expected_version is not None and expected_version != row[-1]:
            raise StaleEditError(f"action {action_id} was changed by someone else: you edited version "
                                 f"{expected_version}, it is now at version {row[-1]}; reload and apply your "
                                 f"change again")
        fields, problems = _check_action_fields(action_id, given)
        if problems:
            raise InputError(problems, f"action {action_id} not changed")
        changed = {k: v for k, v in fields.items() if history._text(before[k]) != history._text(v)}
        if changed:
            sets = ", ".join(f"{k} = ?" for k in changed)
            con.execute(f"UPDATE actions SET {sets}, updated_at = ?, version = version + 1 WHERE id = ?",
                        [*changed.values(), store.now(), action_id])
            history.record_changes(con, entity="action", entity_id=action_id,
                                   before={k: before[k] for k in changed}, after=changed, actor=actor,
                                   channel=channel)
        return con.execute("SELECT * FROM actions WHERE id = ?", [action_id]).pl().row(0, named=True)


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
        n = con.execute("DELETE FROM action_risks WHERE action_id = ? AND risk_id = ? RETURNING risk_id",
                        [action_id, risk_id]).fetchall()
        if n:
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
        n = con.execute("DELETE FROM action_controls WHERE action_id = ? AND framework = ? AND ref = ? "
                        "RETURNING ref", [action_id, fw, ref]).fetchall()
        if n:
            history.record(con, entity="action", entity_id=action_id, action="unlink", actor=actor,
                           channel=channel, field="control", old=f"{fw}:{ref}")
        return bool(n)
