"""The organisation's own view of the crosswalk: tailored mapping records, kept apart from the shipped ones.

A user with the right role accepts a shipped (or imported) mapping, disputes it (with a reason), makes it
stronger or weaker, or adds a link the crosswalk lacks. Each decision is one record of
``crosswalk_tailoring`` for its pair of controls, written through the record write path
(:mod:`engine.records`: version check, validation, one history row per change, with actor and channel). A
tailored record wins over the record beneath it in every computation, because the links are built from the
records in force (``engine/sql/queries/mappings_in_force.sql``): links, coverage, gaps, the SoA's
counterparts and the plan's "via crosswalk". Tailored records are not touched by ``riskmap init``; the
record beneath each is kept as it was when decided, so the audit ``crosswalk_tailoring_base_changed`` flags
a tailoring whose shipped record has changed since.

Decisions:

- ``accept``: the record beneath holds for the organisation, as it is; it becomes ``reviewed`` by the
  person who accepted it, on that day (a reason is optional).
- ``dispute``: the link does not hold for the organisation: ``no_relationship``, with the reason.
- ``strengthen`` / ``weaken``: a stronger (weaker) link than the record beneath: a closer (looser)
  relationship, or the same relationship with a higher (lower) strength.
- ``add``: a link for a pair the crosswalk does not link (no record, or a ``no_relationship`` one).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import records, store
from engine.errors import InputError, NotFoundError, Problem, StaleEditError
from engine.records import DATE, REQUIRED, TEXT, FieldSpec
from engine.records.vocab import codes
from engine.store import query

from .inference import rebuild_links
from .refs import parse_control
from .relationships import RANK, RATIONALES, RELATIONSHIPS, inverse

__all__ = ["DECISIONS", "TAILORING", "Decision", "apply_decisions", "base_changes", "decision_between", "pair_key",
           "records_beneath", "tailor", "tailoring_for", "tailorings_frame", "withdraw"]

DECISIONS = ("accept", "dispute", "strengthen", "weaken", "add")
STATUSES = ("active", "withdrawn")

_STRENGTH = FieldSpec("score")  # 1..10 (the entity's scale); 0 is set by the rules for no_relationship

TAILORING_FIELDS: dict[str, FieldSpec] = {
    "decision": FieldSpec("enum", True, codes(DECISIONS), noun="decision"),
    "relationship": FieldSpec("enum", True, codes(RELATIONSHIPS), noun="relationship"),
    "strength": _STRENGTH,
    "rationale_type": FieldSpec("enum", True, codes(RATIONALES), noun="rationale type"),
    "justification": REQUIRED,
    "reason": TEXT,
    "status": FieldSpec("enum", True, codes(STATUSES), noun="status"),
    # provenance in force and the record beneath: set by the rules below, never typed by a user
    "author": REQUIRED, "authored_on": DATE, "review_status": TEXT, "reviewer": TEXT, "reviewed_on": DATE,
    "tailored_by": REQUIRED, "tailored_on": DATE, "base_provenance": TEXT, "base_relationship": TEXT,
    "base_strength": _STRENGTH, "base_justification": TEXT,
}
"""The fields of a tailoring record."""

TAILORING = records.declare(records.Entity(
    "crosswalk_tailoring", "crosswalk_tailoring", "tailored mapping", TAILORING_FIELDS,
    stamps=("updated_at", "updated_by"), created_at=True, defaults={"status": "active"},
    scale=lambda con, row: 10))


@dataclass(frozen=True)
class Decision:
    """One decision on a pair, as a user (or an imported file) states it; None leaves a value to the rules."""

    source: tuple[str, str]
    target: tuple[str, str]
    decision: str
    relationship: str | None = None
    strength: int | None = None
    rationale_type: str | None = None
    reason: str | None = None
    expected_version: int | None = None
    where: str = "tailoring"  # names the decision in problems (a file and record for an import)

    @property
    def label(self) -> str:
        return f"{self.source[0]}:{self.source[1]} -> {self.target[0]}:{self.target[1]}"


def _control(value: str | tuple[str, str]) -> tuple[str, str]:
    return parse_control(value) if isinstance(value, str) else (value[0], value[1])


def pair_key(sf: str, sr: str, tf: str, tr: str) -> str:
    """The pair as the ``mapping_pair`` macro writes it."""
    a, b = f"{sf}:{sr}", f"{tf}:{tr}"
    return f"{a}|{b}" if a < b else f"{b}|{a}"


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def records_beneath(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """The record beneath each pair (shipped, else imported), by pair key; framework-level records left out."""
    rows = _rows(con.execute(query.load("mappings_in_force"), {"with_tailoring": False}))
    return {pair_key(r["source_framework"], r["source_ref"], r["target_framework"], r["target_ref"]): r
            for r in rows if r["target_ref"]}


def _existing(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    rows = _rows(con.execute("SELECT * FROM crosswalk_tailoring"))
    return {pair_key(r["source_framework"], r["source_ref"], r["target_framework"], r["target_ref"]): r for r in rows}


def _oriented(d: Decision, like: MappingABC[str, Any] | None) -> Decision:
    """The decision in the direction of ``like`` (the record beneath, or an earlier tailoring)."""
    if like is None or (like["source_framework"], like["source_ref"]) == d.source:
        return d
    rel = inverse(d.relationship) if d.relationship else None
    return Decision(d.target, d.source, d.decision, rel, d.strength, d.rationale_type, d.reason,
                    d.expected_version, d.where)


def _problem(d: Decision, fld: str | None, message: str, value: object = None, expected: str | None = None) -> Problem:
    return Problem(d.where, d.label, fld, message, value, expected)


def _changed_link(d: Decision, base: MappingABC[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """strengthen / weaken: the new relationship and strength, moved the way the decision says. A link is
    stronger when its relationship is closer (relationship_rank), or as close with a higher strength."""
    rel = d.relationship or base["relationship"]
    strength = d.strength if d.strength is not None else base["strength"]
    if rel == "no_relationship":
        return {}, [_problem(d, "relationship", "a link that does not hold is disputed, not weakened", rel,
                             "dispute, with the reason")]
    new, old = (RANK[rel], strength), (RANK[base["relationship"]], base["strength"])
    if new == old:
        return {}, [_problem(d, "strength", f"nothing to {d.decision}: the record beneath is already "
                             f"{rel} ({strength})", strength, "a different relationship or strength")]
    if (new > old) != (d.decision == "strengthen"):
        other = "weaken" if d.decision == "strengthen" else "strengthen"
        return {}, [_problem(d, "strength", f"{rel} ({strength}) is not {'stronger' if other == 'weaken' else 'weaker'}"
                             f" than the record beneath, {base['relationship']} ({base['strength']})",
                             f"{rel} {strength}", f"{other}, or another relationship or strength")]
    return {"relationship": rel, "strength": strength}, []


def decision_between(base: MappingABC[str, Any] | None, relationship: str, strength: int) -> str | None:
    """The decision that turns the record beneath (None: there is none) into ``relationship`` and
    ``strength``: how an imported mapping becomes a tailoring. None when there is nothing to decide (a
    ``no_relationship`` record where the crosswalk has no link either)."""
    linked = base is not None and base["relationship"] != "no_relationship"
    if not linked:
        if relationship == "no_relationship":
            return "accept" if base is not None else None
        return "add"
    assert base is not None
    if relationship == "no_relationship":
        return "dispute"
    new, old = (RANK[relationship], strength), (RANK[base["relationship"]], base["strength"])
    return "accept" if new == old else "strengthen" if new > old else "weaken"


def _decide(d: Decision, base: MappingABC[str, Any] | None, actor: str,
            today: date) -> tuple[dict[str, Any], list[Problem]]:
    """The tailoring record's values for a decision on a pair whose record beneath is ``base``."""
    is_link = base is not None and base["relationship"] != "no_relationship"
    if d.strength is not None and not (isinstance(d.strength, int) and 1 <= d.strength <= 10):
        return {}, [_problem(d, "strength", "strength out of range", d.strength, "a whole number from 1 to 10")]
    if d.decision in ("accept", "dispute", "strengthen", "weaken") and not (base and (is_link or d.decision == "accept")):
        return {}, [_problem(d, "decision", f"nothing to {d.decision}: no shipped or imported link for this pair",
                             d.decision, "add, to add a link the crosswalk lacks")]
    if d.decision != "accept" and not (d.reason or "").strip():
        return {}, [_problem(d, "reason", f"a decision to {d.decision} gives its reason",
                             expected="one sentence saying why, in the organisation's context")]
    own = {"author": actor, "authored_on": today, "review_status": "authored", "reviewer": None, "reviewed_on": None}
    if d.decision == "accept":
        assert base is not None
        asked = (d.relationship or base["relationship"], base["strength"] if d.strength is None else d.strength)
        if asked != (base["relationship"], base["strength"]):
            return {}, [_problem(d, "relationship", "accept takes the record as it is", f"{d.relationship} {d.strength}",
                                 "strengthen or weaken to change it")]
        return {"relationship": base["relationship"], "strength": base["strength"],
                "rationale_type": base["rationale_type"], "justification": base["justification"],
                "author": base["author"], "authored_on": base["authored_on"], "review_status": "reviewed",
                "reviewer": actor, "reviewed_on": today}, []
    if d.decision == "dispute":
        assert base is not None
        return {"relationship": "no_relationship", "strength": 0,
                "rationale_type": d.rationale_type or base["rationale_type"], "justification": d.reason, **own}, []
    if d.decision == "add":
        if is_link:
            return {}, [_problem(d, "decision", "this pair is already linked; accept, dispute, strengthen or weaken "
                                 "that link", d.decision)]
        problems = []
        if d.relationship in (None, "no_relationship"):
            problems.append(_problem(d, "relationship", "an added link names its relationship", d.relationship,
                                     " | ".join(r for r in RELATIONSHIPS if r != "no_relationship")))
        if d.strength is None:
            problems.append(_problem(d, "strength", "an added link gives its strength", None, "1 to 10"))
        return ({"relationship": d.relationship, "strength": d.strength,
                 "rationale_type": d.rationale_type or "semantic", "justification": d.reason, **own}, problems)
    assert base is not None
    link, problems = _changed_link(d, base)
    return {**link, "rationale_type": d.rationale_type or base["rationale_type"], "justification": d.reason,
            **own}, problems


