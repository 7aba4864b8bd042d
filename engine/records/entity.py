"""The kinds of record the write path edits, and the checks every edit of one passes first.

Each domain declares its records once (:func:`declare`): the register its risks, AI systems, impact
assessments and assets, the SoA its rows, the treatment plan its actions. A declaration names the
table and key, the fields a user may change (:class:`~engine.records.fields.FieldSpec`), the
columns stamped on every write, and the domain's own rules as a validation hook (``check``), e.g.
"excluding an SoA row needs a justification". :func:`validate` runs the field rules and then the
hook, so every edit of every record is checked in the same order with the same messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from engine.errors import InputError, NotFoundError, Problem, StaleEditError

from .fields import FieldSpec, coerce_all

__all__ = ["Change", "Entity", "Link", "check_version", "current", "declare", "entity_of", "fetch", "validate"]


@dataclass(frozen=True)
class Link:
    """A field kept as rows of a link table keyed like the record (``soa_row_ai_systems``): its
    value is the sorted list of ``column``."""

    table: str
    column: str


@dataclass
class Change:
    """An edit on its way to the store, as a validation hook sees it.

    ``before`` is the stored record (empty for a new one), ``values`` the stored form of the fields
    given (``given``). A hook may complete ``values`` with what a rule implies (excluding an SoA row
    withdraws its inclusion reasons); ``after`` is the record as it would be.
    """

    con: duckdb.DuckDBPyConnection | None
    record_id: str
    before: dict[str, Any]
    values: dict[str, Any]
    given: frozenset[str]

    @property
    def after(self) -> dict[str, Any]:
        return {**self.before, **self.values}


Check = Callable[[Change], list[Problem] | None]


@dataclass(frozen=True)
class Entity:
    """One kind of record: where it is stored, what may change, and the domain's own rules.

    ``name`` is the history's entity, ``label`` how messages name it; ``key`` the key columns (a
    composite key is written ``framework:ref`` as the record id); ``stamps`` are set on every write
    (``updated_at`` to the time, ``updated_by`` to the actor) and ``created_at`` on creation.
    ``defaults`` fill a new record's fields. ``check`` returns (or raises) the problems of a change
    the field rules cannot see; ``scale`` gives the top score of the record's matrix; ``missing``
    and ``refuse`` make the domain's own error for an unknown record and for problems.
    ``refuse_empty`` refuses an edit that gives no field at all.
    """

    name: str
    table: str
    label: str
    fields: Mapping[str, FieldSpec]
    key: tuple[str, ...] = ("id",)
    stamps: tuple[str, ...] = ()
    created_at: bool = False
    links: Mapping[str, Link] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    check: Check | None = None
    scale: Callable[[duckdb.DuckDBPyConnection, Mapping[str, Any]], int] | None = None
    missing: Callable[[duckdb.DuckDBPyConnection, str], Exception] | None = None
    refuse: Callable[[str, list[Problem]], Exception] | None = None
    refuse_empty: bool = False

    def id_sql(self, table: str | None = None) -> str:
        """The record id as SQL (``risks.id``, ``framework || ':' || ref``)."""
        cols = [f"{table}.{k}" if table else k for k in self.key]
        return cols[0] if len(cols) == 1 else " || ':' || ".join(cols)

    def where(self) -> str:
        return " AND ".join(f"{k} = ?" for k in self.key)

    def key_values(self, record_id: str) -> list[str]:
        parts = str(record_id).split(":", len(self.key) - 1) if len(self.key) > 1 else [str(record_id)]
        if len(parts) != len(self.key):
            raise NotFoundError(f"{self.label} {record_id!r}: expected {':'.join(self.key)}")
        return parts

    def not_found(self, con: duckdb.DuckDBPyConnection, record_id: str) -> Exception:
        return self.missing(con, record_id) if self.missing else NotFoundError(f"no {self.label} {record_id!r}")

    def refusal(self, record_id: str | None, problems: list[Problem]) -> Exception:
        if self.refuse is not None:
            return self.refuse(record_id or "(new)", problems)
        head = f"{self.label} {record_id}" if record_id else f"new {self.label}"
        return InputError(problems, f"{head}: {len(problems)} problem(s); nothing changed")


_DECLARED: dict[str, Entity] = {}


def declare(kind: Entity) -> Entity:
    """Make a kind of record known to the write path by its name and its table."""
    _DECLARED[kind.name] = kind
    _DECLARED[kind.table] = kind
    return kind


def entity_of(entity: str | Entity) -> Entity:
    """The declared kind of record named ``entity`` (its history name or its table)."""
    if isinstance(entity, Entity):
        return entity
    try:
        return _DECLARED[entity]
    except KeyError:
        raise LookupError(f"no record kind {entity!r} is declared; known: {', '.join(sorted(_DECLARED))}") from None


def fetch(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str) -> dict[str, Any]:
    """The stored record, with its link fields; the domain's not-found error when there is none."""
    kind = entity_of(entity)
    keys = kind.key_values(record_id)
    cur = con.execute(f"SELECT * FROM {kind.table} WHERE {kind.where()}", keys)
    row = cur.fetchone()
    if row is None:
        raise kind.not_found(con, record_id)
    out = dict(zip([d[0] for d in cur.description or []], row, strict=True))
    for name, link in kind.links.items():
        got = con.execute(f"SELECT list({link.column} ORDER BY {link.column}) FROM {link.table} "
                          f"WHERE {kind.where()}", keys).fetchone()
        out[name] = list(got[0] or []) if got else []
    return out


