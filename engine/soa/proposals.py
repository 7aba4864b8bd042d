"""What the register and the crosswalk propose for the SoA; nothing changes until a person
accepts or rejects a proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import store
from engine.errors import NotFoundError, RuleViolation
from engine.store import history, query

from .rows import edit_row

PROPOSAL_KINDS = ("risk_treatment", "counterpart_status")




def _proposals(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(query.load("soa_proposals")).pl()


def proposals(db: str | Path | None = None) -> pl.DataFrame:
    """What the register and the crosswalk suggest for the SoA; nothing is applied until accepted.

    - ``risk_treatment``: a control cited by an open risk (its controls, or an action treating it) that is
      not yet applicable for risk treatment is proposed applicable with reason ``risk_treatment``
      (ISO 27001 6.1.3 b-d);
    - ``counterpart_status``: an implemented 27001:2022 control proposes its 42001 counterparts as
      ``implemented`` when a direct crosswalk link says the 27001 control equals or contains the counterpart
      (equal, superset_of), else as ``partial`` (subset_of, intersects_with); only upgrades are proposed,
      never on a row marked not applicable. One direction only, so accepted proposals do not cascade back.

    A proposal rejected on the same basis is not shown again. Columns: proposal_id, kind, framework, ref,
    title, current_applicable, current_reasons, current_status, proposed_applicable, proposed_reason,
    proposed_status, basis, risk_ids, row_version, summary (the proposal in one sentence),
    proposed_evidence (for ``counterpart_status``: the evidence of the implemented 27001 controls, each
    item named by its control, which accepting adds to the row's evidence).
    """
    with store.connect(db) as con:
        return _proposals(con)


def _find_proposal(con: duckdb.DuckDBPyConnection, proposal_id: str) -> dict[str, Any]:
    rows = _proposals(con).filter(pl.col("proposal_id") == proposal_id.strip()).to_dicts()
    if not rows:
        raise NotFoundError(f"no open proposal {proposal_id!r}: it may have been accepted or rejected, or "
                            f"what it rested on has changed; list them with `riskmap soa propose`")
    return rows[0]


def _decide(con: duckdb.DuckDBPyConnection, p: dict[str, Any], decision: str, justification: str | None,
            actor: str) -> None:
    con.execute("INSERT INTO soa_proposal_decisions (framework, ref, kind, basis, decision, justification, "
                "decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [p["framework"], p["ref"], p["kind"], p["basis"], decision, justification, actor, store.now()])


def _accept(con: duckdb.DuckDBPyConnection, p: dict[str, Any], *, justification: str | None,
            expected_version: int | None, actor: str, channel: str) -> dict[str, Any]:
    if p["kind"] == "risk_treatment":
        reasons = list(p["current_reasons"] or [])
        changes: dict[str, Any] = {"applicable": True, "reasons": [*reasons, "risk_treatment"]}
    else:
        changes = {"status": p["proposed_status"]}
        reuse = [e for e in p.get("proposed_evidence") or [] if e not in (p.get("current_evidence") or [])]
        if reuse:
            current = con.execute("SELECT evidence FROM soa_rows WHERE framework = ? AND ref = ?",
                                  [p["framework"], p["ref"]]).fetchone()
            have = list(current[0] or []) if current else []
            changes["evidence"] = have + [e for e in reuse if e not in have]
    if justification:
        changes["justification"] = justification
    row = edit_row(con, p["framework"], p["ref"], changes, expected_version=expected_version, actor=actor,
                   channel=channel)
    _decide(con, p, "accepted", justification, actor)
    history.record(con, entity="soa_row", entity_id=f"{p['framework']}:{p['ref']}", action="accept_proposal",
                   actor=actor, channel=channel, field=p["kind"], new=p["basis"])
    return row


def accept_proposal(db: str | Path | None, proposal_id: str, *, justification: str | None = None,
                    expected_version: int | None = None, actor: str, channel: str) -> dict[str, Any]:
    """Confirm one proposal (ids from :func:`proposals`): apply it to its SoA row and record the decision.

    ``expected_version`` guards against a row changed since the proposal was shown. Returns the row.
    """
    with store.transaction(db) as con:
        p = _find_proposal(con, proposal_id)
        return _accept(con, p, justification=justification, expected_version=expected_version, actor=actor,
                       channel=channel)


def accept_proposals(db: str | Path | None, *, kind: str | None = None, proposal_ids: list[str] | None = None,
                     actor: str, channel: str) -> int:
    """Confirm every open proposal (or those of one ``kind``, or the given ids) in one transaction."""
    if kind is not None and kind not in PROPOSAL_KINDS:
        raise RuleViolation(f"unknown proposal kind {kind!r}; expected {' | '.join(PROPOSAL_KINDS)}")
    with store.transaction(db) as con:
        if proposal_ids:
            chosen = [_find_proposal(con, pid) for pid in proposal_ids]
        else:
            frame = _proposals(con)
            if kind:
                frame = frame.filter(pl.col("kind") == kind)
            chosen = frame.to_dicts()
        for p in chosen:
            _accept(con, p, justification=None, expected_version=None, actor=actor, channel=channel)
        return len(chosen)


def reject_proposal(db: str | Path | None, proposal_id: str, *, justification: str, actor: str,
                    channel: str) -> None:
    """Override a proposal: keep the row as it is, with a justification (required).

    The proposal stays hidden while it rests on the same basis.
    """
    if not (justification or "").strip():
        raise RuleViolation(f"proposal {proposal_id}: overriding a proposal needs a justification")
    with store.transaction(db) as con:
        p = _find_proposal(con, proposal_id)
        _decide(con, p, "rejected", justification.strip(), actor)
        history.record(con, entity="soa_row", entity_id=f"{p['framework']}:{p['ref']}", action="reject_proposal",
                       actor=actor, channel=channel, field=p["kind"], old=p["basis"], new=justification.strip())
