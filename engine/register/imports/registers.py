"""Known registers, and recognising a register re-imported under a new name.

A register is the ``source`` its rows were imported under (``risk_sources.source``); by default that is
the file name, so next quarter's file (``team_register_Q4.csv`` after ``team_register_Q3.csv``) would
arrive as a second register, and each of its rows would merge into its own risk as a second source
instead of updating it. A file whose source name is new is therefore recognised as a register already
known when all of these hold (:func:`recognise`):

- its own ids (``source_key``) are known: at least :data:`MIN_KNOWN_SHARE` of the file's ids are ids of
  one register, and at least :data:`MIN_KNOWN_IDS` of them;
- it has that register's columns: the headings of its last import and the file's share at least
  :data:`MIN_COLUMN_SHARE` of their union;
- the ids name the same risks: at least :data:`MIN_KNOWN_SHARE` of the ids shared have the same title
  (whatever the case) in the file and in the register's last import.

The file then takes that register's name, its rows are matched by their ids (updates with history,
unchanged rows untouched), and the report says so in a note. A person can also choose the register
outright by giving its name as the source (:func:`known_registers` lists them, for the CLI's
``riskmap import registers`` and the import page's choice of register).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import polars as pl

from engine import store

from .parse import ParsedFile

__all__ = ["MIN_COLUMN_SHARE", "MIN_KNOWN_IDS", "MIN_KNOWN_SHARE", "known_registers", "recognise"]

MIN_KNOWN_SHARE = 0.5
MIN_KNOWN_IDS = 2
MIN_COLUMN_SHARE = 0.5

_REGISTERS = """
    SELECT s.source AS register, count(DISTINCT s.risk_id) AS risks, count(DISTINCT s.source_key) AS ids,
           max(b.imported_at) AS last_imported, arg_max(b.file_name, b.imported_at) AS last_file
    FROM risk_sources s JOIN import_batches b ON b.id = s.batch_id
    GROUP BY s.source ORDER BY s.source
"""


def known_registers(db: str | Path | None = None) -> pl.DataFrame:
    """The risk registers imported so far: register (the source name to give to update it), risks,
    ids (distinct own ids), last_imported, last_file."""
    with store.connect(db) as con:
        return con.execute(_REGISTERS).pl()


def _last_rows(con: duckdb.DuckDBPyConnection, keys: list[str]) -> pl.DataFrame:
    """(source, source_key, raw, title) of the latest lineage row of each of ``keys`` in every register:
    the cells as written (JSON text) and the title as imported (from the normalised record)."""
    return con.execute(
        "SELECT s.source, s.source_key, CAST(s.raw AS VARCHAR) AS raw, "
        "lower(trim(json_extract_string(CAST(s.normalised AS VARCHAR), '$.title'))) AS title "
        "FROM risk_sources s JOIN import_batches b ON b.id = s.batch_id WHERE s.source_key IN (SELECT unnest(?)) "
        "QUALIFY row_number() OVER (PARTITION BY s.source, s.source_key ORDER BY b.imported_at DESC, "
        "s.batch_id DESC) = 1", [keys]).pl()


def _headings(raw: str | None) -> set[str]:
    return set(json.loads(raw)) if raw else set()


def _candidate(p: ParsedFile, rows: pl.DataFrame, taken: set[str]) -> tuple[str, str] | None:
    """The register ``p`` is, with the note saying why, or None."""
    keys = p.frame["source_key"].drop_nulls().unique().to_list()
    if not keys or rows.is_empty():
        return None
    headings = _headings(p.raw["raw"][0]) if p.raw.height else set()
    titles = dict(zip(p.frame["source_key"].to_list(),
                      (p.frame["title"].str.strip_chars().str.to_lowercase().to_list()
                       if "title" in p.frame.columns else [None] * p.frame.height), strict=True))
    best = rows.group_by("source").agg(pl.len().alias("n")).sort(["n", "source"], descending=[True, False])
    for source, n in best.iter_rows():
        if source in taken or n < max(MIN_KNOWN_IDS, MIN_KNOWN_SHARE * len(keys)):
            continue
        theirs = rows.filter(pl.col("source") == source)
        their_headings = _headings(theirs["raw"][0])
        union = headings | their_headings
        if not union or len(headings & their_headings) / len(union) < MIN_COLUMN_SHARE:
            continue
        same = sum(1 for k, t in theirs.select("source_key", "title").iter_rows() if t and titles.get(k) == t)
        if same < MIN_KNOWN_SHARE * n:
            continue
        return source, (f"recognised as the register {source!r} (imported before under that name): {n} of the "
                        f"file's {len(keys)} ids are known there, with the same columns and titles; its rows "
                        f"update that register's risks")
    return None


def recognise(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile]) -> None:
    """Give each file whose register name is new the name of the known register it is (the rules of this
    module), in place, with a note on the file; a register another file of the run names is left alone."""
    if not parsed:
        return
    known = {r[0] for r in con.execute("SELECT DISTINCT source FROM risk_sources").fetchall()}
    taken = {p.spec.source for p in parsed}
    for p in parsed:
        if p.spec.source in known or "source_key" not in p.frame.columns:
            continue
        keys = p.frame["source_key"].drop_nulls().unique().to_list()
        found = _candidate(p, _last_rows(con, keys), taken) if keys else None
        if found is None:
            continue
        source, note = found
        taken.add(source)
        p.spec = dataclasses.replace(p.spec, source=source)
        p.notes.append(note)
