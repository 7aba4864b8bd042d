"""The SoA's code lists: inclusion and exclusion reasons, implementation statuses."""

from __future__ import annotations

from typing import Any

REASONS: dict[str, str] = {
    "risk_treatment": "Risk treatment",
    "legal_regulatory": "Legal or regulatory requirement",
    "contractual": "Contractual obligation",
    "business": "Business requirement or interested parties",
    "best_practice": "Best practice",
}
"""Inclusion reason codes (ISO 27001 6.1.3 d: the justification for inclusions) and their labels."""


EXCLUSION_REASONS: dict[str, str] = {
    "no_relevant_risk": "No risk requires it",
    "activity_not_performed": "The activity it governs is not performed",
    "outside_scope": "Outside the scope of the management system",
    "covered_elsewhere": "Covered by another control",
    "other": "Other (see justification)",
}
"""Exclusion reason codes; a justification is required with every exclusion."""


STATUSES: dict[str, str] = {
    "not_started": "Not started",
    "planned": "Planned",
    "partial": "Partially implemented",
    "implemented": "Implemented",
}


STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}


CUSTOM_FRAMEWORK = "org"




class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument that was not given (``None`` means "clear the value")."""
