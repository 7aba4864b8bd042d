"""Importing the asset inventory, the AI system inventory and AI system impact assessments.

The same rules as risk registers: headings recognised in common wordings (or named by a mapping
file), every problem of a file reported at once and nothing written then, a dry run that reports
without writing, and re-imports that update instead of duplicating. A record is found by its ID
column when the file has one, else by its name (assets, AI systems) or by AI system and title
(assessments). An assessment must name an AI system the inventory has (by id or name): ISO 42001
6.1.4 assesses the impact *of an AI system*.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine import access, store
from engine.errors import InputError, Problem
from engine.register import records
from engine.register.imports import headers as hd

from .limits import Limits
from .normalise import Cells, normalise_date, normalise_enum, normalise_multi, normalise_tristate
from .reading import ROW, read_table
from .report import FileReport, ImportReport


@dataclass(frozen=True)
class _Kind:
    kind: str
    entity: str
    table: str
    specs: dict[str, records.FieldSpec]
    name_field: str
    defaults: dict[str, str]


KINDS = {
    "assets": _Kind("assets", "asset", "assets", records.ASSET_FIELDS, "name", {"status": "active"}),
    "ai_systems": _Kind("ai_systems", "ai_system", "ai_systems", records.AI_SYSTEM_FIELDS, "name",
                        {"status": "active"}),
    "assessments": _Kind("assessments", "impact_assessment", "impact_assessments", records.ASSESSMENT_FIELDS,
                         "title", {"status": "current"}),
}


class _DryRun(Exception):
    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


@store.retrying
def import_entities(db: str | Path | None, kind: str, path: str | Path, *, actor: str, channel: str = "import",
                    mapping: str | Path | None = None, source: str | None = None,
                    dry_run: bool = False, limits: Limits | None = None) -> ImportReport:
    """Import assets, AI systems or impact assessments (``kind``) from a CSV or .xlsx file.

    Raises InputError listing every problem; nothing is written then. Returns what was (or, for a
    dry run, would be) created and updated. The inventories belong to the whole organisation: an import
    needs the role contributor for every business unit (PermissionDenied otherwise).
    """
    actor = access.resolve(actor)
    access.require(actor, "import")
    k = KINDS[kind]
    maps = hd.load_mapping(mapping, kind) if mapping else None
    table = read_table(path, maps.sheet if maps else None, limits)
    cols = hd.resolve_columns(table, kind, maps)
    source = source or Path(path).stem
    try:
        with store.transaction(db) as con:
            cells = Cells(table.file, table.frame.select(
                ROW, *[pl.col(f"c{i}").alias(f) for f, i in cols.fields.items()]),
                {f: cols.labels[i] for f, i in cols.fields.items()})
            cells.problems.extend(cols.problems)
            _normalise(cells, k, maps.date_format if maps else None)
            if kind == "assessments" and "ai_system_id" in cells.frame.columns:
                _resolve_ai_systems(cells, con.execute("SELECT id, name FROM ai_systems").pl())
            existing = con.execute(f"SELECT * FROM {k.table}").pl()
            _assign_ids(cells, k, existing, con)
            if cells.problems:
                problems = sorted(cells.problems, key=lambda p: (p.record if isinstance(p.record, int) else 0,
                                                                 str(p.field)))
                raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
            rep = FileReport(table.file, source, kind, rows=table.rows)
            if cols.unrecognised:
                rep.notes.append("columns not recognised (ignored): " + ", ".join(cols.unrecognised))
            _write(con, cells, k, existing, rep, table, actor, channel)
            report = ImportReport(kind, dry_run, [rep])
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


def _normalise(cells: Cells, k: _Kind, date_format: str | None) -> None:
    for fld, spec in k.specs.items():
        if not cells.has(fld) or fld == "ai_system_id":
            continue
        if spec.kind == "enum":
            normalise_enum(cells, fld, dict(spec.table or {}), default=k.defaults.get(fld))
        elif spec.kind in ("multi", "list"):
            normalise_multi(cells, fld, spec)
        elif spec.kind == "date":
            normalise_date(cells, fld, date_format)
        elif spec.kind == "tristate":
            normalise_tristate(cells, fld)
        elif spec.required:
            if fld in k.defaults:
                cells.frame = cells.frame.with_columns(pl.col(fld).fill_null(k.defaults[fld]))
            else:
                cells.problem_rows(pl.col(fld).is_null(), fld, f"empty {fld}", f"the {fld.replace('_', ' ')}")


def _resolve_ai_systems(cells: Cells, systems: pl.DataFrame) -> None:
    cells.problem_rows(pl.col("ai_system_id").is_null(), "ai_system_id", "no AI system named",
                       "the id or name of an AI system of the inventory")
    by_id = systems.select(pl.col("id").str.to_lowercase().alias("_k"), pl.col("id").alias("_a"))
    by_name = systems.select(pl.col("name").str.to_lowercase().alias("_k"), pl.col("id").alias("_b")).unique(
        "_k", keep="first")
    f = (cells.frame.with_columns(pl.col("ai_system_id").str.to_lowercase().alias("_k"))
         .join(by_id, on="_k", how="left", maintain_order="left")
         .join(by_name, on="_k", how="left", maintain_order="left"))
    bad = f.filter(pl.col("ai_system_id").is_not_null() & pl.col("_a").is_null() & pl.col("_b").is_null())
    known = ", ".join(systems["id"].head(10).to_list()) or "none yet: import the AI systems first"
    for r, v in bad.select(ROW, "ai_system_id").iter_rows():
        cells.problems.append(Problem(cells.file, r, cells.labels["ai_system_id"], "unknown AI system", v,
                                      f"the id or name of an AI system of the inventory ({known})"))
    cells.frame = f.with_columns(pl.coalesce("_a", "_b", "ai_system_id").alias("ai_system_id")).drop("_k", "_a", "_b")


def _assign_ids(cells: Cells, k: _Kind, existing: pl.DataFrame, con: Any) -> None:
    f = cells.frame
    if "id" in f.columns:
        cells.problem_rows(pl.col("id").is_null(), "id", "empty ID", "an ID for every row (or no ID column)")
        dup = f.filter(pl.col("id").is_not_null()).with_columns(first=pl.col(ROW).min().over("id"))
        for r, v, first in dup.filter(pl.col(ROW) != pl.col("first")).select(ROW, "id", "first").iter_rows():
            cells.problems.append(Problem(cells.file, r, cells.labels["id"], f"duplicate ID (also in row {first})",
                                          v, "each record once per file"))
        return
    # No ID column: find records by name (or by AI system and title), else make new ids.
    keys = [k.name_field] if k.kind != "assessments" else ["ai_system_id", "title"]
    if any(c not in f.columns for c in keys):
        return
    keyed = f.with_columns(pl.concat_str([pl.col(c).str.to_lowercase() for c in keys], separator="\x1f").alias("_key"))
    dup = keyed.filter(pl.col("_key").is_not_null()).with_columns(first=pl.col(ROW).min().over("_key"))
    label = cells.labels[k.name_field]
    for r, v, first in dup.filter(pl.col(ROW) != pl.col("first")).select(ROW, k.name_field, "first").iter_rows():
        cells.problems.append(Problem(cells.file, r, label, f"the same {k.name_field} twice (also in row {first})",
                                      v, "each record once per file, or an ID column"))
    ex = existing.select(pl.concat_str([pl.col(c).str.to_lowercase() for c in keys], separator="\x1f").alias("_key"),
                         "id").unique("_key", keep="first")
    keyed = keyed.join(ex, on="_key", how="left", maintain_order="left")
    missing = keyed.filter(pl.col("id").is_null())
    if not missing.is_empty():
        if k.kind == "assessments":
            new = records.next_ids(con, "impact_assessments", "IA", missing.height)
        else:
            used = set(existing["id"].to_list())
            new = [records.slug(n, used) for n in missing[k.name_field]]
        ids = dict(zip(missing[ROW].to_list(), new, strict=True))
        keyed = keyed.with_columns(pl.coalesce(pl.col("id"), pl.col(ROW).replace_strict(
            ids, default=None, return_dtype=pl.String)).alias("id"))
    cells.frame = keyed.drop("_key")


def _write(con: Any, cells: Cells, k: _Kind, existing: pl.DataFrame, rep: FileReport, table: Any, actor: str,
           channel: str) -> None:
    fields = [f for f in k.specs if f in cells.frame.columns]
    frame = cells.frame.select(ROW, "id", *fields)
    known_ids = existing.select("id")
    new = frame.join(known_ids, on="id", how="anti", maintain_order="left")
    old = frame.join(known_ids, on="id", how="semi", maintain_order="left")
    changes = pl.DataFrame()
    batch_id = records.next_ids(con, "import_batches", "B", 1)[0]
    if not old.is_empty():
        changes = records.apply_changes(con, k.entity, old.drop(ROW), actor=actor, channel=channel,
                                        batch_id=batch_id, action="update")
        if not changes.is_empty():
            by_id = changes.group_by("id", maintain_order=True).agg(pl.col("field"))
            rows = dict(old.select("id", ROW).iter_rows())
            rep.updated = [{"row": rows[i], "id": i, "fields": fl} for i, fl in by_id.iter_rows()]
    rep.unchanged = old.height - len(rep.updated)
    if not new.is_empty():
        missing_defaults = {f: v for f, v in k.defaults.items() if f not in new.columns}
        ins = new.with_columns([pl.lit(v).alias(f) for f, v in missing_defaults.items()])
        cols = ["id", *fields, *missing_defaults]
        con.register("_ent", ins.select(cols))
        try:
            names = ", ".join(f'"{c}"' for c in cols)
            con.execute(f"INSERT INTO {k.table} ({names}) SELECT {names} FROM _ent")
        finally:
            con.unregister("_ent")
        records.record_history(con, ins.select(
            pl.lit(k.entity).alias("entity"), "id", pl.lit("create").alias("action"),
            pl.struct(fields).struct.json_encode().alias("new_value")), actor=actor, channel=channel,
            batch_id=batch_id)
        rep.created = [{"row": r, "id": i, "name": n} for r, i, n in new.select(ROW, "id", k.name_field).iter_rows()]
    if rep.created or rep.updated:
        rep.batch_id = batch_id
        con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch_id, k.kind, rep.source, Path(table.file).name, table.sha256, table.rows, store.now(),
                     actor])
