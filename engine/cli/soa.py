"""Commands for the Statement of Applicability (``soa``), the treatment plan (``plan``), the consistency
audits (``audit``) and the SoA, plan and register exports (``export soa|plan|register``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import polars as pl
import typer

from engine import access, exports, plan, soa
from engine import audit as audit_mod
from engine.crosswalk.refs import parse_control
from engine.errors import NotFoundError, RiskmapError
from engine.soa import UNSET

from .base import (
    DbOption,
    FormatOption,
    OutOption,
    app,
    echo,
    emit_frame,
    export_app,
    iso_date,
    plan_app,
    principal,
    soa_app,
)

CHANNEL = "cli"


def _show(frame: pl.DataFrame, fmt: str) -> None:
    emit_frame(frame if fmt == "json" else exports.flatten(frame), fmt)


# ------------------------------------------------------------------------------------------------ soa

@soa_app.command("show")
def soa_show(
    db: DbOption = None,
    framework: Annotated[str | None, typer.Option(help="Only this framework (27001, 42001 or a full id).")] = None,
    version: Annotated[int | None, typer.Option(help="An approved version instead of the working copy.")] = None,
    undecided: Annotated[bool, typer.Option("--undecided", help="Only rows not decided yet.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """Print the SoA: applicability, reasons, linked risks, status, owner and counterparts of each control."""
    frame = soa.soa_frame(db, framework=framework, version=version)
    if framework is not None and frame.is_empty():  # a typo would otherwise print an empty table
        known = soa.soa_frame(db, version=version)["framework"].unique(maintain_order=True).to_list()
        raise NotFoundError(f"no SoA rows for framework {framework!r}; expected one of {', '.join(known)} "
                            "(or 27001, 42001)")
    if undecided:
        frame = frame.filter(pl.col("applicability") == "undecided")
    cols = ["framework", "ref", "title", "applicability", "reasons", "risk_ids", "status", "owner", "version"]
    _show(frame if fmt != "table" else frame.select(cols), fmt)


@soa_app.command("set")
def soa_set(
    control: Annotated[str, typer.Argument(help="FRAMEWORK:REF, e.g. iso27001-2022:A.5.1 or 42001:A.6.2.8.")],
    applicable: Annotated[bool | None, typer.Option("--applicable/--not-applicable",
                                                    help="Include or exclude the control.")] = None,
    undecided: Annotated[bool, typer.Option("--undecided", help="Mark the row undecided again.")] = False,
    reason: Annotated[list[str] | None, typer.Option(
        "--reason", help="Inclusion reason code (repeat): " + ", ".join(soa.REASONS))] = None,
    exclusion_reason: Annotated[str | None, typer.Option(
        help="Exclusion reason code: " + ", ".join(soa.EXCLUSION_REASONS))] = None,
    justification: Annotated[str | None, typer.Option(help="Why; required to mark a row not applicable.")] = None,
    status: Annotated[str | None, typer.Option(help="Implementation status: " + ", ".join(soa.STATUSES))] = None,
    owner: Annotated[str | None, typer.Option(help="Control owner.")] = None,
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help="Evidence reference (repeat).")] = None,
    last_verified: Annotated[str | None, typer.Option(help="Date last verified, YYYY-MM-DD.",
                                                      callback=iso_date)] = None,
    notes: Annotated[str | None, typer.Option(help="Implementation notes.")] = None,
    ai_system: Annotated[list[str] | None, typer.Option(
        "--ai-system", help="AI system in scope of a 42001 row (repeat; replaces the list).")] = None,
    expected_version: Annotated[int | None, typer.Option(
        help="The row version your change is based on; refused if someone changed it since.")] = None,
    override_reason: Annotated[str | None, typer.Option(
        help="Exclude the control although open risks cite it: why (recorded in the history).")] = None,
    db: DbOption = None,
) -> None:
    """Record a decision on one SoA row. Marking it not applicable needs --exclusion-reason and
    --justification, resets its status to not started, and is refused while open risks cite the control
    (unless --override-reason says why)."""
    fw, ref = parse_control(control)
    if undecided and applicable is not None:
        raise typer.BadParameter("give --undecided or --applicable/--not-applicable, not both")
    row = soa.set_row(
        db, fw, ref,
        applicable=None if undecided else (UNSET if applicable is None else applicable),
        reasons=UNSET if reason is None else reason,
        exclusion_reason=UNSET if exclusion_reason is None else exclusion_reason,
        justification=UNSET if justification is None else justification,
        status=UNSET if status is None else status,
        owner=UNSET if owner is None else owner,
        evidence=UNSET if evidence is None else evidence,
        last_verified=UNSET if last_verified is None else last_verified,
        implementation_notes=UNSET if notes is None else notes,
        ai_systems=UNSET if ai_system is None else ai_system,
        expected_version=expected_version, override_reason=override_reason, actor=principal(), channel=CHANNEL)
    reasons = ", ".join(row["reasons"]) or "-"
    echo(f"{fw}:{ref} (version {row['version']}): {row['applicability']}; reasons {reasons}; "
         f"status {row['status']}")


@soa_app.command("add-control")
def soa_add_control(
    ref: Annotated[str, typer.Argument(help="The control's id in the organisation's framework, e.g. ORG.1.")],
    title: Annotated[str, typer.Option(help="Short title.")],
    summary: Annotated[str | None, typer.Option(help="One or two sentences.")] = None,
    framework: Annotated[str, typer.Option(help="Custom framework id.")] = soa.CUSTOM_FRAMEWORK,
    db: DbOption = None,
) -> None:
    """Add an organisation's own control; it appears in the SoA beside the Annex A controls."""
    row = soa.add_control(db, ref, title, summary=summary, framework=framework, actor=principal(),
                          channel=CHANNEL)
    echo(f"added {row['framework']}:{row['ref']} {row['title']}")


