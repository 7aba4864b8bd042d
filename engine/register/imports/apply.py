"""Applying rows to risks that already exist (step 3 of an import): merges and re-import updates.

A merged row (the same risk arriving from another register) is folded into the risk it matched:
empty fields are filled, C/I/A flags and lists are united, ISMS + AIMS becomes both, and its links
are added; every change is recorded under the merge's id so
:func:`engine.register.merges.undo_merge` can take it back. A re-imported row applies only what
changed in the source since its last import, so an edit made in the app is not overwritten by
re-importing an unchanged file.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import polars as pl

from engine.errors import InputError, Problem
from engine.register import edit, records

from .context import RunContext
from .fields import RECORD_FIELDS, RECORD_TYPES, typed
from .parse import ParsedFile
from .reading import ROW
from .write import Batches

__all__ = ["merge_rows", "update_rows"]

_LinkOp = tuple[str, str, str, str, int]
"""risk_id, kind (controls / assets / ai_systems), value, link or unlink, source row."""


def merge_rows(con: duckdb.DuckDBPyConnection, merging: pl.DataFrame, parsed: list[ParsedFile], ctx: RunContext,
               controls: pl.DataFrame, links: dict[str, pl.DataFrame], batches: Batches, when: Any, actor: str,
               channel: str) -> pl.DataFrame:
    """Fold every merged row into its kept risk, file by file (a later file may merge into the same
    risk again). Returns ``merging`` with the ``merge_id`` each row was given."""
    if merging.is_empty():
        return merging
    merge_ids = records.next_ids(con, "risk_merges", "M", merging.height)
    merging = merging.with_columns(pl.Series("merge_id", merge_ids, dtype=pl.String))
    for (i,), part in merging.partition_by("_file", as_dict=True, maintain_order=True).items():
        ctl = controls.filter(pl.col("_file") == i)
        lk = {f: links[f].filter(pl.col("_file") == i) for f in links}
        _apply_merges(con, part, parsed[i], ctx, ctl, lk, actor, channel, batches.ids[i], when)
    return merging


def _merge_expr(f: str, columns: list[str]) -> pl.Expr:
    """The merged value of field ``f`` from the stored value (``f__cur``) and the row's (``f``)."""
    new, old = pl.col(f), pl.col(f + "__cur")
    if f in ("confidentiality", "integrity", "availability"):
        return (old.fill_null(False) | new.fill_null(False)).alias(f)
    if f in ("ai_risk_sources", "ai_objectives"):
        both = pl.concat_list(old.fill_null(pl.lit([], pl.List(pl.String))),
                              new.fill_null(pl.lit([], pl.List(pl.String)))).list.unique(maintain_order=True)
        return pl.when(both.list.len() == 0).then(pl.lit(None, pl.List(pl.String))).otherwise(both).alias(f)
    if f == "management_system":
        return pl.when(old == new).then(old).otherwise(pl.lit("both")).alias(f)
    if f in records.SCORE_FIELDS:
        # a score pair is taken only into an empty pair, and only on the same matrix
        stage = f.split("_")[0]
        pair_empty = pl.col(f"{stage}_likelihood__cur").is_null() & pl.col(f"{stage}_impact__cur").is_null() \
            if f"{stage}_likelihood__cur" in columns and f"{stage}_impact__cur" in columns else pl.lit(False)
        return pl.when(pl.col("_same") & pair_empty).then(new).otherwise(old).alias(f)
    return pl.coalesce(old, new).alias(f)


