"""Reading and changing risks, and their links to controls, assets and AI systems.

A risk (ISO 27001 6.1.2 c-e, ISO 42001 6.1.2 c-e) belongs to the ISMS, the AIMS or both. Its
controls are Annex A controls of either standard (ISO 27001 6.1.3 b-d, ISO 42001 6.1.3): a
27001:2013 reference is stored as its 2022 successor(s) with ``translated_from``. Every change is
validated, concurrency-checked (``expected_version``) and recorded in the history in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, records, store
from engine.config import ISO27001, ISO27001_2013
from engine.crosswalk.refs import parse_control
from engine.errors import InputError, NotFoundError, Problem
from engine.store.history import record

from .matrix import matrix_on
from .records import RISK

CONTROL_STATUSES = ("existing", "planned")


def get_risk(db: str | Path | None, risk_id: str, *, principal: access.Principal | str | None = None) -> dict[str, Any]:
    """One risk with its scores and levels (from ``v_risk_register``), its controls, assets, AI systems,
    source lineage and merges. Raises NotFoundError, also for a risk of a business unit ``principal``
    may not see."""
    with store.connect(db) as con:
        access.scope(con, principal)
        cur = con.execute("SELECT * FROM v_risk_register WHERE id = ?", [risk_id])
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no risk {risk_id!r}")
        out = dict(zip([d[0] for d in cur.description or []], row, strict=True))
        out["controls"] = con.execute(
            "SELECT rc.framework, rc.ref, c.title, rc.status, rc.as_written, rc.translated_from "
            "FROM risk_controls rc LEFT JOIN controls c ON c.framework = rc.framework AND c.ref = rc.ref "
            "WHERE rc.risk_id = ? ORDER BY rc.framework, c.ordinal, rc.ref", [risk_id]).pl().to_dicts()
        out["lineage"] = [
            {**r, "raw": json.loads(r["raw"]) if r["raw"] else None}
            for r in con.execute(
                "SELECT s.source, s.source_row, s.source_key, s.batch_id, b.file_name, b.imported_at, "
                "CAST(s.raw AS VARCHAR) AS raw, s.original_likelihood, s.original_impact, s.scale_note "
                "FROM risk_sources s LEFT JOIN import_batches b ON b.id = s.batch_id WHERE s.risk_id = ? "
                "ORDER BY s.source, s.source_row", [risk_id]).pl().to_dicts()]
        out["merges"] = con.execute(
            "SELECT * FROM v_risk_merges WHERE kept_risk_id = ? OR split_risk_id = ? ORDER BY id",
            [risk_id, risk_id]).pl().to_dicts()
    return out


def risk_links(db: str | Path | None, risk_id: str, *,
               principal: access.Principal | str | None = None) -> dict[str, Any]:
    """What a risk is linked to, by id, for pages that link and unlink: ``version``, ``controls``
    (``framework:ref``), ``assets`` and ``ai_systems`` (ids), ``actions`` (the treatment actions treating
    it). NotFoundError for an unknown risk or one of a business unit ``principal`` may not see."""
    with store.connect(db) as con:
        access.scope(con, principal)
        # the risk row itself, within the session's units (as v_risk_register shows it), not the whole view
        row = con.execute("SELECT version FROM risks WHERE id = ? AND unit_visible(business_unit)",
                          [risk_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no risk {risk_id!r}")

        def ids(sql: str) -> list[str]:
            return [r[0] for r in con.execute(sql, [risk_id]).fetchall()]

        return {"version": int(row[0]),
                "controls": ids("SELECT rc.framework || ':' || rc.ref FROM risk_controls rc LEFT JOIN controls c "
                                "ON c.framework = rc.framework AND c.ref = rc.ref WHERE rc.risk_id = ? "
                                "ORDER BY rc.framework, c.ordinal, rc.ref"),
                "assets": ids("SELECT asset_id FROM risk_assets WHERE risk_id = ? ORDER BY 1"),
                "ai_systems": ids("SELECT ai_system_id FROM risk_ai_systems WHERE risk_id = ? ORDER BY 1"),
                "actions": ids("SELECT action_id FROM action_risks WHERE risk_id = ? ORDER BY 1")}


def list_risks(db: str | Path | None = None, *, management_system: str | None = None,
               status: str | None = None, owner: str | None = None,
               principal: access.Principal | str | None = None) -> pl.DataFrame:
    """The register (``v_risk_register``), optionally filtered; the risks of the business units
    ``principal`` may see (every unit without one)."""
    sql, params = "SELECT * FROM v_risk_register WHERE true", []
    for col, val in (("management_system", management_system), ("status", status), ("owner", owner)):
        if val is not None:
            sql += f" AND {col} = ?"
            params.append(val)
    with store.connect(db) as con:
        access.scope(con, principal)
        return con.execute(sql + " ORDER BY id", params).pl()


def risk_history(db: str | Path | None, risk_id: str, *,
                 principal: access.Principal | str | None = None) -> pl.DataFrame:
    """Every recorded change of a risk and its links, oldest first (NotFoundError for a risk of a
    business unit ``principal`` may not see)."""
    with store.connect(db) as con:
        if access.scope(con, principal) is not None and not store.scalar(
                con, "SELECT count(*) FROM risk_register_levels() WHERE id = ?", [risk_id]):
            raise NotFoundError(f"no risk {risk_id!r}")
        return con.execute("SELECT * FROM v_history WHERE entity = 'risk' AND entity_id = ? ORDER BY id",
                           [risk_id]).pl()


@store.retrying
def create_risk(db: str | Path | None, fields: Mapping[str, Any], *, actor: access.Principal | str,
                channel: str = "api",
                controls: Sequence[str | tuple[str, str] | tuple[str, str, str]] = (),
                assets: Sequence[str] = (), ai_systems: Sequence[str] = ()) -> str:
    """Add a risk by hand (app, demo data) scored on the current matrix; returns its id.

    ``fields`` needs ``title`` and ``management_system``; ``controls`` are ``framework:ref`` strings
    or (framework, ref[, status]) tuples; ``assets`` and ``ai_systems`` are ids of existing records.
    """
    with store.transaction(db) as con:
        return create_risk_on(con, fields, actor=actor, channel=channel, controls=controls, assets=assets,
                              ai_systems=ai_systems)


def create_risk_on(con: duckdb.DuckDBPyConnection, fields: Mapping[str, Any], *, actor: str, channel: str,
                   controls: Sequence[str | tuple[str, str] | tuple[str, str, str]] = (),
                   assets: Sequence[str] = (), ai_systems: Sequence[str] = ()) -> str:
    """:func:`create_risk` inside the caller's open transaction, for a change of another domain that
    must land together with the new risk (accepting an AI risk scenario records its decision)."""
    matrix = matrix_on(con)
    values = records.validate(RISK, None, fields, con=con, size=matrix.size)
    risk_id = records.next_ids(con, "risks", "R", 1)[0]
    records.create(con, RISK, risk_id, values, actor=actor, channel=channel,
                   extra={"matrix_version": matrix.version})
    for c in controls:
        fw, ref, status = _control_arg(c)
        _link_on(con, risk_id, "control", f"{fw}:{ref}", actor=actor, channel=channel, status=status)
    for a in assets:
        _link_on(con, risk_id, "asset", a, actor=actor, channel=channel)
    for s in ai_systems:
        _link_on(con, risk_id, "ai_system", s, actor=actor, channel=channel)
    return risk_id


def _control_arg(c: str | tuple[str, ...]) -> tuple[str, str, str]:
    """(framework, ref, status) of a control argument: ``framework:ref[:status]`` or a tuple."""
    if isinstance(c, str):
        head, _, last = c.rpartition(":")
        text, status = (head, last) if head and last in CONTROL_STATUSES else (c, "existing")
        return (*parse_control(text, annex_a=True), status)
    return (c[0], c[1], c[2] if len(c) > 2 else "existing")


def update_risk(db: str | Path | None, risk_id: str, changes: Mapping[str, Any], expected_version: int | None,
                *, actor: access.Principal | str, channel: str = "api") -> dict[str, Any]:
    """Change fields of a risk (ISO 27001 6.1.2/6.1.3, ISO 42001 6.1.2/6.1.3 and 8.2/8.3 updates).

    Values are validated against the field rules and the matrix the risk is scored under; every
    problem is reported at once (InputError). ``expected_version`` is the version the caller saw:
    if the risk moved on since, StaleEditError is raised and nothing is written. Returns the stored
    risk after the change. Fields: see ``engine.register.records.RISK_FIELDS``; ``matrix_version``
    only changes through :func:`engine.register.matrix.rescore`. ``actor`` needs the role contributor
    in the risk's business unit (PermissionDenied otherwise, nothing written).
    """
    with store.transaction(db) as con:
        return records.edit(con, RISK, risk_id, changes, expected_version=expected_version, actor=actor,
                            channel=channel)


# --------------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------------

_LINKS = {
    "asset": ("risk_assets", "asset_id", "assets"),
    "ai_system": ("risk_ai_systems", "ai_system_id", "ai_systems"),
}


def _resolve_control(con: duckdb.DuckDBPyConnection, target: str) -> list[tuple[str, str, str | None]]:
    """[(framework, ref, translated_from)]: the control ``framework:ref`` itself, or a 2013 control's
    2022 successors."""
    fw, ref = parse_control(target, annex_a=True)
    hit = con.execute("SELECT 1 FROM controls WHERE framework = ? AND ref = ? AND kind = 'annex_a_control'",
                      [fw, ref]).fetchone()
    if hit is None:
        raise InputError([Problem("risk_controls", None, "control", "unknown Annex A control", f"{fw}:{ref}",
                                  "an Annex A control of iso27001-2022, iso42001-2023 or iso27001-2013")])
    if fw != ISO27001_2013:
        return [(fw, ref, None)]
    rows = con.execute(
        "SELECT DISTINCT target_ref FROM crosswalk_links WHERE source_framework = ? AND source_ref = ? "
        "AND target_framework = ? AND origin = 'authored' AND target_ref IS NOT NULL "
        "AND relationship <> 'no_relationship' ORDER BY 1", [ISO27001_2013, ref, ISO27001]).fetchall()
    if not rows:
        raise InputError([Problem("risk_controls", None, "control",
                                  "this 27001:2013 control has no 27001:2022 successor in the crosswalk",
                                  f"{fw}:{ref}", "a 27001:2022 or 42001:2023 control")])
    return [(ISO27001, r[0], f"{ISO27001_2013}:{ref}") for r in rows]


def _link_on(con: duckdb.DuckDBPyConnection, risk_id: str, kind: str, target: str, *, actor: str, channel: str,
             batch_id: str | None = None, status: str = "existing", as_written: str | None = None,
             translated_from: str | None = None) -> bool:
    """Link inside an open transaction; True when something changed. ``target`` is
    ``framework:ref`` for a control, else the asset or AI system id."""
    if kind == "control":
        if status not in CONTROL_STATUSES:
            raise InputError([Problem("risk_controls", risk_id, "status", "unknown control status", status,
                                      " or ".join(CONTROL_STATUSES))])
        changed = False
        for f, r, tf in _resolve_control(con, target):
            tf = translated_from or tf
            have = con.execute("SELECT status FROM risk_controls WHERE risk_id = ? AND framework = ? AND ref = ?",
                               [risk_id, f, r]).fetchone()
            if have is None:
                con.execute("INSERT INTO risk_controls VALUES (?, ?, ?, ?, ?, ?)",
                            [risk_id, f, r, status, as_written or target, tf])
                record(con, entity="risk", entity_id=risk_id, action="link", field="control", new=f"{f}:{r}",
                       actor=actor, channel=channel, batch_id=batch_id)
                changed = True
            elif have[0] != status:
                con.execute("UPDATE risk_controls SET status = ? WHERE risk_id = ? AND framework = ? AND ref = ?",
                            [status, risk_id, f, r])
                record(con, entity="risk", entity_id=risk_id, action="update", field=f"control {f}:{r} status",
                       old=have[0], new=status, actor=actor, channel=channel, batch_id=batch_id)
                changed = True
        return changed
    table, col, target_table = _LINKS[kind]
    if con.execute(f"SELECT 1 FROM {target_table} WHERE id = ?", [target]).fetchone() is None:
        raise NotFoundError(f"no {kind.replace('_', ' ')} {target!r}")
    if con.execute(f"SELECT 1 FROM {table} WHERE risk_id = ? AND {col} = ?", [risk_id, target]).fetchone():
        return False
    con.execute(f"INSERT INTO {table} (risk_id, {col}) VALUES (?, ?)", [risk_id, target])
    record(con, entity="risk", entity_id=risk_id, action="link", field=kind, new=target, actor=actor,
           channel=channel, batch_id=batch_id)
    return True


def _unlink_on(con: duckdb.DuckDBPyConnection, risk_id: str, kind: str, target: str, *, actor: str, channel: str,
               batch_id: str | None = None) -> bool:
    if kind == "control":
        fw, ref = parse_control(target, annex_a=True)
        if con.execute("SELECT 1 FROM risk_controls WHERE risk_id = ? AND framework = ? AND ref = ?",
                       [risk_id, fw, ref]).fetchone() is None:
            return False
        con.execute("DELETE FROM risk_controls WHERE risk_id = ? AND framework = ? AND ref = ?", [risk_id, fw, ref])
        record(con, entity="risk", entity_id=risk_id, action="unlink", field="control", old=f"{fw}:{ref}",
               actor=actor, channel=channel, batch_id=batch_id)
        return True
    table, col, _ = _LINKS[kind]
    if con.execute(f"SELECT 1 FROM {table} WHERE risk_id = ? AND {col} = ?", [risk_id, target]).fetchone() is None:
        return False
    con.execute(f"DELETE FROM {table} WHERE risk_id = ? AND {col} = ?", [risk_id, target])
    record(con, entity="risk", entity_id=risk_id, action="unlink", field=kind, old=target, actor=actor,
           channel=channel, batch_id=batch_id)
    return True


def _change_link_on(con: duckdb.DuckDBPyConnection, risk_id: str, kind: str, target: str, link: bool, *,
                    actor: str, channel: str, expected_version: int | None, **kw: Any) -> bool:
    """Link or unlink in the caller's transaction: the risk opened at ``expected_version``, its version
    moved when something changed."""
    records.current(con, RISK, risk_id, expected_version=expected_version)
    actor = records.authorize(con, RISK, [risk_id], actor=actor)
    fn = _link_on if link else _unlink_on
    changed = fn(con, risk_id, kind, target, actor=actor, channel=channel, **kw)
    if changed:
        records.bump(con, RISK, risk_id, actor=actor)
    return changed


def _change_link(db: str | Path | None, risk_id: str, kind: str, target: str, link: bool, *, actor: str,
                 channel: str, expected_version: int | None, **kw: Any) -> bool:
    with store.transaction(db) as con:
        return _change_link_on(con, risk_id, kind, target, link, actor=actor, channel=channel,
                               expected_version=expected_version, **kw)


def link_control(db: str | Path | None, risk_id: str, framework: str, ref: str, *, actor: str,
                 channel: str = "api", status: str = "existing", expected_version: int | None = None) -> bool:
    """Link a control (existing or planned) to a risk; a 27001:2013 control links its 2022 successors.
    Changing the status of a linked control is recorded too. Returns False when nothing changed."""
    fw, ref = parse_control(ref, framework, annex_a=True)
    return _change_link(db, risk_id, "control", f"{fw}:{ref}", True, actor=actor, channel=channel,
                        expected_version=expected_version, status=status)


def unlink_control(db: str | Path | None, risk_id: str, framework: str, ref: str, *, actor: str,
                   channel: str = "api", expected_version: int | None = None) -> bool:
    """Remove a control from a risk. Returns False when it was not linked."""
    fw, ref = parse_control(ref, framework, annex_a=True)
    return _change_link(db, risk_id, "control", f"{fw}:{ref}", False, actor=actor, channel=channel,
                        expected_version=expected_version)


def link_asset(db: str | Path | None, risk_id: str, asset_id: str, *, actor: str, channel: str = "api",
               expected_version: int | None = None) -> bool:
    return _change_link(db, risk_id, "asset", asset_id, True, actor=actor, channel=channel,
                        expected_version=expected_version)


def unlink_asset(db: str | Path | None, risk_id: str, asset_id: str, *, actor: str, channel: str = "api",
                 expected_version: int | None = None) -> bool:
    return _change_link(db, risk_id, "asset", asset_id, False, actor=actor, channel=channel,
                        expected_version=expected_version)


def link_ai_system(db: str | Path | None, risk_id: str, ai_system_id: str, *, actor: str, channel: str = "api",
                   expected_version: int | None = None) -> bool:
    return _change_link(db, risk_id, "ai_system", ai_system_id, True, actor=actor, channel=channel,
                        expected_version=expected_version)


def link_ai_system_on(con: duckdb.DuckDBPyConnection, risk_id: str, ai_system_id: str, *, actor: str,
                      channel: str, expected_version: int | None = None) -> bool:
    """:func:`link_ai_system` inside the caller's open transaction (accepting an AI risk scenario as an
    existing risk records its decision with the link); False when already linked."""
    return _change_link_on(con, risk_id, "ai_system", ai_system_id, True, actor=actor, channel=channel,
                           expected_version=expected_version)


def unlink_ai_system(db: str | Path | None, risk_id: str, ai_system_id: str, *, actor: str,
                     channel: str = "api", expected_version: int | None = None) -> bool:
    return _change_link(db, risk_id, "ai_system", ai_system_id, False, actor=actor, channel=channel,
                        expected_version=expected_version)