def _check_controls(con: duckdb.DuckDBPyConnection, d: Decision) -> list[Problem]:
    problems = []
    for fld, (fw, ref) in (("source", d.source), ("target", d.target)):
        if not store.scalar(con, "SELECT count(*) FROM controls WHERE framework = ? AND ref = ?", [fw, ref]):
            problems.append(_problem(d, fld, "no such control in the loaded catalogs", f"{fw}:{ref}"))
    if d.source[0] == d.target[0]:
        problems.append(_problem(d, "target", "source and target are in the same framework", d.target[0]))
    return problems


def _write(con: duckdb.DuckDBPyConnection, d: Decision, found: MappingABC[str, Any] | None,
           values: dict[str, Any], *, actor: str, channel: str) -> str:
    """Create or rewrite the pair's tailoring record through the record write path; returns its id.

    The strengths (0 to 10, checked by the rules) are set after the field rules, whose score kind
    starts at 1."""
    strengths = {k: values[k] for k in ("strength", "base_strength")}
    given = {k: v for k, v in values.items() if k not in strengths}
    if found is None:
        if d.expected_version not in (None, 0):
            raise StaleEditError(f"{d.label}: no tailoring for this pair to be at version {d.expected_version}")
        checked = records.validate(TAILORING, None, given, con=con) | strengths
        tid = records.next_ids(con, "crosswalk_tailoring", "T")[0]
        note = f"{d.label}: {values['decision']}, {values['relationship']} ({values['strength']})"
        records.create(con, TAILORING, tid, checked, actor=actor, channel=channel, note=("decision", note),
                       extra={"source_framework": d.source[0], "source_ref": d.source[1],
                              "target_framework": d.target[0], "target_ref": d.target[1]})
        return tid
    tid = str(found["id"])
    if d.expected_version == 0:
        raise StaleEditError(f"{d.label} was tailored meanwhile ({tid}, now at version {found['version']}); "
                             "reload and decide again")
    before = records.current(con, TAILORING, tid, expected_version=d.expected_version)
    checked = records.validate(TAILORING, tid, given, con=con, before=before) | strengths
    records.write(con, TAILORING, tid, before, checked, actor=actor, channel=channel)
    return tid


