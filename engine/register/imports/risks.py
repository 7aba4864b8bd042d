"""Importing risk registers into the consolidated register (ISO 27001 6.1.2, ISO 42001 6.1.2).

One run imports one or several files in one transaction, in four steps:

1. read and normalise every file (headings, scales, control references, dates...) and collect
   every problem of every file; any problem and nothing is written (``parse``);
2. find each row's risk: by the register's own key (a re-import updates, never duplicates), else
   by recognising the same risk from another register, stored or brought in by an earlier file of
   the run (a merge, recorded in ``risk_merges`` and reversible; rules in ``matching`` and
   ``decide``), else a new risk (``plan``);
3. write in bulk from polars frames (``INSERT ... SELECT``), with lineage (``risk_sources``: the row
   as written, its normalised values, the scale mapping) and history rows (``write`` for new rows
   and lineage, ``apply`` for merges and updates of risks that exist), and the controls proposed for
   the phrases of the control cells, as suggestions a person decides (``phrases``);
4. commit; or, for a dry run, roll everything back and return the same report.

Every file is checked against the import limits (``limits``) before it is read.

A re-import applies only what changed in the source since it was last imported: a field edited in
the app is not overwritten by re-importing an unchanged file, and a file identical to the last
import writes nothing at all. A row's key is its Risk ID (or, without an ID column, its title).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

from engine import access, store
from engine.errors import InputError, Problem
from engine.register.imports import headers as hd

from . import write
from .apply import merge_rows, update_rows
from .context import RunContext
from .controls import resolve_control_cells
from .fields import RECORD_FIELDS as RECORD_FIELDS  # re-exported: engine.register.merges reads it here
from .limits import Limits, check_file
from .parse import ParsedFile, RiskFile, parse_risk_file
from .phrases import attach_controls_text, row_proposals, write_suggestions
from .plan import Plan, plan_run
from .reading import ROW
from .registers import recognise
from .report import FileReport, ImportReport

__all__ = ["RiskFile", "import_risk_files", "import_risks"]

_PARSE_WORKERS = 2


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so everything it did is rolled back."""

    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


def import_risks(db: str | Path | None, path: str | Path, source: str, *, actor: access.Principal | str,
                 channel: str = "import",
                 mapping: str | Path | None = None, framework: str | None = None,
                 management_system: str | None = None, dry_run: bool = False,
                 limits: Limits | None = None) -> ImportReport:
    """Import one risk register (CSV or .xlsx) under the register name ``source``.

    See :func:`import_risk_files`; ``riskmap import risks FILE --source NAME`` calls this.
    """
    return import_risk_files(db, [RiskFile(path, source, mapping, None, management_system)], actor=actor,
                             channel=channel, framework=framework, dry_run=dry_run, limits=limits)


@store.retrying
def import_risk_files(db: str | Path | None, files: list[RiskFile], *, actor: access.Principal | str,
                      channel: str = "import", framework: str | None = None, dry_run: bool = False,
                      limits: Limits | None = None) -> ImportReport:
    """Import several risk registers in one transaction (all of them or nothing).

    ``framework`` is the default framework of bare control references for files that do not set
    one; ``limits`` bound the files (default: :meth:`Limits.from_env`). Raises InputError listing
    every problem of every file; nothing is written then. Files are taken in order: a row of a later
    file can merge into a risk an earlier file brought in. ``actor`` needs the role contributor, in
    the business unit of every risk the run creates, merges or updates (PermissionDenied otherwise,
    and nothing is written).
    """
    framework = _check_run(files, framework)
    _check_sizes(files, limits)
    try:
        with store.transaction(db, bulk=True) as con:
            written = access.WrittenRisks.start(con, actor, "import")
            actor = written.principal
            ctx = RunContext(con, framework, limits)
            parsed, controls, proposals, problems = _parse_run(con, files, ctx)
            if problems:
                order = {str(f.path): i for i, f in enumerate(files)}
                problems.sort(key=lambda x: (order.get(x.file, -1), x.record if isinstance(x.record, int) else 0,
                                             str(x.field)))
                raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
            report = ImportReport("risks", dry_run, _run(con, parsed, controls, proposals, ctx, actor, channel))
            written.check(con)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


