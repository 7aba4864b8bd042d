"""AI risk identification commands: the scenario library, proposals and decisions per AI system, the
characteristics that decide them, and observed AI use (``riskmap scenarios ...``, ``riskmap ai-usage ...``,
``riskmap import ai-usage FILE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import ai, register

from .base import DbOption, FormatOption, app, echo, emit_frame, import_app, principal
from .register import DryRunOption

scenarios_app = typer.Typer(help="AI risk scenarios (ISO 42001 6.1.2, Annex C): the library, proposals per AI "
                                 "system, and decisions on them.", no_args_is_help=True)
usage_app = typer.Typer(help="AI use observed by a proxy, CASB or expense export, matched to the inventory.",
                        no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(usage_app, name="ai-usage")

SystemArg = Annotated[str, typer.Argument(help="AI system id, e.g. AIS-01.")]
ScenarioArg = Annotated[str, typer.Argument(help="Scenario id, e.g. SEC-01 (`riskmap scenarios list`).")]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# -- the library ----------------------------------------------------------------------------------------

@scenarios_app.command("list")
def scenarios_list(
    theme: Annotated[str | None, typer.Option("--theme", help="Only one theme, e.g. security.")] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """The scenario library: conditions, and how many AI systems each applies to, by state."""
    frame = ai.list_scenarios(db, theme)
    emit_frame(frame.select("id", "theme", "title", "roles", "requires", "requires_any", "excludes", "n_systems",
                            "n_identified", "n_not_applicable", "n_open"), fmt)


@scenarios_app.command("show")
def scenarios_show(scenario_id: ScenarioArg, db: DbOption = None) -> None:
    """One scenario: what happens, why, to whom, its conditions and suggested controls."""
    s = ai.get_scenario(db, scenario_id)
    for key in ("id", "title", "theme", "description", "cause", "event", "consequence_org",
                "consequence_individuals", "risk_sources", "objectives", "cia", "management_system", "roles",
                "stages", "requires", "requires_any", "excludes", "controls", "refs", "origin_file",
                "library_version"):
        if s.get(key) not in (None, [], ""):
            echo(f"{key}: {_text(s[key])}")
    echo(f"applies to {s['n_systems']} AI system(s): {s['n_identified']} identified, "
         f"{s['n_not_applicable']} not applicable, {s['n_open']} open")


# -- proposals and decisions ----------------------------------------------------------------------------

@scenarios_app.command("propose")
def scenarios_propose(
    ai_system: Annotated[str | None, typer.Option("--ai-system", help="Only this AI system.")] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """The scenarios that apply to each AI system and nobody has decided on yet (nothing changes)."""
    frame = ai.proposals(db, ai_system)
    if frame.is_empty():
        echo("no open proposals" + (f" for {ai_system}" if ai_system else ""))
        return
    emit_frame(frame.select("ai_system_id", "scenario_id", "scenario_title", "theme", "affects_individuals",
                            "unrecorded"), fmt)
    if fmt == "table":
        echo(f"{frame.height} proposal(s); accept one with `riskmap scenarios accept AI_SYSTEM SCENARIO "
             "--likelihood N --impact N`, or reject it with `riskmap scenarios reject AI_SYSTEM SCENARIO --reason ...`")


@scenarios_app.command("status")
def scenarios_status(
    ai_system: Annotated[str | None, typer.Option("--ai-system", help="Every applicable scenario of this "
                                                                     "AI system, with its state.")] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Identification coverage: per AI system, applicable scenarios identified, not applicable and open."""
    if ai_system is None:
        emit_frame(ai.coverage(db), fmt)
        return
    frame = ai.identification(db, ai_system)
    emit_frame(frame.select("scenario_id", "scenario_title", "state", "risk_id", "reason", "decided_by",
                            "unrecorded"), fmt)


@scenarios_app.command("accept")
def scenarios_accept(
    ai_system: SystemArg,
    scenario: ScenarioArg,
    likelihood: Annotated[str | None, typer.Option("--likelihood", help="Inherent likelihood of the new risk "
                                                                       "on the current matrix.")] = None,
    impact: Annotated[str | None, typer.Option("--impact", help="Inherent impact of the new risk.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Risk owner (default: the system's owner).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Risk title (default: the scenario's, with the "
                                                            "system's name).")] = None,
    risk: Annotated[str | None, typer.Option("--risk", help="Link this existing risk instead of creating one "
                                                          "(it keeps its scores).")] = None,
    control: Annotated[list[str] | None, typer.Option("--control", help="framework:ref of a planned control "
                                                      "(repeatable; default: the scenario's suggested ones).")] = None,
    no_controls: Annotated[bool, typer.Option("--no-controls", help="Link no controls.")] = False,
    db: DbOption = None,
) -> None:
    """Accept a proposed scenario: it becomes a register risk linked to the system (history recorded)."""
    controls = [] if no_controls else control
    risk_id = ai.accept(db, ai_system, scenario, likelihood=likelihood, impact=impact, owner=owner, title=title,
                        controls=controls, risk_id=risk, actor=principal(), channel="cli")
    echo(f"{ai_system} {scenario}: identified as risk {risk_id}")


