"""Typed records of the register tables.

The SQL migrations (``0003_register.sql`` plus ``0005_register_extra.sql`` and the AI system
characteristics of ``0007_ai_scenarios.sql``) are the source of the schema; these classes mirror them
column for column so the app and notebooks get typed records and SQLModel validation. ``tests/test_register_models.py`` fails when the two disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlalchemy.types import ARRAY
from sqlmodel import Field, SQLModel


def _array(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(ARRAY(String), nullable=nullable))


class RiskMatrixVersion(SQLModel, table=True):
    """One version of the risk criteria (ISO 27001 6.1.2 a, ISO 42001 6.1.2)."""

    __tablename__ = "risk_matrix_versions"
    version: int = Field(primary_key=True)
    size: int
    likelihood_labels: list[str] = _array(False)
    impact_labels: list[str] = _array(False)
    level_names: list[str] = _array(False)
    level_thresholds: list[int] = _array(False)
    level_colours: list[str] = _array(False)
    appetite: int
    created_at: datetime
    created_by: str
    note: str | None = None


class Asset(SQLModel, table=True):
    __tablename__ = "assets"
    id: str = Field(primary_key=True)
    name: str
    asset_type: str | None = None
    description: str | None = None
    owner: str | None = None
    business_unit: str | None = None
    classification: str | None = None
    location: str | None = None
    status: str = "active"
    version: int = 1


class AISystem(SQLModel, table=True):
    """An AI system of the inventory (ISO 42001 A.4, A.6; the organisation's role per 4.1)."""

    __tablename__ = "ai_systems"
    id: str = Field(primary_key=True)
    name: str
    purpose: str | None = None
    intended_use: str | None = None
    lifecycle_stage: str | None = None
    role: str | None = None
    autonomy: str | None = None
    human_oversight: str | None = None
    data_sources: str | None = None
    third_party_components: str | None = None
    owner: str | None = None
    status: str = "active"
    version: int = 1
    # 0007: characteristics deciding which risk scenarios apply (None: not recorded), matching keys
    processes_personal_data: bool | None = None
    processes_sensitive_data: bool | None = None
    decides_about_people: bool | None = None
    uses_third_party_model: bool | None = None
    trained_in_house: bool | None = None
    learns_in_operation: bool | None = None
    generative: bool | None = None
    external_input: bool | None = None
    interacts_with_people: bool | None = None
    safety_critical: bool | None = None
    fully_automated: bool | None = None
    affects_vulnerable_groups: bool | None = None
    vendor: str | None = None
    domains: list[str] | None = _array()


class ImpactAssessment(SQLModel, table=True):
    """An AI system impact assessment (ISO 42001 6.1.4, 8.4, A.5)."""

    __tablename__ = "impact_assessments"
    id: str = Field(primary_key=True)
    ai_system_id: str
    title: str
    affected_individuals: str | None = None
    affected_groups: str | None = None
    societal_impacts: str | None = None
    consequences: str | None = None
    severity: str | None = None
    assessed_on: date | None = None
    assessor: str | None = None
    next_review_due: date | None = None
    status: str = "current"
    version: int = 1


class Risk(SQLModel, table=True):
    """One risk of the consolidated register, ISMS, AIMS or both."""

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


class RiskAsset(SQLModel, table=True):
    __tablename__ = "risk_assets"
    risk_id: str = Field(primary_key=True)
    asset_id: str = Field(primary_key=True)


class RiskAISystem(SQLModel, table=True):
    __tablename__ = "risk_ai_systems"
    risk_id: str = Field(primary_key=True)
    ai_system_id: str = Field(primary_key=True)


class RiskControl(SQLModel, table=True):
    """A control a risk relies on (existing) or plans, in either standard."""

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
    """Lineage: one source row a risk came from, as written, and how its scales were mapped."""

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


class RiskMerge(SQLModel, table=True):
    """A merge decision: a source row recognised as a risk already in the register."""

    __tablename__ = "risk_merges"
    id: str = Field(primary_key=True)
    kept_risk_id: str
    merged_batch_id: str
    merged_source_row: int
    reason: str
    similarity: float | None = None
    decided_at: datetime
    decided_by: str
    reversed_at: datetime | None = None
    reversed_by: str | None = None
    split_risk_id: str | None = None


REGISTER_MODELS: tuple[type[SQLModel], ...] = (
    RiskMatrixVersion, Asset, AISystem, ImpactAssessment, Risk, RiskAsset, RiskAISystem, RiskControl,
    ImportBatch, RiskSource, RiskMerge,
)
"""Every register table class, for the schema agreement test and for generic code."""
