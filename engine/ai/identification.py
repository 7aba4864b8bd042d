"""Proposals of risk scenarios per AI system, and the decision a person takes on each (ISO 42001 6.1.2, 8.2).

Which scenarios apply to which system is decided in one place, the view ``v_ai_risk_identification``
(from the system's roles, life cycle stage and characteristics); this module reads it and records
decisions. A proposal is only a proposal: nothing reaches the register until a person either

- **accepts** it (:func:`accept`): a new register risk is created through
  :func:`engine.register.create_risk_on` with the scenario's cause, event, consequences, Annex C risk
  sources and objectives and its suggested controls (as planned controls), scored on the current matrix
  and linked to the system, or an existing risk that already covers it is linked; or
- **rejects** it (:func:`reject`) as not applicable to this system, with a reason.

Each decision is written with its history (who, when, through what) in the same transaction as the risk
it creates. :func:`reopen` withdraws a decision, so the scenario is proposed again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, records, register, store
from engine.errors import InputError, NotFoundError, Problem, RuleViolation
from engine.register.records import AI_SYSTEM
from engine.store import query
from engine.store.history import record

STATES = ("identified", "not_applicable", "open")
ENTITY = "ai_scenario_decision"
"""The history's entity for decisions; its id is ``AI_SYSTEM/SCENARIO``."""


def identification(db: str | Path | None = None, ai_system_id: str | None = None,
                   state: str | None = None) -> pl.DataFrame:
    """Every AI system x applicable scenario with its state (``v_ai_risk_identification``)."""
    if state is not None and state not in STATES:
        raise InputError([Problem("identification", None, "state", "unknown state", state, ", ".join(STATES))])
    sql, params = "SELECT * FROM v_ai_risk_identification WHERE true", []
    for col, val in (("ai_system_id", ai_system_id), ("state", state)):
        if val is not None:
            sql += f" AND {col} = ?"
            params.append(val)
    with store.connect(db) as con:
        return con.execute(sql, params).pl()


def proposals(db: str | Path | None = None, ai_system_id: str | None = None) -> pl.DataFrame:
    """The open scenarios (proposals nobody has decided on), with what a person needs to decide:
    the scenario's cause, event, consequences, Annex C sources and objectives, suggested controls,
    and the unrecorded characteristics the proposal rests on (query ``ai_proposals``). Nothing is written."""
    with store.connect(db) as con:
        if ai_system_id is not None:
            _system(con, ai_system_id)
        return con.execute(query.load("ai_proposals"), {"ai_system": ai_system_id}).pl()


def coverage(db: str | Path | None = None) -> pl.DataFrame:
    """Identification coverage per AI system: applicable scenarios by state, characteristics not recorded,
    and ``fully_assessed`` (no open scenario). Every system is listed, also one with no applicable scenario
    (query ``ai_coverage``)."""
    with store.connect(db) as con:
        return con.execute(query.load("ai_coverage")).pl()


def candidate_risks(db: str | Path | None, ai_system_id: str) -> pl.DataFrame:
    """The register risks that already name a system (id, title, status): the ones most likely to cover a
    scenario proposed for it, offered for linking instead of creating a new risk."""
    with store.connect(db) as con:
        return con.execute("SELECT r.id, r.title, r.status FROM risks r JOIN risk_ai_systems l ON l.risk_id = r.id "
                           "WHERE l.ai_system_id = ? ORDER BY r.id", [ai_system_id]).pl()


@dataclass(frozen=True)
class Summary:
    """Headline figures for the Overview."""

    systems: int
    fully_assessed: int
    open_scenarios: int
    unregistered_use: int


def summary(db: str | Path | None = None) -> Summary:
    """How many AI systems are fully assessed (no open scenario), how many scenarios are open, and how
    many entries of observed AI use match no registered system (query ``ai_summary``)."""
    with store.connect(db) as con:
        row = con.execute(query.load("ai_summary")).fetchone() or (0, 0, 0, 0)
    return Summary(*(int(v) for v in row))


# ---------------------------------------------------------------------------------------------- decisions

def _system(con: duckdb.DuckDBPyConnection, ai_system_id: str) -> dict[str, Any]:
    """The stored AI system (the register's record); NotFoundError when there is none."""
    return records.fetch(con, AI_SYSTEM, ai_system_id)


