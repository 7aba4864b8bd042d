"""Importing a treatment plan kept in a spreadsheet (ISO 27001 6.1.3 e, ISO 42001 6.1.3 g).

``riskmap import actions FILE [--mapping FILE] [--dry-run]`` reads an action plan as teams keep it:
one row per action with its title, owner, due date, status (``Not started``, ``In progress``,
``Complete``...), effort (``15``, ``15 days``, ``3 weeks``, ``20h``), the risks it treats and the
controls it implements. Risks are named by the register's own ids (``ISR-003``, as the imported
registers wrote them) or by riskmap's (``R-0003``); controls as registers write them, several per
cell, in one column or one per standard (``ISO 27001:2022 Controls``, ``ISO 42001 Controls``); a
27001:2013 reference becomes its 2022 successor(s).

An action's id is the file's Action ID when it has one (a re-import updates that action), else the
action of the same title is updated, else a new ``A-NNN`` id is given. Updating changes only what
differs, through the one write path with history; each value that differs from what riskmap held is
listed. The risks and controls of a column the file has replace the action's links (each link and
unlink in the history). All or nothing, every problem reported at once, and a dry run.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from engine import records, store
from engine.config import ISO27001
from engine.errors import InputError, Problem
from engine.records.vocab import vocabulary
from engine.register.imports import headers as hd
from engine.register.imports.controls import reference_frames, resolve_control_cells
from engine.register.imports.limits import Limits
from engine.register.imports.normalise import Cells, normalise_date, normalise_enum
from engine.register.imports.reading import ROW, Table, read_table
from engine.register.imports.report import FileReport, ImportReport
from engine.register.suggest import propose

from .actions import ACTION

__all__ = ["ACTION_STATUS_WORDS", "import_actions", "parse_effort"]

ACTION_STATUS_WORDS = vocabulary({
    "planned": "not started|to do|todo|open|new|proposed|scheduled|backlog|pending|on hold|not yet started",
    "in_progress": "in progress|in-progress|ongoing|started|wip|underway|under way|active|doing|in hand",
    "done": "complete|completed|closed|finished|implemented|delivered|resolved",
    "cancelled": "canceled|dropped|withdrawn|abandoned|rejected|won't do|not needed|superseded",
})
"""How action plans write an action's status."""

_EFFORT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(d|day|days|pd|person[- ]?days?|man[- ]?days?|md|w|wk|wks|week|weeks|"
                     r"h|hr|hrs|hour|hours|m|month|months)?\s*$", re.I)
_PER_UNIT = {"w": 5, "wk": 5, "wks": 5, "week": 5, "weeks": 5, "h": 1 / 8, "hr": 1 / 8, "hrs": 1 / 8, "hour": 1 / 8,
             "hours": 1 / 8, "m": 20, "month": 20, "months": 20}


def parse_effort(text: str) -> float:
    """Person-days from ``15``, ``15 days``, ``3 weeks`` (5 days each), ``20h`` (8 hours a day), ``2 months``
    (20 days each); ValueError otherwise or when not above zero."""
    m = _EFFORT.match(str(text))
    if not m:
        raise ValueError("not an effort")
    days = float(m.group(1).replace(",", ".")) * _PER_UNIT.get((m.group(2) or "d").lower(), 1)
    if days <= 0:
        raise ValueError("not above zero")
    return round(days, 3)


class _DryRun(Exception):
    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


def import_actions(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                   mapping: str | Path | None = None, dry_run: bool = False,
                   limits: Limits | None = None) -> ImportReport:
    """Import a treatment plan (CSV or .xlsx); see the module docstring. Raises InputError listing
    every problem (nothing is written then); returns what was, or would be, created and updated."""
    maps = hd.load_mapping(mapping, "actions") if mapping else None
    table = read_table(path, maps.sheet if maps else None, limits)
    cols = hd.resolve_columns(table, "actions", maps)
    rep = FileReport(table.file, Path(path).stem, "actions", rows=table.rows)
    if cols.unrecognised:
        rep.notes.append("columns not recognised (ignored): " + ", ".join(cols.unrecognised))
    try:
        with store.transaction(db, bulk=True) as con:
            cells = Cells(table.file, table.frame.select(
                ROW, *[pl.col(f"c{i}").alias(f) for f, i in cols.fields.items() if f not in ("controls", "risks")]),
                {f: cols.labels[i] for f, i in cols.fields.items()})
            cells.problems.extend(cols.problems)
            _normalise(cells, maps.date_format if maps else None)
            risk_links = _risk_links(con, table, cols, cells)
            control_links = _control_links(con, table, cols, cells)
            existing = con.execute("SELECT * FROM actions").pl()
            _assign_ids(con, cells, existing)
            if cells.problems:
                raise InputError(cells.problems, f"{len(cells.problems)} problem(s) found; nothing was imported")
            _write(con, cells, existing, risk_links, control_links, rep, table, actor, channel)
            report = ImportReport("actions", dry_run, [rep])
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