def apply_decisions(con: duckdb.DuckDBPyConnection, decisions: list[Decision], *, actor: str,
                    channel: str) -> list[str]:
    """Record every decision in the caller's transaction (links are not rebuilt); returns the tailoring ids.

    Every problem of every decision is collected first and raised together as one InputError, so an
    imported file with several bad records is refused once, naming each.
    """
    bases, existing = records_beneath(con), _existing(con)
    today = store.now().date()
    planned, problems = [], []
    for d in decisions:
        found_problems = _check_controls(con, d)
        key = pair_key(*d.source, *d.target)
        base, found = bases.get(key), existing.get(key)
        d = _oriented(d, base or found)
        values, more = _decide(d, base, actor, today)
        problems += found_problems + more
        if not found_problems and not more:
            values |= {"decision": d.decision, "reason": (d.reason or "").strip() or None, "status": "active",
                       "tailored_by": actor, "tailored_on": today,
                       "base_provenance": base["provenance"] if base else None,
                       "base_relationship": _base_rel(d, base), "base_strength": base["strength"] if base else None,
                       "base_justification": base["justification"] if base else None}
            planned.append((d, found, values))
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) in the tailoring; nothing changed")
    return [_write(con, d, found, values, actor=actor, channel=channel) for d, found, values in planned]


