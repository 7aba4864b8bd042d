"""Importing risk registers into the consolidated register (ISO 27001 6.1.2, ISO 42001 6.1.2).

One run imports one or several files in one transaction, in four steps:

1. read and normalise every file (headings, scales, control references, dates...) and collect
   every problem of every file; any problem and nothing is written;
2. find each row's risk: by the register's own key (a re-import updates, never duplicates), else
   by recognising the same risk from another register, stored or brought in by an earlier file of
   the run (a merge, recorded in ``risk_merges`` and reversible; rules in ``matching``), else a
   new risk;
3. write in bulk from polars frames (``INSERT ... SELECT``), with lineage (``risk_sources``: the row
   as written, its normalised values, the scale mapping) and history rows;
4. commit; or, for a dry run, roll everything back and return the same report.

A re-import applies only what changed in the source since it was last imported: a field edited in
the app is not overwritten by re-importing an unchanged file, and a file identical to the last
import writes nothing at all. A row's key is its Risk ID (or, without an ID column, its title).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import store
from engine.config import ISO27001, ISO42001
from engine.errors import InputError, Problem
from engine.register import edit, records, vocab
from engine.register.imports import headers as hd
from engine.register.matrix import matrix_on
from engine.register.scoring import MatrixSpec

from .controls import reference_frames, resolve_control_cells
from .matching import candidate_pairs, reason, with_title_keys
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
from .reading import ROW, read_table
from .report import FileReport, ImportReport

RECORD_FIELDS = ("title", "description", "cause", "event", "consequence", "management_system", "threat",
                 "vulnerability", "ai_risk_sources", "confidentiality", "integrity", "availability",
                 "ai_objectives", "consequence_org", "consequence_individuals", "owner", "category",
                 "business_unit", "status", *records.SCORE_FIELDS, "treatment", "treatment_notes",
                 "acceptance_approver", "acceptance_date", "acceptance_expiry", "acceptance_justification",
                 "next_review")
"""Risk columns an import can set, in table order."""
LINK_FIELDS = ("controls", "assets", "ai_systems")
RECORD_TYPES: dict[str, records.DType] = {
    **{f: pl.String for f in RECORD_FIELDS},
    "ai_risk_sources": pl.List(pl.String), "ai_objectives": pl.List(pl.String),
    "confidentiality": pl.Boolean, "integrity": pl.Boolean, "availability": pl.Boolean,
    **{f: pl.Int32 for f in records.SCORE_FIELDS},
    "acceptance_date": pl.Date, "acceptance_expiry": pl.Date, "next_review": pl.Date,
}
AI_COLUMNS = ("ai_systems", "ai_risk_sources", "ai_objectives")


@dataclass
class RiskFile:
    """One register to import and how to read it."""

    path: str | Path
    source: str
    mapping: str | Path | None = None
    framework: str | None = None           # default framework of bare control references
    management_system: str | None = None   # ISMS, AIMS or both for every row


@dataclass
class _Entities:
    """Assets or AI systems known to the run: stored ones plus those the run creates."""

    kind: str
    frame: pl.DataFrame                      # id, name

    def resolve(self, names: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Find the entity of every (_file, _row, name) cell by id or name (case-insensitive),
        creating one per unknown name. Returns (links: _file, _row, id, obj; created: id, name, _file)."""
        link_schema = {"_file": pl.Int32, ROW: pl.Int32, "id": pl.String, "obj": pl.String}
        created = pl.DataFrame(schema={"id": pl.String, "name": pl.String, "_file": pl.Int32})
        if names.is_empty():
            return pl.DataFrame(schema=link_schema), created
        by_id = self.frame.select(pl.col("id").str.to_lowercase().alias("key"), pl.col("id").alias("id1"),
                                  pl.col("name").alias("n1"))
        by_name = self.frame.select(pl.col("name").str.to_lowercase().alias("key"), pl.col("id").alias("id2"),
                                    pl.col("name").alias("n2")).unique("key", keep="first", maintain_order=True)
        hit = (names.with_columns(pl.col("name").str.to_lowercase().alias("key"))
               .join(by_id, on="key", how="left", maintain_order="left")
               .join(by_name, on="key", how="left", maintain_order="left"))
        unknown = hit.filter(pl.col("id1").is_null() & pl.col("id2").is_null()).unique(
            "key", keep="first", maintain_order=True)
        if not unknown.is_empty():
            used = set(self.frame["id"].to_list())
            created = pl.DataFrame({"id": [records.slug(n, used) for n in unknown["name"]],
                                    "name": unknown["name"].to_list(), "_file": unknown["_file"].to_list()},
                                   schema=created.schema)
            self.frame = pl.concat([self.frame, created.select("id", "name")])
        hit = hit.join(created.select(pl.col("name").str.to_lowercase().alias("key"), pl.col("id").alias("id3"),
                                      pl.col("name").alias("n3")), on="key", how="left", maintain_order="left")
        links = hit.select(
            "_file", ROW, pl.coalesce("id1", "id2", "id3").alias("id"),
            pl.coalesce("n1", "n2", "n3").str.to_lowercase().str.strip_chars().alias("obj"),
        ).unique(["_file", ROW, "id"], maintain_order=True)
        return links.cast(link_schema), created  # type: ignore[arg-type]


@dataclass
class _Parsed:
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


