"""Which risk each new row of a run is: a stored risk, a risk an earlier file brings in, or a new one.

Candidate pairs come from ``matching`` (same asset or AI system, near-identical titles); this module
applies the rules that keep merges safe, file by file in run order: a row may merge into a stored
risk or into the risk an earlier file's row brought in, never into a risk that already has a row of
its own register, and each risk takes at most one row per file (the most similar; ties go to the
earlier row).
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from .matching import candidate_pairs, reason, with_title_keys
from .parse import ParsedFile
from .reading import ROW

__all__ = ["DECISION_SCHEMA", "decide_merges"]

DECISION_SCHEMA = {"_file": pl.Int32, ROW: pl.Int32, "merge": pl.Boolean, "kept": pl.String,
                   "kept_file": pl.Int32, "kept_row": pl.Int32, "similarity": pl.Float64, "reason": pl.String}
"""One row per merged row: the stored risk it joins (kept), or the row of this run whose new risk it
joins (kept_file, kept_row), with the similarity and the reason shown to the user."""

_Target = tuple[str, Any]
"""A row's risk as decided: ("stored", risk id) or ("row", (file, row)) for a risk a row of this run brings in."""


def decide_merges(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile], fresh: pl.DataFrame,
                  objects: pl.DataFrame) -> pl.DataFrame:
    """For each new row (``fresh``: _file, _row, title) that is the same risk as a stored one or one
    an earlier file brings in, the risk it joins (:data:`DECISION_SCHEMA`); rows not listed are new
    risks. ``objects`` holds the (_file, _row, obj) asset and AI system names of the rows."""
    if fresh.is_empty():
        return pl.DataFrame(schema=DECISION_SCHEMA)
    entries, rows, stored_ids = _match_entries(con, fresh, objects)
    pairs = candidate_pairs(entries)
    if pairs.is_empty():
        return pl.DataFrame(schema=DECISION_SCHEMA)
    n_stored = len(stored_ids)
    lineage = _stored_sources(con, sorted({stored_ids[o] for o in pairs["other"].to_list() if o < n_stored}))
    pairs = pairs.join(rows.select("key", "_file", ROW), on="key").sort(
        ["_file", "similarity", ROW, "other"], descending=[False, True, False, False])
    by_file = {f: part for (f,), part in pairs.partition_by("_file", as_dict=True, maintain_order=True).items()}
    row_of = {k: (f, r) for k, f, r in rows.select("key", "_file", ROW).iter_rows()}
    fresh_rows: dict[int, list[int]] = {}
    for f, r in fresh.select("_file", ROW).iter_rows():
        fresh_rows.setdefault(f, []).append(r)
    owner: dict[tuple[int, int], _Target] = {}
    sources_of_new: dict[_Target, set[str]] = {}
    out: list[tuple[Any, ...]] = []
    for p in parsed:
        file_pairs = by_file.get(p.index)
        candidates = file_pairs.select("other", "obj", "similarity", "how", ROW).iter_rows() \
            if file_pairs is not None else []
        for other, obj, sim, how, r in candidates:
            target = _target_of(other, stored_ids, row_of, owner)
            if target is None or (p.index, r) in owner:
                continue
            srcs = lineage.setdefault(target[1], set()) if target[0] == "stored" else sources_of_new[target]
            if _take(p, r, target, srcs, owner):
                kept, kept_file, kept_row = (target[1], None, None) if target[0] == "stored" else (None, *target[1])
                out.append((p.index, r, True, kept, kept_file, kept_row, sim, reason(obj, sim, how)))
        for r in fresh_rows.get(p.index, []):
            if (p.index, r) not in owner:
                owner[(p.index, r)] = ("row", (p.index, r))
                sources_of_new[("row", (p.index, r))] = {p.spec.source}
    return pl.DataFrame(out, schema=DECISION_SCHEMA, orient="row")


def _match_entries(con: duckdb.DuckDBPyConnection, fresh: pl.DataFrame, objects: pl.DataFrame
                   ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """The entries ``candidate_pairs`` compares: every stored risk (keys 0..n-1, file -1) and every new
    row (keys from n), each with its title keys and the names of what it concerns (``[""]`` for
    nothing). Returns (entries, the new rows with their keys, stored risk id of each key below n)."""
    stored = with_title_keys(con.execute("SELECT id AS risk_id, title FROM risks").pl())
    stored_objs = con.execute(
        "SELECT ra.risk_id, lower(trim(a.name)) AS obj FROM risk_assets ra JOIN assets a ON a.id = ra.asset_id "
        "UNION SELECT rs.risk_id, lower(trim(s.name)) FROM risk_ai_systems rs "
        "JOIN ai_systems s ON s.id = rs.ai_system_id").pl()
    n_stored = stored.height
    stored = stored.with_row_index("key").with_columns(pl.col("key").cast(pl.Int64), pl.lit(-1, pl.Int32).alias("file"))
    stored = stored.join(stored_objs.group_by("risk_id").agg(pl.col("obj").alias("objs")), on="risk_id", how="left",
                         maintain_order="left")
    rows = fresh.select("_file", ROW, "title")
    rows = with_title_keys(rows).with_row_index("key", offset=n_stored).with_columns(pl.col("key").cast(pl.Int64))
    rows = rows.join(objects.group_by("_file", ROW).agg(pl.col("obj").alias("objs")), on=["_file", ROW],
                     how="left", maintain_order="left")
    cols = ["key", "file", "tokens", "norm", "digits", "objs"]
    entries = pl.concat([stored.select(cols), rows.select(pl.col("key"), pl.col("_file").alias("file"), *cols[2:])])
    entries = entries.with_columns(pl.when(pl.col("objs").list.len().fill_null(0) == 0)
                                   .then(pl.lit([""], pl.List(pl.String))).otherwise(pl.col("objs")).alias("objs"))
    return entries, rows, stored["risk_id"].to_list()


def _stored_sources(con: duckdb.DuckDBPyConnection, risk_ids: list[str]) -> dict[str, set[str]]:
    """The registers each stored risk already has a lineage row from."""
    lineage: dict[str, set[str]] = {}
    for rid, srcs in con.execute("SELECT risk_id, list(DISTINCT source) FROM risk_sources "
                                 "WHERE risk_id IN (SELECT unnest(?)) GROUP BY risk_id", [risk_ids]).fetchall():
        lineage[rid] = set(srcs)
    return lineage


def _target_of(other: int, stored_ids: list[str], row_of: dict[int, tuple[int, int]],
               owner: dict[tuple[int, int], _Target]) -> _Target | None:
    """The risk a candidate entry stands for: a stored risk, or the risk an earlier row was given
    (None while that row has not been decided, i.e. it is of this file or a later one)."""
    if other < len(stored_ids):
        return ("stored", stored_ids[other])
    return owner.get(row_of[other])


def _take(p: ParsedFile, row: int, target: _Target, sources: set[str],
          owner: dict[tuple[int, int], _Target]) -> bool:
    """Give ``row`` of ``p`` to ``target`` unless that risk already has a row of this register: from
    its lineage, or a more similar row of this file (taking a row adds the register to the risk's
    ``sources``, so a second row of the file is refused). Records the decision when it is taken."""
    if p.spec.source in sources:
        return False
    sources.add(p.spec.source)
    owner[(p.index, row)] = target
    return True
