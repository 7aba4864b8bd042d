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


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: ``--db`` first, then ``RISKMAP_DB``, then the embedded default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("RISKMAP_DB")
    if env:
        return Path(env)
    return DEFAULT_DB
