"""The row-by-row ORM baseline's own model of the tables it reads and writes.

The engine does not use an ORM: the numbered SQL migrations in ``engine/migrations/`` are the one
declaration of each record, and the engine writes through ``engine.records``. The benchmarks compare
the engine with what a conventional row-by-row SQLModel application would do, and that baseline
needs classes for the tables; they are declared here, for that measurement only. The baseline must
write the real tables, so ``tests/test_bench_orm.py`` checks each class against the migrated schema
(column names and order, key, nullability).

Needs the ``bench`` extra (``sqlmodel``, ``duckdb-engine``): ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, JSON, BigInteger, Column, Sequence, String
from sqlmodel import Field, SQLModel, create_engine

__all__ = ["BASELINE_MODELS", "Control", "CrosswalkLink", "HistoryRow", "ImportBatch", "MappingRecord", "Risk",
           "RiskAISystem", "RiskAsset", "RiskControl", "RiskSource", "SoaRow", "engine_for"]


def _array(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(ARRAY(String), nullable=nullable))


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
    reviewer: str | None = None
    reviewed_on: date | None = None


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
    provenance: str | None = None
    review_status: str | None = None
    reviewer: str | None = None


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
    actor_name: str | None = None


class SoaRow(SQLModel, table=True):
    __tablename__ = "soa_rows"

    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    applicable: bool | None = None
    reasons: list[str] = _array(False)
    exclusion_reason: str | None = None
    justification: str | None = None
    status: str = "not_started"
    implementation_notes: str | None = None
    owner: str | None = None
    evidence: list[str] = _array(False)
    last_verified: date | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    version: int = 1


class Risk(SQLModel, table=True):
    __tablename__ = "risks"

    id: str = Field(primary_key=True)
    title: str
    description: str | None = None
    cause: str | None = None
    event: str | None = None
    consequence: str | None = None
    management_system: str
    threat: str | None = None
    vulnerability: str | None = None
    ai_risk_sources: list[str] | None = _array()
    confidentiality: bool = False
    integrity: bool = False
    availability: bool = False
    ai_objectives: list[str] | None = _array()
    consequence_org: str | None = None
    consequence_individuals: str | None = None
    owner: str | None = None
    category: str | None = None
    business_unit: str | None = None
    status: str = "open"
    inherent_likelihood: int | None = None
    inherent_impact: int | None = None
    current_likelihood: int | None = None
    current_impact: int | None = None
    residual_likelihood: int | None = None
    residual_impact: int | None = None
    matrix_version: int
    treatment: str | None = None
    treatment_notes: str | None = None
    acceptance_approver: str | None = None
    acceptance_date: date | None = None
    acceptance_expiry: date | None = None
    acceptance_justification: str | None = None
    next_review: date | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    controls_text: str | None = None


class RiskAsset(SQLModel, table=True):
    __tablename__ = "risk_assets"

    risk_id: str = Field(primary_key=True)
    asset_id: str = Field(primary_key=True)


class RiskAISystem(SQLModel, table=True):
    __tablename__ = "risk_ai_systems"

    risk_id: str = Field(primary_key=True)
    ai_system_id: str = Field(primary_key=True)


class RiskControl(SQLModel, table=True):
    __tablename__ = "risk_controls"

    risk_id: str = Field(primary_key=True)
    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    status: str = "existing"
    as_written: str | None = None
    translated_from: str | None = None


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batches"

    id: str = Field(primary_key=True)
    kind: str
    source: str
    file_name: str
    file_sha256: str
    rows: int
    imported_at: datetime
    imported_by: str


class RiskSource(SQLModel, table=True):
    __tablename__ = "risk_sources"

    risk_id: str
    batch_id: str = Field(primary_key=True)
    source: str
    source_row: int = Field(primary_key=True)
    source_key: str | None = None
    raw: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    original_likelihood: str | None = None
    original_impact: str | None = None
    scale_note: str | None = None
    normalised: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


BASELINE_MODELS: tuple[type[SQLModel], ...] = (
    Control, MappingRecord, CrosswalkLink, HistoryRow, SoaRow, Risk, RiskAsset, RiskAISystem, RiskControl,
    ImportBatch, RiskSource,
)
"""Every table the baselines read or write."""


def engine_for(db: str) -> Any:
    """A SQLAlchemy engine on a DuckDB file (duckdb-engine)."""
    return create_engine(f"duckdb:///{db}")
