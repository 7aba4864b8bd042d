"""Control references as people write them in registers, resolved to catalog controls.

The cells are read by the one parser of control references (:func:`engine.crosswalk.refs.parse_pieces`,
several per cell, separated by , ; / | & "and", new lines or spaces)::

    A.5.1   5.1   A 5.1   A5.1   Annex A 5.1   A.8.15 Logging   A.15.1.1 A.15.2.1
    ISO 27001:2013 A.12.4.1   27001-2013 12.4.1   27001:2022 A.5.1   ISO/IEC 42001 A.6.2.8   42001 A.6.2.8

A prefix names the framework and carries on to the bare references after it in the same cell
(``27001:2013 A.12.4.1, A.12.4.3``). ``27001`` without a year is 2022, or 2013 when only 2013 has
the reference. Both standards number Annex A from A.5, so a bare reference is resolved against the
row's default framework (``--framework``, the mapping file's ``framework``, a Framework column, else
the row's management system: ISMS -> 27001:2022, AIMS -> 42001:2023) and must exist there as an
Annex A control; if it does not, a 27001:2013 control with that number (four-part numbers such as
A.12.4.1) is taken, then the other current standard. A reference none of them has is a problem.

A 2013 reference is stored as its 2022 successor(s) from the authored 2013 -> 2022 crosswalk
(``mappings/crosswalks/iso27001-2013__iso27001-2022.csv``), keeping ``translated_from`` and
``as_written``; one with no successor is a problem.

An item that is not a reference at all is a *phrase*: the words a team wrote for a control
("MFA", "email filtering"). Phrases are not problems: they are returned for the importer to keep on
the risk (``controls_text``) and to propose controls for (:mod:`engine.register.suggest`). Items
that say nothing ("n/a", "none") are dropped. Only something written as a reference that is not one
(``A.99.9``, ``27001:2005 A.5.1``, ``A.5.1-A.5.3``) is a problem.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.crosswalk.refs import EXPECTED, REST_BAD, parse_pieces
from engine.errors import Problem
from engine.register.suggest import is_noise

__all__ = ["EXPECTED", "reference_frames", "resolve_control_cells"]


def reference_frames(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The Annex A controls of every loaded framework, and the 2013 -> 2022 successors."""
    catalog = con.execute(
        "SELECT framework, ref, title FROM controls WHERE kind = 'annex_a_control'").pl()
    successors = con.execute(
        "SELECT DISTINCT source_ref AS ref, target_ref AS successor FROM crosswalk_links "
        "WHERE source_framework = ? AND target_framework = ? AND origin = 'authored' "
        "AND target_ref IS NOT NULL AND relationship <> 'no_relationship' ORDER BY 1, 2",
        [ISO27001_2013, ISO27001]).pl()
    return catalog, successors


def _other(fw: pl.Expr) -> pl.Expr:
    return pl.when(fw == ISO42001).then(pl.lit(ISO27001)).otherwise(pl.lit(ISO42001))


PHRASE_SCHEMA: dict[str, Any] = {"_file": pl.Int32, "_row": pl.Int32, "column": pl.String, "status": pl.String,
                 "phrase": pl.String}
"""The phrases of the control cells: one row per (file, row, column, phrase)."""


def resolve_control_cells(cells: pl.DataFrame, catalog: pl.DataFrame, successors: pl.DataFrame
                          ) -> tuple[pl.DataFrame, pl.DataFrame, list[Problem]]:
    """Parse control cells (of one file or of every file of a run at once) into links and phrases.

    ``cells`` has ``_file`` (index of the file in the run), ``file`` (its name, for messages),
    ``_row``, ``column`` (heading, for messages), ``status`` (existing|planned), ``text`` and
    ``default_fw``. Returns (links, phrases, problems); links has ``_file``, ``_row``, ``framework``,
    ``ref``, ``status``, ``as_written`` and ``translated_from``, one row per (file, row, control); a
    control named both as existing and as planned is existing. Phrases are :data:`PHRASE_SCHEMA`.

    Registers repeat the same cells many times, so each distinct (text, default framework) is
    parsed once and the result joined back to its rows.
    """
    empty = pl.DataFrame(schema={"_file": pl.Int32, "_row": pl.Int32, "framework": pl.String, "ref": pl.String,
                                 "status": pl.String, "as_written": pl.String,
                                 "translated_from": pl.String})
    no_phrases = pl.DataFrame(schema=PHRASE_SCHEMA)
    if cells.is_empty():
        return empty, no_phrases, []
    cells = cells.filter(pl.col("text").is_not_null())
    if cells.is_empty():
        return empty, no_phrases, []
    distinct = cells.select("text", "default_fw").unique().with_row_index("cell")
    links, words, bad = _parse_cells(distinct, catalog, successors)
    at = cells.join(distinct, on=["text", "default_fw"])
    problems: list[Problem] = []
    if not bad.is_empty():
        where = at.join(bad, on="cell").sort("_file", "_row", "idx")
        problems = [Problem(f, r, c, msg, piece, exp) for f, r, c, msg, piece, exp in
                    where.select("file", "_row", "column", "message", "piece", "expected").iter_rows()]
    phrases = no_phrases if words.is_empty() else (
        at.join(words, on="cell").sort("_file", "_row", "idx").select(list(PHRASE_SCHEMA)).cast(pl.Schema(PHRASE_SCHEMA)))
    if links.is_empty():
        return empty, phrases, problems
    rows = (at.select("_file", "_row", "status", "cell")
            .join(links, on="cell")
            .sort(["_file", "_row", "status"])  # existing before planned
            .unique(["_file", "_row", "framework", "ref"], keep="first", maintain_order=True))
    return rows.select(empty.columns).cast(empty.schema), phrases, problems  # type: ignore[arg-type]


