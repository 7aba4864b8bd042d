"""Reading one risk register into a normalised frame (step 1 of an import).

A file is read as text, its headings are recognised (``headers``), and each recognised column is
turned into stored values (``normalise``): vocabularies, yes/no flags, C/I/A, dates, likelihood and
impact on the matrix's scale. Every row also gets its management system and the default framework
of its bare control references. Nothing is raised for a bad cell: every problem of the file is
collected in :class:`ParsedFile` so the user can fix them all in one pass. Control cells are only
gathered here; :func:`~engine.register.imports.controls.resolve_control_cells` reads them once for
the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from engine.config import ISO27001, ISO42001
from engine.errors import Problem
from engine.register import records, vocab
from engine.register.imports import headers as hd

from .checks import check_stated
from .context import RunContext
from .fields import AI_COLUMNS, LINK_FIELDS, RECORD_FIELDS
from .normalise import (
    Cells,
    check_pairs,
    normalise_bool,
    normalise_cia,
    normalise_date,
    normalise_enum,
    normalise_multi,
    normalise_scores,
)
from .reading import ROW, Table, read_table
from .titles import compose_titles

__all__ = ["ParsedFile", "RiskFile", "parse_risk_file", "split_names"]

_FRAMEWORKS_EXPECTED = "iso27001-2022, iso42001-2023 or iso27001-2013"


@dataclass
class RiskFile:
    """One register to import and how to read it."""

    path: str | Path
    source: str
    mapping: str | Path | None = None
    framework: str | None = None           # default framework of bare control references
    management_system: str | None = None   # ISMS, AIMS or both for every row


@dataclass
class ParsedFile:
    """One register as parsed: its normalised rows, what it provides, and every problem found."""

    spec: RiskFile
    index: int                      # position of the file in the run
    file: str
    sha256: str
    rows: int
    frame: pl.DataFrame             # _row, source_key, provided fields, management_system, default_fw
    provided: list[str]             # record fields the file provides
    links_provided: list[str]
    control_cells: pl.DataFrame     # cells of the control columns, resolved for the whole run at once
    names: dict[str, pl.DataFrame]  # assets / ai_systems: _file, _row, name
    raw: pl.DataFrame               # _row, raw (JSON text), original_likelihood, original_impact
    scale_note: str | None
    notes: list[str]
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)  # found, never refusing (e.g. a stated score)
    scales: list[dict[str, Any]] = field(default_factory=list)  # column, field, value, read_as


def split_names(frame: pl.DataFrame, fld: str, index: int) -> pl.DataFrame:
    """(_file, _row, name) for each name of a list cell (names separated by , ; | or new lines)."""
    if fld not in frame.columns:
        return pl.DataFrame(schema={"_file": pl.Int32, ROW: pl.Int32, "name": pl.String})
    return (frame.select(pl.lit(index, pl.Int32).alias("_file"), ROW, pl.col(fld).str.replace_all(r"\s*[;,\n|]+\s*", "\x1f").str.split("\x1f"))
            .explode(fld).with_columns(pl.col(fld).str.strip_chars())
            .filter(pl.col(fld).is_not_null() & (pl.col(fld) != "")).rename({fld: "name"}))


def parse_risk_file(spec: RiskFile, ctx: RunContext, index: int = 0) -> ParsedFile:
    """Read and normalise one register; every problem is collected, none raised. Control cells
    are gathered for :func:`resolve_control_cells`, run once for every file of the run."""
    mapping = hd.load_mapping(spec.mapping, "risks") if spec.mapping else None
    table = read_table(spec.path, mapping.sheet if mapping else None, ctx.limits, prechecked=True)
    cols = hd.resolve_columns(table, "risks", mapping)
    file = table.file
    problems = list(cols.problems)
    frame = table.frame.select(ROW, *[pl.col(f"c{i}").alias(fld) for fld, i in cols.fields.items()])
    labels = {fld: cols.labels[i] for fld, i in cols.fields.items()}
    raw = _lineage_frame(table, cols)
    cells = Cells(file, frame, labels)
    notes = _reading_notes(table, cols)
    composed = compose_titles(cells) if not cells.has("title") else None
    if composed:
        notes.append(composed)
    _check_keys(cells, cols, notes, composed=composed is not None)
    scales: list[dict[str, Any]] = []
    scale_notes = _normalise_fields(cells, cols, mapping, ctx, scales)
    warnings, check_notes = check_stated(cells, ctx.matrix)
    notes.extend(check_notes)
    problems.extend(_set_management_system(cells, cols, spec, mapping))
    problems.extend(_set_default_framework(cells, spec, mapping, ctx))
    controls = _control_cells(table, cols, cells.frame, index)
    names = {fld: split_names(cells.frame, fld, index) for fld in ("assets", "ai_systems")}
    problems.extend(cells.problems)

    provided = [f for f in RECORD_FIELDS if f in cells.frame.columns]
    links_provided = [f for f in LINK_FIELDS
                      if f in cols.fields or (f == "controls" and "planned_controls" in cols.fields)]
    note_parts = [f"{f}: {n}" for f, n in scale_notes.items()]
    notes.extend(f"{labels[f]}: {n}" for f, n in scale_notes.items())
    return ParsedFile(spec, index, file, table.sha256, table.rows, cells.frame, provided, links_provided,
                      controls, names, raw, "; ".join(note_parts) or None, notes, problems, warnings, scales)


def _lineage_frame(table: Table, cols: hd.Columns) -> pl.DataFrame:
    """(_row, raw, original_likelihood, original_impact): each row as written, for its lineage.

    ``raw`` is the row as JSON keyed by heading; a heading written twice is kept as ``Heading (2)``
    so no cell is lost."""
    raw_headers: list[tuple[str, str]] = []
    for i, h in enumerate(table.headers):
        if h:
            seen = sum(1 for k, _ in raw_headers if k == h or k.startswith(h + " ("))
            raw_headers.append((h if not seen else f"{h} ({seen + 1})", f"c{i}"))
    return table.frame.select(
        ROW, pl.struct([pl.col(c).alias(h) for h, c in raw_headers]).struct.json_encode().alias("raw")
        if raw_headers else pl.lit("{}").alias("raw"),
        (pl.col(f"c{cols.fields['inherent_likelihood']}") if "inherent_likelihood" in cols.fields
         else pl.lit(None, pl.String)).alias("original_likelihood"),
        (pl.col(f"c{cols.fields['inherent_impact']}") if "inherent_impact" in cols.fields
         else pl.lit(None, pl.String)).alias("original_impact"),
    )


def _reading_notes(table: Table, cols: hd.Columns) -> list[str]:
    """Notes on how the file was read (encoding, columns kept only in the lineage)."""
    notes: list[str] = []
    if table.encoding != "utf-8":
        notes.append(f"read as {table.encoding} text (the file is not UTF-8)")
    if cols.unrecognised:
        notes.append("columns kept in the lineage only (not recognised): " + ", ".join(cols.unrecognised))
    return notes


def _check_keys(cells: Cells, cols: hd.Columns, notes: list[str], composed: bool = False) -> None:
    """Every row has a title and a key unique in the file; without an ID column the title is the key
    (a re-import finds its rows by that key). A composed title's own problems are reported by
    :func:`compose_titles`."""
    labels = cells.labels
    if "title" in cells.frame.columns and not composed:
        cells.problem_rows(pl.col("title").is_null(), "title", "empty title", "the risk's title")
    if "source_key" not in cells.frame.columns and "title" in cells.frame.columns:
        cells.frame = cells.frame.with_columns(pl.col("title").alias("source_key"))
        labels["source_key"] = labels["title"]
        notes.append("no ID column: rows are keyed by their title for re-imports")
    if "source_key" not in cells.frame.columns:
        return
    cells.problem_rows(pl.col("source_key").is_null() & pl.col("title").is_not_null()
                       if "title" in cells.frame.columns else pl.col("source_key").is_null(),
                       "source_key", "empty ID", "an ID for every risk (or no ID column)")
    dup = cells.frame.filter(pl.col("source_key").is_not_null()).with_columns(
        first=pl.col(ROW).min().over("source_key"))
    by_title = "source_key" not in cols.fields
    for r, v, first in dup.filter(pl.col(ROW) != pl.col("first")).select(ROW, "source_key", "first").iter_rows():
        if by_title:
            cells.problems.append(Problem(cells.file, r, labels["source_key"], f"the same title twice (also in row "
                                          f"{first}); without an ID column rows are known by their title", v,
                                          "distinct titles, or an ID column"))
        else:
            cells.problems.append(Problem(cells.file, r, labels["source_key"], f"duplicate ID (also in row {first})",
                                          v, "each risk once per file"))


def _normalise_fields(cells: Cells, cols: hd.Columns, mapping: hd.MappingFile | None,
                      ctx: RunContext, scales: list[dict[str, Any]]) -> dict[str, str]:
    """Vocabularies, flags, dates and scores as stored values; returns field -> how its scale was read.

    A scale declared by the mapping file wins over one written in the heading."""
    normalise_enum(cells, "status", vocab.RISK_STATUSES, default="open")
    normalise_enum(cells, "treatment", vocab.TREATMENTS)
    for fld in ("ai_risk_sources", "ai_objectives"):
        normalise_multi(cells, fld, records.RISK_FIELDS[fld])
    for fld in ("confidentiality", "integrity", "availability"):
        normalise_bool(cells, fld)
    normalise_cia(cells)
    date_format = mapping.date_format if mapping else None
    for fld in ("acceptance_date", "acceptance_expiry", "next_review"):
        normalise_date(cells, fld, date_format)
    declared = dict(cols.hints)
    if mapping:
        declared.update(mapping.scales)
    matrix = ctx.matrix
    scale_notes = normalise_scores(
        cells, records.SCORE_FIELDS, matrix.size,
        lambda f: list(matrix.likelihood_labels if f.endswith("likelihood") else matrix.impact_labels), declared,
        scales)
    check_pairs(cells)
    if "acceptance_date" in cells.frame.columns and "acceptance_expiry" in cells.frame.columns:
        cells.problem_rows(pl.col("acceptance_expiry") < pl.col("acceptance_date"), "acceptance_expiry",
                           "acceptance expires before it was given", "an expiry on or after the acceptance date")
    return scale_notes


def _set_management_system(cells: Cells, cols: hd.Columns, spec: RiskFile,
                           mapping: hd.MappingFile | None) -> list[Problem]:
    """Give every row its management system: the run's or mapping's setting for the whole file, else
    the row's own column, else AIMS for a file with AI columns and ISMS otherwise."""
    problems: list[Problem] = []
    fixed_ms = spec.management_system or (mapping.management_system if mapping else None)
    if fixed_ms is not None and vocab.canon(fixed_ms, vocab.MANAGEMENT_SYSTEMS) is None:
        problems.append(Problem(cells.file, None, "management_system", "unknown management system", fixed_ms,
                                "ISMS, AIMS or both"))
        fixed_ms = None
    inferred = "AIMS" if any(c in cols.fields for c in AI_COLUMNS) else "ISMS"
    file_ms = vocab.canon(fixed_ms, vocab.MANAGEMENT_SYSTEMS) if fixed_ms else inferred
    if "management_system" in cells.frame.columns and not fixed_ms:
        normalise_enum(cells, "management_system", vocab.MANAGEMENT_SYSTEMS)
        cells.frame = cells.frame.with_columns(pl.col("management_system").fill_null(file_ms))
    else:
        cells.frame = cells.frame.with_columns(pl.lit(file_ms).alias("management_system"))
    return problems


