"""Validated, concurrency-checked edits of one record (risk, AI system, assessment, asset).

An edit names the version of the record it was based on; if someone changed the record since,
:class:`~engine.errors.StaleEditError` is raised instead of silently overwriting their change.
Every value is validated first and every problem reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import polars as pl

from engine.errors import InputError, NotFoundError, Problem, StaleEditError
from engine.register import records

LABELS = {"risk": "risk", "ai_system": "AI system", "impact_assessment": "impact assessment", "asset": "asset"}

FRAME_TYPES: dict[str, records.DType] = {"text": pl.String, "enum": pl.String, "multi": pl.String,
                                       "list": pl.List(pl.String), "bool": pl.Boolean, "flag": pl.Boolean, "score": pl.Int32,
                                       "date": pl.Date}


def validate(entity: str, record_id: str, changes: Mapping[str, Any], specs: Mapping[str, records.FieldSpec],
             size: int = 5) -> dict[str, Any]:
    """The stored form of every change, or InputError listing every bad field and value."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    if not changes:
        raise InputError([Problem(entity, record_id, None, "no changes given", expected="field=value pairs")])
    for name, value in changes.items():
        spec = specs.get(name)
        if spec is None:
            problems.append(Problem(entity, record_id, name, "not a field that can be changed", value,
                                    expected="one of " + ", ".join(specs)))
            continue
        try:
            out[name] = records.coerce(spec, value, size)
        except ValueError as exc:
            reason, expected = (exc.args + (None,))[:2] if exc.args else ("not valid", None)
            problems.append(Problem(entity, record_id, name, str(reason), value, expected))
    if problems:
        raise InputError(problems, f"{LABELS[entity]} {record_id}: {len(problems)} problem(s); nothing changed")
    return out


def fetch(con: duckdb.DuckDBPyConnection, entity: str, record_id: str) -> dict[str, Any]:
    table = records.TABLES[entity]
    cur = con.execute(f"SELECT * FROM {table} WHERE id = ?", [record_id])
    row = cur.fetchone()
    if row is None:
        raise NotFoundError(f"no {LABELS[entity]} {record_id!r}")
    return dict(zip([d[0] for d in cur.description or []], row, strict=True))


def check_version(entity: str, current: Mapping[str, Any], expected_version: int | None) -> None:
    if expected_version is None:
        return
    if int(current["version"]) != int(expected_version):
        raise StaleEditError(
            f"{LABELS[entity]} {current['id']} was changed by someone else since you opened it "
            f"(it is at version {current['version']}, your edit was based on version {expected_version}); "
            "reload it and apply your change again")


def write(con: duckdb.DuckDBPyConnection, entity: str, record_id: str, values: Mapping[str, Any],
          specs: Mapping[str, records.FieldSpec], *, actor: str, channel: str,
          batch_id: str | None = None, action: str = "update") -> pl.DataFrame:
    """Write validated values to one record through :func:`records.apply_changes`."""
    schema: dict[str, records.DType] = {"id": pl.String}
    for name in values:
        schema[name] = FRAME_TYPES[specs[name].kind]
    frame = pl.DataFrame([{"id": record_id, **values}], schema=schema)
    return records.apply_changes(con, entity, frame, actor=actor, channel=channel, batch_id=batch_id,
                                 action=action)


def bump(con: duckdb.DuckDBPyConnection, entity: str, record_id: str) -> None:
    """Count a change of the record's links as a change of the record (its version moves)."""
    table = records.TABLES[entity]
    touched = ", updated_at = ?" if entity == "risk" else ""
    from engine.store import now

    con.execute(f"UPDATE {table} SET version = version + 1{touched} WHERE id = ?",
                ([now()] if touched else []) + [record_id])
