"""The store: connections and transactions, the schema (migrations, the domain-rule macros, views), the
change history, read-only queries (the engine's query files and analysts' queries), backup and restore.

Rules (DESIGN.md, "Store"): no read-write connection is held between operations; every write is one
transaction; the schema is created and upgraded by numbered SQL migrations; views are SQL files.
"""

from __future__ import annotations

from engine.store import backup, history, postgres, query

from .connection import BULK_DISABLED_COMPRESSION, connect, now, scalar, transaction
from .schema import (
    MIGRATIONS_DIR,
    VIEWS_DIR,
    applied_versions,
    create_macros,
    create_views,
    migrate,
    migrations,
    schema_version,
    set_today,
    view_files,
    view_names,
    view_purpose,
    view_sql,
)

__all__ = ["BULK_DISABLED_COMPRESSION", "MIGRATIONS_DIR", "VIEWS_DIR", "applied_versions", "backup", "postgres", "connect", "create_macros", "create_views", "history", "migrate", "migrations", "now", "query", "scalar", "schema_version", "set_today", "transaction", "view_files", "view_names", "view_purpose", "view_sql"]
