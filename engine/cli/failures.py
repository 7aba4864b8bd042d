"""How the command line reports a failure: one message on stderr and an exit code, never a traceback.

This is the one place that knows every way a command can end badly; ``main()`` hands it whatever was
raised. Usage mistakes print the usage line and one message, as click does; the engine's own errors
print their message; a file the operating system refused prints its name and the reason. Anything else
is a bug in riskmap: it is reported as one line too, and ``RISKMAP_TRACEBACK=1`` shows the traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback

import duckdb
import typer

from engine.errors import RiskmapError

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "report_failure"]

EXIT_INTERRUPTED = 130
"""The shell's code for a command ended by Ctrl-C."""

EXIT_INTERNAL = 70
"""EX_SOFTWARE from sysexits.h: riskmap itself failed, not the user."""

TRACEBACK_ENV = "RISKMAP_TRACEBACK"

_PYDANTIC_PREFIX = "Value error, "


def _say(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def _os_error(exc: OSError) -> int:
    if exc.errno == errno.EPIPE:  # `riskmap ... | head`: the reader left; nothing more to say
        _silence_stdout()
        return 1
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    _say(f"error: {where}: {reason}" if where != "" else f"error: {reason}")
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests capture it)
        pass


def _duckdb_error(exc: duckdb.Error) -> int:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    hint = ""
    if isinstance(exc, duckdb.CatalogException):  # a table the engine needs is missing
        hint = " (is this a riskmap database? `riskmap init --db FILE` creates or upgrades one)"
    _say(f"error: database: {lines[0]}{hint}")
    return 1


def _os_cause(exc: BaseException) -> OSError | None:
    """The operating system's refusal behind a library's own error (xlsxwriter wraps the OSError in its own
    exception's first argument). ``__context__`` is not followed: it may be an unrelated, handled error."""
    for inner in (exc.__cause__, *getattr(exc, "args", ())[:1]):
        if isinstance(inner, OSError):
            return inner
    return None


def _not_text(exc: UnicodeDecodeError) -> int:
    byte = exc.object[exc.start] if exc.start < len(exc.object) else None
    found = f" (byte 0x{byte:02x} at position {exc.start})" if isinstance(byte, int) else ""
    _say(f"error: a file given is not {exc.encoding.upper()} text{found}; expected a text file of the kind "
         "the command reads")
    return 2


def _internal(exc: BaseException) -> int:
    if os.environ.get(TRACEBACK_ENV):
        traceback.print_exception(exc, file=sys.stderr)
    message = str(exc).strip().splitlines()
    _say(f"error: internal error in riskmap ({type(exc).__name__}: {message[0] if message else 'no message'}); "
         f"please report it. Set {TRACEBACK_ENV}=1 to see where it happened.")
    return EXIT_INTERNAL


def report_failure(exc: BaseException) -> int:
    """Print ``exc`` as the user should see it and return the exit code for it."""
    if isinstance(exc, typer.TyperException):  # click's usage errors (and file errors) are these
        if exc.message.startswith(_PYDANTIC_PREFIX):  # typer checks choices with pydantic, which adds this
            exc.message = exc.message[len(_PYDANTIC_PREFIX):]
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            _say(f"error: {exc.format_message()}")
        return int(exc.exit_code)
    if isinstance(exc, RiskmapError):
        _say(f"error: {exc}")
        return int(exc.exit_code)
    if isinstance(exc, duckdb.Error):
        return _duckdb_error(exc)
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return _not_text(exc)
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        _say("aborted")
        return 1
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, SystemExit):
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        _say(str(exc.code))
        return 1
    cause = _os_cause(exc) if isinstance(exc, Exception) else None
    if cause is not None:
        return _os_error(cause)
    return _internal(exc)
