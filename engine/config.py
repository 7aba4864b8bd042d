"""Where riskmap keeps its database and finds its bundled data files.

The catalogs, crosswalks and reference index (``mappings/``) and the demo organisation's files
(``data/demo/``) live at the top of the repository, reviewed like code. An installed wheel carries a copy
of both under ``engine/bundled/`` (see ``setup.py``), laid out the same way. This module is the one place
that decides which of the two is used: the copy installed with the package when there is one, else the
repository checkout this package was imported from (editable install, tests).

The default database follows the same split: ``data/riskmap.duckdb`` in a checkout (what ``make app``
builds), ``riskmap.duckdb`` in the current directory for an installed engine (site-packages is no place
for a user's data). ``--db`` and ``$RISKMAP_DB`` override both.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The ``engine`` package directory."""

BUNDLED_DIR = PACKAGE_DIR / "bundled"
"""Where a wheel installs its copy of ``mappings/`` and ``data/demo/`` (absent in a checkout)."""

INSTALLED = BUNDLED_DIR.is_dir()
"""True when running from an installed wheel rather than from the repository checkout."""

ROOT = BUNDLED_DIR if INSTALLED else PACKAGE_DIR.parent
"""The directory holding ``mappings/`` and ``data/``: the repository root, or the installed copy."""

MAPPINGS_DIR = ROOT / "mappings"
CATALOG_DIR = MAPPINGS_DIR / "catalogs"
CROSSWALK_DIR = MAPPINGS_DIR / "crosswalks"
REFERENCE_DIR = MAPPINGS_DIR / "reference"
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
SQL_DIR = PACKAGE_DIR / "sql"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"

DEFAULT_DB = Path("riskmap.duckdb") if INSTALLED else PACKAGE_DIR.parent / "data" / "riskmap.duckdb"
"""The embedded default database, used when neither ``--db`` nor ``RISKMAP_DB`` is given. Relative for an
installed engine: it is the file ``riskmap.duckdb`` in whatever directory the command runs in."""

DEFAULT_DB_NOTE = ("riskmap.duckdb in the current directory" if INSTALLED
                   else "data/riskmap.duckdb in the repository")
"""The default database in words, for help texts."""

FRAMEWORKS = ("iso27001-2022", "iso42001-2023", "iso27001-2013")
ISO27001 = "iso27001-2022"
ISO42001 = "iso42001-2023"
ISO27001_2013 = "iso27001-2013"


POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the store: ``--db`` first, then ``RISKMAP_DB``, then the embedded default.

    A DuckDB file is a :class:`~pathlib.Path`; a PostgreSQL server (``postgresql://user@host:port/db``)
    is a :class:`StoreUrl`, a string that callers pass on unchanged."""
    chosen = explicit or os.environ.get("RISKMAP_DB")
    if not chosen:
        return DEFAULT_DB
    if str(chosen).startswith(POSTGRES_PREFIXES):
        return StoreUrl(str(chosen))  # type: ignore[return-value]
    return Path(chosen)


class StoreUrl(str):
    """The URL of a PostgreSQL store (a ``str``: it is passed around where a database path would be)."""

    @property
    def name(self) -> str:
        return self.rsplit("/", 1)[-1].split("?", 1)[0]

    def __repr__(self) -> str:
        import re

        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(self))
