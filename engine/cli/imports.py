"""Import commands of the SoA and the action plan, the control suggestions imports make, and what every
``riskmap import`` command shares: ``--limit`` (how large a file may be) and ``--problems FILE`` (every
problem or warning as CSV, however many; the printed report stays short)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from engine import plan, soa
from engine.errors import InputError
from engine.register import suggestions
from engine.register.imports import ImportReport, Limits, known_registers, parse_limits, write_problems_csv

from .base import DbOption, FormatOption, app, echo, emit_frame, import_app, principal

__all__ = ["DryRunOption", "LimitOption", "MappingOption", "ProblemsOption", "VerboseOption", "limits_of",
           "print_report", "problems_to"]

suggestions_app = typer.Typer(help="Controls proposed for the words registers wrote in their control columns: "
                                   "list them, accept or reject them.", no_args_is_help=True)
app.add_typer(suggestions_app, name="suggestions")

MappingOption = Annotated[Path | None, typer.Option(
    "--mapping", help="YAML or CSV file mapping column headings to fields (and, in YAML, per-file settings).",
    dir_okay=False)]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="List every new, merged and updated row "
                                                                     "(the first ones of each kind).")]
LimitOption = Annotated[list[str] | None, typer.Option(
    "--limit", help="Raise or lower a limit of the file, NAME=VALUE (repeatable): file_mb, uncompressed_mb, rows, "
                    "columns, cell_chars (defaults in the README).")]
ProblemsOption = Annotated[Path | None, typer.Option(
    "--problems", help="Write every problem (or, when the file imports, every warning) to this CSV file.",
    dir_okay=False)]


def limits_of(items: list[str] | None) -> Limits | None:
    """The limits of ``--limit NAME=VALUE`` items over the defaults (None: the defaults)."""
    return parse_limits(items) if items else None


@contextmanager
def problems_to(path: Path | None) -> Iterator[None]:
    """Write the problems of an import that fails to ``path`` (all of them) before the error is shown."""
    try:
        yield
    except InputError as exc:
        if path is not None:
            write_problems_csv(exc.problems, path)
            raise InputError(exc.problems, f"{exc.summary}; all of them are in {path}") from exc
        raise


def print_report(report: ImportReport, verbose: bool, problems: Path | None = None) -> None:
    """The report (at most a screenful or so, however large the file); its warnings to ``problems``."""
    for line in report.lines(detail=verbose):
        echo(line)
    if problems is not None:
        n = write_problems_csv(report.warnings, problems, kind="warning")
        echo(f"{n} warning(s) written to {problems}")


# -- the registers imported so far ------------------------------------------------------------------------

@import_app.command("registers")
def import_registers_cmd(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List the risk registers imported so far. To update one from its next version (a new file name),
    give its name: `riskmap import risks FILE --source REGISTER` (a file whose ids, columns and titles are
    those of a known register is recognised as it anyway)."""
    frame = known_registers(db)
    if frame.is_empty():
        echo("no risk register imported yet")
        return
    emit_frame(frame, fmt)


# -- the SoA and the action plan --------------------------------------------------------------------------

@import_app.command("soa")
def import_soa_cmd(
    path: Annotated[Path, typer.Argument(help="Statement of Applicability (.csv or .xlsx).", dir_okay=False)],
    framework: Annotated[str | None, typer.Option(
        "--framework", help="The standard of rows that name none: iso27001-2022, iso42001-2023 or iso27001-2013 "
                            "(default: a Standard column, the id's prefix, else found from the ids and titles).")] = None,
    mapping: MappingOption = None, dry_run: DryRunOption = False, verbose: VerboseOption = False,
    limit: LimitOption = None, problems: ProblemsOption = None, db: DbOption = None,
) -> None:
    """Import an SoA as kept in a spreadsheet; a 27001:2013 SoA is carried onto 27001:2022."""
    with problems_to(problems):
        report = soa.import_soa(db, path, actor=principal(), channel="cli", framework=framework,
                                mapping=mapping, dry_run=dry_run, limits=limits_of(limit))
    print_report(report, verbose or dry_run, problems)


@import_app.command("actions")
def import_actions_cmd(
    path: Annotated[Path, typer.Argument(help="Treatment action plan (.csv or .xlsx).", dir_okay=False)],
    mapping: MappingOption = None, dry_run: DryRunOption = False, verbose: VerboseOption = False,
    limit: LimitOption = None, problems: ProblemsOption = None, db: DbOption = None,
) -> None:
    """Import a treatment plan: actions with the risks they treat and the controls they implement."""
    with problems_to(problems):
        report = plan.import_actions(db, path, actor=principal(), channel="cli", mapping=mapping,
                                     dry_run=dry_run, limits=limits_of(limit))
    print_report(report, verbose or dry_run, problems)


# -- control suggestions ---------------------------------------------------------------------------------

_STATUS = Annotated[str | None, typer.Option("--status", help="proposed, accepted or rejected.")]
_RISK = Annotated[str | None, typer.Option("--risk", help="Only the suggestions of this risk.")]
_MIN = Annotated[float | None, typer.Option("--min-score", min=0, max=1, help="Only suggestions scoring at least this.")]
_IDS = Annotated[list[str] | None, typer.Argument(help="Suggestion ids (S-00001); or choose with --min-score/--risk.")]
_NOTE = Annotated[str | None, typer.Option("--note", help="Why, kept with the decision.")]


@suggestions_app.command("list")
def suggestions_list(status: _STATUS = None, risk: _RISK = None, min_score: _MIN = None, fmt: FormatOption = "table",
                     db: DbOption = None) -> None:
    """List control suggestions: the phrase, the control proposed, its score and status."""
    frame = suggestions.list_suggestions(db, status=status, risk_id=risk, min_score=min_score)
    if frame.is_empty():
        echo("no control suggestions")
        return
    cols = ["id", "risk_id", "phrase", "framework", "ref", "control_title", "score", "method", "status"]
    emit_frame(frame if fmt == "json" else frame.select(cols), fmt)


@suggestions_app.command("accept")
def suggestions_accept(ids: _IDS = None, min_score: _MIN = None, risk: _RISK = None, note: _NOTE = None,
                       db: DbOption = None) -> None:
    """Accept suggestions: each control is linked to its risk (history recorded)."""
    done = suggestions.accept_suggestions(db, ids or None, min_score=min_score, risk_id=risk, note=note,
                                          actor=principal(), channel="cli")
    echo(f"{len(done)} suggestion(s) accepted" + (f": {', '.join(done[:20])}" if done else ""))


@suggestions_app.command("reject")
def suggestions_reject(ids: _IDS = None, min_score: _MIN = None, risk: _RISK = None, note: _NOTE = None,
                       db: DbOption = None) -> None:
    """Reject suggestions: the risk is left as it is, and the suggestion is not made again."""
    done = suggestions.reject_suggestions(db, ids or None, min_score=min_score, risk_id=risk, note=note,
                                          actor=principal(), channel="cli")
    echo(f"{len(done)} suggestion(s) rejected" + (f": {', '.join(done[:20])}" if done else ""))
