"""The checks that need the database: which business units a record belongs to, what a principal sees.

- :func:`check_records`: the check of the record write path (``engine.records``) and of every other
  write on records: may the principal perform the operation on these records, given their business
  units (a risk's ``business_unit``; a treatment action's, through the risks it treats) and owner?
- :func:`scope`: what a read shows: sets the session variable ``riskmap_units`` on a connection, which
  the macro ``unit_visible(business_unit)`` (``engine/sql/macros.sql``) and so the register views read;
  unset (analysts, the Python API without a principal) means every unit;
- :class:`WrittenRisks`: for bulk writes that insert risks without the record write path (register
  imports): before the transaction commits, every risk the transaction recorded a change of must be in
  the principal's units, else it is refused and rolled back.

A principal whose role covers every unit passes without a query, so the checks cost nothing for them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import duckdb

from engine.errors import PermissionDenied

from .identity import resolve
from .permissions import EDIT_OPERATIONS, OPERATIONS, require
from .principal import Principal

__all__ = ["ORG_WIDE", "UNITS_VARIABLE", "WrittenRisks", "check_records", "record_units", "scope",
           "visible_risk_ids"]

UNITS_VARIABLE = "riskmap_units"
OF_A_RISK = {"control_suggestion": ("control_suggestions", "risk_id")}
"""Records that belong to a risk, and so to its business unit: their table and the column naming the risk."""
ORG_WIDE = None
"""The units of a record that belongs to no business unit: the whole organisation."""


def _ids(ids: Iterable[str]) -> list[str]:
    return [str(i) for i in dict.fromkeys(ids)]


def _risk_rows(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[tuple[str, str | None, str | None]]:
    return [tuple(r) for r in con.execute(
        "SELECT id, business_unit, owner FROM risks WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()]


def record_units(con: duckdb.DuckDBPyConnection, entity: str, record_id: str) -> list[str | None] | None:
    """The business units a record belongs to: a risk's own; a treatment action's, those of the risks it
    treats (an action treating none belongs to the whole organisation); None for organisation-wide
    records (the SoA, the inventories)."""
    if entity == "risk":
        return [r[1] for r in _risk_rows(con, [record_id])] or [None]
    if entity == "action":
        units = [r[0] for r in con.execute(
            "SELECT DISTINCT r.business_unit FROM action_risks ar JOIN risks r ON r.id = ar.risk_id "
            "WHERE ar.action_id = ?", [record_id]).fetchall()]
        return units or None
    return ORG_WIDE


def check_records(con: duckdb.DuckDBPyConnection, actor: Principal | str | None, entity: str,
                  ids: Iterable[str], *, operation: str | None = None,
                  new_units: Collection[str | None] = ()) -> Principal:
    """Refuse (:class:`PermissionDenied`) unless the principal may perform ``operation`` (default: the
    edit of ``entity``) on the records ``ids``; ``new_units`` are business units the change gives them.
    Returns the principal. A role covering every unit passes at once."""
    principal = resolve(actor)
    op = operation or EDIT_OPERATIONS[entity]
    if principal.units_for(OPERATIONS[op].roles) is None and principal.grants:
        return principal
    wanted = _ids(ids)
    if entity in OF_A_RISK:
        table, column = OF_A_RISK[entity]
        wanted = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE id IN "
                                            "(SELECT unnest(?::VARCHAR[]))", [wanted]).fetchall()]
        entity = "risk"
    if entity == "risk":
        rows = _risk_rows(con, wanted)
        if not rows:  # a new risk: only its new unit counts
            require(principal, op, list(new_units) or [None])
        for rid, unit, owner in rows:
            require(principal, op, [unit, *new_units], owner=owner,
                    what=f"{OPERATIONS[op].does} (risk {rid}, unit {unit or '(none)'})")
    elif entity == "action":
        if not wanted:  # a new action: the units of the risks it will treat (none: the whole organisation)
            require(principal, op, list(new_units) or ORG_WIDE)
        for aid in wanted:
            units = record_units(con, "action", aid)  # None: it treats no risk, so it is organisation-wide
            require(principal, op, None if units is None else [*units, *new_units],
                    what=f"{OPERATIONS[op].does} (action {aid})")
    else:
        require(principal, op, ORG_WIDE)
    return principal


def visible_risk_ids(con: duckdb.DuckDBPyConnection, principal: Principal) -> list[str] | None:
    """The ids of the risks the principal may see, or None when it sees every unit."""
    units = principal.units
    if units is None:
        return None
    return [r[0] for r in con.execute(
        "SELECT id FROM risks WHERE list_contains(?::VARCHAR[], business_unit)", [sorted(units)]).fetchall()]


def scope(con: duckdb.DuckDBPyConnection, actor: Principal | str | None) -> Principal | None:
    """Make the views on ``con`` show what ``actor`` may see; None leaves every unit visible (the
    Python API without a principal, analysts). A principal without any role is refused."""
    if actor is None:
        return None
    principal = resolve(actor)
    require(principal, "read", ())  # every role reads; what it sees is limited below
    units = principal.units
    if units is None:
        con.execute(f"SET VARIABLE {UNITS_VARIABLE} = NULL")
    else:
        con.execute(f"SET VARIABLE {UNITS_VARIABLE} = ?::VARCHAR[]", [sorted(units)])
    return principal


@dataclass
class WrittenRisks:
    """Checks, before a bulk write commits, that every risk it changed is in the principal's units.

    ``start`` notes where the change history stood; ``check`` reads the history rows the transaction
    added for risks and refuses when one names a risk outside the principal's units (or moves a risk
    out of another unit), so the caller's transaction rolls back and nothing is written."""

    principal: Principal
    operation: str
    since: int | None

    @classmethod
    def start(cls, con: duckdb.DuckDBPyConnection, actor: Principal | str | None, operation: str) -> WrittenRisks:
        principal = resolve(actor)
        require(principal, operation, ())
        if principal.units_for(OPERATIONS[operation].roles) is None:
            return cls(principal, operation, None)
        row = con.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()
        return cls(principal, operation, int(row[0]) if row else 0)

    def check(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.since is None:
            return
        rows = con.execute(
            "SELECT DISTINCT h.entity_id, r.business_unit, "
            "CASE WHEN h.field = 'business_unit' THEN h.old_value END "
            "FROM history h LEFT JOIN risks r ON r.id = h.entity_id "
            "WHERE h.id > ? AND h.entity = 'risk'", [self.since]).fetchall()
        limit = self.principal.units_for(OPERATIONS[self.operation].roles) or frozenset()
        for rid, unit, old in rows:
            for u in (unit, old) if old is not None else (unit,):
                if u is None or u not in limit:
                    raise PermissionDenied(
                        f"{self.principal.describe()} may not {OPERATIONS[self.operation].does} for risk {rid} "
                        f"of unit {u or '(none)'}: needs the role "
                        f"{' or '.join(OPERATIONS[self.operation].roles)} for that unit (held for "
                        f"{', '.join(sorted(limit)) or 'no unit'}); nothing was written")
