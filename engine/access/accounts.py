"""Local accounts, for a team without an identity provider: argon2 password hashes in the roles file.

A password is never stored or logged: :func:`set_password` writes its argon2id hash (salted, memory
hard; argon2-cffi's defaults) as the user's ``password_hash`` in the roles file, changing that one line
and nothing else of the file (comments and layout stay as the administrator wrote them).
:func:`authenticate` checks a password against the hash in constant time, spends the same time on an
unknown user as on a known one (so a sign-in form does not tell which users exist), and slows down
guessing: after :data:`MAX_FAILURES` wrong passwords for one user, further attempts are refused for
:data:`LOCKOUT_SECONDS` after the last failure.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from engine.errors import ConfigError, InputError, PermissionDenied, Problem

from .identity import principal_for, resolve
from .permissions import require
from .principal import Principal
from .roles import RolesFile, load_roles, parse_roles

__all__ = ["LOCKOUT_SECONDS", "MAX_FAILURES", "MIN_PASSWORD_LENGTH", "authenticate", "hash_password",
           "set_password"]

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
LOCKOUT_SECONDS = 30.0

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("riskmap: a password no account has")
_failures: dict[str, tuple[int, float]] = {}
_failures_lock = threading.Lock()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (refused when shorter than :data:`MIN_PASSWORD_LENGTH`)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError([Problem("password", None, None, "too short", f"{len(password)} characters",
                                  f"at least {MIN_PASSWORD_LENGTH} characters")], "the password is too short")
    return _HASHER.hash(password)


def _locked(key: str) -> bool:
    with _failures_lock:
        count, last = _failures.get(key, (0, 0.0))
    return count >= MAX_FAILURES and time.monotonic() - last < LOCKOUT_SECONDS


def _failed(key: str) -> None:
    with _failures_lock:
        count, _ = _failures.get(key, (0, 0.0))
        _failures[key] = (count + 1, time.monotonic())


def authenticate(user: str, password: str, roles_file: RolesFile | None = None) -> Principal:
    """The principal of a local account whose password is ``password``; PermissionDenied otherwise, with
    the same message whether the user is unknown, has no local account or gave a wrong password."""
    rf = roles_file or load_roles()
    key = (user or "").strip().casefold()
    refused = PermissionDenied("sign-in refused: unknown user or wrong password")
    if rf is None:
        raise PermissionDenied("local accounts need a roles file (RISKMAP_ROLES) with password hashes")
    if _locked(key):
        raise PermissionDenied(f"sign-in refused: too many wrong passwords for this user; wait "
                               f"{int(LOCKOUT_SECONDS)} seconds and try again")
    entry = rf.user(key)
    hashed = entry.password_hash if entry is not None else None
    try:
        _HASHER.verify(hashed or _DUMMY_HASH, password or "")
        ok = hashed is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or entry is None:
        _failed(key)
        raise refused
    with _failures_lock:
        _failures.pop(key, None)
    return principal_for(entry.key, auth="password", roles_file=rf)


# -- writing a hash into the roles file ------------------------------------------------------------

_KEY_LINE = re.compile(r"^(?P<indent>[ ]*)(?P<q>['\"]?)(?P<key>[^'\"#:]+?)(?P=q)[ ]*:[ ]*(?:#.*)?$")


def _block(lines: list[str], start: int, indent: int) -> int:
    """The index after the last line of the block opened at ``start`` (lines indented deeper)."""
    end = start + 1
    while end < len(lines):
        text = lines[end].rstrip("\n")
        if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip(" ")) <= indent:
            break
        end += 1
    return end


def _with_hash(text: str, user: str, hashed: str) -> str:
    """``text`` with the ``password_hash`` line of ``user`` set (replaced or added under the user)."""
    lines = text.splitlines(keepends=True)
    top = next((i for i, ln in enumerate(lines) if re.match(r"^users[ ]*:[ ]*(#.*)?$", ln.rstrip("\n"))), None)
    if top is None:
        raise ValueError("no block 'users:' at the top level")
    end = _block(lines, top, 0)
    for i in range(top + 1, end):
        m = _KEY_LINE.match(lines[i].rstrip("\n"))
        if not m or m.group("key").strip().casefold() != user.casefold():
            continue
        indent = len(m.group("indent"))
        stop = _block(lines, i, indent)
        children = [j for j in range(i + 1, stop) if lines[j].strip() and not lines[j].lstrip().startswith("#")]
        child_indent = (len(lines[children[0]]) - len(lines[children[0]].lstrip(" "))) if children else indent + 2
        new = f"{' ' * child_indent}password_hash: \"{hashed}\"\n"
        for j in children:
            if re.match(r"^[ ]*password_hash[ ]*:", lines[j]):
                lines[j] = new
                return "".join(lines)
        at = (children[-1] + 1) if children else i + 1
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines.insert(at, new)
        return "".join(lines)
    raise ValueError(f"no block for the user {user!r} under 'users:'")


def set_password(user: str, password: str, path: str | Path | None = None, *,
                 actor: Principal | str | None = None) -> Path:
    """Set the local-account password of ``user`` (a user of the roles file): its argon2 hash goes
    into the file's ``password_hash`` line for that user. Returns the file written. ``actor`` (default:
    the local principal) needs the role admin."""
    require(resolve(actor), "manage_users")
    rf = load_roles(path)
    if rf is None:
        raise ConfigError("no roles file: set RISKMAP_ROLES to the roles file the accounts are kept in")
    entry = rf.user(user)
    if entry is None:
        raise ConfigError(f"{rf.path}: no user {user!r}; add the user with their roles first")
    hashed = hash_password(password)
    text = rf.path.read_text(encoding="utf-8")
    try:
        updated = _with_hash(text, entry.key, hashed)
        after = parse_roles(updated, rf.path)
    except (ValueError, InputError, yaml.YAMLError) as exc:
        raise ConfigError(f"{rf.path}: cannot add the password hash of {entry.key} to this file ({exc}); "
                          f"write the user in block style (key: then one setting per line)") from exc
    check = after.user(entry.key)
    same = {k: v for k, v in rf.users.items() if k != entry.key.casefold()} == \
        {k: v for k, v in after.users.items() if k != entry.key.casefold()}
    if check is None or check.password_hash != hashed or check.grant != entry.grant or not same:
        raise ConfigError(f"{rf.path}: cannot add the password hash of {entry.key} without changing other "
                          f"settings; write the user in block style (key: then one setting per line)")
    _write_atomic(rf.path, updated)
    return rf.path


def _write_atomic(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
