"""Crosswalk commands: counterparts, coverage, gaps, inference depth, the crosswalk and OSCAL exports, and
imports of OSCAL mapping collections and CISO Assistant libraries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.config import FRAMEWORKS, ISO27001, ISO42001, db_path
from engine.crosswalk import coverage, imported, oscal, set_depth
from engine.crosswalk.refs import parse_control

from .base import (
    ActorOption,
    DbOption,
    FormatOption,
    actor_name,
    app,
    echo,
    emit_frame,
    export_app,
    import_app,
    one_of,
)

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


_ESTIMATE_HELP = "\n\n" + coverage.ESTIMATE_DEFINITION


@app.command("coverage", help="How far each control of one framework is covered by another (v_coverage): "
             "the table, then the Annex A counts fully, partly and not covered, by every control of --by and by "
             "those the SoA marks implemented, each with the strength-weighted estimate of the work done."
             + _ESTIMATE_HELP)
def coverage_cmd(
    framework: Annotated[str, typer.Option("--framework", help="Framework whose controls are covered" + _FW_HELP,
                                           callback=_framework)] = ISO42001,
    by: Annotated[str, typer.Option("--by", help="Framework that covers them" + _FW_HELP,
                                    callback=_framework)] = ISO27001,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    frame = coverage.coverage_frame(db_path(db), framework, by)
    emit_frame(frame, fmt)
    if fmt == "table":
        summary = coverage.coverage_summary(db_path(db), framework, by)
        echo(summary.crosswalk.sentence(f"{framework} Annex A controls by every {by} control"))
        echo(summary.implemented.sentence(f"{framework} Annex A controls by the {by} controls the SoA marks "
                                          "implemented"))
        echo("(what the estimate means: riskmap coverage --help)")


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
    """What remains for --to once the implemented controls of --from are in place: the controls fully,
    partly and not covered, and the strength-weighted estimate of the work done (riskmap coverage --help)."""
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
        echo(report.counts.sentence(f"{target} by {len(report.implemented)} implemented {source} control(s)"))


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


@export_app.command("oscal")
def export_oscal_cmd(
    directory: Annotated[Path, typer.Argument(help="Directory to write the OSCAL files to (created if missing).",
                                              file_okay=False)],
    db: DbOption = None,
) -> None:
    """OSCAL 1.2: id-and-title catalogs of both standards, the crosswalk in force as a mapping-collection, and
    the applicable controls of the latest approved SoA version as a profile."""
    result = oscal.export_oscal(db_path(db), directory)
    for role, path in result.files.items():
        echo(f"{path}: {role}")
    for note in result.notes:
        echo(f"note: {note}")


DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")]
StrengthOption = Annotated[int | None, typer.Option(
    "--default-strength", min=1, max=10, help="Strength (1-10) of records that give none.")]


def _print_import(report: imported.ImportReport, file: Path) -> None:
    would = "would be " if report.dry_run else ""
    if report.mode == "tailored":
        echo(f"{file}: {report.mappings} tailored record(s) {would}written" +
             (f" ({', '.join(report.tailored)})" if report.tailored else ""))
    else:
        echo(f"{file}: {report.mappings} mapping record(s) {would}imported as {report.source}"
             + (f"; {report.shadowed} of them beneath a shipped or tailored record, which wins" if report.shadowed
                else ""))
    if report.frameworks:
        echo(f"frameworks {would}loaded: {', '.join(report.frameworks)} ({report.controls} controls)")
    if report.unmatched:
        echo(f"{len(report.unmatched)} requirement(s) of a shipped framework not in riskmap's catalog, left out: "
             + "; ".join(report.unmatched))
    for note in report.notes:
        echo(f"note: {note}")


@import_app.command("mapping")
def import_mapping_cmd(
    file: Annotated[Path, typer.Argument(help="An OSCAL mapping-collection (JSON).", dir_okay=False)],
    as_: Annotated[str, typer.Option("--as", help="extra: an extra crosswalk beside the shipped one (a shipped or "
                                     "tailored record wins for its pair); tailored: the organisation's tailoring, "
                                     "which wins over the shipped record.",
                                     callback=one_of(("extra", "tailored")))] = "extra",
    source_framework: Annotated[str | None, typer.Option(
        "--source-framework", help="Framework of the source catalog, when the file does not say.")] = None,
    target_framework: Annotated[str | None, typer.Option(
        "--target-framework", help="Framework of the target catalog, when the file does not say.")] = None,
    default_strength: StrengthOption = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Load an OSCAL mapping-collection as an extra or tailored crosswalk; every problem is listed."""
    given = {k: v for k, v in (("source", source_framework), ("target", target_framework)) if v}
    report = imported.import_mapping(db_path(db), file, as_tailoring=as_ == "tailored", frameworks=given,
                                     default_strength=default_strength, dry_run=dry_run, actor=actor_name(actor),
                                     channel="cli")
    _print_import(report, file)


@import_app.command("library")
def import_library_cmd(
    file: Annotated[Path, typer.Argument(help="A CISO Assistant library file (YAML).", dir_okay=False)],
    default_strength: StrengthOption = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Load a CISO Assistant library: its frameworks (with their copyright header) and mapping sets."""
    report = imported.import_library(db_path(db), file, default_strength=default_strength, dry_run=dry_run,
                                     actor=actor_name(actor), channel="cli")
    _print_import(report, file)
