"""``riskmap shell``: the DuckDB shell on the store, read-only, with every documented view defined."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from engine.store import shell as shell_mod

from .base import DbOption, app


@app.command("shell")
def shell(
    db: DbOption = None,
    command: Annotated[str | None, typer.Option("-c", "--command", help="Run one SQL statement and exit.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print results as CSV.")] = False,
) -> None:
    """Open the DuckDB shell on the store, read-only, with every documented view defined.

    On PostgreSQL the session attaches the server read-only (as RISKMAP_READER_URL when set); on a
    DuckDB file it opens a snapshot copy, so an open shell never makes a write wait."""
    cmd = shell_mod.command(db, command, csv=csv)
    try:
        code = subprocess.call(cmd.argv)
    finally:
        cmd.remove_files()
    if code:
        raise typer.Exit(code)