def _base_rel(d: Decision, base: MappingABC[str, Any] | None) -> str | None:
    if base is None:
        return None
    same_way = (base["source_framework"], base["source_ref"]) == d.source
    return base["relationship"] if same_way else inverse(base["relationship"])


def tailor(db: str | Path | None, source: str | tuple[str, str], target: str | tuple[str, str], decision: str, *,
           relationship: str | None = None, strength: int | None = None, rationale_type: str | None = None,
           reason: str | None = None, expected_version: int | None = None, actor: str,
           channel: str) -> dict[str, Any]:
    """Record the organisation's decision on one pair of controls and rebuild the links; returns the record.

    ``source`` and ``target`` are ``framework:ref`` (either way round: the record is kept in the direction of
    the record beneath, the relationship read accordingly). ``expected_version`` is the version of the
    pair's tailoring the user saw (0: they saw none); a stale one is refused.
    """
    if decision not in DECISIONS:
        raise InputError([Problem("tailoring", None, "decision", "unknown decision", decision,
                                  " | ".join(DECISIONS))])
    d = Decision(_control(source), _control(target), decision, relationship, strength, rationale_type, reason,
                 expected_version)
    with store.transaction(db) as con:
        (tid,) = apply_decisions(con, [d], actor=actor, channel=channel)
        rebuild_links(con)
        return records.fetch(con, TAILORING, tid)


def withdraw(db: str | Path | None, tailoring_id: str, *, reason: str, expected_version: int | None = None,
             actor: str, channel: str) -> dict[str, Any]:
    """Withdraw a tailoring (the record beneath is in force again), with the reason; the record stays."""
    if not (reason or "").strip():
        raise InputError([Problem("tailoring", tailoring_id, "reason", "a withdrawal gives its reason",
                                  expected="one sentence saying why")])
    with store.transaction(db) as con:
        row = records.current(con, TAILORING, tailoring_id, expected_version=expected_version)
        if row["status"] == "withdrawn":
            raise NotFoundError(f"{tailoring_id} is already withdrawn")
        records.edit(con, TAILORING, tailoring_id, {"status": "withdrawn", "reason": reason},
                     expected_version=expected_version, actor=actor, channel=channel)
        rebuild_links(con)
        return records.fetch(con, TAILORING, tailoring_id)


def tailoring_for(db: str | Path | None, source: str | tuple[str, str],
                  target: str | tuple[str, str]) -> dict[str, Any] | None:
    """The pair's tailoring record (either way round), or None: what the app shows before a decision."""
    (sf, sr), (tf, tr) = _control(source), _control(target)
    with store.connect(db) as con:
        return _existing(con).get(pair_key(sf, sr, tf, tr))


def base_changes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The findings of the audit rule ``crosswalk_tailoring_base_changed`` on an open connection: each
    tailoring whose record beneath is no longer the one it was decided against (``riskmap init`` reports
    how many after an upgrade of the shipped files)."""
    from engine import audit

    return audit.findings(con, ["crosswalk_tailoring_base_changed"])


def tailorings_frame(db: str | Path | None = None, *, include_withdrawn: bool = False) -> pl.DataFrame:
    """Every tailoring with what it overrides and ``base_changed`` (flagged by the audit rule
    ``crosswalk_tailoring_base_changed``): the CLI's ``tailor list`` and the Overlap explorer."""
    with store.connect(db) as con:
        rows = con.execute(query.load("tailorings"), {"include_withdrawn": include_withdrawn}).pl()
        flagged = base_changes(con)
    changed = flagged.select(pl.col("entity_id").alias("id"), pl.col("detail").alias("base_changed_detail"))
    return (rows.join(changed, on="id", how="left", maintain_order="left")
            .with_columns(pl.col("base_changed_detail").is_not_null().alias("base_changed")))