def _check_run(files: list[RiskFile], framework: str | None) -> str | None:
    """The run's default framework as an id, after checking the run's own arguments (a framework
    name, one distinct source name per file, at least one file); raises InputError otherwise."""
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
    return framework


def _check_sizes(files: list[RiskFile], limits: Limits | None) -> None:
    """Refuse files larger than the limits before anything else is loaded, so such a refusal costs next
    to no memory (the quick checks; the thorough ones run as each file is read, in the parsing
    threads); the files that are too large are all named at once."""
    problems: list[Problem] = []
    for f in files:
        path = Path(f.path)
        if not path.is_file():
            continue  # the reader says what is wrong with it
        try:
            sheet = hd.load_mapping(f.mapping, "risks").sheet if f.mapping else None
        except InputError:
            sheet = None  # the mapping's own problems are reported with the file's
        try:
            check_file(path, limits or Limits.from_env(), sheet, stage="quick")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems, f"{len(problems)} file(s) too large to import; nothing was imported")


def _parse_run(con: duckdb.DuckDBPyConnection, files: list[RiskFile], ctx: RunContext
               ) -> tuple[list[ParsedFile], pl.DataFrame, pl.DataFrame, list[Problem]]:
    """Every readable file parsed, each recognised as the known register it is when it arrives under a
    new name (``registers``), the control cells of all of them resolved at once (links, and the
    controls proposed for their phrases), and every problem found (an unreadable file or mapping does
    not stop the others being checked)."""
    problems: list[Problem] = []
    parsed: list[ParsedFile] = []
    for outcome in _parse_all(files, ctx):
        if isinstance(outcome, InputError):
            problems.extend(outcome.problems)
        else:
            parsed.append(outcome)
    recognise(con, parsed)
    cells = [p.control_cells for p in parsed if not p.control_cells.is_empty()]
    controls, phrases, cproblems = resolve_control_cells(pl.concat(cells) if cells else pl.DataFrame(),
                                                         ctx.catalog, ctx.successors)
    attach_controls_text(parsed, phrases, ctx.sources_with_text)
    for p in parsed:
        problems.extend(p.problems)
    problems.extend(cproblems)
    return parsed, controls, row_proposals(phrases, controls, ctx.catalog), problems


def _parse_one(spec: RiskFile, ctx: RunContext, index: int) -> ParsedFile | InputError:
    try:
        return parse_risk_file(spec, ctx, index)
    except InputError as exc:
        return exc


def _parse_all(files: list[RiskFile], ctx: RunContext) -> list[ParsedFile | InputError]:
    """Every file parsed (or its InputError), in the order given. Files are independent until the
    run's cross-file steps, and the readers and polars release the GIL, so several are read at once."""
    if len(files) < 2:
        return [_parse_one(spec, ctx, i) for i, spec in enumerate(files)]
    with ThreadPoolExecutor(max_workers=min(_PARSE_WORKERS, len(files))) as pool:
        return list(pool.map(_parse_one, files, [ctx] * len(files), range(len(files))))


def _run(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile], controls: pl.DataFrame,
         proposals: pl.DataFrame, ctx: RunContext, actor: str, channel: str) -> list[FileReport]:
    """Plan the run and carry it out; one report per file, in file order."""
    reps = [FileReport(p.file, p.spec.source, "risks", rows=p.rows, notes=list(p.notes), warnings=list(p.warnings),
                       scales=list(p.scales))
            for p in parsed]
    plan = plan_run(con, parsed, controls, ctx)
    for p, rep, gone in zip(parsed, reps, plan.missing, strict=True):
        rep.missing = gone
        rep.unchanged = plan.unchanged[p.index]
    if not plan.touched:
        return reps  # every file is exactly as last imported: write nothing

    batches = write.open_batches(con, plan.touched)
    creating, merging = write.name_new_risks(con, plan.creating, plan.merging, batches)
    when = store.now()
    write.insert_batches(con, parsed, batches, when, actor)
    write.insert_entities(con, plan.created, batches.frame, actor, channel)
    write.create_risks(con, creating, controls, plan.links, ctx.matrix.version or 1, when, actor, channel)
    merging = merge_rows(con, merging, parsed, ctx, controls, plan.links, batches, when, actor, channel)
    updated = update_rows(con, plan.changed, parsed, ctx, controls, batches, actor, channel)
    write.write_lineage(con, parsed, plan.known, creating, merging, batches)
    suggested = write_suggestions(con, proposals, _risk_of_row(plan, creating, merging), batches.frame, when,
                                  actor, channel)

    _report_writes(reps, plan.created, creating, merging, updated)
    _report_suggestions(reps, suggested)
    for i, b in batches.ids.items():
        reps[i].batch_id = b
    _report_translations(reps, parsed, controls)
    return reps


