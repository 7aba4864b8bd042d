"""Access control: who is acting (:class:`Principal`), which role each operation needs, and the check
every engine write makes (:func:`require`, :func:`check_records`), in the app and the CLI alike.

- :mod:`~engine.access.principal`: the principal (stable id, display name, roles and their business
  units, how it was authenticated);
- :mod:`~engine.access.permissions`: the role x operation table and :func:`require`, which raises
  :class:`~engine.errors.PermissionDenied` naming who, what and the role needed;
- :mod:`~engine.access.roles`: the roles file (``RISKMAP_ROLES``), identity provider groups -> roles;
- :mod:`~engine.access.identity`: principals of signed-in users, of the command line (operating system
  account, or ``RISKMAP_SERVICE_IDENTITY`` for a scheduled job) and of plain names (:func:`resolve`);
- :mod:`~engine.access.accounts`: local accounts (argon2 password hashes, sign-in checks);
- :mod:`~engine.access.scope`: the checks that need the database (a record's business units) and the
  read scope of a connection (``riskmap_units``, read by the register views);
- :mod:`~engine.access.rls`: row level security on the PostgreSQL store for analysts' read-only logins.

With no roles file configured the single-user default applies: the local user holds every role.
"""

from __future__ import annotations

from .accounts import MIN_PASSWORD_LENGTH, authenticate, hash_password, set_password
from .identity import SERVICE_ENV, local_principal, os_account, principal_for, resolve
from .permissions import EDIT_OPERATIONS, OPERATIONS, Operation, allowed, refusal, require
from .principal import AUTH_METHODS, ROLES, Principal
from .roles import (
           DEFAULT_GROUPS,
           DEFAULT_GROUPS_CLAIM,
           ROLES_ENV,
           Grant,
           RolesFile,
           UserEntry,
           load_roles,
           parse_roles,
           roles_path,
)
from .scope import WrittenRisks, check_records, record_units, scope, visible_risk_ids

__all__ = ["AUTH_METHODS", "DEFAULT_GROUPS", "DEFAULT_GROUPS_CLAIM", "EDIT_OPERATIONS", "MIN_PASSWORD_LENGTH",
           "OPERATIONS", "ROLES", "ROLES_ENV", "SERVICE_ENV", "Grant", "Operation", "Principal", "RolesFile",
           "UserEntry", "WrittenRisks", "allowed", "authenticate", "check_records", "hash_password", "load_roles",
           "local_principal", "os_account", "parse_roles", "principal_for", "record_units", "refusal", "require",
           "resolve", "roles_path", "scope", "set_password", "visible_risk_ids"]