def _apply_merges(con: duckdb.DuckDBPyConnection, merging: pl.DataFrame, p: ParsedFile, ctx: RunContext,
                  controls: pl.DataFrame, links: dict[str, pl.DataFrame], actor: str, channel: str, batch_id: str,
                  when: Any) -> None:
    """Fold one file's merged rows into the risks they matched, with their links, the merge records
    and history; a kept risk whose fields did not change still gets a new version (new lineage)."""
    kept_ids = merging["kept"].to_list()
    cur = records.current_rows(con, "risks", kept_ids)
    fields = [f for f in p.provided if f not in ("title", "status")]
    score_ok = cur.select("id", (pl.col("matrix_version") == ctx.matrix.version).alias("_same"))
    m = merging.select(pl.col("kept").alias("id"), "merge_id", *fields).join(
        cur.select("id", *fields), on="id", suffix="__cur").join(score_ok, on="id")
    exprs = [_merge_expr(f, m.columns) for f in fields]
    merged_vals = m.select("id", pl.col("merge_id").alias("_batch"), *exprs) if exprs else m.select("id")
    merged_vals = typed(merged_vals, fields)
    changed_ids: set[str] = set()
    if fields:
        changes = records.apply_changes(con, "risk", merged_vals, actor=actor, channel=channel, action="merge",
                                        current=cur)
        changed_ids = set(changes["id"].to_list())
    for rid in sorted(set(kept_ids) - changed_ids):
        edit.bump(con, "risk", rid, actor=actor)  # a new lineage (and links) is a change of the risk
    # lineage row of the merged row goes in with the file's lineage; here the decision and links
    rows = merging.select(ROW, pl.col("kept").alias("risk_id"), "merge_id")
    _add_links(con, rows, controls, links, actor, channel)
    _record_merges(con, merging, p, batch_id, when, actor, channel)


def _record_merges(con: duckdb.DuckDBPyConnection, merging: pl.DataFrame, p: ParsedFile, batch_id: str,
                   when: Any, actor: str, channel: str) -> None:
    """One ``risk_merges`` row per merged row (what undo works from), and a history row on the kept risk."""
    con.register("_mg", merging.select("merge_id", "kept", ROW, "reason", "similarity"))
    try:
        con.execute("INSERT INTO risk_merges (id, kept_risk_id, merged_batch_id, merged_source_row, reason, "
                    "similarity, decided_at, decided_by) SELECT merge_id, kept, ?, _row, reason, similarity, ?, ? "
                    "FROM _mg", [batch_id, when, actor])
    finally:
        con.unregister("_mg")
    hist = merging.select(pl.lit("risk").alias("entity"), pl.col("kept").alias("id"), pl.lit("merge").alias("action"),
                          pl.lit("source").alias("field"),
                          (pl.lit(p.spec.source + ":") + pl.col(ROW).cast(pl.String)).alias("new_value"),
                          pl.col("merge_id").alias("_batch"))
    records.record_history(con, hist, actor=actor, channel=channel, batch_id=None)