def check_version(entity: str | Entity, record_id: str, version: int, expected_version: int | None) -> None:
    """Refuse an edit based on a version someone else has changed since (two edits of one record
    give one winner and one clear refusal)."""
    if expected_version is None or int(version) == int(expected_version):
        return
    kind = entity_of(entity)
    raise StaleEditError(
        f"{kind.label} {record_id} was changed by someone else: you edited version {expected_version}, "
        f"it is now at version {version}; reload and apply your change again")


def current(con: duckdb.DuckDBPyConnection, entity: str | Entity, record_id: str, *,
            expected_version: int | None = None) -> dict[str, Any]:
    """Open a record for a change: the stored record, refused when it moved past ``expected_version``."""
    row = fetch(con, entity, record_id)
    check_version(entity, record_id, row["version"], expected_version)
    return row


def validate(entity: str | Entity, record_id: str | None, changes: Mapping[str, Any], *,
             con: duckdb.DuckDBPyConnection | None = None, before: Mapping[str, Any] | None = None,
             size: int | None = None) -> dict[str, Any]:
    """The stored form of ``changes``, checked by the field rules and then the domain's hook.

    ``record_id`` None validates a new record: its defaults are filled in and its required fields
    must be there. Every problem of the field rules is reported at once, in the domain's error
    (:class:`~engine.errors.InputError` unless it declares its own).
    """
    kind = entity_of(entity)
    shown = record_id or "(new)"
    if not changes and (kind.refuse_empty or record_id is None):
        raise kind.refusal(record_id, [Problem(kind.name, shown, None, "no changes given",
                                               expected="field=value pairs")])
    stored = dict(before or {})
    if size is None:
        size = kind.scale(con, stored) if kind.scale and con is not None and stored else 5
    values, problems = coerce_all(kind.fields, kind.name, shown, changes, size)
    if record_id is None:  # a new record: defaults for what is not given, then every required field
        values = {**kind.defaults, **{k: v for k, v in values.items() if v is not None or k not in kind.defaults}}
        reported = {p.field for p in problems}
        problems += [Problem(kind.name, shown, f, "required", None, "a value") for f, spec in kind.fields.items()
                     if spec.required and values.get(f) is None and f not in reported]
    if not problems and kind.check is not None:
        problems = list(kind.check(Change(con, shown, stored, values, frozenset(changes))) or [])
    if problems:
        raise kind.refusal(record_id, problems)
    return values
