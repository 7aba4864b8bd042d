"""SoA rows: the seeded row per Annex A control, reading the working copy, recording decisions,
adding an organisation's own controls (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import store
from engine.config import ISO27001, ISO42001
from engine.crosswalk.refs import FRAMEWORK_ALIASES
from engine.errors import NotFoundError, RuleViolation, StaleEditError
from engine.store import history, scalar

from .vocab import CUSTOM_FRAMEWORK, EXCLUSION_REASONS, REASONS, STATUSES, UNSET

_EDITABLE = ("applicable", "reasons", "exclusion_reason", "justification", "status", "implementation_notes",
             "owner", "evidence", "last_verified")


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
