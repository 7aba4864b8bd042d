"""Row level security on the PostgreSQL store: analysts' read-only logins see the units they may see.

Analysts query a PostgreSQL store directly with logins granted the read-only group role
``riskmap_reader`` (``engine.store.postgres.grant_reader``). The table ``reader_units`` (migration 0008)
names the business units a login may read; ``riskmap user reader-units LOGIN --unit U`` fills it. A login
without a row there reads every unit. The policies here make PostgreSQL itself hold to it, whatever
the analyst's SQL:

- ``risks``: a reader login limited to units sees the risks of those units only;
- what hangs off a risk (its controls, assets, AI systems, lineage, merges, approvals, acceptances, the
  actions' links to it, its change history) is seen only with the risk: each policy asks whether the
  risk is visible, which PostgreSQL answers under the reader's own policy on ``risks``;
- ``reader_units``: a reader sees its own rows only.

Everyone who is not a reader (the engine's own login, administrators) is not limited by these policies
(the ``riskmap_all`` policy); the table owner and superusers bypass row level security anyway.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from engine import store
from engine.errors import ConfigError
from engine.store import postgres

from .identity import resolve
from .permissions import require
from .principal import Principal

__all__ = ["HANGING_TABLES", "READER_TABLE", "apply_policies", "reader_units", "set_reader_units"]

READER_TABLE = "reader_units"
HANGING_TABLES = {"risk_controls": "risk_id", "risk_assets": "risk_id", "risk_ai_systems": "risk_id",
                  "risk_sources": "risk_id", "risk_merges": "kept_risk_id", "plan_approvals": "risk_id",
                  "residual_acceptances": "risk_id", "action_risks": "risk_id"}
"""Tables of rows that belong to a risk, and the column naming it."""

_READER = postgres.READER_ROLE
_IS_READER = f"pg_has_role(current_user, '{_READER}', 'MEMBER')"
_MINE = f"SELECT u.business_unit FROM {READER_TABLE} u WHERE u.login = current_user"


def _policies() -> str:
    """The statements (PostgreSQL's dialect) creating every policy; each run replaces the previous ones."""
    out = []

    def policy(table: str, reader_sees: str) -> None:
        out.append(f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS riskmap_all ON {table};
            CREATE POLICY riskmap_all ON {table} USING (NOT {_IS_READER}) WITH CHECK (NOT {_IS_READER});
            DROP POLICY IF EXISTS riskmap_reader_units ON {table};
            CREATE POLICY riskmap_reader_units ON {table} FOR SELECT TO {_READER} USING ({reader_sees});""")

    policy("risks", f"NOT EXISTS ({_MINE}) OR business_unit IN ({_MINE})")
    for table, column in HANGING_TABLES.items():
        policy(table, f"EXISTS (SELECT 1 FROM risks r WHERE r.id = {table}.{column})")
    policy("history", "entity <> 'risk' OR EXISTS (SELECT 1 FROM risks r WHERE r.id = history.entity_id)")
    policy(READER_TABLE, "login = current_user")
    return "\n".join(out)


def apply_policies(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the row level security policies on a PostgreSQL store (``riskmap init``)."""
    postgres.native(con, _policies())


def _on_server(db: str | Path | None) -> str:
    from engine.config import db_path

    location = db_path(db)
    if not postgres.is_url(location):
        raise ConfigError(f"{location}: reader logins and their units are for the PostgreSQL store; readers "
                          f"of a DuckDB file open the file itself")
    return str(location)


def set_reader_units(db: str | Path | None, login: str, units: list[str], *,
                     actor: Principal | str | None = None, channel: str = "cli") -> list[str]:
    """Limit the PostgreSQL reader ``login`` to ``units`` (an empty list: every unit again). Needs the role
    admin. Returns the units now recorded."""
    principal = resolve(actor)
    require(principal, "manage_users")
    url = _on_server(db)
    name = login.strip()
    if not name:
        raise ConfigError("a reader login needs a name")
    chosen = sorted({u.strip() for u in units if u.strip()})
    with store.transaction(url) as con:
        con.execute(f"DELETE FROM {READER_TABLE} WHERE login = ?", [name])
        for unit in chosen:
            con.execute(f"INSERT INTO {READER_TABLE} (login, business_unit) VALUES (?, ?)", [name, unit])
        store.history.record(con, entity="reader_units", entity_id=name, action="update", actor=principal,
                             channel=channel, field="units", new=chosen or "every unit")
    return chosen


def reader_units(db: str | Path | None) -> dict[str, list[str]]:
    """Each limited reader login and its units."""
    url = _on_server(db)
    with store.connect(url) as con:
        rows = con.execute(f"SELECT login, business_unit FROM {READER_TABLE} ORDER BY login, business_unit").fetchall()
    out: dict[str, list[str]] = {}
    for login, unit in rows:
        out.setdefault(login, []).append(unit)
    return out