class _Context:
    """Reference data read once per run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, default_framework: str | None):
        self.matrix: MatrixSpec = matrix_on(con)
        self.catalog, self.successors = reference_frames(con)
        self.assets = _Entities("asset", con.execute("SELECT id, name FROM assets").pl())
        self.ai_systems = _Entities("ai_system", con.execute("SELECT id, name FROM ai_systems").pl())
        self.default_framework = default_framework


def _split_names(frame: pl.DataFrame, fld: str, index: int) -> pl.DataFrame:
    """(_file, _row, name) for each name of a list cell (names separated by , ; | or new lines)."""
    if fld not in frame.columns:
        return pl.DataFrame(schema={"_file": pl.Int32, ROW: pl.Int32, "name": pl.String})
    return (frame.select(pl.lit(index, pl.Int32).alias("_file"), ROW, pl.col(fld).str.replace_all(r"\s*[;,\n|]+\s*", "\x1f").str.split("\x1f"))
            .explode(fld).with_columns(pl.col(fld).str.strip_chars())
            .filter(pl.col(fld).is_not_null() & (pl.col(fld) != "")).rename({fld: "name"}))


def parse_risk_file(spec: RiskFile, ctx: _Context, index: int = 0) -> _Parsed:
    """Read and normalise one register; every problem is collected, none raised. Control cells
    are gathered for :func:`resolve_control_cells`, run once for every file of the run."""
    mapping = hd.load_mapping(spec.mapping, "risks") if spec.mapping else None
    table = read_table(spec.path, mapping.sheet if mapping else None)
    cols = hd.resolve_columns(table, "risks", mapping)
    file = table.file
    problems = list(cols.problems)
    frame = table.frame.select(ROW, *[pl.col(f"c{i}").alias(fld) for fld, i in cols.fields.items()])
    labels = {fld: cols.labels[i] for fld, i in cols.fields.items()}
    raw_headers: list[tuple[str, str]] = []
    for i, h in enumerate(table.headers):
        if h:
            seen = sum(1 for k, _ in raw_headers if k == h or k.startswith(h + " ("))
            raw_headers.append((h if not seen else f"{h} ({seen + 1})", f"c{i}"))
    raw = table.frame.select(
        ROW, pl.struct([pl.col(c).alias(h) for h, c in raw_headers]).struct.json_encode().alias("raw")
        if raw_headers else pl.lit("{}").alias("raw"),
        (pl.col(f"c{cols.fields['inherent_likelihood']}") if "inherent_likelihood" in cols.fields
         else pl.lit(None, pl.String)).alias("original_likelihood"),
        (pl.col(f"c{cols.fields['inherent_impact']}") if "inherent_impact" in cols.fields
         else pl.lit(None, pl.String)).alias("original_impact"),
    )
    cells = Cells(file, frame, labels)
    matrix = ctx.matrix
    notes: list[str] = []
    if table.encoding != "utf-8":
        notes.append(f"read as {table.encoding} text (the file is not UTF-8)")
    if cols.unrecognised:
        notes.append("columns kept in the lineage only (not recognised): " + ", ".join(cols.unrecognised))

    # keys and titles
    if "title" in cells.frame.columns:
        cells.problem_rows(pl.col("title").is_null(), "title", "empty title", "the risk's title")
    if "source_key" not in cells.frame.columns and "title" in cells.frame.columns:
        cells.frame = cells.frame.with_columns(pl.col("title").alias("source_key"))
        labels["source_key"] = labels["title"]
        notes.append("no ID column: rows are keyed by their title for re-imports")
    if "source_key" in cells.frame.columns:
        cells.problem_rows(pl.col("source_key").is_null() & pl.col("title").is_not_null()
                           if "title" in cells.frame.columns else pl.col("source_key").is_null(),
                           "source_key", "empty ID", "an ID for every risk (or no ID column)")
        dup = cells.frame.filter(pl.col("source_key").is_not_null()).with_columns(
            first=pl.col(ROW).min().over("source_key"))
        by_title = "source_key" not in cols.fields
        for r, v, first in dup.filter(pl.col(ROW) != pl.col("first")).select(ROW, "source_key", "first").iter_rows():
            if by_title:
                cells.problems.append(Problem(file, r, labels["source_key"], f"the same title twice (also in row "
                                              f"{first}); without an ID column rows are known by their title", v,
                                              "distinct titles, or an ID column"))
            else:
                cells.problems.append(Problem(file, r, labels["source_key"], f"duplicate ID (also in row {first})",
                                              v, "each risk once per file"))

    # vocabularies and types
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
    scale_notes = normalise_scores(
        cells, records.SCORE_FIELDS, matrix.size,
        lambda f: list(matrix.likelihood_labels if f.endswith("likelihood") else matrix.impact_labels), declared)
    check_pairs(cells)
    if "acceptance_date" in cells.frame.columns and "acceptance_expiry" in cells.frame.columns:
        cells.problem_rows(pl.col("acceptance_expiry") < pl.col("acceptance_date"), "acceptance_expiry",
                           "acceptance expires before it was given", "an expiry on or after the acceptance date")

    # management system and default framework, row by row
    fixed_ms = spec.management_system or (mapping.management_system if mapping else None)
    if fixed_ms is not None and vocab.canon(fixed_ms, vocab.MANAGEMENT_SYSTEMS) is None:
        problems.append(Problem(file, None, "management_system", "unknown management system", fixed_ms,
                                "ISMS, AIMS or both"))
        fixed_ms = None
    inferred = "AIMS" if any(c in cols.fields for c in AI_COLUMNS) else "ISMS"
    file_ms = vocab.canon(fixed_ms, vocab.MANAGEMENT_SYSTEMS) if fixed_ms else inferred
    if "management_system" in cells.frame.columns and not fixed_ms:
        normalise_enum(cells, "management_system", vocab.MANAGEMENT_SYSTEMS)
        cells.frame = cells.frame.with_columns(pl.col("management_system").fill_null(file_ms))
    else:
        cells.frame = cells.frame.with_columns(pl.lit(file_ms).alias("management_system"))
    # bare control references: a Framework column, else the mapping file, else this file's or the run's
    # --framework, else the row's management system
    own_fw = None
    if spec.framework:
        own_fw = hd.parse_framework(spec.framework)
        if own_fw is None:
            problems.append(Problem(file, None, "framework", "unknown framework", spec.framework,
                                    "iso27001-2022, iso42001-2023 or iso27001-2013"))
    file_fw = (mapping.framework if mapping and mapping.framework else None) or own_fw or ctx.default_framework
    by_ms = pl.when(pl.col("management_system") == "AIMS").then(pl.lit(ISO42001)).otherwise(pl.lit(ISO27001))
    base_fw = pl.lit(file_fw) if file_fw else by_ms
    if "framework" in cells.frame.columns:
        def parse_fw(v: str) -> str:
            got = hd.parse_framework(v)
            if got is None:
                raise ValueError("unknown framework")
            return got
        cells.map_distinct("framework", parse_fw, pl.String, "unknown framework",
                           "iso27001-2022, iso42001-2023 or iso27001-2013")
        cells.frame = cells.frame.with_columns(pl.coalesce(pl.col("framework"), base_fw).alias("default_fw"))
    else:
        cells.frame = cells.frame.with_columns(base_fw.alias("default_fw"))

    # control references
    control_cells = []
    row_fw = cells.frame.select(ROW, "default_fw")
    for fld, status in (("controls", "existing"), ("planned_controls", "planned")):
        for i in cols.columns_of(fld):
            named = cols.frameworks.get(i)  # a heading naming a standard decides for its bare refs
            part = table.frame.select(ROW, pl.lit(cols.labels[i]).alias("column"), pl.lit(status).alias("status"),
                                      pl.col(f"c{i}").alias("text"))
            part = part.join(row_fw, on=ROW, how="left", maintain_order="left")
            if named:
                part = part.with_columns(pl.lit(named).alias("default_fw"))
            control_cells.append(part)
    cell_schema = {"_file": pl.Int32, "file": pl.String, ROW: pl.Int32, "column": pl.String, "status": pl.String,
                   "text": pl.String, "default_fw": pl.String}
    controls = (pl.concat(control_cells).select(pl.lit(index, pl.Int32).alias("_file"), pl.lit(file).alias("file"),
                                                pl.all()).cast(cell_schema)  # type: ignore[arg-type]
                if control_cells else pl.DataFrame(schema=cell_schema))
    names = {fld: _split_names(cells.frame, fld, index) for fld in ("assets", "ai_systems")}
    problems.extend(cells.problems)

    provided = [f for f in RECORD_FIELDS if f in cells.frame.columns]
    links_provided = [f for f in LINK_FIELDS
                      if f in cols.fields or (f == "controls" and "planned_controls" in cols.fields)]
    note_parts = [f"{f}: {n}" for f, n in scale_notes.items()]
    notes.extend(f"{labels[f]}: {n}" for f, n in scale_notes.items())
    return _Parsed(spec, index, file, table.sha256, table.rows, cells.frame, provided, links_provided, controls,
                   names, raw, "; ".join(note_parts) or None, notes, problems)


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------

class _DryRun(Exception):
    """Raised inside the transaction of a dry run so everything it did is rolled back."""

    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


def import_risk_files(db: str | Path | None, files: list[RiskFile], *, actor: str, channel: str = "import",
                      framework: str | None = None, dry_run: bool = False) -> ImportReport:
    """Import several risk registers in one transaction (all of them or nothing).

    ``framework`` is the default framework of bare control references for files that do not set
    one. Raises InputError listing every problem of every file; nothing is written then. Files are
    taken in order: a row of a later file can merge into a risk an earlier file brought in.
    """
    if framework is not None:
        fw = hd.parse_framework(framework)
        if fw is None:
            raise InputError([Problem("--framework", None, None, "unknown framework", framework,
                                      "iso27001-2022, iso42001-2023 or iso27001-2013")])
        framework = fw
    sources = [str(f.source) for f in files]
    problems = [Problem(str(f.path), None, "--source", "empty source name", f.source, "a register name")
                for f in files if not str(f.source).strip()]
    problems.extend(Problem("--source", None, None, "two files of one run share a source name", s,
                            "one source name per file") for s in sorted({s for s in sources if sources.count(s) > 1}))
    if not files:
        problems.append(Problem("import", None, None, "no file given", expected="one or more .csv or .xlsx files"))
    if problems:
        raise InputError(problems)
    try:
        with store.transaction(db, bulk=True) as con:
            ctx = _Context(con, framework)
            parsed: list[_Parsed] = []
            for outcome in _parse_all(files, ctx):
                if isinstance(outcome, InputError):  # unreadable file or mapping: keep going to report the rest
                    problems.extend(outcome.problems)
                else:
                    parsed.append(outcome)
            cells = [p.control_cells for p in parsed if not p.control_cells.is_empty()]
            if cells:
                controls, cproblems = resolve_control_cells(pl.concat(cells), ctx.catalog, ctx.successors)
            else:
                controls, cproblems = resolve_control_cells(pl.DataFrame(), ctx.catalog, ctx.successors)
            for p in parsed:
                problems.extend(p.problems)
            problems.extend(cproblems)
            if problems:
                order = {str(f.path): i for i, f in enumerate(files)}
                problems.sort(key=lambda x: (order.get(x.file, -1), x.record if isinstance(x.record, int) else 0,
                                             str(x.field)))
                raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
            report = ImportReport("risks", dry_run, _run(con, parsed, controls, ctx, actor, channel))
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


_PARSE_WORKERS = 2


def _parse_one(spec: RiskFile, ctx: _Context, index: int) -> _Parsed | InputError:
    try:
        return parse_risk_file(spec, ctx, index)
    except InputError as exc:
        return exc


def _parse_all(files: list[RiskFile], ctx: _Context) -> list[_Parsed | InputError]:
    """Every file parsed (or its InputError), in the order given. Files are independent until the
    run's cross-file steps, and the readers and polars release the GIL, so several are read at once."""
    if len(files) < 2:
        return [_parse_one(spec, ctx, i) for i, spec in enumerate(files)]
    with ThreadPoolExecutor(max_workers=min(_PARSE_WORKERS, len(files))) as pool:
        return list(pool.map(_parse_one, files, [ctx] * len(files), range(len(files))))


