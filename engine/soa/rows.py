"""SoA rows: the seeded row per Annex A control, reading the working copy, recording decisions,
adding an organisation's own controls (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, records, store
from engine.config import ISO27001, ISO42001
from engine.crosswalk.refs import framework_id
from engine.errors import NotFoundError, Problem, RuleViolation
from engine.records import DATE, TEXT, FieldSpec
from engine.records.vocab import codes
from engine.store import history, scalar

from .vocab import CUSTOM_FRAMEWORK, EXCLUSION_REASONS, REASONS, STATUSES, UNSET

SOA_FIELDS: dict[str, FieldSpec] = {
    "applicable": FieldSpec("tristate"),
    "reasons": FieldSpec("list", table=codes(REASONS), noun="inclusion reason"),
    "exclusion_reason": FieldSpec("enum", table=codes(EXCLUSION_REASONS), noun="exclusion reason"),
    "justification": TEXT,
    "status": FieldSpec("enum", True, codes(STATUSES), noun="status"),
    "implementation_notes": TEXT,
    "owner": TEXT,
    "evidence": FieldSpec("list"),
    "last_verified": DATE,
    "ai_systems": FieldSpec("list"),
}
"""The fields of an SoA row a manager decides; ``ai_systems`` is kept in ``soa_row_ai_systems``."""


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


def _resolve_framework(framework: str | None) -> str | None:
    return None if framework is None else framework_id(framework)


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


_OVERRIDE: ContextVar[str | None] = ContextVar("soa_exclusion_override", default=None)
"""The override reason of the SoA edit in progress (set by :func:`edit_row`): excluding a control that open
risks cite is refused without one."""


def citing_risks(con: duckdb.DuckDBPyConnection, framework: str, ref: str) -> list[str]:
    """The open risks citing the control or treated by an action implementing it (``v_soa.risk_ids``)."""
    got = con.execute("SELECT risk_ids FROM v_soa WHERE framework = ? AND ref = ?", [framework, ref]).fetchone()
    return list(got[0] or []) if got else []


def _exclusion_rules(change: records.Change) -> None:
    """Excluding a control (ISO 27001 6.1.3 d, ISO 42001 6.1.3): it needs an exclusion reason code, it is
    refused while open risks cite the control unless the edit carries an explicit override reason, and it
    resets the implementation status to not started (an excluded control is not implemented)."""
    rid, values, after = change.record_id, change.values, change.after
    if after["exclusion_reason"] is None:
        raise RuleViolation(f"SoA row {rid}: excluding a control needs an exclusion reason, one of: "
                            + "; ".join(EXCLUSION_REASONS.values()))
    if "status" in change.given and values["status"] != "not_started":
        raise RuleViolation(f"SoA row {rid}: an excluded control cannot be {STATUSES[values['status']].lower()}; "
                            f"excluding it resets its implementation status to not started")
    values["status"] = "not_started"
    assert change.con is not None
    framework, _, ref = rid.partition(":")
    cited = citing_risks(change.con, framework, ref)
    if cited and not (_OVERRIDE.get() or "").strip():
        raise RuleViolation(f"SoA row {rid}: cannot exclude the control: open risks cite it ({', '.join(cited)}); "
                            f"change those risks' treatment first, or exclude it with an explicit override and "
                            f"its reason")


def _soa_rules(change: records.Change) -> list[Problem]:
    """The SoA's own rules (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f): an excluded control keeps no
    inclusion reason and needs a justification and a reason code (:func:`_exclusion_rules`); an exclusion
    reason is for excluded controls only; AI systems are scoped on 42001 rows, and must be in the inventory."""
    rid, values, given = change.record_id, change.values, change.given
    for key in ("reasons", "evidence"):
        if key in values:
            values[key] = values[key] or []
    if "reasons" in values:
        values["reasons"] = [r for r in REASONS if r in values["reasons"]]
    after = change.after
    if after["applicable"] is False:
        if "reasons" not in given:
            values["reasons"] = []  # excluding a control withdraws its inclusion reasons
        elif values["reasons"]:
            raise RuleViolation(f"SoA row {rid}: a control marked not applicable cannot keep inclusion reasons "
                                f"({', '.join(values['reasons'])})")
        if not after["justification"]:
            raise RuleViolation(f"SoA row {rid}: marking a control not applicable needs a justification "
                                f"(ISO 27001 6.1.3 d, ISO 42001 6.1.3 f); give one with the exclusion")
        if "applicable" in given and change.before.get("applicable") is not False:
            _exclusion_rules(change)
    elif after["applicable"] is True:
        if values.get("exclusion_reason") is not None:
            raise RuleViolation(f"SoA row {rid}: an exclusion reason is only for a control marked not applicable")
        if after["exclusion_reason"] is not None:
            values["exclusion_reason"] = None
    if "ai_systems" in values:
        _check_ai_systems(change, sorted(values["ai_systems"] or []))
    return []


def _check_ai_systems(change: records.Change, systems: list[str]) -> None:
    change.values["ai_systems"] = systems
    if systems and change.before["framework"] != ISO42001:
        raise RuleViolation(f"SoA row {change.record_id}: AI systems are scoped on {ISO42001} rows only")
    assert change.con is not None
    known = {r[0] for r in change.con.execute("SELECT id FROM ai_systems").fetchall()}
    missing = [a for a in systems if a not in known]
    if missing:
        raise NotFoundError(f"SoA row {change.record_id}: unknown AI system {', '.join(missing)}")


def _refuse(rid: str, problems: list[Problem]) -> RuleViolation:
    """The field problems of an SoA edit, in one refusal naming the row."""
    parts = []
    for p in problems:
        shown = "" if p.value is None or str(p.value) in p.message else f" ({p.value!r})"
        parts.append(f"{p.field}: {p.message}{shown}" + (f"; expected {p.expected}" if p.expected else ""))
    return RuleViolation(f"SoA row {rid}: " + " / ".join(parts))


def _missing(con: duckdb.DuckDBPyConnection, rid: str) -> NotFoundError:
    framework, _, ref = rid.partition(":")
    return _missing_row_error(con, framework, ref)


SOA_ROW = records.declare(records.Entity(
    "soa_row", "soa_rows", "SoA row", SOA_FIELDS, key=("framework", "ref"), stamps=("updated_at", "updated_by"),
    links={"ai_systems": records.Link("soa_row_ai_systems", "ai_system_id")}, check=_soa_rules,
    missing=_missing, refuse=_refuse))


def edit_row(con: duckdb.DuckDBPyConnection, framework: str, ref: str, changes: dict[str, Any], *,
             expected_version: int | None, actor: access.Principal | str, channel: str,
             override_reason: str | None = None) -> dict[str, Any]:
    """Validate and write ``changes`` to one SoA row through the one write path (arguments given as
    :data:`UNSET` are left alone); returns the row after the change (``v_soa`` columns). The SoA belongs
    to the whole organisation: the role contributor for every business unit is needed.

    ``override_reason`` allows excluding a control that open risks cite; the override, its reason and the
    risks are recorded in the history (action ``exclusion_override``)."""
    actor = records.authorize(con, SOA_ROW, [f"{framework}:{ref}"], actor=actor)
    ensure_rows(con)
    given = {k: v for k, v in changes.items() if v is not UNSET}
    reason = (override_reason or "").strip() or None
    cited = citing_risks(con, framework, ref) if reason and given.get("applicable") is False else []
    token = _OVERRIDE.set(reason)
    try:
        before = _row(con, framework, ref)["applicable"]
        records.edit(con, SOA_ROW, f"{framework}:{ref}", given, expected_version=expected_version, actor=actor,
                     channel=channel)
    finally:
        _OVERRIDE.reset(token)
    if cited and before is not False:
        history.record(con, entity="soa_row", entity_id=f"{framework}:{ref}", action="exclusion_override",
                       actor=actor, channel=channel, field="risk_ids", old=", ".join(cited), new=reason)
    return _row(con, framework, ref)


def set_row(db: str | Path | None, framework: str, ref: str, *, applicable: bool | None = UNSET,
            reasons: list[str] = UNSET, exclusion_reason: str | None = UNSET, justification: str | None = UNSET,
            status: str = UNSET, owner: str | None = UNSET, evidence: list[str] = UNSET,
            last_verified: date | str | None = UNSET, implementation_notes: str | None = UNSET,
            ai_systems: list[str] = UNSET, expected_version: int | None = None,
            override_reason: str | None = None, actor: access.Principal | str, channel: str) -> dict[str, Any]:
    """Record the manager's decision on one SoA row; only the arguments given change.

    ``applicable``: True, False or None (undecided). ``reasons``: inclusion reason codes (:data:`REASONS`);
    ``exclusion_reason``: a code of :data:`EXCLUSION_REASONS`. Excluding a row needs a justification and an
    exclusion reason, and is refused with :class:`RuleViolation` while open risks cite the control unless
    ``override_reason`` says why (recorded in the history); excluding withdraws the inclusion reasons and
    resets the implementation status to not started (ISO 27001 6.1.3 d, ISO 42001 6.1.3). ``ai_systems`` names the AI systems in scope of a 42001 row (those of
    the risks citing the control are in scope anyway). ``expected_version`` is the row version the edit was
    based on (``v_soa.version``); if someone changed the row since, :class:`StaleEditError` names both
    versions. Returns the row after the change; each changed field gets a history row.
    """
    fw = _resolve_framework(framework) or framework
    changes = {"applicable": applicable, "reasons": reasons, "exclusion_reason": exclusion_reason,
               "justification": justification, "status": status, "owner": owner, "evidence": evidence,
               "last_verified": last_verified, "implementation_notes": implementation_notes,
               "ai_systems": ai_systems}
    with store.transaction(db) as con:
        return edit_row(con, fw, ref, changes, expected_version=expected_version, actor=actor, channel=channel,
                        override_reason=override_reason)


def add_control(db: str | Path | None, ref: str, title: str, *, summary: str | None = None,
                framework: str = CUSTOM_FRAMEWORK, framework_name: str = "Organisation controls",
                actor: access.Principal | str, channel: str) -> dict[str, Any]:
    """Add a control of the organisation's own (a custom framework) so that it appears in the SoA.

    The framework is created (``frameworks.custom = true``) on first use; a standard's framework is refused.
    Returns the new SoA row. Needs the role contributor for every business unit.
    """
    actor = access.resolve(actor)
    access.require(actor, "edit_soa")
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
