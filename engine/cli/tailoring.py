"""Tailoring commands: the organisation's decisions on the crosswalk (accept, dispute, strengthen, weaken,
add), listing them, and withdrawing one. Each is a recorded write (engine.crosswalk.tailoring)."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.config import db_path
from engine.crosswalk import RATIONALES, RELATIONSHIPS, tailoring
from engine.crosswalk.refs import parse_control

from .base import ActorOption, DbOption, FormatOption, actor_name, app, echo, emit_frame, one_of

tailor_app = typer.Typer(help="The organisation's tailoring of the crosswalk: decisions that win over the shipped "
                              "records, kept through init and upgrades.", no_args_is_help=True)
app.add_typer(tailor_app, name="tailor")

SourceArg = Annotated[str, typer.Argument(help="framework:ref of one control, e.g. iso42001-2023:A.6.2.8")]
TargetArg = Annotated[str, typer.Argument(help="framework:ref of the other, e.g. iso27001-2022:A.8.15")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, in the organisation's context (one sentence).")]
VersionOption = Annotated[int | None, typer.Option(
    "--expected-version", help="Version of the pair's tailoring you saw (0: none); a stale one is refused.")]
RelationshipOption = Annotated[str | None, typer.Option(
    "--relationship", help="Relationship of the first control to the second: " + ", ".join(RELATIONSHIPS[:-1]),
    callback=one_of(RELATIONSHIPS[:-1]))]
StrengthOption = Annotated[int | None, typer.Option("--strength", min=1, max=10, help="Strength, 1 to 10.")]
RationaleOption = Annotated[str | None, typer.Option(
    "--rationale", help="Rationale type: " + ", ".join(RATIONALES) + " (default: the record beneath's, else "
    "semantic).", callback=one_of(RATIONALES))]


def _decide(decision: str, source: str, target: str, db: str | None, actor: str | None, *, reason: str | None,
            expected_version: int | None, relationship: str | None = None, strength: int | None = None,
            rationale: str | None = None) -> None:
    row = tailoring.tailor(db_path(db), parse_control(source), parse_control(target), decision,
                           relationship=relationship, strength=strength, rationale_type=rationale, reason=reason,
                           expected_version=expected_version, actor=actor_name(actor), channel="cli")
    echo(f"{row['id']} (version {row['version']}): {row['source_framework']}:{row['source_ref']} "
         f"{row['relationship']} ({row['strength']}) {row['target_framework']}:{row['target_ref']}, "
         f"{row['decision']} by {row['tailored_by']}; links rebuilt")


@tailor_app.command("accept")
def accept_cmd(source: SourceArg, target: TargetArg,
               reason: Annotated[str | None, typer.Option("--reason", help="A note (optional).")] = None,
               expected_version: VersionOption = None, db: DbOption = None, actor: ActorOption = None) -> None:
    """The shipped (or imported) record holds for the organisation: it is recorded as reviewed by you."""
    _decide("accept", source, target, db, actor, reason=reason, expected_version=expected_version)


@tailor_app.command("dispute")
def dispute_cmd(source: SourceArg, target: TargetArg, reason: ReasonOption, expected_version: VersionOption = None,
                db: DbOption = None, actor: ActorOption = None) -> None:
    """The link does not hold for the organisation (no_relationship, with the reason)."""
    _decide("dispute", source, target, db, actor, reason=reason, expected_version=expected_version)


@tailor_app.command("strengthen")
def strengthen_cmd(source: SourceArg, target: TargetArg, reason: ReasonOption, relationship: RelationshipOption = None,
                   strength: StrengthOption = None, expected_version: VersionOption = None, db: DbOption = None,
                   actor: ActorOption = None) -> None:
    """A closer relationship, or a higher strength, than the record beneath."""
    _decide("strengthen", source, target, db, actor, reason=reason, expected_version=expected_version,
            relationship=relationship, strength=strength)


@tailor_app.command("weaken")
def weaken_cmd(source: SourceArg, target: TargetArg, reason: ReasonOption, relationship: RelationshipOption = None,
               strength: StrengthOption = None, expected_version: VersionOption = None, db: DbOption = None,
               actor: ActorOption = None) -> None:
    """A looser relationship, or a lower strength, than the record beneath."""
    _decide("weaken", source, target, db, actor, reason=reason, expected_version=expected_version,
            relationship=relationship, strength=strength)


@tailor_app.command("add")
def add_cmd(source: SourceArg, target: TargetArg, reason: ReasonOption,
            relationship: Annotated[str, typer.Option("--relationship", help="Relationship of the first control to "
                                                      "the second: " + ", ".join(RELATIONSHIPS[:-1]),
                                                      callback=one_of(RELATIONSHIPS[:-1]))],
            strength: Annotated[int, typer.Option("--strength", min=1, max=10, help="Strength, 1 to 10.")],
            rationale: RationaleOption = None, expected_version: VersionOption = None, db: DbOption = None,
            actor: ActorOption = None) -> None:
    """A link the crosswalk does not have, for the organisation."""
    _decide("add", source, target, db, actor, reason=reason, expected_version=expected_version,
            relationship=relationship, strength=strength, rationale=rationale)


@tailor_app.command("list")
def list_cmd(
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="Include withdrawn tailorings.")] = False,
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The organisation's tailorings, with what each overrides; base_changed: the record beneath changed since."""
    frame = tailoring.tailorings_frame(db_path(db), include_withdrawn=withdrawn)
    emit_frame(frame.select("id", "pair", "decision", "now", "beneath", "reason", "tailored_by", "tailored_on",
                            "status", "version", "base_changed", "base_changed_detail"), fmt)


@tailor_app.command("withdraw")
def withdraw_cmd(
    tailoring_id: Annotated[str, typer.Argument(help="The tailoring, e.g. T-0001 (riskmap tailor list).")],
    reason: ReasonOption,
    expected_version: Annotated[int | None, typer.Option(
        "--expected-version", help="Version you saw; a stale one is refused.")] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Withdraw a tailoring: the record beneath is in force again; the tailoring stays, marked withdrawn."""
    row = tailoring.withdraw(db_path(db), tailoring_id, reason=reason, expected_version=expected_version,
                             actor=actor_name(actor), channel="cli")
    echo(f"{row['id']} withdrawn (version {row['version']}); links rebuilt")