def _parse_framework_cell(v: str) -> str:
    got = hd.parse_framework(v)
    if got is None:
        raise ValueError("unknown framework")
    return got


def _set_default_framework(cells: Cells, spec: RiskFile, mapping: hd.MappingFile | None,
                           ctx: RunContext) -> list[Problem]:
    """Add ``default_fw``, the framework of a row's bare control references (``A.5.1``): the row's
    Framework column, else the mapping file's, else this file's or the run's --framework, else the
    row's management system (42001 for AIMS, 27001:2022 otherwise)."""
    problems: list[Problem] = []
    own_fw = None
    if spec.framework:
        own_fw = hd.parse_framework(spec.framework)
        if own_fw is None:
            problems.append(Problem(cells.file, None, "framework", "unknown framework", spec.framework,
                                    _FRAMEWORKS_EXPECTED))
    file_fw = (mapping.framework if mapping and mapping.framework else None) or own_fw or ctx.default_framework
    by_ms = pl.when(pl.col("management_system") == "AIMS").then(pl.lit(ISO42001)).otherwise(pl.lit(ISO27001))
    base_fw = pl.lit(file_fw) if file_fw else by_ms
    if "framework" in cells.frame.columns:
        cells.map_distinct("framework", _parse_framework_cell, pl.String, "unknown framework",
                           _FRAMEWORKS_EXPECTED)
        cells.frame = cells.frame.with_columns(pl.coalesce(pl.col("framework"), base_fw).alias("default_fw"))
    else:
        cells.frame = cells.frame.with_columns(base_fw.alias("default_fw"))
    return problems


