"""Where riskmap keeps its database and its bundled data files."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS_DIR = ROOT / "mappings"
CATALOG_DIR = MAPPINGS_DIR / "catalogs"
CROSSWALK_DIR = MAPPINGS_DIR / "crosswalks"
DATA_DIR = ROOT / "data"
SQL_DIR = Path(__file__).resolve().parent / "sql"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB = DATA_DIR / "riskmap.duckdb"
"""The embedded default database: used when neither ``--db`` nor ``RISKMAP_DB`` is given."""

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
