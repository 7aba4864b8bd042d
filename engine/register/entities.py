"""Reading and changing AI systems, impact assessments and assets.

The AI system inventory (ISO 42001 A.4 resources, A.6 life cycle; the organisation's role per 4.1)
and its impact assessments (6.1.4, 8.4, A.5) are edited like risks: validated, concurrency-checked
against ``expected_version`` and recorded in the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from engine import records, store
from engine.errors import InputError, NotFoundError, Problem

from .records import AI_SYSTEM, ASSESSMENT, ASSET

_KINDS = {k.name: k for k in (AI_SYSTEM, ASSESSMENT, ASSET)}
_VIEWS = {"ai_system": "v_ai_systems", "impact_assessment": "v_impact_assessments", "asset": "v_assets"}
_NAME = {"ai_system": "name", "impact_assessment": "title", "asset": "name"}


def _get(db: str | Path | None, entity: str, record_id: str) -> dict[str, Any]:
    with store.connect(db) as con:
        cur = con.execute(f"SELECT * FROM {_VIEWS[entity]} WHERE id = ?", [record_id])
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no {_KINDS[entity].label} {record_id!r}")
        return dict(zip([d[0] for d in cur.description or []], row, strict=True))


def _list(db: str | Path | None, entity: str) -> pl.DataFrame:
    with store.connect(db) as con:
        return con.execute(f"SELECT * FROM {_VIEWS[entity]} ORDER BY id").pl()


@store.retrying
def _create(db: str | Path | None, entity: str, fields: Mapping[str, Any], record_id: str | None, *, actor: str,
            channel: str) -> str:
    kind = _KINDS[entity]
    with store.transaction(db) as con:
        values = records.validate(kind, None, fields, con=con)
        if record_id is None:
            if entity == "impact_assessment":
                record_id = records.next_ids(con, kind.table, "IA", 1)[0]
            else:
                used = {r[0] for r in con.execute(f"SELECT id FROM {kind.table}").fetchall()}
                record_id = records.slug(values[_NAME[entity]], used)
        elif con.execute(f"SELECT 1 FROM {kind.table} WHERE id = ?", [record_id]).fetchone():
            raise InputError([Problem(entity, record_id, "id", "the id is taken", record_id, "a new id")])
        records.create(con, kind, record_id, values, actor=actor, channel=channel)
    return record_id


def _update(db: str | Path | None, entity: str, record_id: str, changes: Mapping[str, Any],
            expected_version: int | None, *, actor: str, channel: str) -> dict[str, Any]:
    with store.transaction(db) as con:
        return records.edit(con, _KINDS[entity], record_id, changes, expected_version=expected_version,
                            actor=actor, channel=channel)


# AI systems -------------------------------------------------------------------------------------------

def get_ai_system(db: str | Path | None, ai_system_id: str) -> dict[str, Any]:
    """One AI system (``v_ai_systems``: with its risks and assessments)."""
    return _get(db, "ai_system", ai_system_id)


def list_ai_systems(db: str | Path | None = None) -> pl.DataFrame:
    return _list(db, "ai_system")


def create_ai_system(db: str | Path | None, fields: Mapping[str, Any], *, actor: str, channel: str = "api",
                     ai_system_id: str | None = None) -> str:
    """Add an AI system to the inventory; the id defaults to a slug of its name. Returns the id."""
    return _create(db, "ai_system", fields, ai_system_id, actor=actor, channel=channel)


def update_ai_system(db: str | Path | None, ai_system_id: str, changes: Mapping[str, Any],
                     expected_version: int | None, *, actor: str, channel: str = "api") -> dict[str, Any]:
    """Change fields of an AI system (see ``engine.register.records.AI_SYSTEM_FIELDS``); StaleEditError when the
    version moved, InputError listing every bad value."""
    return _update(db, "ai_system", ai_system_id, changes, expected_version, actor=actor, channel=channel)


# Impact assessments -----------------------------------------------------------------------------------

def get_assessment(db: str | Path | None, assessment_id: str) -> dict[str, Any]:
    return _get(db, "impact_assessment", assessment_id)


def list_assessments(db: str | Path | None = None) -> pl.DataFrame:
    return _list(db, "impact_assessment")


def create_assessment(db: str | Path | None, fields: Mapping[str, Any], *, actor: str, channel: str = "api",
                      assessment_id: str | None = None) -> str:
    """Record an AI system impact assessment (ISO 42001 6.1.4, 8.4); ``ai_system_id`` and ``title``
    are required. Returns its id (``IA-0001``... unless given)."""
    return _create(db, "impact_assessment", fields, assessment_id, actor=actor, channel=channel)


def update_assessment(db: str | Path | None, assessment_id: str, changes: Mapping[str, Any],
                      expected_version: int | None, *, actor: str, channel: str = "api") -> dict[str, Any]:
    return _update(db, "impact_assessment", assessment_id, changes, expected_version, actor=actor,
                   channel=channel)


# Assets -----------------------------------------------------------------------------------------------

def get_asset(db: str | Path | None, asset_id: str) -> dict[str, Any]:
    return _get(db, "asset", asset_id)


def list_assets(db: str | Path | None = None) -> pl.DataFrame:
    return _list(db, "asset")


def create_asset(db: str | Path | None, fields: Mapping[str, Any], *, actor: str, channel: str = "api",
                 asset_id: str | None = None) -> str:
    return _create(db, "asset", fields, asset_id, actor=actor, channel=channel)


def update_asset(db: str | Path | None, asset_id: str, changes: Mapping[str, Any], expected_version: int | None,
                 *, actor: str, channel: str = "api") -> dict[str, Any]:
    return _update(db, "asset", asset_id, changes, expected_version, actor=actor, channel=channel)
