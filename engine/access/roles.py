"""The roles file (path in ``RISKMAP_ROLES``): who holds which role, in which business units.

YAML of this shape (every key but ``users`` optional)::

    groups_claim: groups            # the identity provider's claim listing a user's groups
    groups:                         # groups of the identity provider -> roles (and units)
      riskmap-admins: {roles: [admin]}
      clinical-team: {roles: [contributor], units: [Clinical]}
    users:
      name@example.org:             # an e-mail (sign-in) or an operating system account name (CLI)
        name: Alice Example         # display name (default: the key)
        roles: [contributor, approver]
        units: [Clinical, Platform] # absent: every business unit
        password_hash: "$argon2id$..."   # a local account (``riskmap user set-password``)

Without a ``groups`` section, the groups ``riskmap-viewer``, ``riskmap-contributor``,
``riskmap-approver`` and ``riskmap-admin`` grant the role of their name in every unit. A file with a
mistake is refused as a whole, every problem named by file, key and value (:class:`InputError`):
a half-read roles file would grant or withhold roles nobody meant to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import ConfigError, InputError, Problem

from .principal import ROLES, UnitLimit

__all__ = ["DEFAULT_GROUPS", "DEFAULT_GROUPS_CLAIM", "ROLES_ENV", "Grant", "RolesFile", "UserEntry",
           "load_roles", "parse_roles", "roles_path"]

ROLES_ENV = "RISKMAP_ROLES"
DEFAULT_GROUPS_CLAIM = "groups"
_USER_KEYS = ("name", "roles", "units", "password_hash")
_GROUP_KEYS = ("roles", "units")
_TOP_KEYS = ("users", "groups", "groups_claim")


@dataclass(frozen=True)
class Grant:
    """Roles granted together, limited to ``units`` (None: every unit)."""

    roles: tuple[str, ...]
    units: UnitLimit = None


DEFAULT_GROUPS: dict[str, Grant] = {f"riskmap-{r}": Grant((r,)) for r in ROLES}
"""The group mapping used when the roles file has no ``groups`` section (or there is no roles file)."""


@dataclass(frozen=True)
class UserEntry:
    """One user of the roles file."""

    key: str
    name: str
    grant: Grant
    password_hash: str | None = None


@dataclass(frozen=True)
class RolesFile:
    """A parsed roles file. Users are looked up whatever the case of their key."""

    path: Path
    users: dict[str, UserEntry] = field(default_factory=dict)
    groups: dict[str, Grant] = field(default_factory=lambda: dict(DEFAULT_GROUPS))
    groups_claim: str = DEFAULT_GROUPS_CLAIM

    def user(self, key: str | None) -> UserEntry | None:
        if not key:
            return None
        return self.users.get(key.strip().casefold())

    @property
    def has_passwords(self) -> bool:
        """True when at least one user has a local account (the app then offers its sign-in form)."""
        return any(u.password_hash for u in self.users.values())


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (YAML would silently keep the last one)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        folded = str(key).strip().casefold()
        if folded in seen:
            raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice",
                                                    key_node.start_mark)
        seen.add(folded)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def roles_path() -> Path | None:
    """The roles file configured in ``RISKMAP_ROLES``, or None for the single-user default."""
    value = os.environ.get(ROLES_ENV, "").strip()
    return Path(value).expanduser() if value else None


_CACHE: dict[Path, tuple[tuple[int, int], RolesFile]] = {}


def load_roles(path: str | Path | None = None) -> RolesFile | None:
    """The roles file at ``path`` (default: ``RISKMAP_ROLES``), or None when none is configured.

    Read again whenever the file changes (a revoked role takes effect on the next operation). A
    configured file that is missing or unreadable is refused (:class:`ConfigError`): running with
    everyone holding every role because a path was mistyped would be worse than not running.
    """
    chosen = Path(path) if path is not None else roles_path()
    if chosen is None:
        return None
    try:
        st = chosen.stat()
    except OSError as exc:
        raise ConfigError(f"{chosen}: the roles file ({ROLES_ENV}) cannot be read: {exc.strerror}") from exc
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(chosen)
    if hit and hit[0] == stamp:
        return hit[1]
    try:
        text = chosen.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: the roles file cannot be read as UTF-8 text: {exc}") from exc
    parsed = parse_roles(text, chosen)
    _CACHE[chosen] = (stamp, parsed)
    return parsed


def parse_roles(text: str, path: str | Path = "roles.yaml") -> RolesFile:
    """Parse the text of a roles file; every problem at once (:class:`InputError`)."""
    where = str(path)
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(where, line, None, f"not valid YAML: {reason}")],
                         f"{where}: the roles file is not valid YAML") from exc
    problems: list[Problem] = []
    if not isinstance(doc, Mapping):
        raise InputError([Problem(where, None, None, "the roles file must be a mapping with a 'users' key",
                                  type(doc).__name__, "users: {name: {roles: [...]}}")])
    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(Problem(where, str(key), None, "unknown key", key, " or ".join(_TOP_KEYS)))
    claim = doc.get("groups_claim", DEFAULT_GROUPS_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        problems.append(Problem(where, "groups_claim", None, "not a claim name", claim, "e.g. groups"))
        claim = DEFAULT_GROUPS_CLAIM
    users = _users(doc.get("users"), where, problems)
    groups = _groups(doc["groups"], where, problems) if "groups" in doc else dict(DEFAULT_GROUPS)
    if problems:
        raise InputError(problems, f"{where}: {len(problems)} problem(s) in the roles file; no role was granted")
    return RolesFile(Path(where), users, groups, claim.strip())


def _users(section: Any, where: str, problems: list[Problem]) -> dict[str, UserEntry]:
    if not isinstance(section, Mapping):
        problems.append(Problem(where, "users", None, "missing or not a mapping of users", section,
                                "users: {name@example.org: {roles: [viewer]}}"))
        return {}
    out: dict[str, UserEntry] = {}
    for raw_key, entry in section.items():
        key = str(raw_key).strip()
        loc = f"users.{key}"
        if not key:
            problems.append(Problem(where, "users", None, "a user with an empty name"))
            continue
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, loc, None, "not a mapping", entry, "{roles: [viewer]}"))
            continue
        _unknown(entry, _USER_KEYS, where, loc, problems)
        grant = _grant(entry, where, loc, problems)
        name = entry.get("name", key)
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(where, loc, "name", "not a display name", name, "text"))
            name = key
        hashed = entry.get("password_hash")
        if hashed is not None and (not isinstance(hashed, str) or not hashed.startswith("$argon2")):
            problems.append(Problem(where, loc, "password_hash", "not an argon2 hash", "(hidden)",
                                    "a hash written by `riskmap user set-password`"))
            hashed = None
        if grant is not None:
            out[key.casefold()] = UserEntry(key, name.strip(), grant, hashed)
    return out


def _groups(section: Any, where: str, problems: list[Problem]) -> dict[str, Grant]:
    if not isinstance(section, Mapping):
        problems.append(Problem(where, "groups", None, "not a mapping of groups", section,
                                "groups: {riskmap-admins: {roles: [admin]}}"))
        return {}
    out: dict[str, Grant] = {}
    for raw_key, entry in section.items():
        loc = f"groups.{raw_key}"
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, loc, None, "not a mapping", entry, "{roles: [viewer]}"))
            continue
        _unknown(entry, _GROUP_KEYS, where, loc, problems)
        grant = _grant(entry, where, loc, problems)
        if grant is not None:
            out[str(raw_key).strip()] = grant
    return out


def _unknown(entry: Mapping[Any, Any], allowed: tuple[str, ...], where: str, loc: str,
             problems: list[Problem]) -> None:
    for k in entry:
        if k not in allowed:
            problems.append(Problem(where, loc, str(k), "unknown key", k, ", ".join(allowed)))


def _grant(entry: Mapping[Any, Any], where: str, loc: str, problems: list[Problem]) -> Grant | None:
    before = len(problems)
    roles = entry.get("roles")
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not roles:
        problems.append(Problem(where, loc, "roles", "missing or empty", roles, "a list of " + ", ".join(ROLES)))
        roles = []
    for r in roles:
        if r not in ROLES:
            problems.append(Problem(where, loc, "roles", "unknown role", r, ", ".join(ROLES)))
    units: UnitLimit = None
    if "units" in entry:
        given = entry["units"]
        if isinstance(given, str):
            given = [given]
        if not isinstance(given, list) or not given:
            problems.append(Problem(where, loc, "units", "not a list of business units", given,
                                    "a list such as [Clinical, Platform]; leave units out for every unit"))
        else:
            bad = [u for u in given if not isinstance(u, (str, int)) or not str(u).strip()]
            for u in bad:
                problems.append(Problem(where, loc, "units", "not a business unit name", u, "text"))
            units = frozenset(str(u).strip() for u in given if u not in bad)
    if len(problems) > before:
        return None
    return Grant(tuple(r for r in ROLES if r in roles), units)
