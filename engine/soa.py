"""The Statement of Applicability (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f).

One SoA covers every Annex A control of ISO/IEC 27001:2022 and ISO/IEC 42001:2023 and every control an
organisation adds in a custom framework. Each row records whether the control is applicable and why
(inclusion reason codes, linked risks), or why not (exclusion reason and a justification, which is
required), how far it is implemented, by whom, with what evidence, its counterparts in the other
standard, and for 42001 rows the AI systems in scope and their impact assessments.

The engine proposes, the manager decides: :func:`proposals` lists what the register and the crosswalk
suggest (a control cited by a risk's treatment is proposed applicable for ``risk_treatment``; an
implemented 27001 control proposes implementation of its 42001 counterparts as far as the crosswalk
supports it); nothing changes until :func:`accept_proposal` or :func:`reject_proposal`.

Approved versions are frozen by :func:`snapshot` and compared by :func:`diff`.

Public API: :func:`soa_frame`, :func:`get_row`, :func:`set_row`, :func:`add_control`, :func:`proposals`,
:func:`accept_proposal`, :func:`accept_proposals`, :func:`reject_proposal`, :func:`snapshot`,
:func:`versions`, :func:`diff`, :func:`ensure_rows` (called at init), :func:`parse_control`.
Every write runs in one transaction with its history rows; reads use a read-only connection.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from . import history, store
from .config import ISO27001, ISO42001
from .errors import NotFoundError, RuleViolation, StaleEditError

REASONS: dict[str, str] = {
    "risk_treatment": "Risk treatment",
    "legal_regulatory": "Legal or regulatory requirement",
    "contractual": "Contractual obligation",
    "business": "Business requirement or interested parties",
    "best_practice": "Best practice",
}
"""Inclusion reason codes (ISO 27001 6.1.3 d: the justification for inclusions) and their labels."""

EXCLUSION_REASONS: dict[str, str] = {
    "no_relevant_risk": "No risk requires it",
    "activity_not_performed": "The activity it governs is not performed",
    "outside_scope": "Outside the scope of the management system",
    "covered_elsewhere": "Covered by another control",
    "other": "Other (see justification)",
}
"""Exclusion reason codes; a justification is required with every exclusion."""

STATUSES: dict[str, str] = {
    "not_started": "Not started",
    "planned": "Planned",
    "partial": "Partially implemented",
    "implemented": "Implemented",
}
STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}
PROPOSAL_KINDS = ("risk_treatment", "counterpart_status")
CUSTOM_FRAMEWORK = "org"
FRAMEWORK_ALIASES = {"27001": ISO27001, "42001": ISO42001, "iso27001": ISO27001, "iso42001": ISO42001}
SNAPSHOT_FIELDS = ("title", "applicable", "reasons", "risk_ids", "exclusion_reason", "justification", "status",
                   "implementing_actions", "implementation_notes", "owner", "evidence", "last_verified",
                   "counterparts", "ai_systems", "impact_assessments")
"""The fields of an SoA row that a snapshot freezes and :func:`diff` compares, in document order."""

_EDITABLE = ("applicable", "reasons", "exclusion_reason", "justification", "status", "implementation_notes",
             "owner", "evidence", "last_verified")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument that was not given (``None`` means "clear the value")."""


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row a query returns (None when it returns no row)."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def parse_control(text: str) -> tuple[str, str]:
    """Split ``framework:ref`` (``27001:`` and ``42001:`` accepted as short forms) into its parts.

    A bare ``A.5.2`` is refused: both standards number Annex A from A.5, so it is ambiguous.
    """
    text = (text or "").strip()
    if ":" not in text:
        raise NotFoundError(f"{text!r}: name a control with its framework, e.g. {ISO27001}:A.5.1 or "
                            f"{ISO42001}:A.6.2.8 (a bare Annex A id is ambiguous between the standards)")
    fw, ref = (p.strip() for p in text.split(":", 1))
    fw = FRAMEWORK_ALIASES.get(fw.lower(), fw)
    if not fw or not ref:
        raise NotFoundError(f"{text!r}: expected framework:ref, e.g. {ISO27001}:A.5.1")
    return fw, ref


