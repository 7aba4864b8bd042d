"""Turning an authenticated identity into a :class:`Principal` with its roles.

- :func:`principal_for`: a user the app signed in (identity provider or local account) or a name a
  caller of the Python API gives: the roles of their entry in the roles file, plus those of their
  identity provider groups;
- :func:`local_principal`: whoever runs the command line: the service identity of a scheduled job
  (``RISKMAP_SERVICE_IDENTITY``, which must be in the roles file), else the operating system account;
- :func:`resolve`: what every engine write calls on its ``actor`` argument: a principal stays as it is, a
  plain string is resolved through the roles file (so existing callers keep working).

With no roles file configured, the single-user default applies: the local user (the command line's
account, the app without sign-in, a name given to the API) holds every role in every unit. A user the
roles file does not list holds no role, and every operation is refused.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable

from engine.errors import ConfigError

from .principal import ROLES, Principal, UnitLimit
from .roles import DEFAULT_GROUPS, ROLES_ENV, Grant, RolesFile, load_roles

__all__ = ["SERVICE_ENV", "merge_grants", "local_principal", "os_account", "principal_for", "resolve"]

SERVICE_ENV = "RISKMAP_SERVICE_IDENTITY"
_EVERYTHING_WITHOUT_ROLES_FILE = ("os", "none", "api", "system")
"""How a principal may be authenticated to get the single-user default when no roles file exists."""


def merge_grants(grants: Iterable[Grant]) -> dict[str, UnitLimit]:
    """Role -> units over several grants: a role's units are the union, and unlimited wins."""
    out: dict[str, UnitLimit] = {}
    for g in grants:
        for role in g.roles:
            if role in out:
                have = out[role]
                out[role] = None if have is None or g.units is None else have | g.units
            else:
                out[role] = g.units
    return out


def principal_for(ident: str, *, auth: str, name: str | None = None, email: str | None = None,
                  groups: Iterable[str] = (), roles_file: RolesFile | None | str = "configured") -> Principal:
    """The principal of ``ident`` authenticated by ``auth``, with the roles the roles file and the
    identity provider ``groups`` give it. ``roles_file``: a parsed file, None for none, or the one
    configured (``RISKMAP_ROLES``)."""
    rf = load_roles() if roles_file == "configured" else roles_file
    assert rf is None or isinstance(rf, RolesFile)
    ident = ident.strip()
    if rf is None and auth in _EVERYTHING_WITHOUT_ROLES_FILE:
        return Principal(ident, name, dict.fromkeys(ROLES), auth=auth, email=email)
    mapping = rf.groups if rf is not None else DEFAULT_GROUPS
    found = [mapping[g] for g in dict.fromkeys(str(g) for g in groups) if g in mapping]
    entry = rf.user(ident) if rf is not None else None
    if entry is None and rf is not None and email:
        entry = rf.user(email)
    if entry is not None:
        found.insert(0, entry.grant)
        name = name or entry.name
    return Principal(ident, name, merge_grants(found), auth=auth, email=email)


def os_account() -> str:
    """The operating system account running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in some containers
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def local_principal() -> Principal:
    """The principal of the command line: ``RISKMAP_SERVICE_IDENTITY`` for a scheduled job (it must be a
    user of the roles file, so a job's rights are written down), else the operating system account."""
    service = os.environ.get(SERVICE_ENV, "").strip()
    if service:
        rf = load_roles()
        if rf is None:
            raise ConfigError(f"{SERVICE_ENV}={service}: a service identity needs a roles file ({ROLES_ENV}) "
                              f"that lists it with its roles")
        if rf.user(service) is None:
            raise ConfigError(f"{SERVICE_ENV}={service}: not a user of the roles file {rf.path}; add it with "
                              f"the roles the job needs")
        return principal_for(service, auth="service", roles_file=rf)
    return principal_for(os_account(), auth="os")


def resolve(actor: Principal | str | None) -> Principal:
    """The principal an engine write acts as: ``actor`` itself when it is one; a name given as a plain
    string resolved through the roles file (every role without one); None: the local principal."""
    if isinstance(actor, Principal):
        return actor
    if actor is None:
        return local_principal()
    text = str(actor).strip()
    if not text:
        raise ConfigError("an engine write needs the principal making it (actor)")
    return principal_for(text, auth="api")
