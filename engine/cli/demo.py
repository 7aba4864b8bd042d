"""The demo organisation (``riskmap demo``) and the analysts' Parquet export (``riskmap export parquet``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.config import db_path
from engine.demo import build_demo, export_views_parquet

from .base import DbOption, NewDbOption, app, echo, export_app


@app.command("demo")
def demo_cmd(
    db: NewDbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the database even if it is not a demo "
                                                         "database (its content is lost).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Build the demo organisation (Northwind Health) through the same importers users run.

    Refuses to replace an existing database that holds anything but the demo unless --force is given.
    Rebuilding the demo gives the same database every time.
    """
    path = db_path(db)
    report = build_demo(path, progress=None if quiet else echo, force=force)
    echo(report.summary())


@export_app.command("parquet")
def export_parquet(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write <view>.parquet files into (created if needed).",
                                            file_okay=False)],
    db: DbOption = None,
) -> None:
    """Write every documented view as DIR/<view>.parquet, read from a read-only connection."""
    written = export_views_parquet(db_path(db), out_dir)
    for path, rows in written:
        echo(f"{path}: {rows} rows")
    echo(f"{len(written)} views written to {out_dir}")
