"""The risk record as a register import sees it: the fields a file can set and their stored types.

Parsing produces one column per field named here; the writers cast those columns to the stored
types before they reach DuckDB, so every step of the import agrees on one list.
"""

from __future__ import annotations

import polars as pl

from engine.register import records

__all__ = ["AI_COLUMNS", "LINK_FIELDS", "RECORD_FIELDS", "RECORD_TYPES", "typed"]

RECORD_FIELDS = ("title", "description", "cause", "event", "consequence", "management_system", "threat",
                 "vulnerability", "ai_risk_sources", "confidentiality", "integrity", "availability",
                 "ai_objectives", "consequence_org", "consequence_individuals", "owner", "category",
                 "business_unit", "status", *records.SCORE_FIELDS, "treatment", "treatment_notes",
                 "acceptance_approver", "acceptance_date", "acceptance_expiry", "acceptance_justification",
                 "next_review", "controls_text")
"""Risk columns an import can set, in table order. ``controls_text`` is set from the control columns
(:mod:`~engine.register.imports.phrases`), never from a column of its own."""

LINK_FIELDS = ("controls", "assets", "ai_systems")
"""Fields that become links of a risk (risk_controls, risk_assets, risk_ai_systems), not columns."""

RECORD_TYPES: dict[str, records.DType] = {
    **{f: pl.String for f in RECORD_FIELDS},
    "ai_risk_sources": pl.List(pl.String), "ai_objectives": pl.List(pl.String),
    "confidentiality": pl.Boolean, "integrity": pl.Boolean, "availability": pl.Boolean,
    **{f: pl.Int32 for f in records.SCORE_FIELDS},
    "acceptance_date": pl.Date, "acceptance_expiry": pl.Date, "next_review": pl.Date,
}
"""Stored type of each record field."""

AI_COLUMNS = ("ai_systems", "ai_risk_sources", "ai_objectives")
"""Columns only an AI register has: a file with one of them is an AIMS register by default."""


def typed(frame: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    """``frame`` with each of ``fields`` it holds cast to the field's stored type."""
    return frame.with_columns([pl.col(f).cast(RECORD_TYPES[f]) for f in fields if f in frame.columns])
