"""The change history: every write path records who changed what, when, and from which value.

Append-only by construction: this module only inserts. Callers pass the open transaction's
connection, so a change and its history land together or not at all. The actor is the principal
(:class:`engine.access.Principal`, a string holding its stable id): each row keeps its id in ``actor``
and its display name in ``actor_name``; a plain string is both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import duckdb

from .connection import now


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


_COLUMNS = "changed_at, actor, actor_name, channel, entity, entity_id, action, field, old_value, new_value, batch_id"


def who(actor: Any) -> tuple[str, str]:
    """The (stable id, display name) the history records for ``actor``."""
    ident = str(actor)
    return ident, str(getattr(actor, "name", None) or ident)


def record(con: duckdb.DuckDBPyConnection, *, entity: str, entity_id: str, action: str, actor: str,
           channel: str, field: str | None = None, old: Any = None, new: Any = None,
           batch_id: str | None = None) -> None:
    """Append one history row."""
    con.execute(
        f"INSERT INTO history ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [now(), *who(actor), channel, entity, entity_id, action, field, _text(old), _text(new), batch_id],
    )


def record_changes(con: duckdb.DuckDBPyConnection, *, entity: str, entity_id: str, before: Mapping[str, Any],
                   after: Mapping[str, Any], actor: str, channel: str, batch_id: str | None = None) -> int:
    """Append one 'update' row per field whose value differs; returns how many."""
    ident, name = who(actor)
    rows = [
        [now(), ident, name, channel, entity, entity_id, "update", k, _text(before.get(k)), _text(v), batch_id]
        for k, v in after.items()
        if _text(before.get(k)) != _text(v)
    ]
    if rows:
        con.executemany(f"INSERT INTO history ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def record_frame(con: duckdb.DuckDBPyConnection, relation_sql: str, params: list[Any] | None = None) -> None:
    """Bulk-append history rows produced by a SELECT with the history columns (minus id), in order:
    changed_at, actor, actor_name, channel, entity, entity_id, action, field, old_value, new_value, batch_id."""
    con.execute(f"INSERT INTO history ({_COLUMNS}) " + relation_sql, params or [])
