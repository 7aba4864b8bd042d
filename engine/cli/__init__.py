"""The ``riskmap`` command. Each domain adds its commands in its own module.

``main()`` is the one front door (the console script and the tests call it): every way a command can
fail is turned into a message and an exit code here, never a traceback.
"""

from __future__ import annotations

import sys

from engine.cli import access as _access  # noqa: F401  (registers commands)
from engine.cli import ai as _ai  # noqa: F401
from engine.cli import core  # noqa: F401
from engine.cli import crosswalk as _crosswalk  # noqa: F401
from engine.cli import demo as _demo  # noqa: F401
from engine.cli import imports as _imports  # noqa: F401
from engine.cli import register as _register  # noqa: F401
from engine.cli import shell as _shell  # noqa: F401
from engine.cli import soa as _soa  # noqa: F401
from engine.cli import tailoring as _tailoring  # noqa: F401

from .base import app
from .failures import report_failure

__all__ = ["app", "main"]

PROG = "riskmap"


def main(argv: list[str] | None = None) -> int:
    """Run one command line (default: ``sys.argv[1:]``) and return its exit code.

    0 is success; 2 a usage mistake (usage line and one message, as click prints them) or an input file
    with problems; 1 any other refusal by the engine (its ``RiskmapError.exit_code``); 130 an interrupt.
    """
    try:
        result = app(args=argv, prog_name=PROG, standalone_mode=False)
    except BaseException as exc:  # noqa: B036  (SystemExit and KeyboardInterrupt get their codes too)
        return report_failure(exc)
    # click returns the code of a `typer.Exit` (and of --help) rather than raising it
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
