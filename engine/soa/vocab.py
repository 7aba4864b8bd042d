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


# -- how Statements of Applicability kept in spreadsheets write their values (read by the SoA import) --

APPLICABLE_WORDS: dict[str, bool] = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "x", "✓", "✔", "✔️", "☑", "✅", "included", "include", "in",
                     "applicable", "in scope", "selected", "required", "applies", "relevant"), True),
    **dict.fromkeys(("no", "n", "false", "f", "0", "✗", "✘", "❌", "☐", "excluded", "exclude", "out",
                     "not applicable", "n/a", "na", "out of scope", "not selected", "not required",
                     "does not apply", "not relevant"), False),
}
"""Spellings of an SoA's applicability (compared lower case, single spaces); an empty cell is undecided."""

STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("implemented", "fully implemented", "in place", "done", "complete", "completed", "yes",
                     "operational", "effective", "live", "established", "achieved", "compliant"), "implemented"),
    **dict.fromkeys(("partial", "partially", "partly", "partially implemented", "partly implemented",
                     "in progress", "ongoing", "wip", "started", "implementing", "being implemented",
                     "partially compliant", "some"), "partial"),
    **dict.fromkeys(("planned", "to do", "todo", "scheduled", "roadmap", "not yet", "pending", "intended",
                     "future", "on roadmap", "agreed"), "planned"),
    **dict.fromkeys(("not started", "not implemented", "no", "none", "not in place", "gap", "missing", "open",
                     "not compliant", "non-compliant", "not yet started"), "not_started"),
}
"""Spellings of an implementation status; a percentage reads as 0 -> not started, 100 -> implemented,
anything between -> partial."""

REASON_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("risk treatment", "risk assessment", "results of risk assessment", "result of risk assessment",
                     "risk", "risks", "rra", "ra", "rtp", "risk treatment plan", "risk based"), ("risk_treatment",)),
    **dict.fromkeys(("legal", "regulatory", "legal/regulatory", "legal or regulatory", "legal requirement",
                     "legal requirements", "regulation", "regulations", "law", "statutory", "lr", "l",
                     "compliance", "legal and regulatory"), ("legal_regulatory",)),
    **dict.fromkeys(("contractual", "contract", "contracts", "contractual obligation", "contractual obligations",
                     "co", "customer requirement", "customer requirements"), ("contractual",)),
    **dict.fromkeys(("business", "business requirement", "business requirements", "br",
                     "business need", "interested parties"), ("business",)),
    **dict.fromkeys(("best practice", "best practices", "good practice", "bp", "adopted best practice",
                     "adopted best practices", "industry practice"), ("best_practice",)),
    "br/bp": ("business", "best_practice"),
}
"""Spellings of inclusion reasons (a cell may hold several, separated by ; , or "and")."""

EXCLUSION_WORDS: dict[str, str] = {
    **dict.fromkeys(("no relevant risk", "no risk", "no risks", "not required by risk assessment",
                     "no risk identified", "risk not present"), "no_relevant_risk"),
    **dict.fromkeys(("activity not performed", "not performed", "no such activity", "activity not carried out",
                     "not applicable to our activities", "no development", "not undertaken"),
                    "activity_not_performed"),
    **dict.fromkeys(("outside scope", "out of scope", "outside the scope", "not in scope", "scope"), "outside_scope"),
    **dict.fromkeys(("covered elsewhere", "covered by another control", "covered by other controls",
                     "addressed elsewhere", "duplicate"), "covered_elsewhere"),
    "other": "other",
}
"""Spellings of exclusion reasons; any other text is kept as the justification, with reason ``other``."""
