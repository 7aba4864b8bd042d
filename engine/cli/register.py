"""Register commands: imports, the risk matrix, rescoring, merges and single risks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import typer
import yaml

from engine import register
from engine.errors import InputError, Problem
from engine.register import vocab
from engine.register.imports import ImportReport, RiskFile

from .base import (
    DbOption,
    FormatOption,
    UncheckedDbOption,
    app,
    check_db,
    echo,
    emit_frame,
    import_app,
    one_of,
    principal,
)
from .imports import (
    DryRunOption,
    LimitOption,
    MappingOption,
    ProblemsOption,
    limits_of,
    print_report,
    problems_to,
)

matrix_app = typer.Typer(help="The risk matrix (risk criteria): show it or record a new version.",
                         no_args_is_help=True)
merges_app = typer.Typer(help="Risks recognised in two registers and merged by imports: list them, undo one.")
risk_app = typer.Typer(help="Risks of the register: list, show one, change a field.", no_args_is_help=True)
app.add_typer(matrix_app, name="matrix")
app.add_typer(merges_app, name="merges")
app.add_typer(risk_app, name="risk")

_management_system = one_of(dict.fromkeys(vocab.MANAGEMENT_SYSTEMS.values()), spellings=vocab.MANAGEMENT_SYSTEMS,
                            normalise=vocab.clean)
_risk_status = one_of(dict.fromkeys(vocab.RISK_STATUSES.values()), spellings=vocab.RISK_STATUSES,
                      normalise=vocab.clean)


# -- imports --------------------------------------------------------------------------------------------

@import_app.command("risks")
def import_risks_cmd(
    files: Annotated[list[Path], typer.Argument(help="Risk registers (.csv or .xlsx); several import in one "
                                                     "transaction, all or nothing.", dir_okay=False)],
    source: Annotated[str | None, typer.Option(
        "--source", help="The register's name, kept in the lineage (default: the file name without extension; "
                         "give it only with a single file).")] = None,
    mapping: MappingOption = None,
    framework: Annotated[str | None, typer.Option(
        "--framework", help="Default framework of bare control references such as A.5.1: iso27001-2022, "
                            "iso42001-2023 or iso27001-2013 (default: by the row's management system).")] = None,
    management_system: Annotated[str | None, typer.Option(
        "--management-system", help="ISMS, AIMS or both for every row (default: a Management system column, "
                                    "else AIMS when the file has AI columns, else ISMS).")] = None,
    dry_run: DryRunOption = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every new, merged and updated row.")] = False,
    limit: LimitOption = None,
    problems: ProblemsOption = None,
    db: DbOption = None,
) -> None:
    """Import risk registers into the consolidated register (new risks, merges, updates by source key)."""
    if source is not None and len(files) > 1:
        raise InputError([Problem("--source", None, None, "--source names one register but several files "
                                  "were given", source, "one file with --source, or several files without it")])
    specs = [RiskFile(f, source or f.stem, mapping, None, management_system) for f in files]
    with problems_to(problems):
        report = register.import_risk_files(db, specs, actor=principal(), channel="cli", framework=framework,
                                            dry_run=dry_run, limits=limits_of(limit))
    print_report(report, verbose, problems)


def _entity_import(kind: str, path: Path, mapping: Path | None, dry_run: bool, db: str | Path | None,
                   limit: list[str] | None, problems: Path | None) -> None:
    fn = {"assets": register.import_assets, "ai_systems": register.import_ai_systems,
          "assessments": register.import_assessments}[kind]
    with problems_to(problems):
        report: ImportReport = fn(db, path, actor=principal(), channel="cli", mapping=mapping,
                                  dry_run=dry_run, limits=limits_of(limit))
    print_report(report, dry_run, problems)


@import_app.command("assets")
def import_assets_cmd(path: Annotated[Path, typer.Argument(help="Asset inventory (.csv or .xlsx).",
                                                                            dir_okay=False)],
                      mapping: MappingOption = None, dry_run: DryRunOption = False, limit: LimitOption = None,
                      problems: ProblemsOption = None, db: DbOption = None) -> None:
    """Import the asset inventory; existing assets (by ID, else by name) are updated."""
    _entity_import("assets", path, mapping, dry_run, db, limit, problems)


@import_app.command("ai-systems")
def import_ai_systems_cmd(path: Annotated[Path, typer.Argument(
                              help="AI system inventory (.csv or .xlsx).", dir_okay=False)],
                          mapping: MappingOption = None, dry_run: DryRunOption = False, limit: LimitOption = None,
                          problems: ProblemsOption = None, db: DbOption = None) -> None:
    """Import the AI system inventory (ISO 42001 A.4, A.6); existing systems are updated."""
    _entity_import("ai_systems", path, mapping, dry_run, db, limit, problems)


@import_app.command("assessments")
def import_assessments_cmd(path: Annotated[Path, typer.Argument(
                               help="Impact assessments (.csv or .xlsx).", dir_okay=False)],
                           mapping: MappingOption = None, dry_run: DryRunOption = False, limit: LimitOption = None,
                           problems: ProblemsOption = None, db: DbOption = None) -> None:
    """Import AI system impact assessments (ISO 42001 6.1.4, 8.4); each must name a known AI system."""
    _entity_import("assessments", path, mapping, dry_run, db, limit, problems)


# -- the matrix -----------------------------------------------------------------------------------------

def _matrix_lines(spec: register.MatrixSpec) -> list[str]:
    out = [f"risk matrix version {spec.version}: {spec.size}x{spec.size}, appetite {spec.appetite} "
           f"(scores up to {spec.appetite} are accepted without treatment)"]
    if spec.created_at:
        out.append(f"recorded {spec.created_at:%Y-%m-%d %H:%M} by {spec.created_by}" +
                   (f": {spec.note}" if spec.note else ""))
    out.append("likelihood: " + ", ".join(f"{i} {x}" for i, x in enumerate(spec.likelihood_labels, 1)))
    out.append("impact:     " + ", ".join(f"{i} {x}" for i, x in enumerate(spec.impact_labels, 1)))
    out.append("levels:     " + ", ".join(f"{n} from {t} ({c})" for n, t, c in
                                          zip(spec.level_names, spec.level_thresholds, spec.level_colours,
                                              strict=True)))
    width = max(len(n) for n in spec.level_names) + 4
    out.append("")
    out.append("likelihood \\ impact".ljust(22) + "".join(str(i).ljust(width) for i in range(1, spec.size + 1)))
    for li in range(spec.size, 0, -1):
        cells = "".join(f"{li * im} {spec.level(li * im)}".ljust(width) for im in range(1, spec.size + 1))
        out.append(f"{li} {spec.likelihood_labels[li - 1]}".ljust(22) + cells)
    return out


@matrix_app.command("show")
def matrix_show(
    version: Annotated[int | None, typer.Option("--version", help="A past version (default: current).")] = None,
    fmt: Annotated[Literal["text", "yaml"], typer.Option(
        "--format", help="text or yaml (the form `matrix set` reads)")] = "text",
    db: DbOption = None,
) -> None:
    """Show the current risk matrix (or a past version): labels, levels, colours, appetite, the grid."""
    spec = register.get_matrix(db, version)
    if fmt == "yaml":
        echo(yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True).rstrip())
    else:
        for line in _matrix_lines(spec):
            echo(line)


@matrix_app.command("set")
def matrix_set(
    path: Annotated[Path, typer.Argument(help="YAML file: size, likelihood_labels, impact_labels, "
                                              "levels [{name, min, colour}], appetite, note.", dir_okay=False)],
    note: Annotated[str | None, typer.Option("--note", help="Why the criteria change.")] = None,
    db: DbOption = None,
) -> None:
    """Record new risk criteria as a new matrix version. Scores are not changed: see `riskmap rescore`."""
    spec = register.read_matrix_file(path)
    change = register.set_matrix(db, spec, actor=principal(), channel="cli", note=note)
    if not change.created:
        echo(f"the matrix in {path} is the current one (version {change.matrix.version}); nothing changed")
        return
    echo(f"matrix version {change.matrix.version} recorded ({spec.size}x{spec.size}, appetite {spec.appetite})")
    if change.risks_on_older_versions:
        echo(f"{change.risks_on_older_versions} risk(s) keep the criteria they were scored under; "
             "run `riskmap rescore` to move them onto this version")


@app.command("rescore")
def rescore_cmd(
    to_version: Annotated[int | None, typer.Option("--to-version", help="Matrix version (default: current).")] = None,
    risk: Annotated[list[str] | None, typer.Option("--risk", help="Only this risk (repeatable).")] = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """Move risks scored under other matrix versions onto the current one, mapping their scores (recorded)."""
    report = register.rescore(db, actor=principal(), channel="cli", to_version=to_version,
                              risk_ids=risk or None, dry_run=dry_run)
    for line in report.lines():
        echo(line)


# -- merges ---------------------------------------------------------------------------------------------

@merges_app.callback(invoke_without_command=True)
def merges_list(
    ctx: typer.Context,
    fmt: FormatOption = "table",
    db: UncheckedDbOption = None,
) -> None:
    """List merge decisions (which source row was recognised as which risk, why, and whether undone)."""
    if ctx.invoked_subcommand is not None:  # `merges undo` checks its own --db
        return
    frame = register.list_merges(check_db(db), principal=principal())
    if frame.is_empty():
        echo("no merges")
        return
    emit_frame(frame.select("id", "status", "kept_risk_id", "kept_title", "source", "source_row", "source_key",
                            "reason", "decided_at", "decided_by", "split_risk_id"), fmt)


@merges_app.command("undo")
def merges_undo(
    merge_id: Annotated[str, typer.Argument(help="The merge id (see `riskmap merges`).")],
    db: DbOption = None,
) -> None:
    """Undo a merge: the merged source row becomes its own risk again (history recorded)."""
    split = register.undo_merge(db, merge_id, actor=principal(), channel="cli")
    echo(f"merge {merge_id} undone: the source row is now risk {split}")


# -- single risks ---------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@risk_app.command("list")
def risk_list(
    management_system: Annotated[str | None, typer.Option("--management-system", help="ISMS, AIMS or both.",
                                                          callback=_management_system)] = None,
    status: Annotated[str | None, typer.Option("--status", help="open, treated, accepted or closed.",
                                               callback=_risk_status)] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """List the register: id, title, management system, owner, scores, level, appetite, treatment."""
    frame = register.list_risks(db, management_system=management_system, status=status, principal=principal())
    cols = ["id", "title", "management_system", "status", "owner", "inherent_score", "current_score",
            "residual_score", "level", "within_appetite", "treatment", "acceptance_status", "version"]
    shown = frame.select(cols)
    if fmt == "csv":
        shown = shown.with_columns(pl.col(pl.List(pl.String)).list.join("; "))
    emit_frame(shown, fmt)


@risk_app.command("show")
def risk_show(
    risk_id: Annotated[str, typer.Argument(help="Risk id, e.g. R-0001.")],
    fmt: Annotated[Literal["text", "json"], typer.Option("--format", help="text or json")] = "text",
    db: DbOption = None,
) -> None:
    """Show one risk: fields, scores and levels, controls, assets, AI systems, lineage, merges, history."""
    who = principal()
    risk = register.get_risk(db, risk_id, principal=who)
    history = register.risk_history(db, risk_id, principal=who)
    if fmt == "json":
        risk["history"] = history.to_dicts()
        echo(json.dumps(risk, default=str, indent=2, ensure_ascii=False))
        return
    skip = {"controls", "lineage", "merges"}
    for key, value in risk.items():
        if key not in skip and value not in (None, [], ""):
            echo(f"{key}: {_text(value)}")
    echo("controls:")
    for c in risk["controls"]:
        extra = f" (written {c['as_written']!r}, from {c['translated_from']})" if c["translated_from"] else ""
        echo(f"  {c['framework']}:{c['ref']} {c['title'] or ''} [{c['status']}]{extra}")
    echo("lineage:")
    for s in risk["lineage"]:
        echo(f"  {s['source']}:{s['source_row']} key {s['source_key']} ({s['file_name']}, batch {s['batch_id']})"
             + (f"; scales: {s['scale_note']}" if s["scale_note"] else ""))
    for m in risk["merges"]:
        echo(f"merge {m['id']} [{m['status']}]: {m['source']}:{m['source_row']} -> {m['kept_risk_id']}: {m['reason']}")
    echo("history:")
    for h in history.iter_rows(named=True):
        if h["field"]:
            change = f" {h['field']}: {h['old_value']!r} -> {h['new_value']!r}"
        else:
            shown = h["new_value"] or ""
            change = f" {shown[:117]}..." if len(shown) > 120 else (f" {shown}" if shown else "")
        by = h["actor"] if h["actor_name"] == h["actor"] else f"{h['actor_name']} <{h['actor']}>"
        echo(f"  {h['changed_at']} {by} ({h['channel']}) {h['action']}{change}")


@risk_app.command("set")
def risk_set(
    risk_id: Annotated[str, typer.Argument(help="Risk id, e.g. R-0001.")],
    field: Annotated[str, typer.Argument(help="Field name, e.g. owner, current_likelihood, treatment.")],
    value: Annotated[str, typer.Argument(help="New value; '' clears it. Lists are comma separated.")],
    expected_version: Annotated[int | None, typer.Option(
        "--expected-version", help="The version you saw (`riskmap risk show`); refused if it moved since. "
                                   "Without it the change applies to the current version.")] = None,
    db: DbOption = None,
) -> None:
    """Change one field of a risk (history recorded); with --expected-version, only if it is still the
    version you saw."""
    after = register.update_risk(db, risk_id, {field: value}, expected_version, actor=principal(),
                                 channel="cli")
    echo(f"{risk_id}: {field} = {_text(after.get(field))!r} (version {after['version']})")
