"""The risk treatment plan (ISO 27001 6.1.3 e-f, ISO 42001 6.1.3 g): one plan for both management systems.

An action has an owner, a due date, a status and an effort (person-days); it lists the risks it treats and
the controls it implements in either standard. The plan is ranked "do once, satisfy both"
(:func:`ranking`, view ``v_treatment_plan``): by expected risk reduction and by controls satisfied across
the two standards, each per unit of effort. :func:`residual_after_plan` (view ``v_plan_residual``) shows
each risk's residual level once the plan is done. Risk owners' approval of the plan (:func:`approve_plan`)
and their acceptance of residual risk (:func:`accept_residual`) are recorded with who, when and expiry.

Public API: :func:`add_action`, :func:`update_action`, :func:`link_risk`, :func:`unlink_risk`,
:func:`link_control`, :func:`unlink_control`, :func:`ranking`, :func:`residual_after_plan`,
:func:`approve_plan`, :func:`accept_residual`, :func:`approvals`, :func:`acceptances`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from . import history, store
from .audit import set_today
from .errors import InputError, NotFoundError, Problem, RuleViolation, StaleEditError
from .soa import UNSET, parse_control, scalar

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


def ranking(db: str | Path | None = None, *, include_closed: bool = False,
            today: date | None = None) -> pl.DataFrame:
    """The plan ranked "do once, satisfy both" (``v_treatment_plan``), best first.

    ``rank_reduction`` orders open actions by expected risk reduction per person-day, ``rank_controls`` by
    controls satisfied in the two standards (listed or reached by an equal/superset_of crosswalk link) per
    person-day; ``rank`` by the sum of both ratios, each scaled to its maximum. Done and cancelled actions
    are left out unless ``include_closed``. ``today`` sets the date the ``overdue`` flag compares with.
    """
    with store.connect(db) as con:
        set_today(con, today)
        frame = con.execute("SELECT * FROM v_treatment_plan").pl()
    return frame if include_closed else frame.filter(pl.col("status").is_in(["planned", "in_progress"]))


def residual_after_plan(db: str | Path | None = None, *, today: date | None = None) -> pl.DataFrame:
    """Each open risk now and once the plan is done (``v_plan_residual``): scores, levels, appetite,
    the actions treating it, its owner's plan approval and residual acceptance (current or not)."""
    with store.connect(db) as con:
        set_today(con, today)
        return con.execute("SELECT * FROM v_plan_residual").pl()


