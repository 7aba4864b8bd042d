"""The change history: every write path records who changed what, when, and from which value.

Append-only by construction: this module only inserts, and reads (:func:`changes`, the History page
and its export). Callers pass the open transaction's connection, so a change and its history land
together or not at all. The actor is the principal
(:class:`engine.access.Principal`, a string holding its stable id): each row keeps its id in ``actor``
and its display name in ``actor_name``; a plain string is both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access

from .connection import connect, now

__all__ = ["Changes", "DEFAULT_MAX_ROWS", "changes", "facets", "record", "record_changes", "record_frame", "who"]

DEFAULT_MAX_ROWS = 5000
"""How many changes a history listing shows at most (the newest); ``Changes.matched`` says how many matched."""


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


@dataclass(frozen=True)
class Changes:
    """A filtered history listing: the rows (newest first, at most ``max_rows``) and how many matched."""

    rows: pl.DataFrame
    matched: int


def changes(db: str | Path | None, *, entity: str | None = None, entity_id: str | None = None,
            person: str | None = None, channel: str | None = None, since: date | None = None,
            until: date | None = None, max_rows: int = DEFAULT_MAX_ROWS,
            principal: access.Principal | str | None = None) -> Changes:
    """The recorded changes (``v_history``) that match every filter given (query ``history_changes``):
    the record (``entity`` and ``entity_id``), the person (their id or display name), the
    ``channel`` and the days ``since``..``until`` (inclusive). The changes of risks of business units
    ``principal`` may not see are left out, as every register read does."""
    from .query import load

    blank = {k: (v.strip() or None) if isinstance(v, str) else v
             for k, v in {"entity": entity, "entity_id": entity_id, "person": person, "channel": channel}.items()}
    with connect(db) as con:
        access.scope(con, principal)
        frame = con.execute(load("history_changes"), {**blank, "since": since, "until": until,
                                                      "max_rows": max(1, int(max_rows))}).pl()
    matched = int(frame["matched"][0]) if frame.height else 0
    return Changes(frame.drop("matched"), matched)


def facets(db: str | Path | None, *, principal: access.Principal | str | None = None) -> dict[str, list[str]]:
    """The values the history's filters offer: ``entity``, ``channel`` and ``person`` (display names),
    each sorted, over the changes ``principal`` may see."""
    from .query import load

    none = dict.fromkeys(("entity", "entity_id", "person", "channel", "since", "until"))
    with connect(db) as con:
        access.scope(con, principal)
        listing = con.execute(f"SELECT DISTINCT entity, channel, actor_name FROM ({load('history_changes')})",
                              {**none, "max_rows": 2**62}).pl()
    return {"entity": sorted(listing["entity"].unique().drop_nulls().to_list()),
            "channel": sorted(listing["channel"].unique().drop_nulls().to_list()),
            "person": sorted(listing["actor_name"].unique().drop_nulls().to_list())}
