"""Shared pieces of the command line: the typer apps, the shared options, output helpers.

The options declared here check what they can before a command runs, so every command gets the same
clear refusal: ``--db`` must name an existing database (except for the commands that create one),
``--format`` and the other closed choices accept only their listed values, and the files a command
reads or writes are declared ``dir_okay=False`` so a directory is refused by name.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer

from engine.config import DEFAULT_DB_NOTE, db_path
from engine.errors import ConfigError
from engine.store.postgres import is_url
from engine.store.status import is_ready, location_text

__all__ = [
    "ActorOption", "DbOption", "FormatOption", "NewDbOption", "OutOption", "TableFormat", "UncheckedDbOption",
    "actor_name", "app", "check_db", "echo", "emit_frame", "export_app", "import_app", "iso_date", "one_of",
    "plan_app", "soa_app",
]

app = typer.Typer(
    name="riskmap",
    help="Integrated ISO/IEC 27001:2022 + ISO/IEC 42001:2023 risk-mapping engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export views and documents to files.", no_args_is_help=True)
import_app = typer.Typer(help="Import registers (risks, AI systems, assets) from CSV or Excel, and crosswalks "
                              "(OSCAL mapping collections, CISO Assistant libraries).", no_args_is_help=True)
soa_app = typer.Typer(help="Statement of Applicability: snapshots and diffs.", no_args_is_help=True)
plan_app = typer.Typer(help="Treatment plan: approvals and acceptance.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(soa_app, name="soa")
app.add_typer(plan_app, name="plan")


# -- the database -------------------------------------------------------------------------------------

def check_db(given: Path | str | None, *, must_exist: bool = True) -> Path:
    """The database a command works on (``--db``, ``$RISKMAP_DB``, the default), refused when unusable.

    A command that reads or changes records needs the file to exist: opening a missing one for writing
    would leave an empty database behind and then fail on its first table. A PostgreSQL store
    (``postgresql://...``) must be reachable and hold riskmap's schema.
    """
    path = db_path(given)
    if is_url(path):
        if must_exist and not is_ready(path):  # the server is reached (or says why not) and asked
            raise ConfigError(f"{location_text(path)}: holds no riskmap database; run `riskmap init --db URL` "
                              f"first (or `riskmap demo --db URL` for the demo organisation)")
        return path
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; --db names a DuckDB file")
    if must_exist and not path.exists():
        raise ConfigError(f"{path}: no such database; run `riskmap init --db {path}` first "
                          f"(or `riskmap demo --db {path}` for the demo organisation)")
    return path


def _existing_db(ctx: typer.Context, value: str | None) -> Path | None:
    if ctx.resilient_parsing:  # shell completion: no checks
        return None if value is None else db_path(value)
    return check_db(value)


def _db_target(ctx: typer.Context, value: str | None) -> Path | None:
    if ctx.resilient_parsing:
        return None if value is None else db_path(value)
    return check_db(value, must_exist=False)


_DB_HELP = f"The store: a DuckDB file or postgresql://user@host:port/db (default: $RISKMAP_DB, else {DEFAULT_DB_NOTE})."

DbOption = Annotated[str | None, typer.Option("--db", help=_DB_HELP, callback=_existing_db)]
"""``--db`` of every command that works on an existing database."""

NewDbOption = Annotated[str | None, typer.Option("--db", help=_DB_HELP + " Created if it does not exist.",
                                                  callback=_db_target)]
"""``--db`` of the commands that create or replace the database (init, demo, restore)."""

UncheckedDbOption = Annotated[str | None, typer.Option("--db", help=_DB_HELP)]
"""``--db`` checked by the command itself: ``merges`` (a group that is also a command) calls
:func:`check_db` only when it runs itself, since its subcommands take their own ``--db``; ``backup``
leaves the check to the engine, which reports a missing source as an input problem."""


# -- files and choices --------------------------------------------------------------------------------

OutOption = Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)]

TableFormat = Literal["table", "csv", "json"]
FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, csv or json")]


def one_of(values: Iterable[str], *, spellings: dict[str, str] | None = None,
           normalise: Callable[[str], str] = str) -> Callable[[str | None], str | None]:
    """An option callback accepting only ``values`` (or a known spelling of one), refusing the rest.

    For choices whose list lives in the engine (vocabularies, frameworks): a typo is refused with the
    list instead of silently matching nothing.
    """
    allowed = list(dict.fromkeys(values))

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        if value in allowed:
            return value
        known = (spellings or {}).get(normalise(value))
        if known is not None:
            return known
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")

    return check


def iso_date(value: str | None) -> str | None:
    """Option callback: a date typed on the command line must be YYYY-MM-DD, refused before anything runs."""
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return value


# -- who and output -----------------------------------------------------------------------------------

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
