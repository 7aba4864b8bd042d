"""Shared pieces of the command line: the typer apps, the --db option, output helpers."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import polars as pl
import typer

app = typer.Typer(
    name="riskmap",
    help="Integrated ISO/IEC 27001:2022 + ISO/IEC 42001:2023 risk-mapping engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export views and documents to files.", no_args_is_help=True)
import_app = typer.Typer(help="Import registers (risks, AI systems, assets) from CSV or Excel.",
                         no_args_is_help=True)
soa_app = typer.Typer(help="Statement of Applicability: snapshots and diffs.", no_args_is_help=True)
plan_app = typer.Typer(help="Treatment plan: approvals and acceptance.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(soa_app, name="soa")
app.add_typer(plan_app, name="plan")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="The store: a DuckDB file, or postgresql://user@host:port/db "
                              "(default: $RISKMAP_DB, else data/riskmap.duckdb)."),
]


ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="Who makes the change, for the history (default: $RISKMAP_ACTOR, else your login name).")]


def actor_name(given: str | None, fallback: str = "cli") -> str:
    """The actor recorded in the history: --actor, $RISKMAP_ACTOR, else the login name."""
    if given:
        return given
    env = os.environ.get("RISKMAP_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return fallback


def echo(text: str = "") -> None:
    typer.echo(text)


def emit_frame(frame: pl.DataFrame, fmt: str = "table") -> None:
    """Print a frame as an aligned table, CSV or JSON (records)."""
    if fmt == "csv":
        nested = [n for n, t in frame.schema.items() if isinstance(t, (pl.List, pl.Array, pl.Struct))]
        if nested:  # CSV has no lists: join them, structs as JSON text
            frame = frame.with_columns(
                [pl.col(n).cast(pl.List(pl.String)).list.join("; ") if not isinstance(frame.schema[n], pl.Struct)
                 else pl.col(n).struct.json_encode() for n in nested])
        from engine.exports.safe import safe_frame

        sys.stdout.write(safe_frame(frame).write_csv())
    elif fmt == "json":
        sys.stdout.write(frame.write_json() + "\n")
    elif fmt == "table":
        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200,
                       tbl_hide_dataframe_shape=True):
            typer.echo(str(frame))
    else:
        raise typer.BadParameter(f"unknown format {fmt!r}; expected table, csv or json")
