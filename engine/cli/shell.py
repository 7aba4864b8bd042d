"""``riskmap shell``: the DuckDB shell on the store, read-only, with every documented view defined."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from engine import access
from engine.store import shell as shell_mod

from .base import DbOption, app, principal


@app.command("shell")
def shell(
    db: DbOption = None,
    command: Annotated[str | None, typer.Option("-c", "--command", help="Run one SQL statement and exit.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print results as CSV.")] = False,
) -> None:
    """Open the DuckDB shell on the store, read-only, with every documented view defined.

    On PostgreSQL the session attaches the server read-only (as RISKMAP_READER_URL when set); on a
    DuckDB file it reads a replica of the file refreshed after each commit, so an open shell never makes
    a write wait and sees changes within seconds."""
    access.require(principal(), "query")  # the shell reads every table of every business unit
    cmd = shell_mod.command(db, command, csv=csv)
    if cmd.replica is not None:
        cmd.replica.start()  # an interactive session on a DuckDB file: keep its replica up to date
    try:
        code = subprocess.call(cmd.argv)
    finally:
        if cmd.replica is not None:
            cmd.replica.stop()
        cmd.remove_files()
    if code:
        raise typer.Exit(code)
