"""Commands for the database itself: init, validate, query, backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from engine import crosswalk
from engine.ai import library
from engine.config import db_path
from engine.crosswalk import catalog
from engine.errors import InputError, Problem
from engine.lifecycle import init_database
from engine.store import location_text
from engine.store import query as query_mod

from .base import DbOption, FormatOption, NewDbOption, UncheckedDbOption, app, echo, emit_frame, principal


@app.command()
def init(db: NewDbOption = None) -> None:
    """Create or upgrade the database through numbered migrations and load the catalogs and crosswalks."""
    report = init_database(db)
    shown = location_text(report.path)
    if report.changed:
        done = ", ".join(report.migrations) or "none"
        echo(f"{shown}: migrations applied: {done}; catalog rows written: {report.catalog_rows}; "
             f"mapping rows written: {report.mapping_rows}")
    else:
        echo(f"{shown}: up to date, nothing changed")
    if report.tailorings_to_review:
        echo(f"{report.tailorings_to_review} tailored mapping(s) rest on a record that changed since they were "
             "decided: review them (riskmap tailor list; riskmap audit --rule crosswalk_tailoring_base_changed)")


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Catalog or AI risk scenario (.yaml) or crosswalk (.csv) files; default: every bundled file.",
        dir_okay=False)] = None,
) -> None:
    """Check catalog, crosswalk and AI risk scenario files; print every problem as file:record:field: message."""
    problems = []
    files = list(paths or [])
    if not files:
        files = catalog.catalog_files() + crosswalk.crosswalk_files() + library.scenario_files()
    scenario_files = [p for p in files if p.suffix in (".yaml", ".yml") and library.is_scenario_file(p)]
    cats = [p for p in files if p.suffix in (".yaml", ".yml") and p not in scenario_files]
    walks = [p for p in files if p.suffix == ".csv"]
    for p in files:
        if p not in cats and p not in walks and p not in scenario_files:
            problems.append(f"{p}: not a catalog or scenario (.yaml) or crosswalk (.csv) file")
    index = catalog.reference_index()
    for p in cats:
        try:
            problems.extend(str(x) for x in catalog.validate_catalog(catalog.read_catalog(p), index))
        except InputError as exc:
            problems.extend(str(x) for x in exc.problems)
        except (UnicodeDecodeError, yaml.YAMLError) as exc:  # a file that is not YAML text at all
            problems.append(str(Problem(str(p), None, None, f"cannot read catalog: {exc}",
                                        expected="a UTF-8 YAML catalog")))
    if walks:
        problems.extend(str(x) for x in crosswalk.validate_files(walks))
    if scenario_files:
        problems.extend(str(x) for x in library.validate_files(scenario_files, index))
    for line in problems:
        echo(line)
    if problems:
        raise InputError([], f"{len(problems)} problem(s) in {len(files)} file(s)")
    echo(f"{len(files)} file(s) valid")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="One read-only SELECT statement.")],
    db: DbOption = None,
    fmt: FormatOption = "table",
    max_rows: Annotated[int, typer.Option(help="Row limit.", min=1)] = query_mod.DEFAULT_MAX_ROWS,
    timeout: Annotated[float, typer.Option(help="Time limit in seconds.", min=0.1)] = query_mod.DEFAULT_TIMEOUT,
    memory_limit: Annotated[str, typer.Option(help="Memory the query may use, e.g. 2GB or 500MB.")] = (
        query_mod.DEFAULT_MEMORY_LIMIT),
) -> None:
    """Run read-only SQL on the database. Writes, DDL, ATTACH, COPY, INSTALL/LOAD and files are refused."""
    result = query_mod.run_query(sql, db_path(db), timeout=timeout, max_rows=max_rows, memory_limit=memory_limit,
                                 principal=principal())
    emit_frame(result.frame, fmt)
    if result.truncated:
        typer.echo(f"(truncated at {max_rows} rows)", err=True)


@app.command("backup")
def backup_cmd(
    dest: Annotated[Path, typer.Argument(help="File to write the backup to.", dir_okay=False)],
    db: UncheckedDbOption = None,  # backup checks the source itself and names what is wrong with it
) -> None:
    """Write an exact copy of the database (with a .sha256 checksum beside it)."""
    from engine.store.backup import backup

    digest = backup(db_path(db), dest, actor=principal())
    echo(f"{dest}: backup written, sha256 {digest}")


@app.command("restore")
def restore_cmd(
    src: Annotated[Path, typer.Argument(help="Backup file made by `riskmap backup`.", dir_okay=False)],
    db: NewDbOption = None,
) -> None:
    """Replace the database with a backup; the replaced database is kept beside it."""
    from engine.store.backup import restore

    target = db_path(db)
    kept = restore(src, target, actor=principal())
    echo(f"{location_text(target)}: restored from {src}" + (f"; previous database kept as {kept}" if kept else ""))
