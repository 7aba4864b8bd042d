"""Who you are and the users of the roles file: ``whoami``, ``user set-password``, ``user reader-units``."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Literal

import typer

from engine import access
from engine.access import rls
from engine.errors import InputError, Problem

from .base import DbOption, app, echo, principal, user_app


@app.command("whoami")
def whoami(fmt: Annotated[Literal["text", "json"], typer.Option("--format", help="text or json")] = "text") -> None:
    """Show who the command line acts as: the principal, how it was identified, its roles and units."""
    who = principal()
    info = who.as_dict()
    rf = access.load_roles()
    info["roles_file"] = None if rf is None else str(rf.path)
    if fmt == "json":
        echo(json.dumps(info, indent=2))
        return
    echo(f"principal: {who.id}" + ("" if who.name == who.id else f" ({who.name})"))
    echo(f"identified as: {access.AUTH_METHODS[who.auth]}")
    echo("roles file: " + (info["roles_file"] or "none (single-user default: every role)"))
    if not who.grants:
        echo("roles: none (every operation is refused)")
    for role in who.roles:
        units = who.grants[role]
        echo(f"role {role}: " + ("every business unit" if units is None else ", ".join(sorted(units))))
    echo("sees: " + ("every business unit" if who.units is None else ", ".join(sorted(who.units)) or "nothing"))


def _read_password(prompt: str) -> str:
    """A password from the terminal without echo, or one line of standard input when it is not a terminal
    (a script piping it in); never from the command line, where it would stay in the shell's history."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("set-password")
def set_password(
    user: Annotated[str, typer.Argument(metavar="USER", help="The user, as the roles file names them (an e-mail or account).")],
) -> None:
    """Set a local account's password (read without echo; its argon2 hash goes into the roles file)."""
    who = principal()
    access.require(who, "manage_users")  # before asking for the password
    first = _read_password(f"New password for {user}: ")
    if sys.stdin.isatty() and getpass.getpass("Repeat it: ") != first:
        raise InputError([Problem("password", None, None, "the two passwords differ")], "passwords differ")
    path = access.set_password(user, first, actor=who)
    echo(f"{path}: password of {user} set (argon2 hash)")


@user_app.command("reader-units")
def reader_units_cmd(
    login: Annotated[str, typer.Argument(metavar="LOGIN", help="An analyst's PostgreSQL login (granted riskmap_reader).")],
    unit: Annotated[list[str] | None, typer.Option(
        "--unit", help="A business unit the login may read (repeat); none: every unit.")] = None,
    db: DbOption = None,
) -> None:
    """Limit a PostgreSQL reader login to business units (row level security on the risks)."""
    chosen = rls.set_reader_units(db, login, unit or [], actor=principal())
    echo(f"{login} reads " + (", ".join(chosen) if chosen else "every business unit"))
