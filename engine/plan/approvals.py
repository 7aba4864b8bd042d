"""The ranked plan, residual risk after it, and the risk owners' approvals and acceptances."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import records, store
from engine.audit import set_today
from engine.errors import NotFoundError, RuleViolation
from engine.register.records import RISK
from engine.store import history


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
    try:
        expiry = records.parse_date(expires_on)
    except ValueError as exc:
        raise RuleViolation(f"approval expiry {expires_on!r} is not a date (YYYY-MM-DD)") from exc
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
        expiry = records.parse_date(expires_on)
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
        _owned(con, risk_id, person, "acceptance of its residual risk")
        after = {"acceptance_approver": person, "acceptance_date": today, "acceptance_expiry": expiry,
                 "acceptance_justification": why}
        records.edit(con, RISK, risk_id, after, expected_version=expected_version, actor=actor, channel=channel)
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
