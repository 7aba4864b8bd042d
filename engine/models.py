"""SQLModel declarations of the catalog, crosswalk and history tables.

The numbered SQL migrations create the schema (DuckDB cannot be reflected, so migrations are written by
hand); these classes declare the same tables for typed access through SQLAlchemy, and a test checks
that both agree column for column.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Sequence
from sqlmodel import Field, SQLModel


class Framework(SQLModel, table=True):
    __tablename__ = "frameworks"

    framework: str = Field(primary_key=True)
    name: str
    edition: str
    title: str | None = None
    source: str | None = None
    copyright: str | None = None
    catalog_version: str
    custom: bool = False


class Control(SQLModel, table=True):
    __tablename__ = "controls"

    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    title: str
    kind: str
    parent_ref: str | None = None
    grp: str | None = None
    theme: str | None = None
    summary: str | None = None
    full_text: str | None = None
    ordinal: int


class MappingRecord(SQLModel, table=True):
    __tablename__ = "mappings"

    source_framework: str = Field(primary_key=True)
    source_ref: str = Field(primary_key=True)
    target_framework: str = Field(primary_key=True)
    target_ref: str = Field(primary_key=True)
    relationship: str
    strength: int
    rationale_type: str
    justification: str
    author: str
    authored_on: date
    review_status: str
    origin_file: str


class CrosswalkLink(SQLModel, table=True):
    """One row of the derived link table. The table has no key; the ORM needs one, so the four ids
    serve (they are unique per link)."""

    __tablename__ = "crosswalk_links"

    source_framework: str = Field(primary_key=True)
    source_ref: str = Field(primary_key=True)
    target_framework: str = Field(primary_key=True)
    target_ref: str | None = Field(default=None, primary_key=True)
    relationship: str
    strength: int
    rationale_type: str
    justification: str
    origin: str
    path: str
    depth: int
    n_paths: int = 1


class HistoryRow(SQLModel, table=True):
    __tablename__ = "history"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Sequence("history_id_seq"), primary_key=True))
    changed_at: datetime
    actor: str
    channel: str
    entity: str
    entity_id: str
    action: str
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    batch_id: str | None = None


def engine_for(db: str) -> object:
    """A SQLAlchemy engine on a DuckDB file (duckdb-engine)."""
    from sqlmodel import create_engine

    return create_engine(f"duckdb:///{db}")
