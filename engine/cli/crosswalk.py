"""Crosswalk commands: counterparts, coverage, gaps, inference depth and the crosswalk export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.config import FRAMEWORKS, ISO27001, ISO42001, db_path
from engine.crosswalk import coverage, set_depth
from engine.crosswalk.refs import parse_control

from .base import DbOption, FormatOption, actor_name, app, echo, emit_frame, export_app, one_of

_framework = one_of(FRAMEWORKS)
_FW_HELP = " (" + ", ".join(FRAMEWORKS) + ")"


@app.command()
def counterparts(
    control: Annotated[str, typer.Argument(help="framework:ref, e.g. iso27001-2013:A.12.4.1")],
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Every counterpart of one control, with relationship, strength, justification and path."""
    fw, ref = parse_control(control)
    emit_frame(coverage.counterparts(db_path(db), fw, ref), fmt)


@app.command("coverage")
def coverage_cmd(
    framework: Annotated[str, typer.Option("--framework", help="Framework whose controls are covered" + _FW_HELP,
                                           callback=_framework)] = ISO42001,
    by: Annotated[str, typer.Option("--by", help="Framework that covers them" + _FW_HELP,
                                    callback=_framework)] = ISO27001,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """How far each control of one framework is covered by another (v_coverage)."""
    frame = coverage.coverage_frame(db_path(db), framework, by)
    emit_frame(frame, fmt)
    if fmt == "table":
        counts = frame.group_by("coverage").len().sort("coverage")
        echo("  ".join(f"{r['coverage']}: {r['len']}" for r in counts.iter_rows(named=True)))


@app.command()
def gaps(
    source: Annotated[str, typer.Option("--from", help="Framework already implemented" + _FW_HELP,
                                        callback=_framework)] = ISO27001,
    target: Annotated[str, typer.Option("--to", help="Framework to reach" + _FW_HELP,
                                        callback=_framework)] = ISO42001,
    implemented: Annotated[Path | None, typer.Option(
        "--implemented", help="File listing the implemented refs of --from, one per line (or a CSV with a "
        "'ref' column). Default: the SoA rows marked implemented and not excluded.",
        dir_okay=False)] = None,
    clauses: Annotated[bool, typer.Option("--clauses/--annex-a-only", help="Include clauses.")] = False,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """What remains for --to once the implemented controls of --from are in place, with coverage %."""
    path = db_path(db)
    refs = None
    label = "the SoA"
    if implemented is not None:
        refs = coverage.read_implemented_file(implemented, source)
        label = str(implemented)
    else:
        refs = coverage.implemented_from_soa(path, source)
    report = coverage.gaps(path, source, target, refs, include_clauses=clauses, implemented_label=label)
    emit_frame(report.rows, fmt)
    if fmt == "table":
        echo(f"{target} covered by {len(report.implemented)} implemented {source} control(s): "
             f"{report.full} full, {report.partial} partial, {report.none} none of {report.total}; "
             f"fully covered {report.full_pct}%, at least partly {report.covered_pct}%")


@app.command()
def depth(
    value: Annotated[int, typer.Argument(help="Inference depth: 1 = authored and inverse links only.")],
    db: DbOption = None,
) -> None:
    """Set the crosswalk inference depth and rebuild the inferred links."""
    set_depth(db_path(db), value, actor=actor_name(None), channel="cli")
    echo(f"inference depth set to {value}; links rebuilt")


@export_app.command("crosswalk")
def export_crosswalk(
    fmt: Annotated[str, typer.Option("--format", help="csv, json or xlsx")] = "csv",
    out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)] = Path("crosswalk.csv"),
    db: DbOption = None,
) -> None:
    """Write v_crosswalk (authored, inverse and inferred links) as CSV, JSON or Excel."""
    n = coverage.export_crosswalk(db_path(db), fmt, out)
    echo(f"{out}: {n} links written")