def _phrases(parsed: pl.DataFrame, frameworks: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(pieces that are references or faulty ones, phrases: cell, idx, phrase). A piece is a phrase
    when it is not written as a reference (nor as ``framework:ref`` of a loaded framework); a phrase
    that names nothing (``n/a``) is dropped. Markers (a standard's name alone) are neither."""
    qualified_elsewhere = (pl.col("ok") & ~pl.col("numbered")
                           & ~pl.col("explicit").is_in(frameworks).fill_null(False))
    is_phrase = ~pl.col("marker") & ~pl.col("numbered") & (~pl.col("ok") | qualified_elsewhere)
    words = parsed.filter(is_phrase).select(
        "cell", "idx", pl.col("piece").str.strip_chars(" -–:;,.()[]{}\"'").alias("phrase"))
    keep = {p for p in words["phrase"].unique().to_list() if p and not is_noise(p)}
    words = words.filter(pl.col("phrase").is_in(list(keep)))
    return parsed.filter(~is_phrase & ~pl.col("marker")), words


def _parse_cells(distinct: pl.DataFrame, catalog: pl.DataFrame,
                 successors: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Links per distinct cell (cell, framework, ref, as_written, translated_from), its phrases
    (cell, idx, phrase) and its bad pieces (cell, idx, piece, message, expected)."""
    parsed, words = _phrases(parse_pieces(distinct, annex_a=True), catalog["framework"].unique().to_list())
    dfw = pl.col("default_fw")
    parsed = parsed.with_columns(
        c1=pl.col("framework"),  # the one the reference names, else the default
        c2=pl.when(pl.col("explicit") == "27001").then(pl.lit(ISO27001_2013))
        .when(pl.col("explicit").is_not_null()).then(pl.lit(None, pl.String))
        .when(dfw == ISO27001_2013).then(pl.lit(ISO27001)).otherwise(pl.lit(ISO27001_2013)),
        c3=pl.when(pl.col("explicit").is_not_null()).then(pl.lit(None, pl.String))
        .when(dfw == ISO27001_2013).then(pl.lit(ISO42001)).otherwise(_other(dfw)),
    )
    known = catalog.select("framework", "ref").unique().with_columns(hit=pl.lit(True))
    for c in ("c1", "c2", "c3"):
        parsed = parsed.join(known.rename({"framework": c, "hit": f"{c}_hit"}), on=[c, "ref"], how="left")
    parsed = parsed.with_columns(
        framework=pl.when(~pl.col("ok") | pl.col("bad_year")).then(pl.lit(None, pl.String))
        .when(pl.col("c1_hit")).then(pl.col("c1"))
        .when(pl.col("c2_hit")).then(pl.col("c2"))
        .when(pl.col("c3_hit")).then(pl.col("c3"))
        .otherwise(pl.lit(None, pl.String)))
    bad = parsed.filter(pl.col("framework").is_null()).select(
        "cell", "idx", "piece",
        pl.when(pl.col("ok") & pl.col("bad_year")).then(pl.lit("unknown edition"))
        .when(pl.col("ok")).then(pl.lit("unknown control reference"))
        .when(pl.col("rest").fill_null("").str.contains(REST_BAD)).then(pl.lit("several references in one item"))
        .otherwise(pl.lit("not a control reference")).alias("message"),
        pl.lit(EXPECTED).alias("expected"))
    good = parsed.filter(pl.col("framework").is_not_null()).select(
        "cell", "idx", "framework", "ref", pl.col("piece").alias("as_written"))
    legacy = good.filter(pl.col("framework") == ISO27001_2013).join(successors, on="ref", how="left")
    orphan = legacy.filter(pl.col("successor").is_null()).select(
        "cell", "idx", pl.col("as_written").alias("piece"),
        pl.lit("this 27001:2013 control has no 27001:2022 successor in the crosswalk").alias("message"),
        pl.lit("a 27001:2022 or 42001:2023 control").alias("expected"))
    legacy = legacy.filter(pl.col("successor").is_not_null()).select(
        "cell", "idx", pl.lit(ISO27001).alias("framework"), pl.col("successor").alias("ref"), "as_written",
        (pl.lit(ISO27001_2013 + ":") + pl.col("ref")).alias("translated_from"))
    current = good.filter(pl.col("framework") != ISO27001_2013).with_columns(
        pl.lit(None, pl.String).alias("translated_from"))
    links = pl.concat([current, legacy]).sort("cell", "idx").group_by("cell", "framework", "ref",
                                                                      maintain_order=True).agg(
        pl.col("as_written").unique(maintain_order=True).str.join("; "),
        pl.col("translated_from").drop_nulls().unique(maintain_order=True).str.join("; "),
    ).with_columns(pl.col("translated_from").replace("", None))
    return links, words, pl.concat([bad, orphan])
