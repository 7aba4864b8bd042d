"""The store: connections and transactions, the schema (migrations, the domain-rule macros, views), the
change history, read-only queries (the engine's query files and analysts' queries), backup and restore.

Rules (DESIGN.md, "Store"): no read-write connection is held between operations; every write is one
transaction; the schema is created and upgraded by numbered SQL migrations; views are SQL files.
"""

from __future__ import annotations

from engine.store import backup, history, postgres, query, status

from .connection import BULK_DISABLED_COMPRESSION, connect, now, retrying, scalar, transaction
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
from .status import change_stamp, is_ready, location_text

__all__ = ["BULK_DISABLED_COMPRESSION", "MIGRATIONS_DIR", "VIEWS_DIR", "applied_versions", "backup", "change_stamp",
           "connect", "create_macros", "create_views", "history", "is_ready", "location_text", "migrate",
           "migrations", "now", "postgres", "query", "retrying", "scalar", "schema_version", "set_today", "status",
           "transaction", "view_files", "view_names", "view_purpose", "view_sql"]