def _control_cells(table: Table, cols: hd.Columns, rows: pl.DataFrame, index: int) -> pl.DataFrame:
    """Every cell of the existing and planned control columns with its row's default framework
    (a heading naming a standard decides for the bare references of its column)."""
    control_cells = []
    row_fw = rows.select(ROW, "default_fw")
    for fld, status in (("controls", "existing"), ("planned_controls", "planned")):
        for i in cols.columns_of(fld):
            named = cols.frameworks.get(i)
            part = table.frame.select(ROW, pl.lit(cols.labels[i]).alias("column"), pl.lit(status).alias("status"),
                                      pl.col(f"c{i}").alias("text"))
            part = part.join(row_fw, on=ROW, how="left", maintain_order="left")
            if named:
                part = part.with_columns(pl.lit(named).alias("default_fw"))
            control_cells.append(part)
    cell_schema = {"_file": pl.Int32, "file": pl.String, ROW: pl.Int32, "column": pl.String, "status": pl.String,
                   "text": pl.String, "default_fw": pl.String}
    if not control_cells:
        return pl.DataFrame(schema=cell_schema)
    return pl.concat(control_cells).select(pl.lit(index, pl.Int32).alias("_file"), pl.lit(table.file).alias("file"),
                                           pl.all()).cast(cell_schema)  # type: ignore[arg-type]