@soa_app.command("propose")
def soa_propose(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List what the register and the crosswalk propose for the SoA (nothing is changed)."""
    frame = soa.proposals(db)
    if fmt == "table":
        frame = frame.select("proposal_id", "current_applicable", "current_status", "proposed_applicable",
                             "proposed_reason", "proposed_status", "basis")
    _show(frame, fmt)
    if fmt == "table":
        echo(f"{frame.height} proposal(s); accept with `riskmap soa accept-proposals [ID...]`, "
             f"override with `riskmap soa reject-proposal ID --justification ...`")


@soa_app.command("accept-proposals")
def soa_accept_proposals(
    ids: Annotated[list[str] | None, typer.Argument(help="Proposal ids; default: every open proposal.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind: " + ", ".join(soa.PROPOSAL_KINDS))] = None,
    db: DbOption = None,
) -> None:
    """Confirm proposals: apply them to their SoA rows and record the decision."""
    n = soa.accept_proposals(db, kind=kind, proposal_ids=ids or None, actor=principal(), channel=CHANNEL)
    echo(f"{n} proposal(s) accepted")


@soa_app.command("reject-proposal")
def soa_reject_proposal(
    proposal_id: Annotated[str, typer.Argument(help="The proposal id, as `soa propose` lists it.")],
    justification: Annotated[str, typer.Option(help="Why the proposal is overridden (required).")],
    db: DbOption = None,
) -> None:
    """Override a proposal with a justification; it is not proposed again on the same basis."""
    soa.reject_proposal(db, proposal_id, justification=justification, actor=principal(), channel=CHANNEL)
    echo(f"{proposal_id} rejected")


@soa_app.command("snapshot")
def soa_snapshot(
    note: Annotated[str | None, typer.Option(help="A note kept with the version.")] = None,
    confirm: Annotated[str | None, typer.Option(
        help="Approve although rows are undecided or error findings are open: why (kept in the version).")] = None,
    db: DbOption = None,
) -> None:
    """Approve the SoA as a numbered, dated version: you approve it (the role approver is needed). With rows
    undecided or error-level audit findings open, it is refused unless --confirm gives your reason."""
    who = principal()
    version = soa.snapshot(db, note=note, confirmation=confirm, actor=who, channel=CHANNEL)
    echo(f"SoA version {version} approved by {who.name}" + (f" (confirmed: {confirm.strip()})"
                                                           if confirm and confirm.strip() else ""))


@soa_app.command("versions")
def soa_versions(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List the approved SoA versions."""
    _show(soa.versions(db), fmt)


@soa_app.command("diff")
def soa_diff(
    v1: Annotated[str, typer.Argument(help="Older version number.")],
    v2: Annotated[str, typer.Argument(help="Newer version number, or 'current' for the working copy.")] = "current",
    db: DbOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List the rows added and removed and the fields changed between two SoA versions."""
    frame = soa.diff(db, v1, v2)
    _show(frame, fmt)
    if fmt == "table":
        counts = dict(frame.group_by("change").len().iter_rows()) if frame.height else {}
        echo(f"added {counts.get('added', 0)}, removed {counts.get('removed', 0)}, "
             f"changed fields {counts.get('changed', 0)}")


# ----------------------------------------------------------------------------------------------- plan

def _date_opt(value: str | None) -> date | None:
    """A date option as a date (its form was checked by :func:`iso_date` when the command line was read)."""
    return None if value is None else date.fromisoformat(value)


@plan_app.command("add")
def plan_add(
    title: Annotated[str, typer.Option(help="What will be done.")],
    owner: Annotated[str | None, typer.Option(help="Who does it.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.", callback=iso_date)] = None,
    effort: Annotated[float | None, typer.Option(help="Effort in person-days.")] = None,
    status: Annotated[str, typer.Option(help=", ".join(plan.ACTION_STATUSES))] = "planned",
    description: Annotated[str | None, typer.Option(help="Details.")] = None,
    risk: Annotated[list[str] | None, typer.Option("--risk", help="A risk it treats (repeat).")] = None,
    control: Annotated[list[str] | None, typer.Option(
        "--control", help="A control it implements, FRAMEWORK:REF (repeat; either standard).")] = None,
    action_id: Annotated[str | None, typer.Option("--id", help="Action id (default: next A-NNN).")] = None,
    db: DbOption = None,
) -> None:
    """Add an action to the treatment plan."""
    aid = plan.add_action(db, title=title, owner=owner, due_date=due, effort=effort, status=status,
                               description=description, risk_ids=risk or [], controls=control or [],
                               action_id=action_id, actor=principal(), channel=CHANNEL)
    echo(f"added {aid}")


@plan_app.command("update")
def plan_update(
    action_id: Annotated[str, typer.Argument(help="The action, e.g. A-001.")],
    title: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.", callback=iso_date)] = None,
    effort: Annotated[float | None, typer.Option(help="Person-days.")] = None,
    status: Annotated[str | None, typer.Option(help=", ".join(plan.ACTION_STATUSES))] = None,
    description: Annotated[str | None, typer.Option()] = None,
    expected_version: Annotated[int | None, typer.Option(help="Refuse if the action changed since.")] = None,
    db: DbOption = None,
) -> None:
    """Change an action's title, owner, due date, effort, status or description."""
    def given(value: Any) -> Any:
        return UNSET if value is None else value

    row = plan.update_action(db, action_id, title=given(title), owner=given(owner), due_date=given(due),
                                  effort=given(effort), status=given(status), description=given(description),
                                  expected_version=expected_version, actor=principal(), channel=CHANNEL)
    echo(f"{action_id} (version {row['version']}): {row['status']}")


@plan_app.command("link-risk")
def plan_link_risk(action_id: str, risk_id: str, db: DbOption = None) -> None:
    """Record that an action treats a risk."""
    done = plan.link_risk(db, action_id, risk_id, actor=principal(), channel=CHANNEL)
    echo(f"{action_id} treats {risk_id}" + ("" if done else " (already linked)"))


@plan_app.command("unlink-risk")
def plan_unlink_risk(action_id: str, risk_id: str, db: DbOption = None) -> None:
    """Remove a risk from an action."""
    done = plan.unlink_risk(db, action_id, risk_id, actor=principal(), channel=CHANNEL)
    echo(f"{action_id} no longer treats {risk_id}" if done else f"{action_id} did not treat {risk_id}")


@plan_app.command("link-control")
def plan_link_control(action_id: str, control: Annotated[str, typer.Argument(help="FRAMEWORK:REF")],
                      db: DbOption = None) -> None:
    """Record that an action implements a control (either standard)."""
    done = plan.link_control(db, action_id, control, actor=principal(), channel=CHANNEL)
    echo(f"{action_id} implements {control}" + ("" if done else " (already linked)"))


@plan_app.command("unlink-control")
def plan_unlink_control(action_id: str, control: Annotated[str, typer.Argument(help="FRAMEWORK:REF")],
                        db: DbOption = None) -> None:
    """Remove a control from an action."""
    done = plan.unlink_control(db, action_id, control, actor=principal(), channel=CHANNEL)
    echo(f"{action_id} no longer implements {control}" if done else f"{action_id} did not implement {control}")


@plan_app.command("rank")
def plan_rank(
    db: DbOption = None,
    all_actions: Annotated[bool, typer.Option("--all", help="Include done and cancelled actions.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """Rank the open actions: risk reduction and controls satisfied in both standards per person-day."""
    frame = plan.ranking(db, include_closed=all_actions, principal=principal())
    if fmt == "table":
        frame = frame.select("rank", "action_id", "title", "owner", "due_date", "status", "effort", "risk_ids",
                             "risk_reduction", "n_controls_satisfied", "satisfies_both", "reduction_per_effort",
                             "controls_per_effort", "score")
    _show(frame, fmt)


@plan_app.command("residual")
def plan_residual(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """Each open risk now and once the plan is done, with its approval and acceptance."""
    frame = plan.residual_after_plan(db, principal=principal())
    if fmt == "table":
        frame = frame.select("risk_id", "owner", "current_score", "current_level", "residual_after_plan",
                             "residual_level_after_plan", "appetite", "above_appetite_after_plan", "action_ids",
                             "plan_approval_current", "acceptance_current")
    _show(frame, fmt)


@plan_app.command("approve")
def plan_approve(
    risk: Annotated[list[str] | None, typer.Option(
        "--risk", help="A risk to approve (repeat; default: every risk you own that has actions).")] = None,
    expires: Annotated[str | None, typer.Option(help="Approval expiry, YYYY-MM-DD.",
                                                callback=iso_date)] = None,
    note: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Approve the treatment plan for risks: yours as their risk owner, or any in your units as an approver."""
    who = principal()
    ids = plan.approve_plan(db, risk_ids=risk or None, expires_on=_date_opt(expires), note=note, actor=who,
                            channel=CHANNEL)
    echo(f"plan approved by {who.name} for {', '.join(ids)}")


@plan_app.command("accept-residual")
def plan_accept_residual(
    risk_id: Annotated[str, typer.Argument(help="The risk whose residual level is accepted.")],
    expires: Annotated[str, typer.Option(help="Expiry of the acceptance, YYYY-MM-DD.", callback=iso_date)],
    justification: Annotated[str, typer.Option(help="Why the residual risk is acceptable.")],
    expected_version: Annotated[int | None, typer.Option(help="Refuse if the risk changed since.")] = None,
    db: DbOption = None,
) -> None:
    """Accept a risk's residual level, with an expiry: as its risk owner, or as an approver in its unit."""
    got = plan.accept_residual(db, risk_id, expires_on=expires, justification=justification,
                               expected_version=expected_version, actor=principal(), channel=CHANNEL)
    echo(f"{risk_id}: residual score {got['residual_score']} accepted by {got['acceptance_approver']} until "
         f"{got['acceptance_expiry']}")


# ---------------------------------------------------------------------------------------------- audit

@app.command("audit")
def audit_cmd(
    db: DbOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit non-zero when there is any finding.")] = False,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only this rule (repeat).")] = None,
    today: Annotated[str | None, typer.Option(help="Check as of this date, YYYY-MM-DD.",
                                              callback=iso_date)] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run the consistency audits and list the offending rows (zero rows: healthy)."""
    frame = audit_mod.run_audits(db, today=_date_opt(today), rules=rule or None, principal=principal())
    if fmt != "table":
        _show(frame, fmt)
    elif frame.height:
        _show(frame, fmt)
        echo(f"{frame.height} finding(s) in {frame['rule'].n_unique()} rule(s)")
    else:
        echo(f"no findings ({len(rule or audit_mod.rule_names())} rule(s) checked)")
    if strict and frame.height:
        raise AuditFailed(f"{frame.height} audit finding(s)")


class AuditFailed(RiskmapError):
    """``audit --strict`` found something."""

    exit_code = 3


# --------------------------------------------------------------------------------------------- export


@export_app.command("soa")
def export_soa_cmd(
    out: OutOption,
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, md or json")] = "xlsx",
    version: Annotated[int | None, typer.Option(help="An approved version (default: the working copy).")] = None,
    db: DbOption = None,
) -> None:
    """Export the Statement of Applicability."""
    access.require(principal(), "export", ())  # the SoA is the organisation's: every role exports it
    echo(f"wrote {exports.export_soa(db, fmt, out, version=version)}")


@export_app.command("plan")
def export_plan_cmd(
    out: OutOption,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    db: DbOption = None,
) -> None:
    """Export the treatment plan (xlsx: actions, residual risk, approvals, acceptances; csv: actions)."""
    echo(f"wrote {exports.export_plan(db, fmt, out, principal=principal())}")


@export_app.command("register")
def export_register_cmd(
    out: OutOption,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    db: DbOption = None,
) -> None:
    """Export the risk register."""
    echo(f"wrote {exports.export_register(db, fmt, out, principal=principal())}")