def _scenario(con: duckdb.DuckDBPyConnection, scenario_id: str) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM ai_scenarios WHERE id = ?", [scenario_id])
    row = cur.fetchone()
    if row is None:
        raise NotFoundError(f"no AI risk scenario {scenario_id!r}; `riskmap scenarios list` shows the library")
    return dict(zip([d[0] for d in cur.description or []], row, strict=True))


def _open_pair(con: duckdb.DuckDBPyConnection, ai_system_id: str, scenario_id: str) -> dict[str, Any]:
    """The system and scenario of a decision, refused unless the scenario applies and is still open."""
    system, scenario = _system(con, ai_system_id), _scenario(con, scenario_id)
    row = con.execute("SELECT state, risk_id, reason FROM v_ai_risk_identification "
                      "WHERE ai_system_id = ? AND scenario_id = ?", [ai_system_id, scenario_id]).fetchone()
    if row is None:
        raise RuleViolation(
            f"scenario {scenario_id} ({scenario['title']}) does not apply to {ai_system_id} ({system['name']}): "
            "its roles, life cycle stage or characteristics rule it out. If the inventory is wrong, correct the "
            "system's record first")
    state, risk_id, reason = row
    if state == "identified":
        raise RuleViolation(f"scenario {scenario_id} is already identified for {ai_system_id} as risk {risk_id}; "
                            "reopen it first to decide again")
    if state == "not_applicable":
        raise RuleViolation(f"scenario {scenario_id} is already recorded as not applicable to {ai_system_id} "
                            f"({reason}); reopen it first to decide again")
    return {"system": system, "scenario": scenario}


def _decider(actor: access.Principal | str | None) -> access.Principal:
    """The principal deciding on a scenario, checked before anything is read or written (the AI inventory is
    the organisation's: the role without a unit limit)."""
    principal = access.resolve(actor)
    access.require(principal, "identify_ai_risk")
    return principal