def import_risks(db: str | Path | None, path: str | Path, source: str, *, actor: str, channel: str = "import",
                 mapping: str | Path | None = None, framework: str | None = None,
                 management_system: str | None = None, dry_run: bool = False) -> ImportReport:
    """Import one risk register (CSV or .xlsx) under the register name ``source``.

    See :func:`import_risk_files`; ``riskmap import risks FILE --source NAME`` calls this.
    """
    return import_risk_files(db, [RiskFile(path, source, mapping, None, management_system)], actor=actor,
                             channel=channel, framework=framework, dry_run=dry_run)


def _link_lists(controls: pl.DataFrame, links: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per (_file, _row): sorted controls (framework:ref:status), asset ids, AI system ids."""
    out = controls.group_by("_file", ROW).agg(
        (pl.col("framework") + ":" + pl.col("ref") + ":" + pl.col("status")).sort().alias("controls"))
    for fld in ("assets", "ai_systems"):
        out = out.join(links[fld].group_by("_file", ROW).agg(pl.col("id").sort().alias(fld)),
                       on=["_file", ROW], how="full", coalesce=True)
    return out


def _normalised_records(parsed: list[_Parsed], controls: pl.DataFrame, links: dict[str, pl.DataFrame],
                        matrix_version: int | None) -> pl.DataFrame:
    """(_file, _row, normalised): each row's normalised values and links as JSON, as its lineage keeps them."""
    lists = _link_lists(controls, links)
    lists_of = {f: part.drop("_file") for (f,), part in lists.partition_by("_file", as_dict=True).items()}
    no_lists = lists.drop("_file").clear()
    out = []
    for p in parsed:
        rec = p.frame.select(ROW, *p.provided).join(lists_of.get(p.index, no_lists), on=ROW, how="left",
                                                    maintain_order="left")
        rec = rec.with_columns([pl.col(f).fill_null(pl.lit([], pl.List(pl.String))) for f in LINK_FIELDS]
                               ).with_columns(pl.lit(matrix_version).alias("_matrix_version"))
        out.append(rec.select(pl.lit(p.index, pl.Int32).alias("_file"), ROW,
                              pl.struct([*p.provided, *p.links_provided, "_matrix_version"])
                              .struct.json_encode().alias("normalised")))
    return pl.concat(out)


def _known_and_fresh(con: duckdb.DuckDBPyConnection, parsed: list[_Parsed]
                     ) -> tuple[pl.DataFrame, pl.DataFrame, list[list[str]]]:
    """Every row with what it was at its register's last import: (rows imported before, new rows, and
    per file the keys imported before that the file no longer has)."""
    recs = []
    for p in parsed:
        rec = p.frame.select(ROW, "source_key", "title", *[f for f in p.provided if f != "title"]).with_columns(
            pl.lit(p.index, pl.Int32).alias("_file"), pl.lit(p.spec.source).alias("source"))
        recs.append(rec.join(p.raw, on=ROW, how="left", maintain_order="left"))
    rec = pl.concat(recs, how="diagonal_relaxed")
    prev = con.execute(
        "SELECT source, source_key, risk_id, batch_id AS prev_batch, source_row AS prev_row, "
        "CAST(normalised AS VARCHAR) AS prev_norm, CAST(raw AS VARCHAR) AS prev_raw "
        "FROM risk_sources WHERE source IN (SELECT unnest(?))", [[p.spec.source for p in parsed]]).pl()
    rec = rec.join(prev, on=["source", "source_key"], how="left", maintain_order="left")
    had_of = {s: part["source_key"] for (s,), part in prev.partition_by("source", as_dict=True).items()}
    missing = []
    for p in parsed:
        had = had_of.get(p.spec.source, pl.Series("source_key", [], pl.String)).drop_nulls()
        missing.append(sorted(set(had.to_list()) - set(p.frame["source_key"].drop_nulls().to_list())))
    return rec.filter(pl.col("risk_id").is_not_null()), rec.filter(pl.col("risk_id").is_null()), missing


def _run(con: duckdb.DuckDBPyConnection, parsed: list[_Parsed], controls: pl.DataFrame, ctx: _Context,
         actor: str, channel: str) -> list[FileReport]:
    reps = [FileReport(p.file, p.spec.source, "risks", rows=p.rows, notes=list(p.notes)) for p in parsed]

    # assets and AI systems, for every file at once. An Asset cell naming an AI system of the
    # inventory (and no asset) links that AI system rather than creating a look-alike asset.
    names = {fld: pl.concat([p.names[fld] for p in parsed]) for fld in ("assets", "ai_systems")}
    asset_keys = pl.concat([ctx.assets.frame["id"], ctx.assets.frame["name"]]).str.to_lowercase().implode()
    ai_keys = pl.concat([ctx.ai_systems.frame["id"], ctx.ai_systems.frame["name"]]).str.to_lowercase().implode()
    key = pl.col("name").str.to_lowercase()
    moved_names = names["assets"].filter(~key.is_in(asset_keys) & key.is_in(ai_keys))
    if not moved_names.is_empty():
        names["assets"] = names["assets"].join(moved_names, on=["_file", ROW, "name"], how="anti")
        names["ai_systems"] = pl.concat([names["ai_systems"], moved_names])
        for i in moved_names["_file"].unique().to_list():
            if "ai_systems" not in parsed[i].links_provided:
                parsed[i].links_provided.append("ai_systems")
    links: dict[str, pl.DataFrame] = {}
    created: dict[str, pl.DataFrame] = {}
    for fld, ents in (("assets", ctx.assets), ("ai_systems", ctx.ai_systems)):
        links[fld], created[fld] = ents.resolve(names[fld])
    objects = pl.concat([links["assets"].select("_file", ROW, "obj"), links["ai_systems"].select("_file", ROW, "obj")])

    # the normalised record of every row (JSON with its links) is built on the other core while the
    # rows are matched against the register: it is compared with the last import and kept in the lineage
    with ThreadPoolExecutor(max_workers=1) as pool:
        normalised = pool.submit(_normalised_records, parsed, controls, links, ctx.matrix.version)
        known, fresh, missing = _known_and_fresh(con, parsed)
        decision = _decide(con, parsed, fresh, objects, ctx)  # which risk each new row is
        norm = normalised.result()
    for rep, gone in zip(reps, missing, strict=True):
        rep.missing = gone
    keys = ["_file", ROW]
    known = known.join(norm, on=keys, how="left", maintain_order="left")
    fresh = fresh.join(norm, on=keys, how="left", maintain_order="left")
    fresh = fresh.join(decision, on=keys, how="left", maintain_order="left")
    creating = fresh.filter(pl.col("merge").is_null()).drop(*[c for c in decision.columns if c not in ("_file", ROW)],
                                                            "risk_id")
    merging = fresh.filter(pl.col("merge").is_not_null())
    changed_rows = known.filter(pl.col("normalised").ne_missing(pl.col("prev_norm")))
    moved = known.filter(pl.col("prev_raw").ne_missing(pl.col("raw")) | (pl.col("prev_row") != pl.col(ROW)))
    touched = set(creating["_file"].to_list()) | set(merging["_file"].to_list()) \
        | set(changed_rows["_file"].to_list()) | set(moved["_file"].to_list())
    known_n = dict(known.group_by("_file").len().iter_rows())
    changed_n = dict(changed_rows.group_by("_file").len().iter_rows())
    for p, rep in zip(parsed, reps, strict=True):
        rep.unchanged = known_n.get(p.index, 0) - changed_n.get(p.index, 0)
    if not touched:
        return reps  # every file is exactly as last imported: write nothing

    # ids
    changed_files = sorted(touched)
    batch_ids = dict(zip(changed_files, records.next_ids(con, "import_batches", "B", len(changed_files)),
                         strict=True))
    batch_frame = pl.DataFrame({"_file": list(batch_ids), "_batch": list(batch_ids.values())},
                               schema={"_file": pl.Int32, "_batch": pl.String})
    creating = creating.with_columns(pl.Series("risk_id", records.next_ids(con, "risks", "R", creating.height),
                                               dtype=pl.String)).join(batch_frame, on="_file", how="left",
                                                                      maintain_order="left")
    # earlier files' rows may have merged into a risk created in this run: name it now
    new_ids = creating.select("_file", ROW, "risk_id")
    merging = (merging.join(new_ids.rename({"_file": "kept_file", ROW: "kept_row", "risk_id": "_new"}),
                            on=["kept_file", "kept_row"], how="left", maintain_order="left")
               .with_columns(pl.coalesce("kept", "_new").alias("kept")).drop("_new"))
    when = store.now()
    con.register("_batches", pl.DataFrame(
        {"id": list(batch_ids.values()), "source": [parsed[i].spec.source for i in batch_ids],
         "file_name": [Path(parsed[i].file).name for i in batch_ids], "sha": [parsed[i].sha256 for i in batch_ids],
         "rows": [parsed[i].rows for i in batch_ids]}))
    try:
        con.execute("INSERT INTO import_batches SELECT id, 'risks', source, file_name, sha, rows, ?, ? FROM _batches",
                    [when, actor])
    finally:
        con.unregister("_batches")
    _insert_entities(con, created, batch_frame, actor, channel)
    for fld, attr in (("assets", "new_assets"), ("ai_systems", "new_ai_systems")):
        for i, ids in created[fld].group_by("_file").agg("id").iter_rows():
            setattr(reps[i], attr, ids)

    # new risks, in bulk
    if not creating.is_empty():
        provided = [f for f in RECORD_FIELDS if f in creating.columns]
        _insert_risks(con, creating, provided, ctx.matrix.version or 1, when)
        _insert_links(con, creating.select("_file", ROW, "risk_id"), controls, links)
        records.record_history(con, creating.select(
            pl.lit("risk").alias("entity"), pl.col("risk_id").alias("id"), pl.lit("create").alias("action"),
            # the values are in the lineage row (risk_sources.normalised); history names that row
            pl.lit("source").alias("field"), (pl.col("source") + ":" + pl.col(ROW).cast(pl.String)).alias("new_value"),
            "_batch"),
            actor=actor, channel=channel, batch_id=None)
        for (i,), part in creating.select("_file", ROW, "risk_id", "title").partition_by(
                "_file", as_dict=True, maintain_order=True).items():
            reps[i].created = [{"row": r, "id": k, "title": t} for r, k, t in
                               zip(part[ROW].to_list(), part["risk_id"].to_list(), part["title"].to_list(), strict=True)]

    # merges, file by file (a later file may merge into the same risk again)
    if not merging.is_empty():
        merge_ids = records.next_ids(con, "risk_merges", "M", merging.height)
        merging = merging.with_columns(pl.Series("merge_id", merge_ids, dtype=pl.String))
        for (i,), part in merging.partition_by("_file", as_dict=True, maintain_order=True).items():
            p = parsed[i]
            ctl = controls.filter(pl.col("_file") == i)
            lk = {f: links[f].filter(pl.col("_file") == i) for f in links}
            _apply_merges(con, part, p, ctx, ctl, lk, actor, channel, batch_ids[i], when)
            reps[i].merged = [{"row": r, "risk_id": k, "merge_id": m, "similarity": s, "reason": why}
                              for r, k, m, s, why in part.select(ROW, "kept", "merge_id", "similarity", "reason")
                              .iter_rows()]

    # updates of known rows: only what changed in the source since its last import
    for (i,), part in changed_rows.partition_by("_file", as_dict=True, maintain_order=True).items():
        reps[i].updated = _apply_updates(con, part, parsed[i], ctx, controls.filter(pl.col("_file") == i),
                                         actor, channel, batch_ids[i])
        reps[i].unchanged += sum(1 for u in reps[i].updated if not u["fields"])
        reps[i].updated = [u for u in reps[i].updated if u["fields"]]

    # lineage: every row of a touched file now points at that file's batch
    cols = ["_file", ROW, "risk_id", "source_key", "raw", "normalised", "original_likelihood", "original_impact"]
    relink = known.filter(pl.col("_file").is_in(changed_files))
    lineage = pl.concat([creating.select(cols), merging.select(*cols[:2], pl.col("kept").alias("risk_id"), *cols[3:]),
                         relink.select(cols)]).join(batch_frame, on="_file")
    notes = pl.DataFrame({"_file": [p.index for p in parsed], "scale_note": [p.scale_note for p in parsed],
                          "source": [p.spec.source for p in parsed]},
                         schema={"_file": pl.Int32, "scale_note": pl.String, "source": pl.String})
    lineage = lineage.join(notes, on="_file")
    if not relink.is_empty():
        old = relink.select(pl.col("prev_batch").alias("batch_id"), pl.col("prev_row").alias("source_row"), ROW,
                            "_file").join(batch_frame, on="_file")
        con.register("_old", old)
        try:
            con.execute("UPDATE risk_merges SET merged_batch_id = _old._batch, merged_source_row = _old._row "
                        "FROM _old WHERE risk_merges.merged_batch_id = _old.batch_id "
                        "AND risk_merges.merged_source_row = _old.source_row")
            con.execute("DELETE FROM risk_sources WHERE (batch_id, source_row) IN "
                        "(SELECT (batch_id, source_row) FROM _old)")
        finally:
            con.unregister("_old")
    con.register("_lin", lineage)
    try:
        con.execute("INSERT INTO risk_sources (risk_id, batch_id, source, source_row, source_key, raw, "
                    "original_likelihood, original_impact, scale_note, normalised) "
                    "SELECT risk_id, _batch, source, _row, source_key, raw, original_likelihood, original_impact, "
                    "scale_note, normalised FROM _lin")
    finally:
        con.unregister("_lin")
    for i, b in batch_ids.items():
        reps[i].batch_id = b
    translated = controls.filter(pl.col("translated_from").is_not_null()).select(
        "_file", ROW, "framework", "ref", "as_written")
    translated_of = {f: part for (f,), part in translated.partition_by("_file", as_dict=True,
                                                                      maintain_order=True).items()}
    for rep, p in zip(reps, parsed, strict=True):
        part = translated_of.get(p.index)
        rep.translated = [] if part is None else [
            {"row": r, "as_written": a, "ref": f"{fw}:{ref}"}
            for r, fw, ref, a in part.select(ROW, "framework", "ref", "as_written").iter_rows()]
    return reps


def _decide(con: duckdb.DuckDBPyConnection, parsed: list[_Parsed], fresh: pl.DataFrame, objects: pl.DataFrame,
            ctx: _Context) -> pl.DataFrame:
    """For each new row, the risk it is (kept) or None for a new risk, file by file.

    A row may merge into a stored risk or into the risk an earlier file's row brought in, never
    into a risk that already has a row of its own register, and each risk takes at most one row
    per file (the most similar; ties go to the earlier row).
    """
    schema = {"_file": pl.Int32, ROW: pl.Int32, "merge": pl.Boolean, "kept": pl.String, "kept_file": pl.Int32,
              "kept_row": pl.Int32, "similarity": pl.Float64, "reason": pl.String}
    if fresh.is_empty():
        return pl.DataFrame(schema=schema)
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
    pairs = candidate_pairs(entries)
    if pairs.is_empty():
        return pl.DataFrame(schema=schema)
    stored_ids = stored["risk_id"].to_list()
    row_of = {k: (f, r) for k, f, r in rows.select("key", "_file", ROW).iter_rows()}
    wanted = sorted({stored_ids[o] for o in pairs["other"].to_list() if o < n_stored})
    lineage: dict[str, set[str]] = {}
    for rid, srcs in con.execute("SELECT risk_id, list(DISTINCT source) FROM risk_sources "
                                 "WHERE risk_id IN (SELECT unnest(?)) GROUP BY risk_id", [wanted]).fetchall():
        lineage[rid] = set(srcs)
    pairs = pairs.join(rows.select("key", "_file", ROW), on="key").sort(
        ["_file", "similarity", ROW, "other"], descending=[False, True, False, False])
    by_file = {f: part for (f,), part in pairs.partition_by("_file", as_dict=True, maintain_order=True).items()}
    # each row's risk as decided: ("stored", risk id) or ("row", (file, row)) for a risk a row of this run brings in
    fresh_rows: dict[int, list[int]] = {}
    for f, r in fresh.select("_file", ROW).iter_rows():
        fresh_rows.setdefault(f, []).append(r)
    owner: dict[tuple[int, int], tuple[str, Any]] = {}
    sources_of_new: dict[tuple[str, Any], set[str]] = {}
    out = []
    for p in parsed:
        f, source = p.index, p.spec.source
        taken: set[tuple[str, Any]] = set()
        part = by_file.get(f)
        rows_iter = part.select("other", "obj", "similarity", "how", ROW).iter_rows() if part is not None else []
        for other, obj, sim, how, r in rows_iter:
            if (f, r) in owner:
                continue
            if other < n_stored:
                target: tuple[str, Any] = ("stored", stored_ids[other])
            else:
                target = owner.get(row_of[other], ("?", None))
                if target[0] == "?":
                    continue
            srcs = lineage.setdefault(target[1], set()) if target[0] == "stored" else sources_of_new[target]
            if source in srcs or target in taken:
                continue
            taken.add(target)
            srcs.add(source)
            owner[(f, r)] = target
            kept, kept_file, kept_row = (target[1], None, None) if target[0] == "stored" else (None, *target[1])
            out.append((f, r, True, kept, kept_file, kept_row, sim, reason(obj, sim, how)))
        for r in fresh_rows.get(f, []):
            if (f, r) not in owner:
                owner[(f, r)] = ("row", (f, r))
                sources_of_new[("row", (f, r))] = {source}
    return pl.DataFrame(out, schema=schema, orient="row")


def _insert_entities(con: duckdb.DuckDBPyConnection, created: dict[str, pl.DataFrame], batches: pl.DataFrame,
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


def _insert_risks(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, provided: list[str], matrix_version: int,
                  when: Any) -> None:
    """New risks in one INSERT ... SELECT; columns a file did not provide take their defaults."""
    defaults = {"status": "open", "confidentiality": False, "integrity": False, "availability": False}
    frame = rows.select(pl.col("risk_id").alias("id"), *[
        pl.col(c).fill_null(defaults[c]) if c in defaults else pl.col(c) for c in provided])
    frame = _typed(frame, provided)
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


def _typed(frame: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    return frame.with_columns([pl.col(f).cast(RECORD_TYPES[f]) for f in fields if f in frame.columns])


def _apply_merges(con: duckdb.DuckDBPyConnection, merging: pl.DataFrame, p: _Parsed, ctx: _Context,
                  controls: pl.DataFrame, links: dict[str, pl.DataFrame], actor: str, channel: str, batch_id: str,
                  when: Any) -> None:
    """Fold each merged row into the risk it matched: empty fields are filled, C/I/A and lists are
    united, ISMS + AIMS becomes both, and its links are added. Every change is recorded under the
    merge's id so :func:`engine.register.merges.undo_merge` can take it back."""
    kept_ids = merging["kept"].to_list()
    cur = records.current_rows(con, "risks", kept_ids)
    fields = [f for f in p.provided if f not in ("title", "status")]
    score_ok = cur.select("id", (pl.col("matrix_version") == ctx.matrix.version).alias("_same"))
    m = merging.select(pl.col("kept").alias("id"), "merge_id", *fields).join(
        cur.select("id", *fields), on="id", suffix="__cur").join(score_ok, on="id")
    exprs = []
    for f in fields:
        new, old = pl.col(f), pl.col(f + "__cur")
        if f in ("confidentiality", "integrity", "availability"):
            exprs.append((old.fill_null(False) | new.fill_null(False)).alias(f))
        elif f in ("ai_risk_sources", "ai_objectives"):
            both = pl.concat_list(old.fill_null(pl.lit([], pl.List(pl.String))),
                                  new.fill_null(pl.lit([], pl.List(pl.String)))).list.unique(maintain_order=True)
            exprs.append(pl.when(both.list.len() == 0).then(pl.lit(None, pl.List(pl.String))).otherwise(both).alias(f))
        elif f == "management_system":
            exprs.append(pl.when(old == new).then(old).otherwise(pl.lit("both")).alias(f))
        elif f in records.SCORE_FIELDS:
            stage = f.split("_")[0]
            pair_empty = pl.col(f"{stage}_likelihood__cur").is_null() & pl.col(f"{stage}_impact__cur").is_null() \
                if f"{stage}_likelihood__cur" in m.columns and f"{stage}_impact__cur" in m.columns else pl.lit(False)
            exprs.append(pl.when(pl.col("_same") & pair_empty).then(new).otherwise(old).alias(f))
        else:
            exprs.append(pl.coalesce(old, new).alias(f))
    merged_vals = m.select("id", pl.col("merge_id").alias("_batch"), *exprs) if exprs else m.select("id")
    merged_vals = _typed(merged_vals, fields)
    changed_ids: set[str] = set()
    if fields:
        changes = records.apply_changes(con, "risk", merged_vals, actor=actor, channel=channel, action="merge",
                                        current=cur)
        changed_ids = set(changes["id"].to_list())
    for rid in sorted(set(kept_ids) - changed_ids):
        edit.bump(con, "risk", rid)  # a new lineage (and links) is a change of the risk
    # lineage row of the merged row goes in with the file's lineage; here the decision and links
    rows = merging.select(ROW, pl.col("kept").alias("risk_id"), "merge_id")
    _add_links(con, rows, controls, links, actor, channel)
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


def _apply_updates(con: duckdb.DuckDBPyConnection, changed: pl.DataFrame, p: _Parsed, ctx: _Context,
                   controls: pl.DataFrame, actor: str, channel: str, batch_id: str) -> list[dict[str, Any]]:
    """Apply to each known risk the fields and links that changed in its source row since the last import."""
    cur = records.current_rows(con, "risks", changed["risk_id"].to_list())
    cur_by_id = {r["id"]: r for r in cur.iter_rows(named=True)}
    out: list[dict[str, Any]] = []
    set_rows: list[dict[str, Any]] = []
    link_ops: list[tuple[str, str, str, str, int]] = []   # risk_id, kind, value, op, row
    problems: list[Problem] = []
    new_rows = {r[ROW]: r for r in changed.select(ROW, "risk_id", "normalised", "prev_norm").iter_rows(named=True)}
    typed = _typed(changed, p.provided)
    for row in typed.iter_rows(named=True):
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
        values = {"id": risk["id"]}
        for f in fields:
            values[f] = row[f]
        if len(values) > 1:
            set_rows.append(values)
        for kind in ("controls", "assets", "ai_systems"):
            if kind not in diff:
                continue
            if kind == "controls":  # framework:ref:status; a changed status is a link that updates it
                before_c = {v.rsplit(":", 1)[0]: v for v in old.get(kind) or []}
                after_c = {v.rsplit(":", 1)[0]: v for v in new.get(kind) or []}
                link_ops += [(risk["id"], kind, before_c[k], "unlink", row[ROW]) for k in sorted(set(before_c) - set(after_c))]
                link_ops += [(risk["id"], kind, v, "link", row[ROW]) for k, v in sorted(after_c.items())
                             if before_c.get(k) != v]
            else:
                before, after = set(old.get(kind) or []), set(new.get(kind) or [])
                link_ops += [(risk["id"], kind, v, "unlink", row[ROW]) for v in sorted(before - after)]
                link_ops += [(risk["id"], kind, v, "link", row[ROW]) for v in sorted(after - before)]
        out.append({"row": row[ROW], "id": risk["id"], "fields": diff})
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
    # one apply per set of fields, so each frame has fixed columns
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in set_rows:
        groups.setdefault(tuple(sorted(k for k in v if k != "id")), []).append(v)
    for cols, vals in groups.items():
        frame = pl.DataFrame(vals, schema={"id": pl.String, **{c: RECORD_TYPES[c] for c in cols}})
        records.apply_changes(con, "risk", frame, actor=actor, channel=channel, batch_id=batch_id, action="update")
    _apply_link_ops(con, link_ops, controls, actor, channel, batch_id)
    bumped = {v["id"] for v in set_rows}
    for rid in sorted({op[0] for op in link_ops} - bumped):
        edit.bump(con, "risk", rid)  # a change of links is a change of the risk
    return out


def _apply_link_ops(con: duckdb.DuckDBPyConnection, ops: list[tuple[str, str, str, str, int]], controls: pl.DataFrame,
                    actor: str, channel: str, batch_id: str) -> None:
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
