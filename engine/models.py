"""SQLModel declarations of the catalog, crosswalk and history tables.

The numbered SQL migrations create the schema (DuckDB cannot be reflected, so migrations are written by
hand); these classes declare the same tables for typed access through SQLAlchemy, and a test checks
that both agree column for column.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ARRAY, BigInteger, Column, Sequence, String
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


def _seq_id(name: str) -> object:
    return Field(default=None, sa_column=Column(BigInteger, Sequence(name), primary_key=True))


def _list() -> object:
    return Field(default=None, sa_column=Column(ARRAY(String)))


# Statement of Applicability and treatment plan (migration 0004) ------------------------------------


class SoaRow(SQLModel, table=True):
    __tablename__ = "soa_rows"

    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    applicable: bool | None = None
    reasons: list[str] | None = _list()
    exclusion_reason: str | None = None
    justification: str | None = None
    status: str = "not_started"
    implementation_notes: str | None = None
    owner: str | None = None
    evidence: list[str] | None = _list()
    last_verified: date | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    version: int = 1


class SoaRowAiSystem(SQLModel, table=True):
    __tablename__ = "soa_row_ai_systems"

    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    ai_system_id: str = Field(primary_key=True)


class SoaProposalDecision(SQLModel, table=True):
    __tablename__ = "soa_proposal_decisions"

    id: int | None = _seq_id("soa_proposal_decisions_id_seq")
    framework: str
    ref: str
    kind: str
    basis: str
    decision: str
    justification: str | None = None
    decided_by: str
    decided_at: datetime


class SoaVersion(SQLModel, table=True):
    __tablename__ = "soa_versions"

    version: int = Field(primary_key=True)
    approved_by: str
    approved_at: datetime
    created_by: str
    note: str | None = None
    n_rows: int
    n_applicable: int


class SoaVersionRow(SQLModel, table=True):
    __tablename__ = "soa_version_rows"

    version: int = Field(primary_key=True)
    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)
    title: str
    applicable: bool | None = None
    reasons: list[str] | None = _list()
    risk_ids: list[str] | None = _list()
    exclusion_reason: str | None = None
    justification: str | None = None
    status: str | None = None
    implementing_actions: list[str] | None = _list()
    implementation_notes: str | None = None
    owner: str | None = None
    evidence: list[str] | None = _list()
    last_verified: date | None = None
    counterparts: list[str] | None = _list()
    ai_systems: list[str] | None = _list()
    impact_assessments: list[str] | None = _list()
    row_version: int | None = None
    ordinal: int | None = None


class Action(SQLModel, table=True):
    __tablename__ = "actions"

    id: str = Field(primary_key=True)
    title: str
    description: str | None = None
    owner: str | None = None
    due_date: date | None = None
    status: str = "planned"
    effort: float | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


class ActionRisk(SQLModel, table=True):
    __tablename__ = "action_risks"

    action_id: str = Field(primary_key=True)
    risk_id: str = Field(primary_key=True)


class ActionControl(SQLModel, table=True):
    __tablename__ = "action_controls"

    action_id: str = Field(primary_key=True)
    framework: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)


class PlanApproval(SQLModel, table=True):
    __tablename__ = "plan_approvals"

    id: int | None = _seq_id("plan_approvals_id_seq")
    risk_id: str
    approved_by: str
    approved_at: datetime
    expires_on: date | None = None
    action_ids: list[str] | None = _list()
    note: str | None = None


class ResidualAcceptance(SQLModel, table=True):
    __tablename__ = "residual_acceptances"

    id: int | None = _seq_id("residual_acceptances_id_seq")
    risk_id: str
    accepted_by: str
    accepted_at: datetime
    expires_on: date
    residual_score: int | None = None
    justification: str


def engine_for(db: str) -> object:
    """A SQLAlchemy engine on a DuckDB file (duckdb-engine)."""
    from sqlmodel import create_engine

    return create_engine(f"duckdb:///{db}")
