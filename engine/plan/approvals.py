"""The ranked plan, residual risk after it, and the risk owners' approvals and acceptances.

An approval of the plan for a risk, or an acceptance of its residual risk, is given by the signed-in
principal: the risk's owner (whatever their role) or an approver in the risk's business unit. It records
the name it is given in (``approved_by`` / ``accepted_by``: the principal's display name, unless a caller
names the risk owner it records the approval for) and who recorded it: the principal's stable id,
display name and the channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, records, store
from engine.audit import set_today
from engine.errors import NotFoundError, RuleViolation
from engine.register.records import RISK
from engine.store import history


def ranking(db: str | Path | None = None, *, include_closed: bool = False,
            today: date | None = None, principal: access.Principal | str | None = None) -> pl.DataFrame:
    """The plan ranked "do once, satisfy both" (``v_treatment_plan``), best first.

    ``rank_reduction`` orders open actions by expected risk reduction per person-day, ``rank_controls`` by
    controls satisfied in the two standards (listed or reached by an equal/superset_of crosswalk link) per
    person-day; ``rank`` by the sum of both ratios, each scaled to its maximum. Done and cancelled actions
    are left out unless ``include_closed``. ``today`` sets the date the ``overdue`` flag compares with.
    The plan belongs to the whole organisation: every role sees every action (``principal`` must hold one).
    """
    with store.connect(db) as con:
        access.scope(con, principal)
        set_today(con, today)
        frame = con.execute("SELECT * FROM v_treatment_plan").pl()
    return frame if include_closed else frame.filter(pl.col("status").is_in(["planned", "in_progress"]))


def residual_after_plan(db: str | Path | None = None, *, today: date | None = None,
                        principal: access.Principal | str | None = None) -> pl.DataFrame:
    """Each open risk now and once the plan is done (``v_plan_residual``): scores, levels, appetite,
    the actions treating it, its owner's plan approval and residual acceptance (current or not); the
    risks of the business units ``principal`` may see."""
    with store.connect(db) as con:
        access.scope(con, principal)
        set_today(con, today)
        return con.execute("SELECT * FROM v_plan_residual").pl()


def _owned(con: duckdb.DuckDBPyConnection, risk_id: str, person: str | None, what: str,
           principal: access.Principal, operation: str) -> tuple[Any, ...]:
    """The risk (id, owner, status, version) an approval or acceptance is recorded on, once the rules
    hold: the risk exists, has an owner, is not closed; ``person`` (the name the approval is given in,
    when a caller names one) is its owner; and the principal is that owner or an approver in its unit."""
    row = con.execute("SELECT id, owner, status, version FROM risks WHERE id = ?", [risk_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no risk {risk_id!r}")
    owner = (row[1] or "").strip()
    if not owner:
        raise RuleViolation(f"risk {risk_id} has no owner; assign one before recording {what}")
    if person is not None and owner.casefold() != person.strip().casefold():
        raise RuleViolation(f"risk {risk_id} is owned by {owner}; {what} must come from its risk owner "
                            f"(ISO 27001 6.1.3 f, ISO 42001 6.1.3 g), not {person.strip()}")
    access.check_records(con, principal, "risk", [risk_id], operation=operation)
    if row[2] == "closed":
        raise RuleViolation(f"risk {risk_id} is closed")
    return row


def _owned_by(con: duckdb.DuckDBPyConnection, person: str | None, principal: access.Principal) -> list[str]:
    """The open risks with actions in the plan owned by ``person`` (or by the principal: its id, display
    name or e-mail), for an approval given without naming its risks."""
    names = [person] if person is not None else [principal.id, principal.name, principal.email or ""]
    return [r[0] for r in con.execute(
        "SELECT DISTINCT r.id FROM risks r JOIN action_risks ar ON ar.risk_id = r.id "
        "JOIN actions a ON a.id = ar.action_id AND a.status <> 'cancelled' "
        "WHERE r.status <> 'closed' AND list_contains(?::VARCHAR[], lower(trim(r.owner))) ORDER BY r.id",
        [[n.strip().lower() for n in names if n.strip()]]).fetchall()]


def approve_plan(db: str | Path | None, *, approved_by: str | None = None, risk_ids: Iterable[str] | None = None,
                 expires_on: date | str | None = None, note: str | None = None, actor: access.Principal | str,
                 channel: str) -> list[str]:
    """Record the approval of the treatment plan for risks (ISO 27001 6.1.3 f) by the principal ``actor``:
    the risks' owner, or an approver in their business unit (PermissionDenied otherwise).

    Approves the given risks, or every open risk with actions in the plan owned by ``approved_by`` (the
    risk owner the approval is given for; default: the principal, under its display name). Each approval
    records the actions it covers, so a later change to the plan shows the approval as no longer current
    (``v_plan_residual.plan_approval_current``), and who recorded it. Returns the risk ids approved.
    """
    principal = access.resolve(actor)
    person = None if approved_by is None else approved_by.strip()
    if person == "":
        raise RuleViolation("an approval needs the name of the approving risk owner")
    try:
        expiry = records.parse_date(expires_on)
    except ValueError as exc:
        raise RuleViolation(f"approval expiry {expires_on!r} is not a date (YYYY-MM-DD)") from exc
    today = store.now().date()
    if expiry is not None and expiry <= today:
        raise RuleViolation(f"approval expiry {expiry} is not in the future")
    with store.transaction(db) as con:
        if risk_ids is None:
            ids = _owned_by(con, person, principal)
            if not ids:
                raise RuleViolation(f"no open risk owned by {person or principal.name} has actions in the "
                                    f"treatment plan")
        else:
            ids = list(dict.fromkeys(str(r).strip() for r in risk_ids))
        for rid in ids:
            _owned(con, rid, person, "approval of its treatment plan", principal, "approve_plan")
            actions = [r[0] for r in con.execute(
                "SELECT a.id FROM action_risks ar JOIN actions a ON a.id = ar.action_id "
                "WHERE ar.risk_id = ? AND a.status <> 'cancelled' ORDER BY a.id", [rid]).fetchall()]
            if not actions:
                raise RuleViolation(f"risk {rid} has no actions in the treatment plan; record an acceptance of "
                                    f"its residual risk instead")
            given = person or principal.name
            con.execute("INSERT INTO plan_approvals (risk_id, approved_by, approved_at, expires_on, action_ids, "
                        "note, recorded_by, recorded_by_name, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [rid, given, store.now(), expiry, actions, note, principal.id, principal.name, channel])
            history.record(con, entity="risk", entity_id=rid, action="approve_plan", actor=principal,
                           channel=channel, field="plan_approval",
                           new={"approved_by": given, "actions": actions, "expires_on": expiry})
        return ids


def accept_residual(db: str | Path | None, risk_id: str, *, accepted_by: str | None = None,
                    expires_on: date | str, justification: str, expected_version: int | None = None,
                    actor: access.Principal | str, channel: str) -> dict[str, Any]:
    """Record the acceptance of a risk's residual level (ISO 27001 6.1.3 f, ISO 42001 6.1.3 g) by the
    principal ``actor``: the risk's owner, or an approver in its business unit (PermissionDenied otherwise).

    Sets ``risks.acceptance_*`` (approver: ``accepted_by``, the risk owner it is recorded for, default the
    principal's display name; date, expiry, justification), bumps the risk's version and logs the
    acceptance in ``residual_acceptances`` with the residual score accepted and who recorded it. An expiry
    in the future and a justification are required. Returns the acceptance as recorded.
    """
    principal = access.resolve(actor)
    person = None if accepted_by is None else accepted_by.strip()
    why = (justification or "").strip()
    try:
        expiry = records.parse_date(expires_on)
    except ValueError as exc:
        raise RuleViolation(f"risk {risk_id}: expiry {expires_on!r} is not a date (YYYY-MM-DD)") from exc
    today = store.now().date()
    if person == "":
        raise RuleViolation(f"risk {risk_id}: an acceptance needs the name of the accepting risk owner")
    if not why:
        raise RuleViolation(f"risk {risk_id}: accepting residual risk needs a justification")
    if expiry is None or expiry <= today:
        raise RuleViolation(f"risk {risk_id}: an acceptance needs an expiry date in the future")
    with store.transaction(db) as con:
        _owned(con, risk_id, person, "acceptance of its residual risk", principal, "accept_residual")
        given = person or principal.name
        after = {"acceptance_approver": given, "acceptance_date": today, "acceptance_expiry": expiry,
                 "acceptance_justification": why}
        records.edit(con, RISK, risk_id, after, expected_version=expected_version, actor=principal,
                     channel=channel, operation="accept_residual")
        score = con.execute("SELECT residual_after_plan FROM v_plan_residual WHERE risk_id = ?",
                            [risk_id]).fetchone()
        con.execute("INSERT INTO residual_acceptances (risk_id, accepted_by, accepted_at, expires_on, "
                    "residual_score, justification, recorded_by, recorded_by_name, channel) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [risk_id, given, store.now(), expiry, score[0] if score else None, why, principal.id,
                     principal.name, channel])
        return {"risk_id": risk_id, **after, "residual_score": score[0] if score else None}


_OF_VISIBLE_RISKS = "WHERE risk_id IN (SELECT id FROM risks WHERE unit_visible(business_unit))"


def approvals(db: str | Path | None = None, *, principal: access.Principal | str | None = None) -> pl.DataFrame:
    """Every plan approval, newest first (of the risks of the business units ``principal`` may see)."""
    with store.connect(db) as con:
        access.scope(con, principal)
        return con.execute(f"SELECT * FROM plan_approvals {_OF_VISIBLE_RISKS} "
                           "ORDER BY approved_at DESC, id DESC").pl()


def acceptances(db: str | Path | None = None, *, principal: access.Principal | str | None = None) -> pl.DataFrame:
    """Every residual acceptance ever recorded, newest first (of the risks ``principal`` may see)."""
    with store.connect(db) as con:
        access.scope(con, principal)
        return con.execute(f"SELECT * FROM residual_acceptances {_OF_VISIBLE_RISKS} "
                           "ORDER BY accepted_at DESC, id DESC").pl()
