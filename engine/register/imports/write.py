"""Writing a run's new rows in bulk (step 3 of an import): batches, new risks, their links, lineage.

Every write is one ``INSERT ... SELECT`` from a polars frame registered with DuckDB, so 100,000 rows
cost a handful of statements. Each touched file gets an import batch; every row of it gets a lineage
row (``risk_sources``: the row as written, its normalised values, the scale note), which is what a
later re-import compares with and what a merge undo restores from. Rows folded into risks that
already exist are written by ``apply``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine.register import records

from .fields import RECORD_FIELDS, typed
from .parse import ParsedFile
from .reading import ROW

__all__ = ["Batches", "create_risks", "insert_batches", "insert_entities", "name_new_risks", "open_batches",
           "write_lineage"]


@dataclass
class Batches:
    """The import batch of each touched file: ids by file index, and as a (_file, _batch) frame."""

    ids: dict[int, str]
    frame: pl.DataFrame


def open_batches(con: duckdb.DuckDBPyConnection, touched: list[int]) -> Batches:
    """Allocate one batch id per touched file (in file order)."""
    ids = dict(zip(touched, records.next_ids(con, "import_batches", "B", len(touched)), strict=True))
    frame = pl.DataFrame({"_file": list(ids), "_batch": list(ids.values())},
                         schema={"_file": pl.Int32, "_batch": pl.String})
    return Batches(ids, frame)


def insert_batches(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile], batches: Batches, when: Any,
                   actor: str) -> None:
    """One ``import_batches`` row per touched file: its register, file name, checksum and row count."""
    ids = batches.ids
    con.register("_batches", pl.DataFrame(
        {"id": list(ids.values()), "source": [parsed[i].spec.source for i in ids],
         "file_name": [Path(parsed[i].file).name for i in ids], "sha": [parsed[i].sha256 for i in ids],
         "rows": [parsed[i].rows for i in ids]}))
    try:
        con.execute("INSERT INTO import_batches SELECT id, 'risks', source, file_name, sha, rows, ?, ? FROM _batches",
                    [when, actor])
    finally:
        con.unregister("_batches")


def name_new_risks(con: duckdb.DuckDBPyConnection, creating: pl.DataFrame, merging: pl.DataFrame,
                   batches: Batches) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give every new risk its id and batch, and name the kept risk of rows that merge into a risk
    an earlier file of this run brings in."""
    creating = creating.with_columns(pl.Series("risk_id", records.next_ids(con, "risks", "R", creating.height),
                                               dtype=pl.String)).join(batches.frame, on="_file", how="left",
                                                                      maintain_order="left")
    new_ids = creating.select("_file", ROW, "risk_id")
    merging = (merging.join(new_ids.rename({"_file": "kept_file", ROW: "kept_row", "risk_id": "_new"}),
                            on=["kept_file", "kept_row"], how="left", maintain_order="left")
               .with_columns(pl.coalesce("kept", "_new").alias("kept")).drop("_new"))
    return creating, merging


def insert_entities(con: duckdb.DuckDBPyConnection, created: dict[str, pl.DataFrame], batches: pl.DataFrame,
                    actor: str, channel: str) -> None:
    """Assets and AI systems named by a register but not in the inventory yet, with history."""
    for fld, table, entity in (("assets", "assets", "asset"), ("ai_systems", "ai_systems", "ai_system")):
        new = created[fld]
        if new.is_empty():
            continue
        con.register("_ent", new.select("id", "name"))
        try:
            con.execute(f"INSERT INTO {table} (id, name) SELECT id, name FROM _ent")
        finally:
            con.unregister("_ent")
        records.record_history(con, new.join(batches, on="_file", how="left").select(
            pl.lit(entity).alias("entity"), "id", pl.lit("create").alias("action"),
            pl.lit("name").alias("field"), pl.col("name").alias("new_value"), "_batch"),
            actor=actor, channel=channel, batch_id=None)


def create_risks(con: duckdb.DuckDBPyConnection, creating: pl.DataFrame, controls: pl.DataFrame,
                 links: dict[str, pl.DataFrame], matrix_version: int, when: Any, actor: str, channel: str) -> None:
    """The new risks with their links and one history row each. The history names the lineage row
    (``source:row``) rather than repeating every value: the values are in ``risk_sources.normalised``."""
    if creating.is_empty():
        return
    provided = [f for f in RECORD_FIELDS if f in creating.columns]
    _insert_risks(con, creating, provided, matrix_version, when)
    _insert_links(con, creating.select("_file", ROW, "risk_id"), controls, links)
    records.record_history(con, creating.select(
        pl.lit("risk").alias("entity"), pl.col("risk_id").alias("id"), pl.lit("create").alias("action"),
        pl.lit("source").alias("field"), (pl.col("source") + ":" + pl.col(ROW).cast(pl.String)).alias("new_value"),
        "_batch"),
        actor=actor, channel=channel, batch_id=None)