def _normalise(cells: Cells, date_format: str | None) -> None:
    if cells.has("title"):
        cells.problem_rows(pl.col("title").is_null(), "title", "empty title", "the action's title")
    normalise_enum(cells, "status", ACTION_STATUS_WORDS, default="planned")
    normalise_date(cells, "due_date", date_format)
    if cells.has("effort"):
        cells.map_distinct("effort", parse_effort, pl.Float64, "not an effort in person-days",
                           "a number of days above zero, e.g. 15, 15 days, 3 weeks or 20h")


def _keys(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"\s*[;,\n|/]+\s*|\s+and\s+", "\x1f").str.split("\x1f")


def _risk_links(con: duckdb.DuckDBPyConnection, table: Table, cols: hd.Columns, cells: Cells) -> pl.DataFrame | None:
    """(_row, risk_id) of every risk the rows name, by riskmap id or by a register's own id; None when
    the file has no risks column. A register id two risks share, or one no import has, is a problem."""
    if "risks" not in cols.fields:
        return None
    label = cols.label("risks")
    named = (table.frame.select(ROW, _keys(pl.col(f"c{cols.fields['risks']}")).alias("key")).explode("key")
             .with_columns(pl.col("key").str.strip_chars()).filter(pl.col("key").is_not_null() & (pl.col("key") != "")))
    known = con.execute("SELECT id AS key, id AS risk_id, 1 AS n FROM risks UNION ALL "
                        "SELECT source_key, min(risk_id), count(DISTINCT risk_id) FROM risk_sources "
                        "WHERE source_key IS NOT NULL AND source_key NOT IN (SELECT id FROM risks) "
                        "GROUP BY source_key").pl()
    hit = named.join(known, on="key", how="left", maintain_order="left")
    for r, key in hit.filter(pl.col("risk_id").is_null()).select(ROW, "key").iter_rows():
        cells.problems.append(Problem(cells.file, r, label, "no risk has this id", key,
                                      "a riskmap risk id (R-0001) or a risk id of an imported register"))
    for r, key, n in hit.filter(pl.col("n") > 1).select(ROW, "key", "n").iter_rows():
        cells.problems.append(Problem(cells.file, r, label, f"{n} imported risks have this register id", key,
                                      "the riskmap risk id (R-0001) of the one meant"))
    return hit.filter(pl.col("risk_id").is_not_null() & (pl.col("n") == 1)).select(ROW, "risk_id").unique(
        maintain_order=True)


def _control_links(con: duckdb.DuckDBPyConnection, table: Table, cols: hd.Columns,
                   cells: Cells) -> pl.DataFrame | None:
    """(_row, framework, ref) of every control the rows name; None when the file has no controls
    column. Words that are not a control are a problem whose expected value names the likely control."""
    columns = cols.columns_of("controls")
    if not columns:
        return None
    parts = [table.frame.select(pl.lit(0, pl.Int32).alias("_file"), pl.lit(table.file).alias("file"), ROW,
                                pl.lit(cols.labels[i]).alias("column"), pl.lit("existing").alias("status"),
                                pl.col(f"c{i}").alias("text"), pl.lit(cols.frameworks.get(i, ISO27001)).alias("default_fw"))
             for i in columns]
    catalog, successors = reference_frames(con)
    links, phrases, problems = resolve_control_cells(pl.concat(parts), catalog, successors)
    cells.problems.extend(problems)
    if not phrases.is_empty():
        hints = propose(phrases["phrase"].unique().to_list(), catalog)
        best: dict[str, str] = {}
        for p, fw, ref in hints.select("phrase", "framework", "ref").iter_rows():
            best.setdefault(p, f"{fw}:{ref}")
        for r, column, phrase in phrases.select(ROW, "column", "phrase").iter_rows():
            hint = f" (perhaps {best[phrase]})" if phrase in best else ""
            cells.problems.append(Problem(cells.file, r, column, "not a control reference", phrase,
                                          f"an Annex A control such as A.8.5{hint}"))
    return links.select(ROW, "framework", "ref").unique(maintain_order=True)


