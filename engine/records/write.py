"""The one write path of every record: edits, bulk changes, link bumps and creation.

Every change to a risk, AI system, impact assessment, asset, SoA row or treatment action -- an edit
in the app or the CLI, a re-import, a merge or its undo, a rescore, an accepted SoA proposal --
ends here. :func:`edit` opens the record at the version the caller saw (a stale edit raises
:class:`~engine.errors.StaleEditError` naming both versions), validates the changes
(:func:`~engine.records.entity.validate`: field rules, then the domain's hook) and hands the stored
values to :func:`apply_changes`, which writes only what differs, bumps ``version`` (optimistic
concurrency), stamps the record and appends one history row per changed field, with the actor and
channel, in the caller's transaction. That is what makes the history complete (ISO 27001 7.5.3 and
ISO 42001 7.5.3: control of documented information, changes recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import polars as pl

from engine.store import history, now

from .entity import Entity, current, entity_of, fetch, validate
from .fields import FRAME_TYPES, DType

__all__ = ["apply_changes", "bump", "create", "current_rows", "edit", "record_history", "text_expr", "text_of", "write"]

_CHANGES = {"id": pl.String, "field": pl.String, "old_value": pl.String, "new_value": pl.String}


def text_expr(name: str, dtype: DType) -> pl.Expr:
    """The history text of a column: lists as ``["a", "b"]``, booleans as True/False."""
    col = pl.col(name)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("True")).when(col.not_()).then(pl.lit("False"))
    if isinstance(dtype, pl.List):
        quoted = col.list.eval(
            pl.lit('"') + pl.element().cast(pl.String).str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all('"', '\\"', literal=True) + pl.lit('"')
        ).list.join(", ")
        return pl.when(col.is_null()).then(pl.lit(None, pl.String)).otherwise(pl.lit("[") + quoted + pl.lit("]"))
    if dtype == pl.Null:
        return pl.lit(None, pl.String)
    return col.cast(pl.String)


def text_of(value: Any, dtype: DType) -> str | None:
    """The history text of one stored value (as :func:`apply_changes` writes it)."""
    return pl.DataFrame({"v": [value]}, schema={"v": dtype}).select(text_expr("v", dtype)).item()


def current_rows(con: duckdb.DuckDBPyConnection, entity: str | Entity, ids: Iterable[str],
                 columns: Iterable[str] | None = None) -> pl.DataFrame:
    """The stored rows of ``ids`` (all columns, or ``columns`` plus id and version)."""
    kind = entity_of(entity)
    id_frame = pl.DataFrame({"id": list(dict.fromkeys(ids))}, schema={"id": pl.String})
    composite = len(kind.key) > 1
    if columns is None:
        cols = f"{kind.id_sql()} AS id, *" if composite else "*"
    else:
        cols = ", ".join([f"{kind.id_sql()} AS id" if composite else "id",
                          *dict.fromkeys(c for c in ["version", *columns] if c != "id")])
    con.register("_ids", id_frame)
    try:
        return con.execute(f"SELECT {cols} FROM {kind.table} WHERE {kind.id_sql()} IN (SELECT id FROM _ids)").pl()
    finally:
        con.unregister("_ids")


def _stamps(kind: Entity, actor: str | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    for col in kind.stamps:
        if col == "updated_by" and actor is None:
            continue
        sql += f", {col} = ?"
        params.append(actor if col == "updated_by" else now())
    return sql, params


def apply_changes(con: duckdb.DuckDBPyConnection, entity: str | Entity, frame: pl.DataFrame, *, actor: str,
                  channel: str, batch_id: str | None = None, action: str = "update",
                  current: pl.DataFrame | None = None) -> pl.DataFrame:
    """Write new values for existing records in bulk and record one history row per changed field.

    ``frame`` has an ``id`` column and one column per field to set (stored types, already valid: the
    importers validate whole files first); an optional ``_batch`` column gives each record's history
    its own batch id (a merge records its changes under the merge's id). Fields whose value is
    unchanged are not written; records with no change keep their version. Returns the changes as
    (id, field, old_value, new_value).
    """
    kind = entity_of(entity)
    table = kind.table
    per_row = "_batch" in frame.columns
    fields = [c for c in frame.columns if c not in ("id", "_batch")]
    empty = pl.DataFrame(schema=_CHANGES)
    if frame.is_empty() or not fields:
        return empty
    cur = current if current is not None else current_rows(con, kind, frame["id"].to_list(), fields)
    joined = frame.join(cur.select(["id", *fields]), on="id", how="inner", suffix="__old")
    keep = ["id", "_batch"] if per_row else ["id"]
    longs = []
    for f in fields:
        new_t = text_expr(f, joined.schema[f]).alias("new_value")
        old_t = text_expr(f + "__old", joined.schema[f + "__old"]).alias("old_value")
        part = joined.select(*keep, pl.lit(f).alias("field"), old_t, new_t)
        longs.append(part.filter(pl.col("old_value").ne_missing(pl.col("new_value"))))
    changes = pl.concat(longs)
    if changes.is_empty():
        return empty
    upd = frame.filter(pl.col("id").is_in(changes["id"].unique().implode()))
    if per_row:
        upd = upd.drop("_batch")
    stamps, params = _stamps(kind, actor)
    con.register("_upd", upd)
    try:
        sets = ", ".join(f'"{f}" = _upd."{f}"' for f in fields)
        con.execute(f"UPDATE {table} SET {sets}, version = {table}.version + 1{stamps} "
                    f"FROM _upd WHERE {kind.id_sql(table)} = _upd.id", params)
    finally:
        con.unregister("_upd")
    record_history(con, changes.with_columns(entity=pl.lit(kind.name), action=pl.lit(action)),
                   actor=actor, channel=channel, batch_id=batch_id)
    return changes


def edit(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str, changes: Mapping[str, Any], *,
         expected_version: int | None, actor: str, channel: str, batch_id: str | None = None,
         action: str = "update") -> dict[str, Any]:
    """Change fields of one record, in the caller's transaction; returns the stored record after.

    The record is opened at ``expected_version`` (None: whatever it is now), the changes are
    validated (every field problem at once, then the domain's rules) and only what differs is
    written, with one history row per changed field. Link fields (``Entity.links``) are written
    to their link table; the record's version moves once for the whole edit.
    """
    kind = entity_of(entity)
    before = current(con, kind, record_id, expected_version=expected_version)
    values = validate(kind, record_id, changes, con=con, before=before)
    write(con, kind, record_id, before, values, actor=actor, channel=channel, batch_id=batch_id, action=action)
    return fetch(con, kind, record_id)


def write(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str, before: Mapping[str, Any],
          values: Mapping[str, Any], *, actor: str, channel: str, batch_id: str | None = None,
          action: str = "update") -> bool:
    """Write validated values of one record whose stored state is ``before``; True when it changed.

    The record's own row is written first (its fields, else only its version when just its links
    change): that row is where two edits of one record meet. On PostgreSQL the one that commits
    second then fails right there, refused as changed meanwhile, before it touched a link table,
    where it would have tripped over the other's new link rows instead."""
    kind = entity_of(entity)
    cols = {k: v for k, v in values.items() if k not in kind.links}
    links = {name: (list(before.get(name) or []), list(values[name] or [])) for name in kind.links if name in values}
    links = {name: (old, new) for name, (old, new) in links.items() if old != new}
    changed = False
    if cols:
        schema: dict[str, DType] = {"id": pl.String, **{k: FRAME_TYPES[kind.fields[k].kind] for k in cols}}
        frame = pl.DataFrame([{"id": record_id, **cols}], schema=schema)
        cur = pl.DataFrame([{"id": record_id, **{k: before.get(k) for k in cols}}], schema=schema)
        changed = not apply_changes(con, kind, frame, actor=actor, channel=channel, batch_id=batch_id,
                                    action=action, current=cur).is_empty()
    if links and not changed:
        bump(con, kind, record_id, actor=actor)
    for name, (old, new) in links.items():
        _write_link(con, kind, record_id, name, old, new, actor=actor, channel=channel, batch_id=batch_id,
                    action=action)
    return changed or bool(links)


def _write_link(con: duckdb.DuckDBPyConnection, kind: Entity, record_id: str, name: str, old: list[Any],
                new: list[Any], *, actor: str, channel: str, batch_id: str | None, action: str) -> None:
    link = kind.links[name]
    keys = kind.key_values(record_id)
    con.execute(f"DELETE FROM {link.table} WHERE {kind.where()}", keys)
    if new:
        con.executemany(f"INSERT INTO {link.table} ({', '.join(kind.key)}, {link.column}) "
                        f"VALUES ({', '.join('?' for _ in (*kind.key, link.column))})", [[*keys, v] for v in new])
    dtype = pl.List(pl.String)
    rows = pl.DataFrame([{"entity": kind.name, "id": record_id, "action": action, "field": name,
                          "old_value": text_of(old, dtype), "new_value": text_of(new, dtype)}],
                        schema={"entity": pl.String, **_CHANGES, "action": pl.String})
    record_history(con, rows, actor=actor, channel=channel, batch_id=batch_id)


def bump(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str, *, actor: str | None = None) -> None:
    """Count a change of the record's links (controls, assets, AI systems, lineage) as a change of
    the record: its version moves and it is stamped, so an edit based on the old version is refused."""
    kind = entity_of(entity)
    stamps, params = _stamps(kind, actor)
    con.execute(f"UPDATE {kind.table} SET version = version + 1{stamps} WHERE {kind.where()}",
                params + kind.key_values(record_id))


def create(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str, values: Mapping[str, Any], *,
           actor: str, channel: str, batch_id: str | None = None, extra: Mapping[str, Any] | None = None,
           note: tuple[str | None, Any] | None = None) -> None:
    """Insert one new record from validated ``values`` (and ``extra`` columns no user edits, such as
    the matrix version) and its ``create`` history row: ``note`` as (field, value), else the values
    as JSON."""
    kind = entity_of(entity)
    row = dict(zip(kind.key, kind.key_values(record_id), strict=True)) | dict(values) | dict(extra or {})
    when = now()
    if kind.created_at:
        row["created_at"] = when
    for col in kind.stamps:
        row[col] = actor if col == "updated_by" else when
    con.execute(f"INSERT INTO {kind.table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()))
    field, new = note if note is not None else (None, json.dumps(dict(values), default=str, sort_keys=True))
    history.record(con, entity=kind.name, entity_id=record_id, action="create", actor=actor, channel=channel,
                   field=field, new=new, batch_id=batch_id)


def record_history(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, *, actor: str, channel: str,
                   batch_id: str | None) -> None:
    """Append history rows in bulk from a frame with entity, id (the entity id), action, and
    optionally field, old_value, new_value and ``_batch`` (a per-row batch id, else ``batch_id``)."""
    if rows.is_empty():
        return
    cols = {"field": pl.String, "old_value": pl.String, "new_value": pl.String}
    rows = rows.with_columns([pl.lit(None, t).alias(c) for c, t in cols.items() if c not in rows.columns])
    if "_batch" not in rows.columns:
        rows = rows.with_columns(pl.lit(batch_id, pl.String).alias("_batch"))
    rows = rows.select("entity", pl.col("id").alias("entity_id"), "action", "field", "old_value", "new_value",
                       "_batch")
    con.register("_hist", rows)
    try:
        history.record_frame(con, "SELECT ?, ?, ?, entity, entity_id, action, field, old_value, new_value, _batch "
                                  "FROM _hist", [now(), actor, channel])
    finally:
        con.unregister("_hist")