def ensure_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Seed an SoA row for every Annex A control of both standards and of custom frameworks.

    Idempotent; returns the number of rows added. Call after the catalogs are loaded (init) and
    before any SoA write.
    """
    before = scalar(con, "SELECT count(*) FROM soa_rows")
    con.execute("""
        INSERT INTO soa_rows (framework, ref)
        SELECT c.framework, c.ref
        FROM controls c JOIN frameworks f ON f.framework = c.framework
        WHERE c.kind = 'annex_a_control' AND (c.framework IN (?, ?) OR f.custom)
          AND NOT EXISTS (SELECT 1 FROM soa_rows s WHERE s.framework = c.framework AND s.ref = c.ref)
    """, [ISO27001, ISO42001])
    return int(scalar(con, "SELECT count(*) FROM soa_rows")) - int(before)


# ----------------------------------------------------------------------------------------------- reading

def _resolve_framework(framework: str | None) -> str | None:
    if framework is None:
        return None
    return FRAMEWORK_ALIASES.get(framework.lower(), framework)


def _snapshot_select(con: duckdb.DuckDBPyConnection, version: int) -> str:
    if not scalar(con, "SELECT count(*) FROM soa_versions WHERE version = ?", [version]):
        known = [r[0] for r in con.execute("SELECT version FROM soa_versions ORDER BY version").fetchall()]
        raise NotFoundError(f"no SoA version {version}; approved versions: "
                            + (", ".join(map(str, known)) or "none yet (run `riskmap soa snapshot`)"))
    return f"""
        SELECT r.framework,
               f.name || CASE WHEN f.custom THEN '' ELSE ':' || f.edition END AS standard,
               r.ref, r.title, r.applicable,
               CASE r.applicable WHEN true THEN 'applicable' WHEN false THEN 'not applicable'
                                 ELSE 'undecided' END AS applicability,
               r.reasons, r.risk_ids, r.exclusion_reason, r.justification, r.status, r.implementing_actions,
               r.implementation_notes, r.owner, r.evidence, r.last_verified, r.counterparts, r.ai_systems,
               r.impact_assessments, r.row_version AS version, r.ordinal
        FROM soa_version_rows r LEFT JOIN frameworks f ON f.framework = r.framework
        WHERE r.version = {int(version)}
        ORDER BY CASE r.framework WHEN '{ISO27001}' THEN 1 WHEN '{ISO42001}' THEN 2 ELSE 3 END,
                 r.framework, r.ordinal
    """


def soa_frame(db: str | Path | None = None, *, framework: str | None = None,
              version: int | None = None) -> pl.DataFrame:
    """The SoA as a polars frame: the working copy (``v_soa``) or an approved ``version``.

    ``framework`` narrows it to one framework (``27001`` and ``42001`` accepted as short forms).
    """
    fw = _resolve_framework(framework)
    with store.connect(db) as con:
        sql = "SELECT * FROM v_soa" if version is None else _snapshot_select(con, version)
        frame = con.execute(sql).pl()
    return frame.filter(pl.col("framework") == fw) if fw else frame


def _control_kind(con: duckdb.DuckDBPyConnection, framework: str, ref: str) -> str | None:
    row = con.execute("SELECT kind FROM controls WHERE framework = ? AND ref = ?", [framework, ref]).fetchone()
    return row[0] if row else None


def _missing_row_error(con: duckdb.DuckDBPyConnection, framework: str, ref: str) -> NotFoundError:
    kind = _control_kind(con, framework, ref)
    if kind is None:
        return NotFoundError(f"{framework}:{ref}: no such control in the loaded catalogs")
    return NotFoundError(f"{framework}:{ref} is a {kind.replace('_', ' ')}; the SoA lists Annex A controls only")


def _row(con: duckdb.DuckDBPyConnection, framework: str, ref: str) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM v_soa WHERE framework = ? AND ref = ?", [framework, ref])
    cols = [d[0] for d in cur.description]
    got = cur.fetchone()
    if got is None:
        raise _missing_row_error(con, framework, ref)
    return dict(zip(cols, got, strict=True))


def get_row(db: str | Path | None, framework: str, ref: str) -> dict[str, Any]:
    """One SoA row of the working copy, as a dict of the ``v_soa`` columns."""
    with store.connect(db) as con:
        return _row(con, _resolve_framework(framework) or framework, ref)


# ----------------------------------------------------------------------------------------------- writing

def _as_date(value: Any, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise RuleViolation(f"{what}: {value!r} is not a date (expected YYYY-MM-DD)") from exc


def _clean_list(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        s = str(v).strip()
        if s and s not in out:
            out.append(s)
    return out


def _apply(con: duckdb.DuckDBPyConnection, framework: str, ref: str, changes: dict[str, Any], *,
           ai_systems: Any = UNSET, expected_version: int | None, actor: str, channel: str,
           action: str = "update") -> dict[str, Any]:
    """Validate and write ``changes`` to one SoA row; returns the row after the change (v_soa columns)."""
    rid = f"{framework}:{ref}"
    ensure_rows(con)
    cur = con.execute(f"SELECT {', '.join(_EDITABLE)}, version FROM soa_rows WHERE framework = ? AND ref = ?",
                      [framework, ref])
    got = cur.fetchone()
    if got is None:
        raise _missing_row_error(con, framework, ref)
    before = dict(zip([*_EDITABLE, "version"], got, strict=True))
    current_version = before.pop("version")
    if expected_version is not None and expected_version != current_version:
        raise StaleEditError(f"SoA row {rid} was changed by someone else: you edited version {expected_version}, "
                             f"it is now at version {current_version}; reload and apply your change again")
    after = dict(before)
    for key, value in changes.items():
        if value is UNSET:
            continue
        if key not in _EDITABLE:
            raise RuleViolation(f"SoA row {rid}: {key!r} cannot be edited")
        after[key] = value

    # Normalise and check, naming the row in every refusal.
    after["reasons"] = _clean_list(after["reasons"])
    unknown = [r for r in after["reasons"] if r not in REASONS]
    if unknown:
        raise RuleViolation(f"SoA row {rid}: unknown inclusion reason {', '.join(unknown)}; "
                            f"expected {' | '.join(REASONS)}")
    after["reasons"] = [r for r in REASONS if r in after["reasons"]]
    after["evidence"] = _clean_list(after["evidence"])
    for key in ("exclusion_reason", "justification", "implementation_notes", "owner"):
        if isinstance(after[key], str):
            after[key] = after[key].strip() or None
    after["last_verified"] = _as_date(after["last_verified"], f"SoA row {rid}: last verified")
    if after["applicable"] is not None and not isinstance(after["applicable"], bool):
        raise RuleViolation(f"SoA row {rid}: applicable must be true, false or undecided (None)")
    if after["status"] not in STATUSES:
        raise RuleViolation(f"SoA row {rid}: unknown status {after['status']!r}; expected {' | '.join(STATUSES)}")
    if after["exclusion_reason"] is not None and after["exclusion_reason"] not in EXCLUSION_REASONS:
        raise RuleViolation(f"SoA row {rid}: unknown exclusion reason {after['exclusion_reason']!r}; "
                            f"expected {' | '.join(EXCLUSION_REASONS)}")
    if after["applicable"] is False:
        if changes.get("reasons", UNSET) is UNSET:
            after["reasons"] = []  # excluding a control withdraws its inclusion reasons
        elif after["reasons"]:
            raise RuleViolation(f"SoA row {rid}: a control marked not applicable cannot keep inclusion reasons "
                                f"({', '.join(after['reasons'])})")
        if not after["justification"]:
            raise RuleViolation(f"SoA row {rid}: marking a control not applicable needs a justification "
                                f"(ISO 27001 6.1.3 d, ISO 42001 6.1.3 f); give one with the exclusion")
    else:
        if changes.get("exclusion_reason", UNSET) not in (UNSET, None) and after["applicable"] is True:
            raise RuleViolation(f"SoA row {rid}: an exclusion reason is only for a control marked not applicable")
        if after["applicable"] is True:
            after["exclusion_reason"] = None

    ai_before: list[str] = []
    ai_after: list[str] = []
    if ai_systems is not UNSET:
        ai_after = sorted(_clean_list(ai_systems))
        if ai_after and framework != ISO42001:
            raise RuleViolation(f"SoA row {rid}: AI systems are scoped on {ISO42001} rows only")
        known = {r[0] for r in con.execute("SELECT id FROM ai_systems").fetchall()}
        missing = [a for a in ai_after if a not in known]
        if missing:
            raise NotFoundError(f"SoA row {rid}: unknown AI system {', '.join(missing)}")
        ai_before = [r[0] for r in con.execute(
            "SELECT ai_system_id FROM soa_row_ai_systems WHERE framework = ? AND ref = ? ORDER BY 1",
            [framework, ref]).fetchall()]

    changed = {k: v for k, v in after.items() if history._text(before[k]) != history._text(v)}
    ai_changed = ai_systems is not UNSET and ai_before != ai_after
    if not changed and not ai_changed:
        return _row(con, framework, ref)
    sets = ", ".join(f"{k} = ?" for k in changed)
    sets = (sets + ", " if sets else "") + "updated_at = ?, updated_by = ?, version = version + 1"
    con.execute(f"UPDATE soa_rows SET {sets} WHERE framework = ? AND ref = ?",
                [*changed.values(), store.now(), actor, framework, ref])
    history.record_changes(con, entity="soa_row", entity_id=rid, before={k: before[k] for k in changed},
                           after=changed, actor=actor, channel=channel)
    if ai_changed:
        con.execute("DELETE FROM soa_row_ai_systems WHERE framework = ? AND ref = ?", [framework, ref])
        if ai_after:
            con.executemany("INSERT INTO soa_row_ai_systems VALUES (?, ?, ?)",
                            [[framework, ref, a] for a in ai_after])
        history.record(con, entity="soa_row", entity_id=rid, action=action, actor=actor, channel=channel,
                       field="ai_systems", old=ai_before, new=ai_after)
    return _row(con, framework, ref)


def set_row(db: str | Path | None, framework: str, ref: str, *, applicable: bool | None = UNSET,
            reasons: list[str] = UNSET, exclusion_reason: str | None = UNSET, justification: str | None = UNSET,
            status: str = UNSET, owner: str | None = UNSET, evidence: list[str] = UNSET,
            last_verified: date | str | None = UNSET, implementation_notes: str | None = UNSET,
            ai_systems: list[str] = UNSET, expected_version: int | None = None,
            actor: str, channel: str) -> dict[str, Any]:
    """Record the manager's decision on one SoA row; only the arguments given change.

    ``applicable``: True, False or None (undecided). ``reasons``: inclusion reason codes (:data:`REASONS`);
    ``exclusion_reason``: a code of :data:`EXCLUSION_REASONS`. A row marked not applicable without a
    justification is refused with :class:`RuleViolation` (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f); excluding a
    row withdraws its inclusion reasons. ``ai_systems`` names the AI systems in scope of a 42001 row (those of
    the risks citing the control are in scope anyway). ``expected_version`` is the row version the edit was
    based on (``v_soa.version``); if someone changed the row since, :class:`StaleEditError` names both
    versions. Returns the row after the change; each changed field gets a history row.
    """
    fw = _resolve_framework(framework) or framework
    changes = {"applicable": applicable, "reasons": reasons, "exclusion_reason": exclusion_reason,
               "justification": justification, "status": status, "owner": owner, "evidence": evidence,
               "last_verified": last_verified, "implementation_notes": implementation_notes}
    with store.transaction(db) as con:
        return _apply(con, fw, ref, changes, ai_systems=ai_systems, expected_version=expected_version,
                      actor=actor, channel=channel)


def add_control(db: str | Path | None, ref: str, title: str, *, summary: str | None = None,
                framework: str = CUSTOM_FRAMEWORK, framework_name: str = "Organisation controls",
                actor: str, channel: str) -> dict[str, Any]:
    """Add a control of the organisation's own (a custom framework) so that it appears in the SoA.

    The framework is created (``frameworks.custom = true``) on first use; a standard's framework is refused.
    Returns the new SoA row.
    """
    ref, title = (ref or "").strip(), (title or "").strip()
    if not ref or ":" in ref:
        raise RuleViolation(f"control ref {ref!r}: give a non-empty ref without ':' (e.g. ORG.1)")
    if not title:
        raise RuleViolation(f"control {framework}:{ref}: a title is required")
    with store.transaction(db) as con:
        row = con.execute("SELECT custom FROM frameworks WHERE framework = ?", [framework]).fetchone()
        if row is None:
            con.execute("INSERT INTO frameworks (framework, name, edition, title, source, copyright, "
                        "catalog_version, custom) VALUES (?, ?, 'custom', ?, 'organisation', NULL, '1', true)",
                        [framework, framework_name, framework_name])
            history.record(con, entity="framework", entity_id=framework, action="create", actor=actor,
                           channel=channel, new=framework_name)
        elif not row[0]:
            raise RuleViolation(f"{framework} is a published standard's catalog; add controls to a custom "
                                f"framework (e.g. {CUSTOM_FRAMEWORK})")
        if _control_kind(con, framework, ref) is not None:
            raise RuleViolation(f"control {framework}:{ref} already exists")
        ordinal = scalar(con, "SELECT coalesce(max(ordinal), 0) + 1 FROM controls WHERE framework = ?",
                         [framework])
        con.execute("INSERT INTO controls (framework, ref, title, kind, summary, ordinal) "
                    "VALUES (?, ?, ?, 'annex_a_control', ?, ?)", [framework, ref, title, summary, ordinal])
        history.record(con, entity="control", entity_id=f"{framework}:{ref}", action="create", actor=actor,
                       channel=channel, field="title", new=title)
        ensure_rows(con)
        return _row(con, framework, ref)


# --------------------------------------------------------------------------------------------- proposals

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
    row = _apply(con, p["framework"], p["ref"], changes, expected_version=expected_version, actor=actor,
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


# --------------------------------------------------------------------------------------- versions, diffs

def snapshot(db: str | Path | None, *, approved_by: str, actor: str, channel: str,
             note: str | None = None) -> int:
    """Freeze the working copy as the next numbered, dated, approved version; returns its number.

    Refused while a row is excluded without a justification (ISO 27001 6.1.3 d).
    """
    approved_by = (approved_by or "").strip()
    if not approved_by:
        raise RuleViolation("an SoA version needs the name of the person approving it (--approved-by)")
    with store.transaction(db) as con:
        ensure_rows(con)
        bad = [r[0] for r in con.execute(
            "SELECT framework || ':' || ref FROM v_soa WHERE applicable = false "
            "AND trim(coalesce(justification, '')) = ''").fetchall()]
        if bad:
            raise RuleViolation("cannot approve the SoA: excluded without justification: " + ", ".join(bad))
        version = scalar(con, "SELECT coalesce(max(version), 0) + 1 FROM soa_versions")
        fields = ", ".join(SNAPSHOT_FIELDS)
        con.execute(f"INSERT INTO soa_version_rows (version, framework, ref, {fields}, row_version, ordinal) "
                    f"SELECT ?, framework, ref, {fields}, version, ordinal FROM v_soa", [version])
        n_rows = scalar(con, "SELECT count(*) FROM soa_version_rows WHERE version = ?", [version])
        n_app = scalar(con, "SELECT count(*) FROM soa_version_rows WHERE version = ? AND applicable", [version])
        con.execute("INSERT INTO soa_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [version, approved_by, store.now(), actor, note, n_rows, n_app])
        history.record(con, entity="soa_version", entity_id=str(version), action="create", actor=actor,
                       channel=channel, field="approved_by", new=approved_by)
        return int(version)


def versions(db: str | Path | None = None) -> pl.DataFrame:
    """The approved versions: version, approved_by, approved_at, created_by, note, n_rows, n_applicable."""
    with store.connect(db) as con:
        return con.execute("SELECT * FROM soa_versions ORDER BY version").pl()


def latest_version(db: str | Path | None = None) -> dict[str, Any] | None:
    """The newest approved version as a dict, or None before the first snapshot."""
    frame = versions(db)
    return frame.row(-1, named=True) if frame.height else None


def _side(con: duckdb.DuckDBPyConnection, version: int | str | None) -> str:
    if version is None or str(version).strip().lower() in ("current", "working", "head"):
        return "SELECT * FROM v_soa"
    try:
        number = int(version)
    except (TypeError, ValueError) as exc:
        raise NotFoundError(f"SoA version {version!r}: expected a number or 'current'") from exc
    return _snapshot_select(con, number)


def diff(db: str | Path | None, v1: int | str, v2: int | str | None = "current") -> pl.DataFrame:
    """What changed from SoA version ``v1`` to ``v2`` (a number, or 'current' for the working copy).

    One row per added row, removed row, and changed field of a row present in both:
    change (added | removed | changed), framework, ref, title, field, old_value, new_value
    (lists shown as '; '-joined text; applicable as applicable | not applicable | undecided).
    """
    with store.connect(db) as con:
        a, b = _side(con, v1), _side(con, v2)

        def txt(col: str, alias: str) -> str:
            expr = f"{alias}.{col}"
            if col == "applicable":
                return f"{alias}.applicability"
            if col in ("reasons", "risk_ids", "implementing_actions", "evidence", "counterparts", "ai_systems",
                       "impact_assessments"):
                return f"array_to_string({expr}, '; ')"
            return f"CAST({expr} AS VARCHAR)"

        changed = "\nUNION ALL\n".join(
            f"SELECT 'changed' AS change, b.framework, b.ref, b.title, '{f}' AS field, {i} AS pos, "
            f"{txt(f, 'a')} AS old_value, {txt(f, 'b')} AS new_value, b.ordinal "
            f"FROM a JOIN b ON a.framework = b.framework AND a.ref = b.ref "
            f"WHERE {txt(f, 'a')} IS DISTINCT FROM {txt(f, 'b')}"
            for i, f in enumerate(SNAPSHOT_FIELDS))
        sql = f"""
            WITH a AS ({a}), b AS ({b}),
            d AS (
                SELECT 'added' AS change, b.framework, b.ref, b.title, NULL AS field, -1 AS pos,
                       NULL AS old_value, b.applicability AS new_value, b.ordinal
                FROM b ANTI JOIN a ON a.framework = b.framework AND a.ref = b.ref
                UNION ALL
                SELECT 'removed', a.framework, a.ref, a.title, NULL, -1, a.applicability, NULL, a.ordinal
                FROM a ANTI JOIN b ON a.framework = b.framework AND a.ref = b.ref
                UNION ALL
                {changed}
            )
            SELECT change, framework, ref, title, field, old_value, new_value FROM d
            ORDER BY CASE framework WHEN '{ISO27001}' THEN 1 WHEN '{ISO42001}' THEN 2 ELSE 3 END,
                     framework, ordinal, ref, pos
        """
        return con.execute(sql).pl().cast({"field": pl.String, "old_value": pl.String, "new_value": pl.String})
