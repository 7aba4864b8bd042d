"""How riskmap's codes read in words: the one home of every label people see.

The store, the views, the exports' code columns and the SQL page keep codes (``iso42001-2023``,
``annex_a_control``, ``in_progress``); everything a person reads in the app says them in words
(``ISO/IEC 42001:2023``, ``Annex A control``, ``In progress``). :func:`heading` names a column,
:func:`word` says a code of a column, and :func:`in_words` turns a whole table into what a person
reads: codes as labels, lists joined, dates as dates. The labels of the register's, the SoA's and the
plan's own vocabularies are declared where those vocabularies live and gathered here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import polars as pl

from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.soa.vocab import CUSTOM_FRAMEWORK, EXCLUSION_REASONS, REASONS
from engine.soa.vocab import STATUSES as SOA_STATUSES

__all__ = ["CHANNELS", "ENTITIES", "KINDS", "RELATIONSHIPS", "SHORT_STANDARDS", "STANDARDS", "STATUSES",
           "TREATMENTS", "control_text", "date_text", "value_text", "heading", "in_words", "is_coded", "standard", "word"]

STANDARDS: dict[str, str] = {ISO27001: "ISO/IEC 27001:2022", ISO42001: "ISO/IEC 42001:2023",
                             ISO27001_2013: "ISO/IEC 27001:2013", CUSTOM_FRAMEWORK: "Organisation's own controls"}
"""The standards by their names."""

KINDS: dict[str, str] = {"clause": "Clause", "annex_a_group": "Annex A group", "annex_a_control": "Annex A control",
                         "risk_treatment": "Cited by a risk's treatment", "counterpart_status": "Counterpart implemented"}
"""Kinds of catalog entries, and of SoA proposals."""

RELATIONSHIPS: dict[str, str] = {"equal": "Equal", "subset_of": "Subset of", "superset_of": "Superset of",
                                 "intersects_with": "Intersects with", "no_relationship": "No relationship"}
"""Crosswalk relationships, read from the first control to the second."""

STATUSES: dict[str, str] = {
    **SOA_STATUSES,
    "open": "Open", "treated": "Treated", "accepted": "Accepted", "closed": "Closed",
    "in_progress": "In progress", "done": "Done", "cancelled": "Cancelled",
    "active": "Active", "retired": "Retired", "withdrawn": "Withdrawn",
    "current": "Current", "draft": "Draft", "superseded": "Superseded",
    "existing": "Existing", "proposed": "Proposed", "rejected": "Rejected", "expired": "Expired",
    "none": "None", "identified": "Identified", "not_applicable": "Not applicable",
    "authored": "Authored", "reviewed": "Reviewed", "approved": "Approved",
}
"""Statuses of every record (risks, actions, SoA rows, assets, AI systems, assessments, suggestions,
acceptances, scenario decisions, mapping reviews): no two record kinds spell one code differently."""

TREATMENTS: dict[str, str] = {"modify": "Modify (reduce)", "retain": "Retain (accept)", "avoid": "Avoid",
                              "share": "Share (transfer)"}
"""Risk treatment options (ISO 27001 6.1.3, ISO 42001 6.1.3)."""

CHANNELS: dict[str, str] = {"app": "App", "cli": "Command line", "import": "Import", "demo": "Demo build",
                            "api": "Python API", "engine": "Python API", "restore": "Restore"}
"""How a change reached the store (the history's channel)."""

ENTITIES: dict[str, str] = {"risk": "Risk", "ai_system": "AI system", "asset": "Asset",
                            "impact_assessment": "Impact assessment", "action": "Treatment action",
                            "soa_row": "SoA row", "ai_scenario_decision": "AI risk scenario decision",
                            "ai_usage": "Observed AI use", "control_suggestion": "Control suggestion",
                            "mapping": "Crosswalk mapping", "tailoring": "Crosswalk tailoring",
                            "merge": "Merge decision", "matrix": "Risk matrix", "soa_version": "SoA version"}
"""Kinds of record, as the history names them."""

_SEVERITIES = {"error": "Error", "warning": "Warning", "low": "Low", "medium": "Medium", "high": "High",
               "very high": "Very high"}
_SYSTEMS = {"ISMS": "ISMS (ISO/IEC 27001)", "AIMS": "AIMS (ISO/IEC 42001)", "both": "Both"}
_ORIGINS = {"authored": "Authored", "inverse": "Inverse of an authored link", "inferred": "Inferred (via a path)",
            "tailored": "Tailored", "imported": "Imported"}

_BY_COLUMN: dict[str, Mapping[str, str]] = {
    **dict.fromkeys(("framework", "source_framework", "target_framework", "counterpart_framework", "standard_code"),
                    STANDARDS),
    "kind": KINDS,
    **dict.fromkeys(("relationship", "best_relationship", "now", "beneath"), RELATIONSHIPS),
    **dict.fromkeys(("status", "link_status", "acceptance_status", "state", "review_status", "decision_state"),
                    STATUSES),
    "reasons": REASONS, "reason_codes": REASONS, "current_reasons": REASONS, "proposed_reason": REASONS,
    "current_status": STATUSES, "proposed_status": STATUSES, "exclusion_reason": EXCLUSION_REASONS,
    "treatment": TREATMENTS, "channel": CHANNELS, "entity": ENTITIES, "severity": _SEVERITIES,
    "management_system": _SYSTEMS, "origin": _ORIGINS,
}
"""The labels of each coded column, by column name (a view's, a frame's)."""

SHORT_STANDARDS: dict[str, str] = {ISO27001: "27001", ISO42001: "42001", ISO27001_2013: "27001:2013",
                                   CUSTOM_FRAMEWORK: "Own"}
"""The standards in a few characters, before a control's id in a list of controls (``42001 A.6.2.2``)."""

_CONTROL_COLUMNS = frozenset({"controls_27001", "controls_42001", "controls_other", "controls_planned",
                              "controls_via_crosswalk", "controls", "control", "counterparts", "excludes", "requires",
                              "requires_any", "satisfies", "target_controls", "pair", "path",
                              "covered_by", "detail", "entity_id", "summary", "basis", "proposal_id"})
"""Columns holding controls as ``framework:ref``: they read as ``42001 A.6.2.2``."""

_FIELD_COLUMNS = frozenset({"field", "fields", "changed_fields"})
"""Columns naming a record's fields: they read as the fields' headings."""

_FREE_CODES = frozenset({"provenance", "rationale_type", "matched_by", "lifecycle_stage", "theme", "method",
                         "applicability", "score_basis", "decision", "rule", "coverage", "action"})
"""Columns holding codes with no label of their own: they read as the code in sentence case."""

HEADINGS: dict[str, str] = {
    "id": "ID", "ref": "Control", "framework": "Standard", "grp": "Group", "group_title": "Group",
    "title": "Title", "kind": "Kind", "n_risks": "Risks", "n_links": "Links", "n_paths": "Paths",
    "max_strength": "Strongest link", "mean_strength": "Average strength", "strength": "Strength",
    "inherent_level": "Inherent level", "current_level": "Current level", "residual_level": "Residual level",
    "score_now": "Score now", "score_now_level": "Level now", "source_ref": "Control", "target_ref": "Counterpart",
    "source_framework": "Standard", "target_framework": "Counterpart's standard",
    "counterpart_framework": "Counterpart's standard", "source_keys": "Register IDs", "source_key": "Register ID",
    "ai_system_id": "AI system", "ai_system_ids": "AI systems", "asset_ids": "Assets", "risk_ids": "Risks",
    "risk_id": "Risk", "action_ids": "Actions", "action_id": "Action", "assessment_ids": "Impact assessments",
    "n_open_actions": "Open actions", "n_done_actions": "Done actions", "n_assessments": "Impact assessments",
    "n_controls_satisfied": "Controls satisfied", "n_open": "Open", "n_identified": "Identified",
    "n_not_applicable": "Not applicable", "n_strong": "Strong links", "n_sources": "Sources", "n_systems": "AI systems",
    "actor": "Changed by (account)", "actor_name": "Changed by", "changed_at": "When", "old_value": "Before",
    "new_value": "After", "entity": "Record kind", "entity_id": "Record", "field": "Field", "channel": "Channel",
    "satisfies_both": "Satisfies both standards", "controls_27001": "ISO/IEC 27001:2022 controls",
    "controls_42001": "ISO/IEC 42001:2023 controls", "controls_other": "Other controls", "theme_27001": "Theme (27001)",
    "group_42001": "Group (42001)", "within_appetite": "Within appetite", "residual_within_appetite":
    "Residual within appetite", "next_review": "Next review", "next_review_due": "Next review due",
    "due_date": "Due", "cia": "Confidentiality, integrity, availability", "reasons": "Inclusion reasons",
    "exclusion_reason": "Exclusion reason", "implementation_notes": "Implementation notes",
    "last_verified": "Last verified", "row_version": "Version", "version": "Version", "ordinal": "#",
    "best_relationship": "Best relationship", "user_count": "Users", "management_system": "Management system",
    "scenario_id": "Scenario", "scenario_title": "Scenario", "affects_individuals": "Affects individuals",
    "decided_by": "Decided by", "decided_at": "Decided", "plan_approved_by": "Plan approved by",
    "plan_approved_at": "Plan approved", "acceptance_expiry": "Acceptance expires",
    "residual_after_plan": "Residual after plan", "residual_level_after_plan": "Residual level after plan",
    "target_residual_score": "Target residual score", "rank_controls": "Rank (controls)",
    "rank_reduction": "Rank (reduction)", "controls_per_effort": "Controls per day of effort",
    "reduction_per_effort": "Reduction per day of effort", "risk_reduction": "Risk reduction",
    "effort": "Effort (days)", "implemented_share": "Implemented share", "implemented_coverage": "Implemented coverage",
    "controls_via_crosswalk": "Controls via the crosswalk", "tailored_by": "Tailored by",
    "tailored_on": "Tailored on", "rationale_type": "Rationale type", "parent_ref": "Parent",
    "score_basis": "Scored on",
}
"""Column headings that are not just the column name in words."""

_ACRONYMS = {"id": "ID", "ids": "IDs", "ai": "AI", "soa": "SoA", "isms": "ISMS", "aims": "AIMS", "cia": "CIA",
             "url": "URL", "csv": "CSV", "oscal": "OSCAL", "n": "Number of"}
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(?::00(?:\.0+)?)?$")


def heading(column: str) -> str:
    """A column's heading: ``inherent_level`` -> ``Inherent level``, ``ai_system_ids`` -> ``AI systems``."""
    if column in HEADINGS:
        return HEADINGS[column]
    words = [_ACRONYMS.get(w, w) for w in column.split("_") if w]
    if not words:
        return column
    text = " ".join(words)
    return text[0].upper() + text[1:]


def is_coded(column: str) -> bool:
    """True when ``column`` holds codes that read as labels."""
    return column in _BY_COLUMN or column in _FREE_CODES or column in _CONTROL_COLUMNS or column in _FIELD_COLUMNS


def word(column: str, value: object) -> str:
    """One value of ``column`` as a person reads it (a code as its label, a date as a date)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return date_text(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if column in _FIELD_COLUMNS:
        return heading(text)
    if column in _CONTROL_COLUMNS:
        return control_text(text)
    table = _BY_COLUMN.get(column)
    if table is not None and text in table:
        return table[text]
    if table is not None or column in _FREE_CODES:
        plain = text.replace("_", " ")
        return plain[:1].upper() + plain[1:] if plain.islower() else plain
    return text


_FRAMEWORK_CODE = re.compile("(?<![\\w-])(" + "|".join(re.escape(f) for f in SHORT_STANDARDS if f != CUSTOM_FRAMEWORK)
                             + ")(?::(?=\\S)|(?![\\w-]))")
_OWN_PREFIX = re.compile(f"(?<![\\w-]){CUSTOM_FRAMEWORK}:(?=\\S)")
_RELATIONSHIP_CODE = re.compile(r"\b(" + "|".join(c for c in RELATIONSHIPS if "_" in c) + r")\b")


def control_text(code: str) -> str:
    """Controls written ``iso42001-2023:A.6.2.2`` as ``42001 A.6.2.2`` and relationships in words,
    wherever they are in the text (a path ``a -intersects_with-> b``, a pair, a finding's detail); a
    bare id stays as it is."""
    text = _FRAMEWORK_CODE.sub(lambda m: SHORT_STANDARDS[m.group(1)] + ("" if m.group(0).endswith(m.group(1))
                                                                         else " "), code)
    text = _OWN_PREFIX.sub("Own ", text)
    return _RELATIONSHIP_CODE.sub(lambda m: RELATIONSHIPS[m.group(1)].lower(), text)


def value_text(field: str, value: object) -> str:
    """A value of a record's ``field`` as the history holds it (text, or a JSON list), in words."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return "; ".join(word(field, v) for v in items)
    return control_text(word(field, text)) if is_coded(field) else control_text(date_text(text))


def standard(framework: str) -> str:
    """A framework code by its standard's name (``iso27001-2022`` -> ``ISO/IEC 27001:2022``)."""
    return STANDARDS.get(framework, framework)


def date_text(value: datetime | date | str | None) -> str:
    """A timestamp as a date when it falls at midnight, else to the minute (no seconds, no zeros)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    got = _MIDNIGHT.match(value)
    return got.group(1) if got else value


def _coded(frame: pl.DataFrame, column: str) -> pl.Expr:
    col = pl.col(column)
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List):
        return col.cast(pl.List(pl.String)).list.eval(pl.element().map_elements(
            lambda v: word(column, v), return_dtype=pl.String)).alias(column)
    values = [v for v in frame[column].cast(pl.String).unique().to_list() if v is not None]
    mapping = {v: word(column, v) for v in values}
    return col.cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.String).alias(column)


def _dates(frame: pl.DataFrame, column: str) -> pl.Expr | None:
    """A datetime column as dates when every value falls at midnight (a due date, a review date)."""
    series = frame[column].drop_nulls()
    if series.is_empty() or (series.dt.truncate("1d") == series).all():
        return pl.col(column).cast(pl.Date).alias(column)
    return None


def in_words(frame: pl.DataFrame, keep: Iterable[str] = (), sep: str = "; ",
             lists: Sequence[str] = ()) -> pl.DataFrame:
    """``frame`` as a person reads it: coded columns as labels, datetimes at midnight as dates, list
    columns joined with ``sep`` (except those in ``lists``, which stay lists). Columns in ``keep`` are
    left exactly as they are (an editable column must keep its codes)."""
    kept = set(keep)
    exprs: list[pl.Expr] = []
    for column, dtype in frame.schema.items():
        if column in kept:
            continue
        if is_coded(column) and (dtype == pl.String or isinstance(dtype, pl.List) or dtype == pl.Categorical):
            exprs.append(_coded(frame, column))
        elif isinstance(dtype, pl.Datetime):
            got = _dates(frame, column)
            if got is not None:
                exprs.append(got)
    out = frame.with_columns(exprs) if exprs else frame
    joined = [n for n, t in out.schema.items() if isinstance(t, pl.List) and n not in kept and n not in lists]
    if joined:
        out = out.with_columns(pl.col(n).cast(pl.List(pl.String)).list.join(sep) for n in joined)
    return out