def _add_links(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, controls: pl.DataFrame,
               links: dict[str, pl.DataFrame], actor: str, channel: str) -> None:
    """Add the links of merged rows that the kept risk lacks; rows has (_row, risk_id, merge_id)."""
    hist = []
    ctl = controls.join(rows, on=ROW).select("risk_id", "framework", "ref", "status", "as_written",
                                              "translated_from", "merge_id")
    if not ctl.is_empty():
        have = con.execute("SELECT risk_id, framework, ref FROM risk_controls WHERE risk_id IN (SELECT unnest(?))",
                           [ctl["risk_id"].unique().to_list()]).pl()
        add = ctl.join(have, on=["risk_id", "framework", "ref"], how="anti").unique(["risk_id", "framework", "ref"])
        if not add.is_empty():
            con.register("_ctl", add.drop("merge_id"))
            try:
                con.execute("INSERT INTO risk_controls SELECT * FROM _ctl")
            finally:
                con.unregister("_ctl")
            hist.append(add.select(pl.lit("risk").alias("entity"), pl.col("risk_id").alias("id"),
                                   pl.lit("link").alias("action"), pl.lit("control").alias("field"),
                                   (pl.col("framework") + ":" + pl.col("ref")).alias("new_value"),
                                   pl.col("merge_id").alias("_batch")))
    for fld, table, col, label in (("assets", "risk_assets", "asset_id", "asset"),
                                   ("ai_systems", "risk_ai_systems", "ai_system_id", "ai_system")):
        lk = links[fld].join(rows, on=ROW).select("risk_id", pl.col("id").alias(col), "merge_id")
        if lk.is_empty():
            continue
        have = con.execute(f"SELECT risk_id, {col} FROM {table} WHERE risk_id IN (SELECT unnest(?))",
                           [lk["risk_id"].unique().to_list()]).pl()
        add = lk.join(have, on=["risk_id", col], how="anti").unique(["risk_id", col])
        if add.is_empty():
            continue
        con.register("_lk", add.select("risk_id", col))
        try:
            con.execute(f"INSERT INTO {table} (risk_id, {col}) SELECT risk_id, {col} FROM _lk")
        finally:
            con.unregister("_lk")
        hist.append(add.select(pl.lit("risk").alias("entity"), pl.col("risk_id").alias("id"),
                               pl.lit("link").alias("action"), pl.lit(label).alias("field"),
                               pl.col(col).alias("new_value"), pl.col("merge_id").alias("_batch")))
    if hist:
        records.record_history(con, pl.concat(hist, how="diagonal"), actor=actor, channel=channel, batch_id=None)


def update_rows(con: duckdb.DuckDBPyConnection, changed: pl.DataFrame, parsed: list[ParsedFile], ctx: RunContext,
                controls: pl.DataFrame, batches: Batches, actor: str, channel: str) -> dict[int, list[dict[str, Any]]]:
    """Apply every re-imported row that changed, file by file; per file, each row's
    ``{row, id, fields}`` (``fields`` empty when only the lineage differs)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for (i,), part in changed.partition_by("_file", as_dict=True, maintain_order=True).items():
        out[i] = _apply_updates(con, part, parsed[i], ctx, controls.filter(pl.col("_file") == i),
                                actor, channel, batches.ids[i])
    return out


def _link_changes(risk_id: str, row: int, old: dict[str, Any], new: dict[str, Any], diff: list[str]) -> list[_LinkOp]:
    """The links to add and remove for one row, from its link lists at the last import and now.

    Controls are ``framework:ref:status``: a changed status is a link that updates it."""
    ops: list[_LinkOp] = []
    for kind in ("controls", "assets", "ai_systems"):
        if kind not in diff:
            continue
        if kind == "controls":
            before_c = {v.rsplit(":", 1)[0]: v for v in old.get(kind) or []}
            after_c = {v.rsplit(":", 1)[0]: v for v in new.get(kind) or []}
            ops += [(risk_id, kind, before_c[k], "unlink", row) for k in sorted(set(before_c) - set(after_c))]
            ops += [(risk_id, kind, v, "link", row) for k, v in sorted(after_c.items()) if before_c.get(k) != v]
        else:
            before, after = set(old.get(kind) or []), set(new.get(kind) or [])
            ops += [(risk_id, kind, v, "unlink", row) for v in sorted(before - after)]
            ops += [(risk_id, kind, v, "link", row) for v in sorted(after - before)]
    return ops


def _apply_updates(con: duckdb.DuckDBPyConnection, changed: pl.DataFrame, p: ParsedFile, ctx: RunContext,
                   controls: pl.DataFrame, actor: str, channel: str, batch_id: str) -> list[dict[str, Any]]:
    """Apply to each known risk the fields and links that changed in its source row since the last import.

    New scores for a risk scored under an older matrix are refused (InputError): the risk must be
    rescored first, or the scores would be read on the wrong scale."""
    cur = records.current_rows(con, "risks", changed["risk_id"].to_list())
    cur_by_id = {r["id"]: r for r in cur.iter_rows(named=True)}
    out: list[dict[str, Any]] = []
    set_rows: list[dict[str, Any]] = []
    link_ops: list[_LinkOp] = []
    problems: list[Problem] = []
    new_rows = {r[ROW]: r for r in changed.select(ROW, "risk_id", "normalised", "prev_norm").iter_rows(named=True)}
    for row in typed(changed, p.provided).iter_rows(named=True):
        info = new_rows[row[ROW]]
        new = json.loads(info["normalised"])
        old = json.loads(info["prev_norm"]) if info["prev_norm"] else {}
        diff = [k for k in new if not k.startswith("_") and new.get(k) != old.get(k)]
        risk = cur_by_id[info["risk_id"]]
        fields = [k for k in diff if k in RECORD_FIELDS]
        if any(f in records.SCORE_FIELDS for f in fields) and risk["matrix_version"] != ctx.matrix.version:
            problems.append(Problem(p.file, row[ROW], "likelihood/impact",
                                    f"risk {risk['id']} is scored under matrix version {risk['matrix_version']} "
                                    f"but the current matrix is version {ctx.matrix.version}",
                                    None, "run `riskmap rescore` before importing new scores"))
            continue
        values = {"id": risk["id"], **{f: row[f] for f in fields}}
        if len(values) > 1:
            set_rows.append(values)
        link_ops += _link_changes(risk["id"], row[ROW], old, new, diff)
        out.append({"row": row[ROW], "id": risk["id"], "fields": diff,
                    "changes": {k: (old.get(k), new.get(k)) for k in diff}})
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
    _set_fields(con, set_rows, actor, channel, batch_id)
    _apply_link_ops(con, link_ops, controls, actor, channel, batch_id)
    bumped = {v["id"] for v in set_rows}
    for rid in sorted({op[0] for op in link_ops} - bumped):
        edit.bump(con, "risk", rid, actor=actor)  # a change of links is a change of the risk
    return out


def _set_fields(con: duckdb.DuckDBPyConnection, set_rows: list[dict[str, Any]], actor: str, channel: str,
                batch_id: str) -> None:
    """Write changed fields, one apply per set of fields so each frame has fixed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in set_rows:
        groups.setdefault(tuple(sorted(k for k in v if k != "id")), []).append(v)
    for cols, vals in groups.items():
        frame = pl.DataFrame(vals, schema={"id": pl.String, **{c: RECORD_TYPES[c] for c in cols}})
        records.apply_changes(con, "risk", frame, actor=actor, channel=channel, batch_id=batch_id, action="update")