def _owned(con: duckdb.DuckDBPyConnection, risk_id: str, person: str, what: str) -> tuple[Any, ...]:
    row = con.execute("SELECT id, owner, status, version FROM risks WHERE id = ?", [risk_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no risk {risk_id!r}")
    owner = (row[1] or "").strip()
    if not owner:
        raise RuleViolation(f"risk {risk_id} has no owner; assign one before recording {what}")
    if owner.casefold() != person.strip().casefold():
        raise RuleViolation(f"risk {risk_id} is owned by {owner}; {what} must come from its risk owner "
                            f"(ISO 27001 6.1.3 f, ISO 42001 6.1.3 g), not {person.strip()}")
    if row[2] == "closed":
        raise RuleViolation(f"risk {risk_id} is closed")
    return row


def approve_plan(db: str | Path | None, *, approved_by: str, risk_ids: Iterable[str] | None = None,
                 expires_on: date | str | None = None, note: str | None = None, actor: str,
                 channel: str) -> list[str]:
    """Record a risk owner's approval of the treatment plan for their risks (ISO 27001 6.1.3 f).

    Approves the given risks, or every open risk owned by ``approved_by`` that has actions in the plan.
    Each approval records the actions it covers, so a later change to the plan shows the approval as no
    longer current (``v_plan_residual.plan_approval_current``). Returns the risk ids approved.
    """
    person = (approved_by or "").strip()
    if not person:
        raise RuleViolation("an approval needs the name of the approving risk owner")
    expiry = _date(expires_on)
    today = store.now().date()
    if expiry is not None and expiry <= today:
        raise RuleViolation(f"approval expiry {expiry} is not in the future")
    with store.transaction(db) as con:
        if risk_ids is None:
            ids = [r[0] for r in con.execute(
                "SELECT DISTINCT r.id FROM risks r JOIN action_risks ar ON ar.risk_id = r.id "
                "JOIN actions a ON a.id = ar.action_id AND a.status <> 'cancelled' "
                "WHERE r.status <> 'closed' AND lower(trim(r.owner)) = lower(?) ORDER BY r.id", [person]).fetchall()]
            if not ids:
                raise RuleViolation(f"no open risk owned by {person} has actions in the treatment plan")
        else:
            ids = list(dict.fromkeys(str(r).strip() for r in risk_ids))
        for rid in ids:
            _owned(con, rid, person, "approval of its treatment plan")
            actions = [r[0] for r in con.execute(
                "SELECT a.id FROM action_risks ar JOIN actions a ON a.id = ar.action_id "
                "WHERE ar.risk_id = ? AND a.status <> 'cancelled' ORDER BY a.id", [rid]).fetchall()]
            if not actions:
                raise RuleViolation(f"risk {rid} has no actions in the treatment plan; record an acceptance of "
                                    f"its residual risk instead")
            con.execute("INSERT INTO plan_approvals (risk_id, approved_by, approved_at, expires_on, action_ids, "
                        "note) VALUES (?, ?, ?, ?, ?, ?)", [rid, person, store.now(), expiry, actions, note])
            history.record(con, entity="risk", entity_id=rid, action="approve_plan", actor=actor, channel=channel,
                           field="plan_approval", new={"approved_by": person, "actions": actions,
                                                       "expires_on": expiry})
        return ids


def accept_residual(db: str | Path | None, risk_id: str, *, accepted_by: str, expires_on: date | str,
                    justification: str, expected_version: int | None = None, actor: str,
                    channel: str) -> dict[str, Any]:
    """Record the risk owner's acceptance of a risk's residual level (ISO 27001 6.1.3 f, ISO 42001 6.1.3 g).

    Sets ``risks.acceptance_*`` (approver, date, expiry, justification), bumps the risk's version and logs
    the acceptance in ``residual_acceptances`` with the residual score accepted. An expiry in the future and
    a justification are required. Returns the acceptance as recorded.
    """
    person = (accepted_by or "").strip()
    why = (justification or "").strip()
    try:
        expiry = _date(expires_on)
    except ValueError as exc:
        raise RuleViolation(f"risk {risk_id}: expiry {expires_on!r} is not a date (YYYY-MM-DD)") from exc
    today = store.now().date()
    if not person:
        raise RuleViolation(f"risk {risk_id}: an acceptance needs the name of the accepting risk owner")
    if not why:
        raise RuleViolation(f"risk {risk_id}: accepting residual risk needs a justification")
    if expiry is None or expiry <= today:
        raise RuleViolation(f"risk {risk_id}: an acceptance needs an expiry date in the future")
    with store.transaction(db) as con:
        row = _owned(con, risk_id, person, "acceptance of its residual risk")
        if expected_version is not None and expected_version != row[3]:
            raise StaleEditError(f"risk {risk_id} was changed by someone else: you edited version "
                                 f"{expected_version}, it is now at version {row[3]}; reload and accept again")
        cols = ("acceptance_approver", "acceptance_date", "acceptance_expiry", "acceptance_justification")
        before = con.execute(f"SELECT {', '.join(cols)} FROM risks WHERE id = ?", [risk_id]).pl().row(0, named=True)
        after = dict(zip(cols, (person, today, expiry, why), strict=True))
        con.execute("UPDATE risks SET acceptance_approver = ?, acceptance_date = ?, acceptance_expiry = ?, "
                    "acceptance_justification = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                    [person, today, expiry, why, store.now(), risk_id])
        history.record_changes(con, entity="risk", entity_id=risk_id, before=before, after=after, actor=actor,
                               channel=channel)
        score = con.execute("SELECT residual_after_plan FROM v_plan_residual WHERE risk_id = ?",
                            [risk_id]).fetchone()
        con.execute("INSERT INTO residual_acceptances (risk_id, accepted_by, accepted_at, expires_on, "
                    "residual_score, justification) VALUES (?, ?, ?, ?, ?, ?)",
                    [risk_id, person, store.now(), expiry, score[0] if score else None, why])
        return {"risk_id": risk_id, **after, "residual_score": score[0] if score else None}


def approvals(db: str | Path | None = None) -> pl.DataFrame:
    """Every plan approval, newest first."""
    with store.connect(db) as con:
        return con.execute("SELECT * FROM plan_approvals ORDER BY approved_at DESC, id DESC").pl()


def acceptances(db: str | Path | None = None) -> pl.DataFrame:
    """Every residual acceptance ever recorded, newest first."""
    with store.connect(db) as con:
        return con.execute("SELECT * FROM residual_acceptances ORDER BY accepted_at DESC, id DESC").pl()
