"""The register's SQLModel classes, seeded matrix and documented views agree with the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import store
from engine.register import DEFAULT_MATRIX, get_matrix
from engine.register.models import REGISTER_MODELS

from .test_register_support import query


def _db_columns(db: Path) -> dict[str, list[tuple[str, bool]]]:
    out: dict[str, list[tuple[str, bool]]] = {}
    for table, col, nullable in query(
            db, "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"):
        out.setdefault(table, []).append((col, nullable == "YES"))
    return out


def _db_primary_keys(db: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, cols in query(db, "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                                 "WHERE constraint_type = 'PRIMARY KEY'"):
        out[table] = set(cols)
    return out


@pytest.mark.parametrize("model", REGISTER_MODELS, ids=lambda m: m.__tablename__)
def test_model_columns_match_the_migrations(fresh_db: Path, model: type) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    db_cols = _db_columns(fresh_db)[table.name]
    assert [c.name for c in table.columns] == [c for c, _ in db_cols], "column names or order differ"
    declared_null = {c.name: bool(c.nullable) for c in table.columns}
    for col, nullable in db_cols:
        if col in _db_primary_keys(fresh_db).get(table.name, set()):
            continue
        assert declared_null[col] == nullable, f"{table.name}.{col}: nullable {declared_null[col]} vs {nullable}"
    assert {c.name for c in table.primary_key.columns} == _db_primary_keys(fresh_db)[table.name]


def test_every_register_table_has_a_model(fresh_db: Path) -> None:
    register_tables = {"risk_matrix_versions", "assets", "ai_systems", "impact_assessments", "risks", "risk_assets",
                       "risk_ai_systems", "risk_controls", "import_batches", "risk_sources", "risk_merges"}
    assert register_tables <= set(_db_columns(fresh_db))
    assert {m.__tablename__ for m in REGISTER_MODELS} == register_tables


def test_matrix_version_1_is_seeded_and_is_the_default(fresh_db: Path) -> None:
    spec = get_matrix(fresh_db)
    assert spec.version == 1
    assert spec.same_criteria(DEFAULT_MATRIX)
    assert (spec.size, spec.appetite) == (5, 6)
    assert spec.created_at is not None and spec.created_at.tzinfo is None


VIEW_COLUMNS = {
    "v_risk_register": [
        "id", "title", "management_system", "status", "owner", "inherent_likelihood", "inherent_impact",
        "inherent_score", "inherent_level", "current_likelihood", "current_impact", "current_score", "current_level",
        "residual_likelihood", "residual_impact", "residual_score", "residual_level", "score", "level",
        "within_appetite", "residual_within_appetite", "treatment", "acceptance_status", "acceptance_approver",
        "acceptance_expiry", "next_review", "controls_27001", "controls_42001", "controls_planned", "assets",
        "ai_systems", "sources", "n_sources", "matrix_version", "version"],
    "v_ai_systems": ["id", "name", "purpose", "intended_use", "lifecycle_stage", "role", "autonomy",
                     "human_oversight", "data_sources", "third_party_components", "owner", "status", "n_risks",
                     "risk_ids", "n_assessments", "assessment_due", "assessment_overdue", "version"],
    "v_impact_assessments": ["id", "ai_system_id", "ai_system_name", "title", "affected_individuals",
                             "affected_groups", "societal_impacts", "consequences", "severity", "assessed_on",
                             "next_review_due", "review_overdue", "status", "version"],
    "v_history": ["id", "changed_at", "actor", "channel", "entity", "entity_id", "action", "field", "old_value",
                  "new_value", "batch_id"],
    "v_assets": ["id", "name", "asset_type", "owner", "classification", "status", "n_risks", "risk_ids", "version"],
    "v_risk_merges": ["id", "kept_risk_id", "source", "source_row", "source_key", "reason", "similarity", "status",
                      "split_risk_id"],
    "v_risk_controls": ["risk_id", "framework", "ref", "control_title", "status", "as_written", "translated_from"],
}


@pytest.mark.parametrize("view", sorted(VIEW_COLUMNS))
def test_documented_view_columns(fresh_db: Path, view: str) -> None:
    cols = [r[0] for r in query(fresh_db, "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                [view])]
    missing = [c for c in VIEW_COLUMNS[view] if c not in cols]
    assert missing == [], f"{view} lacks {missing}"


@pytest.mark.parametrize("view", sorted(VIEW_COLUMNS))
def test_view_file_opens_with_a_purpose_comment(view: str) -> None:
    text = (store.VIEWS_DIR / f"{view}.sql").read_text()
    assert text.startswith(f"-- {view}:")
    assert f"CREATE OR REPLACE VIEW {view} AS" in text
