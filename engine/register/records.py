"""The register's records: the fields a user may change on a risk, an AI system, an impact
assessment and an asset, the rules across fields, and their declaration to the one write path.

Every change to these records -- an edit in the app, a re-import, a merge or its undo, a rescore --
goes through :mod:`engine.records` (field rules, expected version, one history row per changed
field); this module says what is particular to the register. The generic names the importers use
(:func:`~engine.records.apply_changes`, :func:`~engine.records.next_ids`, :func:`~engine.records.coerce`...)
are re-exported here so they are reached as ``records.<name>`` from the register's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from engine.errors import Problem
from engine.records import (
    BOOL,
    DATE,
    REQUIRED,
    SCORE,
    TEXT,
    Change,
    DType,
    Entity,
    FieldSpec,
    apply_changes,
    coerce,
    current_rows,
    date_expected,
    declare,
    next_ids,
    parse_bool,
    parse_date,
    parse_tristate,
    record_history,
    slug,
    split_list,
    text_expr,
)
from engine.register import matrix, vocab

__all__ = ["AI_SYSTEM", "AI_SYSTEM_FIELDS", "ASSESSMENT", "ASSESSMENT_FIELDS", "ASSET", "ASSET_FIELDS", "BOOL",
           "DATE", "DType", "FieldSpec", "REQUIRED", "RISK", "RISK_FIELDS", "SCORE", "SCORE_FIELDS", "STAGES",
           "TABLES", "TEXT", "apply_changes", "coerce", "current_rows", "date_expected", "next_ids", "parse_bool",
           "parse_date", "parse_tristate", "record_history", "risk_problems", "slug", "split_list", "text_expr"]

SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
                "residual_likelihood", "residual_impact")
STAGES = ("inherent", "current", "residual")

RISK_FIELDS: dict[str, FieldSpec] = {
    "title": REQUIRED, "description": TEXT, "cause": TEXT, "event": TEXT, "consequence": TEXT,
    "management_system": FieldSpec("enum", True, vocab.MANAGEMENT_SYSTEMS),
    "threat": TEXT, "vulnerability": TEXT,
    "ai_risk_sources": FieldSpec("list", table=vocab.AI_RISK_SOURCES, closed=False),
    "confidentiality": BOOL, "integrity": BOOL, "availability": BOOL,
    "ai_objectives": FieldSpec("list", table=vocab.AI_OBJECTIVES, closed=False),
    "consequence_org": TEXT, "consequence_individuals": TEXT, "owner": TEXT, "category": TEXT,
    "business_unit": TEXT,
    "status": FieldSpec("enum", True, vocab.RISK_STATUSES),
    **{f: SCORE for f in SCORE_FIELDS},
    "treatment": FieldSpec("enum", False, vocab.TREATMENTS),
    "treatment_notes": TEXT, "acceptance_approver": TEXT, "acceptance_date": DATE,
    "acceptance_expiry": DATE, "acceptance_justification": TEXT, "next_review": DATE,
    "controls_text": TEXT,
}
"""Risk fields a user may change. ``matrix_version`` changes only through rescoring."""

AI_SYSTEM_FIELDS: dict[str, FieldSpec] = {
    "name": REQUIRED, "purpose": TEXT, "intended_use": TEXT,
    "lifecycle_stage": FieldSpec("enum", False, vocab.LIFECYCLE_STAGES),
    "role": FieldSpec("multi", False, vocab.AI_ROLES),
    "autonomy": TEXT, "human_oversight": TEXT, "data_sources": TEXT, "third_party_components": TEXT,
    "owner": TEXT, "status": REQUIRED,
    **{name: FieldSpec("tristate") for name in vocab.AI_CHARACTERISTICS},
    "vendor": TEXT, "domains": FieldSpec("list", table={}, closed=False),
}
"""AI system fields. The characteristics (``vocab.AI_CHARACTERISTICS``: yes, no or not recorded) decide
which risk scenarios apply; ``vendor`` and ``domains`` match observed AI use to the inventory (``engine.ai``).
Domains are an open list kept cleaned (lower case), as host names compare."""

ASSESSMENT_FIELDS: dict[str, FieldSpec] = {
    "ai_system_id": REQUIRED, "title": REQUIRED, "affected_individuals": TEXT, "affected_groups": TEXT,
    "societal_impacts": TEXT, "consequences": TEXT,
    "severity": FieldSpec("enum", False, vocab.SEVERITIES),
    "assessed_on": DATE, "assessor": TEXT, "next_review_due": DATE,
    "status": FieldSpec("enum", True, vocab.ASSESSMENT_STATUSES),
}

ASSET_FIELDS: dict[str, FieldSpec] = {
    "name": REQUIRED, "asset_type": TEXT, "description": TEXT, "owner": TEXT, "business_unit": TEXT,
    "classification": TEXT, "location": TEXT, "status": REQUIRED,
}

def risk_problems(risk_id: str, merged: Mapping[str, Any]) -> list[Problem]:
    """Rules across fields: a stage is scored with both likelihood and impact or neither; an
    acceptance cannot expire before it is given."""
    out = []
    for stage in STAGES:
        lk, im = merged.get(f"{stage}_likelihood"), merged.get(f"{stage}_impact")
        if (lk is None) != (im is None):
            missing = f"{stage}_impact" if im is None else f"{stage}_likelihood"
            out.append(Problem("risk", risk_id, missing, f"{stage} likelihood and impact go together", None,
                               f"a value for {missing} as well, or neither"))
    given, expiry = merged.get("acceptance_date"), merged.get("acceptance_expiry")
    if given is not None and expiry is not None and expiry < given:
        out.append(Problem("risk", risk_id, "acceptance_expiry", "acceptance expires before it was given", expiry,
                           "an expiry on or after the acceptance date"))
    return out


def _risk_rules(change: Change) -> list[Problem]:
    return risk_problems(change.record_id, change.after)


def _risk_scale(con: duckdb.DuckDBPyConnection, risk: Mapping[str, Any]) -> int:
    """Scores are validated against the matrix the risk is scored under, until it is rescored."""
    return matrix.matrix_on(con, risk["matrix_version"]).size


def _assessment_rules(change: Change) -> list[Problem]:
    system = change.values.get("ai_system_id")
    if system is None or change.con is None:
        return []
    if change.con.execute("SELECT 1 FROM ai_systems WHERE id = ?", [system]).fetchone() is None:
        return [Problem("impact_assessment", change.record_id, "ai_system_id", "unknown AI system", system,
                        "the id of an AI system of the inventory")]
    return []


RISK = declare(Entity("risk", "risks", "risk", RISK_FIELDS, stamps=("updated_at",), created_at=True,
                      defaults={"status": "open"}, check=_risk_rules, scale=_risk_scale, refuse_empty=True))
AI_SYSTEM = declare(Entity("ai_system", "ai_systems", "AI system", AI_SYSTEM_FIELDS, defaults={"status": "active"},
                           refuse_empty=True))
ASSESSMENT = declare(Entity("impact_assessment", "impact_assessments", "impact assessment", ASSESSMENT_FIELDS,
                            defaults={"status": "current"}, check=_assessment_rules, refuse_empty=True))
ASSET = declare(Entity("asset", "assets", "asset", ASSET_FIELDS, defaults={"status": "active"}, refuse_empty=True))

TABLES = {kind.name: kind.table for kind in (RISK, AI_SYSTEM, ASSESSMENT, ASSET)}
"""The register's record tables by history entity."""
