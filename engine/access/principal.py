"""Who is acting: a :class:`Principal` is an authenticated person (or scheduled job) with its roles.

A principal *is* its stable id (a ``str``: an e-mail address for a sign-in, an operating system
account name for the command line, a service identity for a scheduled job), so it can be stored
wherever an actor id is stored (``history.actor``, ``updated_by``, ``decided_by``...). It carries its
display name, the roles it holds, the business units each role is limited to (``None``: every unit)
and how it was authenticated. The change history records the id and the display name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["AUTH_METHODS", "ROLES", "Principal", "UnitLimit"]

ROLES = ("viewer", "contributor", "approver", "admin")
"""The roles, from reading to administering (each is a set of operations of its own: see
:mod:`engine.access.permissions`; a user holds any combination)."""

AUTH_METHODS = {
    "oidc": "signed in with the organisation's identity provider",
    "password": "signed in with a local account",
    "os": "the operating system account running the command",
    "service": "the service identity of a scheduled job",
    "none": "the single-user default: no sign-in configured",
    "api": "named by a caller of the Python API",
    "system": "riskmap itself (the demo build)",
}
"""How a principal was authenticated, as :attr:`Principal.auth` records it."""

UnitLimit = frozenset[str] | None
"""The business units a role is limited to; ``None`` means every unit."""


class Principal(str):
    """An authenticated principal: its stable id (the string value), display name, roles and units.

    ``grants`` maps each role held to the business units it is limited to (``None``: every unit).
    """

    name: str
    grants: Mapping[str, UnitLimit]
    auth: str
    email: str | None

    def __new__(cls, id: str, name: str | None = None, grants: Mapping[str, Iterable[str] | None] | None = None,
                *, auth: str = "api", email: str | None = None) -> Principal:
        ident = str(id).strip()
        if not ident:
            raise ValueError("a principal needs a non-empty id")
        if auth not in AUTH_METHODS:
            raise ValueError(f"unknown authentication method {auth!r}")
        self = super().__new__(cls, ident)
        self.name = (name or "").strip() or ident
        clean: dict[str, UnitLimit] = {}
        for role, units in (grants or {}).items():
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
            clean[role] = None if units is None else frozenset(str(u) for u in units)
        self.grants = clean
        self.auth = auth
        self.email = email
        return self

    @classmethod
    def everything(cls, id: str, name: str | None = None, *, auth: str) -> Principal:
        """A principal with every role in every unit: the single-user default, the demo build."""
        return cls(id, name, dict.fromkeys(ROLES), auth=auth)

    @property
    def id(self) -> str:
        """The stable id (what the history's ``actor`` column holds)."""
        return str(self)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles held, in :data:`ROLES` order."""
        return tuple(r for r in ROLES if r in self.grants)

    @property
    def units(self) -> UnitLimit:
        """The business units the principal may see: ``None`` (every unit) when any role it holds is
        unlimited, else the union of its roles' units."""
        if not self.grants:
            return frozenset()
        seen: set[str] = set()
        for units in self.grants.values():
            if units is None:
                return None
            seen |= units
        return frozenset(seen)

    def has(self, role: str) -> bool:
        return role in self.grants

    def units_for(self, roles: Iterable[str]) -> UnitLimit:
        """The units in which the principal holds any of ``roles`` (``None``: every unit; empty: none)."""
        seen: set[str] = set()
        for role in roles:
            if role in self.grants:
                units = self.grants[role]
                if units is None:
                    return None
                seen |= units
        return frozenset(seen)

    def is_owner(self, owner: str | None) -> bool:
        """True when a record's ``owner`` names this principal: its id, display name or e-mail, whatever
        the case (risk owners are written as people write names)."""
        if not owner or not owner.strip():
            return False
        wanted = owner.strip().casefold()
        return any(wanted == (v or "").strip().casefold() for v in (self.id, self.name, self.email))

    def describe(self) -> str:
        """One line for messages: ``Alice Admin <alice@example.org> (admin)``."""
        who = self.id if self.name == self.id else f"{self.name} <{self.id}>"
        return f"{who} ({', '.join(self.roles) or 'no role'})"

    def as_dict(self) -> dict[str, Any]:
        """What ``riskmap whoami`` prints."""
        return {"id": self.id, "name": self.name, "email": self.email, "auth": self.auth,
                "roles": list(self.roles),
                "units": None if self.units is None else sorted(self.units),
                "grants": {r: None if u is None else sorted(u) for r, u in self.grants.items()}}

    def __repr__(self) -> str:
        return f"Principal({self.id!r}, name={self.name!r}, roles={self.roles!r}, auth={self.auth!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickling (Streamlit's session state, multiprocessing)
        return (_rebuild, (self.id, self.name, dict(self.grants), self.auth, self.email))


def _rebuild(ident: str, name: str, grants: dict[str, UnitLimit], auth: str, email: str | None) -> Principal:
    return Principal(ident, name, grants, auth=auth, email=email)