def _write_decision(con: duckdb.DuckDBPyConnection, ai_system_id: str, scenario_id: str, decision: str, *,
                    risk_id: str | None, reason: str | None, actor: access.Principal, channel: str) -> None:
    """Record the decision (replacing a stale one: an identified risk that no longer names the system)."""
    old = con.execute("SELECT decision, risk_id, reason FROM ai_scenario_decisions "
                      "WHERE ai_system_id = ? AND scenario_id = ?", [ai_system_id, scenario_id]).fetchone()
    con.execute("DELETE FROM ai_scenario_decisions WHERE ai_system_id = ? AND scenario_id = ?",
                [ai_system_id, scenario_id])
    con.execute("INSERT INTO ai_scenario_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [ai_system_id, scenario_id, decision, risk_id, reason, str(actor), store.now(), channel])
    new = {"decision": decision, "risk_id": risk_id, "reason": reason}
    record(con, entity=ENTITY, entity_id=f"{ai_system_id}/{scenario_id}", action="update" if old else "create",
           field="decision", actor=actor, channel=channel, new=json.dumps(new, sort_keys=True),
           old=json.dumps(dict(zip(("decision", "risk_id", "reason"), old, strict=True)), sort_keys=True)
           if old else None)


def risk_fields(system: dict[str, Any], scenario: dict[str, Any], *, likelihood: Any, impact: Any,
                owner: str | None = None, title: str | None = None) -> dict[str, Any]:
    """The register fields of the risk a scenario becomes for one system (ISO 42001 6.1.2 d: analysed with
    its consequences for the organisation and for individuals or society, and its Annex C sources)."""
    cia = set(scenario["cia"] or [])
    return {
        "title": title or f"{scenario['title']} ({system['name']})",
        "description": f"{scenario['description']} Identified for {system['name']} from scenario "
                       f"{scenario['id']} of the AI risk scenario library ({scenario['library_version']}).",
        "cause": scenario["cause"], "event": scenario["event"],
        "consequence_org": scenario["consequence_org"],
        "consequence_individuals": scenario["consequence_individuals"],
        "management_system": scenario["management_system"],
        "ai_risk_sources": list(scenario["risk_sources"]), "ai_objectives": list(scenario["objectives"]),
        "confidentiality": "confidentiality" in cia, "integrity": "integrity" in cia,
        "availability": "availability" in cia,
        "category": f"AI risk scenario: {scenario['theme']}",
        "owner": owner or system["owner"], "status": "open",
        "inherent_likelihood": likelihood, "inherent_impact": impact,
    }


def accept(db: str | Path | None, ai_system_id: str, scenario_id: str, *, actor: str,
           channel: str = "api", likelihood: Any = None, impact: Any = None, owner: str | None = None, title: str | None = None,
           controls: Sequence[str] | None = None, risk_id: str | None = None) -> str:
    """Accept a proposed scenario for a system as a register risk; returns the risk id.

    Without ``risk_id`` a new risk is created from the scenario, scored ``likelihood`` x ``impact`` on the
    current matrix (both required), owned by ``owner`` (default: the system's owner), linked to the system,
    with ``controls`` (default: the scenario's suggested controls) linked as planned controls. With
    ``risk_id`` an existing risk that already covers the scenario is linked to the system instead; it keeps
    its own scores. Refused (RuleViolation) when the scenario does not apply or was already decided.
    """
    actor = _decider(actor)
    with store.transaction(db) as con:
        pair = _open_pair(con, ai_system_id, scenario_id)
        if risk_id is not None:
            if likelihood is not None or impact is not None:
                raise InputError([Problem("scenario", scenario_id, "likelihood", "an existing risk keeps its own "
                                          "scores", f"{likelihood} x {impact}", "no likelihood or impact with a risk id")])
            register.link_ai_system_on(con, risk_id, ai_system_id, actor=actor, channel=channel)
        else:
            missing = [n for n, v in (("likelihood", likelihood), ("impact", impact)) if v in (None, "")]
            if missing:
                raise InputError([Problem("scenario", scenario_id, m, "required to score the new risk", None,
                                          "a score on the risk matrix (see `riskmap matrix show`)") for m in missing],
                                 f"{ai_system_id} {scenario_id}: the new risk needs a likelihood and an impact; "
                                 "nothing changed")
            fields = risk_fields(pair["system"], pair["scenario"], likelihood=likelihood, impact=impact,
                                 owner=owner, title=title)
            chosen = list(pair["scenario"]["controls"]) if controls is None else list(controls)
            risk_id = register.create_risk_on(con, fields, actor=actor, channel=channel,
                                              controls=[f"{c}:planned" for c in chosen],
                                              ai_systems=[ai_system_id])
        _write_decision(con, ai_system_id, scenario_id, "identified", risk_id=risk_id, reason=None, actor=actor,
                        channel=channel)
    return risk_id


def reject(db: str | Path | None, ai_system_id: str, scenario_id: str, reason: str, *,
           actor: str, channel: str = "api") -> None:
    """Record that a proposed scenario does not apply to a system, with the reason (shown to auditors)."""
    actor = _decider(actor)
    if not str(reason or "").strip():
        raise InputError([Problem("scenario", scenario_id, "reason", "a reason is required", reason,
                                  "why the scenario does not apply to this AI system")],
                         f"{ai_system_id} {scenario_id}: not applicable needs a reason; nothing changed")
    with store.transaction(db) as con:
        _open_pair(con, ai_system_id, scenario_id)
        _write_decision(con, ai_system_id, scenario_id, "not_applicable", risk_id=None, reason=str(reason).strip(),
                        actor=actor, channel=channel)


def reopen(db: str | Path | None, ai_system_id: str, scenario_id: str, *, actor: str,
           channel: str = "api") -> bool:
    """Withdraw the decision on a scenario, so it is proposed again; a risk it created stays in the
    register. Returns False when there was no decision."""
    actor = _decider(actor)
    with store.transaction(db) as con:
        _system(con, ai_system_id)
        old = con.execute("SELECT decision, risk_id, reason FROM ai_scenario_decisions "
                          "WHERE ai_system_id = ? AND scenario_id = ?", [ai_system_id, scenario_id]).fetchone()
        if old is None:
            return False
        con.execute("DELETE FROM ai_scenario_decisions WHERE ai_system_id = ? AND scenario_id = ?",
                    [ai_system_id, scenario_id])
        record(con, entity=ENTITY, entity_id=f"{ai_system_id}/{scenario_id}", action="delete", field="decision",
               old=json.dumps(dict(zip(("decision", "risk_id", "reason"), old, strict=True)), sort_keys=True),
               actor=actor, channel=channel)
    return True