def _apply_link_ops(con: duckdb.DuckDBPyConnection, ops: list[_LinkOp], controls: pl.DataFrame,
                    actor: str, channel: str, batch_id: str) -> None:
    """Link and unlink one by one through the register's own link path (checks, history, versions);
    a control link keeps the reference as the file wrote it and any 2013 reference it came from."""
    from engine.register.risks import _link_on, _unlink_on

    for risk_id, kind, value, op, row in ops:
        if kind == "controls":
            framework, ref, status = value.split(":")
            if op == "link":
                written = controls.filter((pl.col(ROW) == row) & (pl.col("framework") == framework)
                                          & (pl.col("ref") == ref))
                as_written = written["as_written"][0] if written.height else None
                translated = written["translated_from"][0] if written.height else None
                _link_on(con, risk_id, "control", f"{framework}:{ref}", actor=actor, channel=channel,
                         batch_id=batch_id, status=status, as_written=as_written, translated_from=translated)
            else:
                _unlink_on(con, risk_id, "control", f"{framework}:{ref}", actor=actor, channel=channel,
                           batch_id=batch_id)
        else:
            target = "asset" if kind == "assets" else "ai_system"
            if op == "link":
                _link_on(con, risk_id, target, value, actor=actor, channel=channel, batch_id=batch_id)
            else:
                _unlink_on(con, risk_id, target, value, actor=actor, channel=channel, batch_id=batch_id)
