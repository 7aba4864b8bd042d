"""The register's seeded matrix and documented views agree with the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import store
from engine.register import DEFAULT_MATRIX, get_matrix

from .test_register_support import query

pytestmark = pytest.mark.both_stores


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