def _assign_ids(con: duckdb.DuckDBPyConnection, cells: Cells, existing: pl.DataFrame) -> None:
    """Each row's action id: the file's Action ID, else the stored action of the same title, else new."""
    f = cells.frame
    key = "source_key" if "source_key" in f.columns else "title"
    if key not in f.columns:
        return
    dup = f.filter(pl.col(key).is_not_null()).with_columns(first=pl.col(ROW).min().over(pl.col(key).str.to_lowercase()))
    for r, v, first in dup.filter(pl.col(ROW) != pl.col("first")).select(ROW, key, "first").iter_rows():
        cells.problems.append(Problem(cells.file, r, cells.labels[key], f"the same {'id' if key == 'source_key' else 'title'}"
                                      f" twice (also in row {first})", v, "each action once"))
    if key == "source_key":
        cells.problem_rows(pl.col("source_key").is_null(), "source_key", "empty action id",
                           "an id for every action (or no ID column)")
        cells.frame = f.rename({"source_key": "id"})
        return
    by_title = existing.select(pl.col("title").str.to_lowercase().alias("_t"), "id").unique("_t", keep="first")
    f = f.with_columns(pl.col("title").str.to_lowercase().alias("_t")).join(by_title, on="_t", how="left",
                                                                             maintain_order="left").drop("_t")
    new = f.filter(pl.col("id").is_null())[ROW].to_list()
    ids = dict(zip(new, records.next_ids(con, "actions", "A", len(new), width=3), strict=True))
    cells.frame = f.with_columns(pl.coalesce("id", pl.col(ROW).replace_strict(ids, default=None,
                                                                              return_dtype=pl.String)).alias("id"))


_FIELDS = ("title", "description", "owner", "due_date", "status", "effort")


def _write(con: duckdb.DuckDBPyConnection, cells: Cells, existing: pl.DataFrame, risk_links: pl.DataFrame | None,
           control_links: pl.DataFrame | None, rep: FileReport, table: Table, actor: str, channel: str) -> None:
    """New actions in bulk, changed ones through the write path, links replaced where the file has them."""
    batch = records.next_ids(con, "import_batches", "B", 1)[0]
    fields = [f for f in _FIELDS if f in cells.frame.columns]
    frame = cells.frame.select(ROW, "id", *fields)
    new = frame.join(existing.select("id"), on="id", how="anti", maintain_order="left")
    old = frame.join(existing.select("id"), on="id", how="semi", maintain_order="left")
    _create(con, new, fields, batch, actor, channel)
    rep.created = [{"row": r, "id": i, "title": t} for r, i, t in new.select(ROW, "id", "title").iter_rows()]
    changed = _update(con, old, existing, fields, batch, rep, actor, channel)
    rows = frame.select(ROW, "id")
    linked = set()
    for kind, links, table_name, cols in (("risk", risk_links, "action_risks", ["risk_id"]),
                                          ("control", control_links, "action_controls", ["framework", "ref"])):
        if links is not None:
            linked |= _relink(con, rows, links, kind, table_name, cols, set(new["id"].to_list()), batch, actor,
                              channel)
    for aid in sorted(linked - changed - set(new["id"].to_list())):
        records.bump(con, ACTION, aid)
        rep.updated.append({"row": dict(rows.select("id", ROW).iter_rows())[aid], "id": aid, "fields": ["links"]})
    rep.unchanged = old.height - len(rep.updated)
    if rep.created or rep.updated:
        rep.batch_id = batch
        con.execute("INSERT INTO import_batches VALUES (?, 'actions', ?, ?, ?, ?, ?, ?)",
                    [batch, rep.source, Path(table.file).name, table.sha256, table.rows, store.now(), actor])