def _insert_risks(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, provided: list[str], matrix_version: int,
                  when: Any) -> None:
    """New risks in one INSERT ... SELECT; columns a file did not provide take their defaults."""
    defaults = {"status": "open", "confidentiality": False, "integrity": False, "availability": False}
    frame = rows.select(pl.col("risk_id").alias("id"), *[
        pl.col(c).fill_null(defaults[c]) if c in defaults else pl.col(c) for c in provided])
    frame = typed(frame, provided)
    con.register("_new", frame)
    try:
        names = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO risks ({names}, matrix_version, created_at, updated_at) "
                    f"SELECT {names}, ?, ?, ? FROM _new", [matrix_version, when, when])
    finally:
        con.unregister("_new")


def _insert_links(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, controls: pl.DataFrame,
                  links: dict[str, pl.DataFrame]) -> None:
    """Links of new risks: rows has (_file, _row, risk_id)."""
    keys = ["_file", ROW]
    ctl = controls.join(rows, on=keys).select("risk_id", "framework", "ref", "status", "as_written", "translated_from")
    if not ctl.is_empty():
        con.register("_ctl", ctl)
        try:
            con.execute("INSERT INTO risk_controls SELECT * FROM _ctl")
        finally:
            con.unregister("_ctl")
    for fld, table, col in (("assets", "risk_assets", "asset_id"), ("ai_systems", "risk_ai_systems", "ai_system_id")):
        lk = links[fld].join(rows, on=keys).select("risk_id", pl.col("id").alias(col)).unique()
        if not lk.is_empty():
            con.register("_lk", lk)
            try:
                con.execute(f"INSERT INTO {table} (risk_id, {col}) SELECT risk_id, {col} FROM _lk")
            finally:
                con.unregister("_lk")


_LINEAGE_COLUMNS = ["_file", ROW, "risk_id", "source_key", "raw", "normalised", "original_likelihood",
                    "original_impact"]


def write_lineage(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile], known: pl.DataFrame,
                  creating: pl.DataFrame, merging: pl.DataFrame, batches: Batches) -> None:
    """Every row of a touched file now points at that file's batch: new, merged and known rows alike.

    A known row's previous lineage row is replaced, and a merge that named it is moved along, so
    ``risk_merges`` keeps pointing at the lineage row it can undo from."""
    cols = _LINEAGE_COLUMNS
    relink = known.filter(pl.col("_file").is_in(list(batches.ids)))
    lineage = pl.concat([creating.select(cols), merging.select(*cols[:2], pl.col("kept").alias("risk_id"), *cols[3:]),
                         relink.select(cols)]).join(batches.frame, on="_file")
    notes = pl.DataFrame({"_file": [p.index for p in parsed], "scale_note": [p.scale_note for p in parsed],
                          "source": [p.spec.source for p in parsed]},
                         schema={"_file": pl.Int32, "scale_note": pl.String, "source": pl.String})
    lineage = lineage.join(notes, on="_file")
    if not relink.is_empty():
        _retire_lineage(con, relink, batches)
    con.register("_lin", lineage)
    try:
        con.execute("INSERT INTO risk_sources (risk_id, batch_id, source, source_row, source_key, raw, "
                    "original_likelihood, original_impact, scale_note, normalised) "
                    "SELECT risk_id, _batch, source, _row, source_key, raw, original_likelihood, original_impact, "
                    "scale_note, normalised FROM _lin")
    finally:
        con.unregister("_lin")


def _retire_lineage(con: duckdb.DuckDBPyConnection, relink: pl.DataFrame, batches: Batches) -> None:
    """Delete the previous lineage rows of re-imported rows, moving merges that name them to the new batch."""
    old = relink.select(pl.col("prev_batch").alias("batch_id"), pl.col("prev_row").alias("source_row"), ROW,
                        "_file").join(batches.frame, on="_file")
    con.register("_old", old)
    try:
        con.execute("UPDATE risk_merges SET merged_batch_id = _old._batch, merged_source_row = _old._row "
                    "FROM _old WHERE risk_merges.merged_batch_id = _old.batch_id "
                    "AND risk_merges.merged_source_row = _old.source_row")
        con.execute("DELETE FROM risk_sources WHERE (batch_id, source_row) IN "
                    "(SELECT (batch_id, source_row) FROM _old)")
    finally:
        con.unregister("_old")
