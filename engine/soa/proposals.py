"""What the register and the crosswalk propose for the SoA; nothing changes until a person
accepts or rejects a proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import store
from engine.config import ISO27001, ISO42001
from engine.errors import NotFoundError, RuleViolation
from engine.store import history

from .rows import edit_row

PROPOSAL_KINDS = ("risk_treatment", "counterpart_status")


_PROPOSALS_SQL = f"""
WITH treatment AS (
    SELECT 'risk_treatment' AS kind, s.framework, s.ref,
           true AS proposed_applicable, 'risk_treatment' AS proposed_reason, NULL::VARCHAR AS proposed_status,
           'cited by ' || array_to_string(s.risk_ids, ', ') AS basis
    FROM v_soa s
    WHERE len(s.risk_ids) > 0
      AND NOT (coalesce(s.applicable, false) AND list_contains(s.reasons, 'risk_treatment'))
),
implemented AS (
    SELECT framework, ref FROM v_soa WHERE status = 'implemented' AND coalesce(applicable, true)
),
candidates AS (
    SELECT l.target_framework AS framework, l.target_ref AS ref,
           l.relationship IN ('equal', 'superset_of') AS full_cover, l.strength,
           l.source_framework || ':' || l.source_ref || ' implemented, ' || l.relationship
               || ' (' || l.strength || ')' AS why
    FROM crosswalk_links l
    JOIN implemented i ON i.framework = l.source_framework AND i.ref = l.source_ref
    WHERE l.origin IN ('authored', 'inverse') AND l.relationship <> 'no_relationship'
      AND l.source_framework = '{ISO27001}' AND l.target_framework = '{ISO42001}'
),
best AS (
    SELECT framework, ref, CASE WHEN bool_or(full_cover) THEN 'implemented' ELSE 'partial' END AS proposed_status,
           list(why ORDER BY full_cover DESC, strength DESC, why) AS whys
    FROM candidates GROUP BY framework, ref
),
coverage AS (
    SELECT 'counterpart_status' AS kind, s.framework, s.ref,
           NULL::BOOLEAN AS proposed_applicable, NULL::VARCHAR AS proposed_reason, b.proposed_status,
           'counterparts: ' || array_to_string(b.whys, '; ') AS basis
    FROM best b JOIN v_soa s ON s.framework = b.framework AND s.ref = b.ref
    WHERE coalesce(s.applicable, true)
      AND (CASE b.proposed_status WHEN 'implemented' THEN 3 ELSE 2 END)
          > (CASE s.status WHEN 'implemented' THEN 3 WHEN 'partial' THEN 2 WHEN 'planned' THEN 1 ELSE 0 END)
),
allp AS (SELECT * FROM treatment UNION ALL SELECT * FROM coverage)
SELECT p.framework || ':' || p.ref || '/' || p.kind AS proposal_id, p.kind, p.framework, p.ref, s.title,
       s.applicable AS current_applicable, s.reasons AS current_reasons, s.status AS current_status,
       p.proposed_applicable, p.proposed_reason, p.proposed_status, p.basis, s.risk_ids,
       s.version AS row_version
FROM allp p JOIN v_soa s ON s.framework = p.framework AND s.ref = p.ref
WHERE NOT EXISTS (SELECT 1 FROM soa_proposal_decisions d
                  WHERE d.framework = p.framework AND d.ref = p.ref AND d.kind = p.kind
                    AND d.basis = p.basis AND d.decision = 'rejected')
ORDER BY CASE p.framework WHEN '{ISO27001}' THEN 1 WHEN '{ISO42001}' THEN 2 ELSE 3 END, s.ordinal, p.kind
"""


def _proposals(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(_PROPOSALS_SQL).pl()


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
    proposed_status, basis, risk_ids, row_version.
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
