"""Merge decisions: visible (``v_risk_merges``, ``riskmap merges``) and reversible.

When an import recognises a row as a risk already in the register it records the decision and
every change it made to the kept risk under the merge's id. Undoing the merge splits the row back
into its own risk, built from the row's normalised values and links, moves the row's lineage to
it, and takes back the changes the merge made to the kept risk where nobody has changed them since.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import records, store
from engine.errors import NotFoundError, RuleViolation
from engine.store.history import record

from .records import RISK, RISK_FIELDS
from .risks import _unlink_on


def list_merges(db: str | Path | None = None, *, include_reversed: bool = True) -> pl.DataFrame:
    """Every merge decision (``v_risk_merges``), newest first."""
    sql = "SELECT * FROM v_risk_merges"
    if not include_reversed:
        sql += " WHERE status = 'active'"
    with store.connect(db) as con:
        return con.execute(sql + " ORDER BY decided_at DESC, id DESC").pl()


def _from_text(name: str, text: str | None) -> Any:
    """A stored value back from its history text."""
    if text is None:
        return None
    spec = RISK_FIELDS.get(name)
    kind = spec.kind if spec else "text"
    if kind == "list":
        return json.loads(text)
    if kind == "bool":
        return text == "True"
    if kind == "score":
        return int(text)
    if kind == "date":
        return date.fromisoformat(text)
    return text


@store.retrying
def undo_merge(db: str | Path | None, merge_id: str, *, actor: str, channel: str = "api") -> str:
    """Reverse a merge: the merged source row becomes its own risk again. Returns the new risk's id.

    Fields the merge filled in on the kept risk are restored where they still hold the merged value;
    links the merge added are removed. Everything is recorded with action ``unmerge``.
    """
    with store.transaction(db) as con:
        row = con.execute("SELECT kept_risk_id, merged_batch_id, merged_source_row, reversed_at "
                          "FROM risk_merges WHERE id = ?", [merge_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no merge {merge_id!r}")
        kept, batch, src_row, reversed_at = row
        if reversed_at is not None:
            raise RuleViolation(f"merge {merge_id} was already undone")
        lin = con.execute("SELECT source, CAST(normalised AS VARCHAR) FROM risk_sources "
                          "WHERE batch_id = ? AND source_row = ?", [batch, src_row]).fetchone()
        if lin is None:
            raise NotFoundError(f"merge {merge_id}: its source row ({batch} row {src_row}) is gone")
        source, norm_text = lin
        norm = json.loads(norm_text or "{}")
        split_id = _create_split(con, norm, kept, actor, channel, merge_id)
        con.execute("UPDATE risk_sources SET risk_id = ? WHERE batch_id = ? AND source_row = ?",
                    [split_id, batch, src_row])
        _revert_kept(con, kept, merge_id, actor, channel)
        when = store.now()
        con.execute("UPDATE risk_merges SET reversed_at = ?, reversed_by = ?, split_risk_id = ? WHERE id = ?",
                    [when, actor, split_id, merge_id])
        record(con, entity="risk", entity_id=kept, action="unmerge", field="source", old=f"{source}:{src_row}",
               new=split_id, actor=actor, channel=channel, batch_id=merge_id)
    return split_id


def _create_split(con: duckdb.DuckDBPyConnection, norm: dict[str, Any], kept: str, actor: str, channel: str,
                  merge_id: str) -> str:
    from .imports.risks import RECORD_FIELDS

    split_id = records.next_ids(con, "risks", "R", 1)[0]
    values = {k: norm[k] for k in RECORD_FIELDS if k in norm}
    if not values.get("title"):
        found = con.execute("SELECT title FROM risks WHERE id = ?", [kept]).fetchone()
        values["title"] = found[0] if found else "(untitled)"
    values.setdefault("management_system", "ISMS")
    if values.get("status") is None:
        values.pop("status", None)
    for k in ("confidentiality", "integrity", "availability"):
        if values.get(k) is None:
            values.pop(k, None)
    latest = con.execute("SELECT max(version) FROM risk_matrix_versions").fetchone()
    matrix_version = norm.get("_matrix_version") or (latest[0] if latest else 1)
    records.create(con, RISK, split_id, values, actor=actor, channel=channel, batch_id=merge_id,
                   extra={"matrix_version": matrix_version}, note=(None, json.dumps(norm, sort_keys=True)))
    for c in norm.get("controls") or []:
        fw, ref, status = c.split(":")
        have = con.execute("SELECT as_written, translated_from FROM risk_controls WHERE risk_id = ? "
                           "AND framework = ? AND ref = ?", [kept, fw, ref]).fetchone()
        con.execute("INSERT INTO risk_controls VALUES (?, ?, ?, ?, ?, ?)",
                    [split_id, fw, ref, status, have[0] if have else None, have[1] if have else None])
    for a in norm.get("assets") or []:
        con.execute("INSERT INTO risk_assets VALUES (?, ?)", [split_id, a])
    for s in norm.get("ai_systems") or []:
        con.execute("INSERT INTO risk_ai_systems VALUES (?, ?)", [split_id, s])
    return split_id


def _revert_kept(con: duckdb.DuckDBPyConnection, kept: str, merge_id: str, actor: str, channel: str) -> None:
    changes = con.execute(
        "SELECT action, field, old_value, new_value FROM history WHERE batch_id = ? AND entity = 'risk' "
        "AND entity_id = ? AND action IN ('merge', 'link') ORDER BY id", [merge_id, kept]).fetchall()
    current = records.fetch(con, RISK, kept)
    restore: dict[str, Any] = {}
    for action, fld, old, new in changes:
        if action == "link":
            _unlink_on(con, kept, fld, new, actor=actor, channel=channel, batch_id=merge_id)
        elif fld in RISK_FIELDS:
            if records.text_of(current.get(fld), records.FRAME_TYPES[RISK_FIELDS[fld].kind]) == new:
                restore[fld] = _from_text(fld, old)
    if not records.write(con, RISK, kept, current, restore, actor=actor, channel=channel, batch_id=merge_id,
                         action="unmerge"):
        records.bump(con, RISK, kept, actor=actor)  # the lineage moved: a change of the risk