def _report_writes(reps: list[FileReport], created: dict[str, pl.DataFrame], creating: pl.DataFrame,
                   merging: pl.DataFrame, updated: dict[int, list[dict]]) -> None:
    """Per file: the assets and AI systems it created, its new, merged and updated rows."""
    for fld, attr in (("assets", "new_assets"), ("ai_systems", "new_ai_systems")):
        for i, ids in created[fld].group_by("_file").agg("id").iter_rows():
            setattr(reps[i], attr, ids)
    if not creating.is_empty():
        for (i,), part in creating.select("_file", ROW, "risk_id", "title").partition_by(
                "_file", as_dict=True, maintain_order=True).items():
            reps[i].created = [{"row": r, "id": k, "title": t} for r, k, t in
                               zip(part[ROW].to_list(), part["risk_id"].to_list(), part["title"].to_list(), strict=True)]
    if not merging.is_empty():
        for (i,), part in merging.partition_by("_file", as_dict=True, maintain_order=True).items():
            reps[i].merged = [{"row": r, "risk_id": k, "merge_id": m, "similarity": s, "reason": why}
                              for r, k, m, s, why in part.select(ROW, "kept", "merge_id", "similarity", "reason")
                              .iter_rows()]
    for i, rows in updated.items():
        reps[i].unchanged += sum(1 for u in rows if not u["fields"])  # only the lineage differs
        reps[i].updated = [u for u in rows if u["fields"]]


def _risk_of_row(plan: Plan, creating: pl.DataFrame, merging: pl.DataFrame) -> pl.DataFrame:
    """(_file, _row, risk_id) of every row of the run: the risk it created, joined or was before."""
    parts = [creating.select("_file", ROW, "risk_id"), plan.known.select("_file", ROW, "risk_id")]
    if not merging.is_empty():
        parts.append(merging.select("_file", ROW, pl.col("kept").alias("risk_id")))
    return pl.concat(parts)


def _report_suggestions(reps: list[FileReport], suggested: pl.DataFrame) -> None:
    """Per file: the controls proposed for its phrases, for the person to accept or reject."""
    if suggested.is_empty():
        return
    for (i,), part in suggested.partition_by("_file", as_dict=True, maintain_order=True).items():
        reps[i].suggested = [{"row": r, "id": sid, "risk_id": rid, "phrase": ph, "control": f"{fw}:{ref}",
                              "score": sc} for r, sid, rid, ph, fw, ref, sc in
                             part.select(ROW, "id", "risk_id", "phrase", "framework", "ref", "score").iter_rows()]


def _report_translations(reps: list[FileReport], parsed: list[ParsedFile], controls: pl.DataFrame) -> None:
    """Per file: every 27001:2013 reference translated to 27001:2022, as written and as stored."""
    translated = controls.filter(pl.col("translated_from").is_not_null()).select(
        "_file", ROW, "framework", "ref", "as_written")
    translated_of = {f: part for (f,), part in translated.partition_by("_file", as_dict=True,
                                                                      maintain_order=True).items()}
    for rep, p in zip(reps, parsed, strict=True):
        part = translated_of.get(p.index)
        rep.translated = [] if part is None else [
            {"row": r, "as_written": a, "ref": f"{fw}:{ref}"}
            for r, fw, ref, a in part.select(ROW, "framework", "ref", "as_written").iter_rows()]