@scenarios_app.command("reject")
def scenarios_reject(
    ai_system: SystemArg,
    scenario: ScenarioArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the scenario does not apply to this system.")],
    db: DbOption = None,
) -> None:
    """Record a proposed scenario as not applicable to the system, with the reason."""
    ai.reject(db, ai_system, scenario, reason, actor=principal(), channel="cli")
    echo(f"{ai_system} {scenario}: not applicable ({reason})")


@scenarios_app.command("reopen")
def scenarios_reopen(ai_system: SystemArg, scenario: ScenarioArg, db: DbOption = None) -> None:
    """Withdraw the decision on a scenario so it is proposed again (a risk it created stays)."""
    done = ai.reopen(db, ai_system, scenario, actor=principal(), channel="cli")
    echo(f"{ai_system} {scenario}: " + ("reopened" if done else "no decision to reopen; nothing changed"))


@scenarios_app.command("characteristics")
def scenarios_characteristics(
    ai_system: SystemArg,
    values: Annotated[list[str] | None, typer.Argument(help="name=value pairs to record, e.g. generative=yes "
                                                            "processes_personal_data=unknown vendor='Orbis AI Ltd' "
                                                            "domains=orbis.example.")] = None,
    expected_version: Annotated[int | None, typer.Option(
        "--expected-version", help="The system's version you saw; refused if it moved since. Without it "
                                   "the change applies to the current version.")] = None,
    db: DbOption = None,
) -> None:
    """Show an AI system's characteristics (yes, no or unknown) and matching keys, or record some."""
    version = register.get_ai_system(db, ai_system)["version"]  # NotFoundError for an unknown system
    if values:
        version = ai.set_characteristics(db, ai_system, ai.parse_assignments(values), expected_version,
                                         actor=principal(), channel="cli")["version"]
    for name, label, value in ai.characteristics(db, ai_system).select("characteristic", "label", "value").iter_rows():
        shown = "not recorded" if value is None else ("yes" if value else "no")
        echo(f"  {name:<28} {shown:<13} {label}")
    keys = ai.matching_keys(db, ai_system)
    echo(f"  {'vendor':<28} {keys['vendor'] or 'not recorded'}")
    echo(f"  {'domains':<28} {', '.join(keys['domains']) or 'not recorded'}")
    echo(f"{ai_system} version {version}")


# -- observed AI use ------------------------------------------------------------------------------------

@import_app.command("ai-usage")
def import_ai_usage_cmd(
    path: Annotated[Path, typer.Argument(help="Observed AI use (.csv or .xlsx) from a proxy, CASB or expense "
                                              "export.", dir_okay=False)],
    source: Annotated[str | None, typer.Option("--source", help="The export's name (default: the file name); "
                                                              "a later export of it updates the entries.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet (default: the first).")] = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """Import observed AI use; each entry is matched to the inventory or flagged as unregistered."""
    report = ai.import_usage(db, path, source=source, sheet=sheet, dry_run=dry_run, actor=principal(),
                             channel="cli")
    for line in report.lines():
        echo(line)


@usage_app.command("list")
def usage_list(
    unregistered: Annotated[bool, typer.Option("--unregistered", help="Only AI use no system matches.")] = False,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Observed AI use and the AI system each entry matches (by domain, name or vendor)."""
    frame = ai.list_usage(db, unregistered)
    emit_frame(frame.select("id", "tool", "domain", "department", "user_count", "last_seen", "ai_system_id",
                            "matched_by", "unregistered", "dismissed_reason"), fmt)


@usage_app.command("register")
def usage_register(
    usage_id: Annotated[str, typer.Argument(help="Entry id, e.g. U-0006 (`riskmap ai-usage list`).")],
    values: Annotated[list[str] | None, typer.Argument(help="Characteristics as name=value, e.g. generative=yes.")
                      ] = None,
    name: Annotated[str | None, typer.Option("--name", help="System name (default: the tool's).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="System owner.")] = None,
    system_id: Annotated[str | None, typer.Option("--id", help="AI system id (default: from the name).")] = None,
    db: DbOption = None,
) -> None:
    """Add a tool found in use to the AI system inventory; it then gets scenario proposals."""
    fields: dict[str, object] = dict(ai.parse_assignments(values or []))
    if owner:
        fields["owner"] = owner
    new_id = ai.register_usage(db, usage_id, name=name, fields=fields, ai_system_id=system_id,
                               actor=principal(), channel="cli")
    echo(f"{usage_id}: registered as AI system {new_id}; see `riskmap scenarios propose --ai-system {new_id}`")


@usage_app.command("dismiss")
def usage_dismiss(
    usage_id: Annotated[str, typer.Argument(help="Entry id, e.g. U-0010.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it needs no registration (blocked, not AI...).")],
    db: DbOption = None,
) -> None:
    """Record why an entry of observed AI use needs no registration."""
    ai.dismiss_usage(db, usage_id, reason, actor=principal(), channel="cli")
    echo(f"{usage_id}: dismissed ({reason})")
