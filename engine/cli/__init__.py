"""The ``riskmap`` command. Each domain adds its commands in its own module."""

from __future__ import annotations

import sys

import duckdb

from engine.cli import ai as _ai  # noqa: F401
from engine.cli import core  # noqa: F401  (registers commands)
from engine.cli import crosswalk as _crosswalk  # noqa: F401
from engine.cli import demo as _demo  # noqa: F401
from engine.cli import register as _register  # noqa: F401
from engine.cli import soa as _soa  # noqa: F401
from engine.errors import RiskmapError

from .base import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point: a user's mistake becomes one clear message and a non-zero exit, never a traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except RiskmapError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except duckdb.Error as exc:
        sys.stderr.write(f"error: database: {str(exc).splitlines()[0]}\n")
        return 1
    except SystemExit as exc:  # typer/click exits for --help and usage errors
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            sys.stderr.write("aborted\n")
            return 1
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
