"""Which operation needs which role, and the one check every engine write makes: :func:`require`.

The roles (ISO 27001 5.3, ISO 42001 5.3: roles, responsibilities and authorities) and what each may do:

- ``viewer``: read and export (every role reads; a role limited to units sees those units' risks);
- ``contributor``: edit risks, AI systems, impact assessments, assets, treatment actions and SoA rows,
  import registers, decide the AI risk scenarios of an AI system, undo a merge;
- ``approver``: approve an SoA version, approve the treatment plan, accept residual risk;
- ``admin``: change the risk matrix and rescore, set the crosswalk inference depth, tailor the crosswalk
  and import crosswalks and libraries, manage users and passwords, restore a backup.

A risk's owner may approve the treatment plan for, and accept the residual risk of, their own risks
whatever their role (ISO 27001 6.1.3 f, ISO 42001 6.1.3 g ask for the risk owner's approval).

Units: an operation on records of business units (a risk; a treatment action through the risks it
treats) needs the role in each of those units; an operation on the whole organisation (the matrix, the
SoA, the inventories, SQL on every table) needs the role without a unit limit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from engine.errors import PermissionDenied

from .principal import ROLES, Principal

__all__ = ["EDIT_OPERATIONS", "OPERATIONS", "Operation", "allowed", "refusal", "require"]


@dataclass(frozen=True)
class Operation:
    """What an operation is, in words for messages, and the roles that may perform it."""

    does: str
    roles: tuple[str, ...]
    owner_may: bool = False


OPERATIONS: dict[str, Operation] = {
    "read": Operation("read the register, the plan and the SoA", ROLES),
    "export": Operation("export the SoA, the plan and the register", ROLES),
    "query": Operation("run SQL on every table (every business unit)", ROLES),
    "backup": Operation("back up the whole database", ROLES),
    "edit_risk": Operation("edit risks", ("contributor",)),
    "edit_register": Operation("edit AI systems, impact assessments and assets", ("contributor",)),
    "edit_plan": Operation("change treatment actions", ("contributor",)),
    "edit_soa": Operation("change the Statement of Applicability", ("contributor",)),
    "import": Operation("import registers", ("contributor",)),
    "identify_ai_risk": Operation("decide which AI risk scenarios apply to an AI system", ("contributor",)),
    "undo_merge": Operation("undo a merge", ("contributor",)),
    "approve_soa": Operation("approve a version of the Statement of Applicability", ("approver",)),
    "approve_plan": Operation("approve the treatment plan", ("approver",), owner_may=True),
    "accept_residual": Operation("accept residual risk", ("approver",), owner_may=True),
    "set_matrix": Operation("change the risk matrix", ("admin",)),
    "rescore": Operation("rescore risks onto another matrix", ("admin",)),
    "set_depth": Operation("change the crosswalk inference depth", ("admin",)),
    "edit_crosswalk": Operation("tailor the crosswalk or import crosswalks and libraries", ("admin",)),
    "manage_users": Operation("manage users and passwords", ("admin",)),
    "restore": Operation("restore a backup over the database", ("admin",)),
}
"""Every operation the engine checks, with the roles allowed to perform it."""

EDIT_OPERATIONS = {"risk": "edit_risk", "ai_system": "edit_register", "impact_assessment": "edit_register",
                   "asset": "edit_register", "action": "edit_plan", "soa_row": "edit_soa",
                   "ai_usage": "edit_register",
                   "control_suggestion": "edit_risk", "crosswalk_tailoring": "edit_crosswalk"}
"""The operation an edit of each kind of record (``engine.records`` entity name) is."""


def _operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown operation {name!r}") from None


def _missing(units: Collection[str | None] | None, limit: frozenset[str] | None) -> list[str | None] | None:
    """The units of ``units`` outside ``limit`` (``units`` None: the whole organisation, which only an
    unlimited role covers; returns None when nothing is missing)."""
    if limit is None:
        return None
    if units is None:
        return ["*"]
    out = [u for u in dict.fromkeys(units) if u is None or u not in limit]
    return out or None


def allowed(principal: Principal, operation: str, units: Collection[str | None] | None = None,
            owner: str | None = None) -> bool:
    """True when :func:`require` would let the operation through."""
    return refusal(principal, operation, units, owner) is None


def refusal(principal: Principal, operation: str, units: Collection[str | None] | None = None,
            owner: str | None = None, what: str | None = None) -> PermissionDenied | None:
    """The refusal :func:`require` raises, or None when the operation is allowed."""
    op = _operation(operation)
    if op.owner_may and principal.grants and principal.is_owner(owner):
        return None
    limit = principal.units_for(op.roles)
    if limit is not None and not limit and not any(principal.has(r) for r in op.roles):
        return PermissionDenied(f"{principal.describe()} may not {what or op.does}: needs the role "
                                f"{_needed(op)}")
    gap = _missing(units, limit)
    if gap is None:
        return None
    if gap == ["*"]:
        where = "for every business unit"
    else:
        where = "for business unit " + ", ".join("(none)" if u is None else str(u) for u in gap)
    assert limit is not None
    return PermissionDenied(f"{principal.describe()} may not {what or op.does}: needs the role {_needed(op)} "
                            f"{where} (held for {', '.join(sorted(limit)) or 'no unit'})")


def require(principal: Principal, operation: str, units: Collection[str | None] | None = None, *,
            owner: str | None = None, what: str | None = None) -> None:
    """Raise :class:`~engine.errors.PermissionDenied` unless ``principal`` may perform ``operation``.

    ``units``: the business units of the records concerned (None: the whole organisation; a unit of
    None is a record with no business unit, which only an unlimited role covers). ``owner``: the risk
    owner, for the operations a risk owner may perform on their own risks. ``what`` says what was asked
    in the message (default: the operation in words).
    """
    refused = refusal(principal, operation, units, owner, what)
    if refused is not None:
        raise refused


def _needed(op: Operation) -> str:
    text = " or ".join(op.roles)
    return text + (" (or be the risk owner)" if op.owner_may else "")