def _create(con: duckdb.DuckDBPyConnection, new: pl.DataFrame, fields: list[str], batch: str, actor: str,
            channel: str) -> None:
    if new.is_empty():
        return
    when = store.now()
    ins = new.with_columns(pl.lit("planned").alias("status")) if "status" not in fields else new
    cols = ["id", *dict.fromkeys([*fields, "status"])]
    con.register("_act", ins.select(cols))
    try:
        names = ", ".join(cols)
        con.execute(f"INSERT INTO actions ({names}, created_at, updated_at) SELECT {names}, ?, ? FROM _act",
                    [when, when])
    finally:
        con.unregister("_act")
    records.record_history(con, new.select(pl.lit("action").alias("entity"), "id", pl.lit("create").alias("action"),
                                           pl.lit("title").alias("field"), pl.col("title").alias("new_value")),
                           actor=actor, channel=channel, batch_id=batch)


def _update(con: duckdb.DuckDBPyConnection, old: pl.DataFrame, existing: pl.DataFrame, fields: list[str],
            batch: str, rep: FileReport, actor: str, channel: str) -> set[str]:
    """Apply the fields that differ to actions riskmap has; returns the ids changed."""
    if old.is_empty() or not fields:
        return set()
    frame = old.select("id", *fields).with_columns(
        [pl.col(f).cast(existing.schema[f]) for f in fields if f in existing.columns])
    changes = records.apply_changes(con, ACTION, frame, actor=actor, channel=channel, batch_id=batch,
                                    current=existing.select("id", "version", *fields))
    if changes.is_empty():
        return set()
    rows = dict(old.select("id", ROW).iter_rows())
    for i, part in changes.partition_by("id", as_dict=True, maintain_order=True).items():
        rep.updated.append({"row": rows[i[0]], "id": i[0], "fields": part["field"].to_list()})
    rep.differences += [{"row": rows[i], "id": i, "field": f, "stored": o, "imported": n}
                        for i, f, o, n in changes.select("id", "field", "old_value", "new_value").iter_rows()
                        if o is not None]
    return set(changes["id"].to_list())


def _relink(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, links: pl.DataFrame, kind: str, table: str,
            cols: list[str], new_ids: set[str], batch: str, actor: str, channel: str) -> set[str]:
    """Make each action's links of one kind those of its row: add the missing, remove the others (not
    for actions new in this run, which have none), with a history row each; returns the ids changed."""
    want = links.join(rows, on=ROW).select(pl.col("id").alias("action_id"), *cols).unique()
    con.register("_ids", rows.select(pl.col("id").alias("action_id")))
    try:
        have = con.execute(f"SELECT action_id, {', '.join(cols)} FROM {table} WHERE action_id IN "
                           "(SELECT action_id FROM _ids)").pl()
    finally:
        con.unregister("_ids")
    add = want.join(have, on=["action_id", *cols], how="anti") if not have.is_empty() else want
    drop = have.join(want, on=["action_id", *cols], how="anti") if not have.is_empty() else have
    for frame, verb in ((add, "link"), (drop, "unlink")):
        if frame.is_empty():
            continue
        con.register("_lk", frame.select("action_id", *cols))
        try:
            if verb == "link":
                con.execute(f"INSERT INTO {table} (action_id, {', '.join(cols)}) SELECT * FROM _lk")
            else:
                names = ", ".join(["action_id", *cols])
                con.execute(f"DELETE FROM {table} WHERE ({names}) IN (SELECT ({names}) FROM _lk)")
        finally:
            con.unregister("_lk")
        value = pl.col("risk_id") if kind == "risk" else pl.col("framework") + ":" + pl.col("ref")
        records.record_history(con, frame.select(
            pl.lit("action").alias("entity"), pl.col("action_id").alias("id"), pl.lit(verb).alias("action"),
            pl.lit(kind).alias("field"), value.alias("new_value" if verb == "link" else "old_value")),
            actor=actor, channel=channel, batch_id=batch)
    return set(add["action_id"].to_list()) | set(drop["action_id"].to_list())
