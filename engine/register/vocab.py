"""Controlled vocabularies of the register and the spellings registers use for them.

Each vocabulary maps a cleaned spelling (lower case, single spaces) to the stored value. Imports
and edits share them, so ``Mitigate`` in a spreadsheet and ``modify`` typed in the app mean the
same treatment (ISO 27001 6.1.3, ISO 42001 6.1.3: modify, retain, avoid or share the risk).
The helpers that build and read a vocabulary are those of every record (``engine.records.vocab``).
"""

from __future__ import annotations

from engine.records.vocab import FALSE_WORDS, TRUE_WORDS, UNKNOWN_WORDS, canon, choices, clean, expected
from engine.records.vocab import vocabulary as _table

__all__ = ["AI_CHARACTERISTICS", "AI_OBJECTIVES", "AI_RISK_SOURCES", "AI_ROLES", "ASSESSMENT_STATUSES", "FALSE_WORDS",
           "LIFECYCLE_STAGES", "MANAGEMENT_SYSTEMS", "RISK_STATUSES", "SEVERITIES", "TREATMENTS", "TRUE_WORDS",
           "UNKNOWN_WORDS", "canon", "choices", "clean", "expected"]


MANAGEMENT_SYSTEMS = _table({
    "ISMS": "information security|security|infosec|information security management system|27001|iso 27001|"
            "iso/iec 27001|iso27001|is",
    "AIMS": "ai|artificial intelligence|ai management system|42001|iso 42001|iso/iec 42001|iso42001",
    "both": "isms+aims|isms/aims|isms & aims|isms and aims|aims+isms|aims/isms|integrated|all",
})

TREATMENTS = _table({
    "modify": "reduce|mitigate|treat|control|modification|reduction|mitigation|remediate",
    "retain": "accept|tolerate|retention|acceptance|keep",
    "avoid": "terminate|eliminate|avoidance|stop",
    "share": "transfer|insure|sharing|outsource",
})

RISK_STATUSES = _table({
    "open": "new|identified|in progress|active|ongoing|draft|assessed|in treatment",
    "treated": "mitigated|treatment complete|implemented|reduced",
    "accepted": "risk accepted|tolerated",
    "closed": "resolved|done|retired|obsolete|archived",
})

AI_OBJECTIVES = _table({
    "accountability": "",
    "ai expertise": "expertise|ai competence",
    "data quality": "availability and quality of training and test data|quality of data|training data quality",
    "environmental impact": "environment|sustainability",
    "fairness": "bias|non-discrimination|equity",
    "maintainability": "",
    "privacy": "data protection",
    "robustness": "reliability|resilience|accuracy",
    "safety": "",
    "security": "",
    "transparency": "transparency and explainability|explainability|interpretability",
})
"""Objectives of ISO 42001 Annex C.2. Others are kept as written: the organisation sets its own (6.2)."""

AI_RISK_SOURCES = _table({
    "complexity of environment": "environment complexity|complex environment",
    "lack of transparency": "lack of transparency and explainability|opacity|black box",
    "level of automation": "automation|autonomy",
    "machine learning": "risk sources related to machine learning|ml|model|training data",
    "hardware": "system hardware issues|hardware issues",
    "life cycle": "system life cycle issues|lifecycle|lifecycle issues",
    "technology readiness": "immature technology|maturity",
})
"""Risk sources of ISO 42001 Annex C.3. Others are kept as written."""

LIFECYCLE_STAGES = _table({
    "inception": "concept|idea|ideation|planning|proposal",
    "design": "design and development|architecture",
    "development": "build|building|training|in development",
    "verification": "validation|verification and validation|testing|test|v&v|pilot",
    "deployment": "deploying|rollout|roll out|release",
    "operation": "operation and monitoring|production|live|in production|in operation|operational|in use",
    "retired": "retirement|decommissioned|decommissioning|withdrawn",
})
"""AI system life cycle stages (ISO/IEC 22989, as used by ISO 42001 A.6)."""

AI_ROLES = _table({
    "developer": "ai developer|builder",
    "provider": "ai provider|vendor|supplier",
    "user": "ai user|customer|ai customer|deployer|operator|consumer",
    "producer": "ai producer",
    "partner": "ai partner|integrator|data provider",
    "subject": "ai subject|data subject",
})
"""The organisation's roles towards an AI system (ISO 42001 4.1, ISO/IEC 22989 5.19)."""

AI_CHARACTERISTICS = {
    "processes_personal_data": "processes personal data",
    "processes_sensitive_data": "processes special-category data (health, biometric, ...)",
    "decides_about_people": "makes or informs decisions about people",
    "uses_third_party_model": "uses a third-party model or AI service",
    "trained_in_house": "model trained or fine-tuned by the organisation",
    "learns_in_operation": "keeps learning from data in operation",
    "generative": "generates text, images, code or other content",
    "external_input": "takes input from people or systems outside the organisation",
    "interacts_with_people": "the public, customers or patients interact with it directly",
    "safety_critical": "a wrong output can harm health or safety",
    "fully_automated": "acts without a person reviewing each output",
    "affects_vulnerable_groups": "affects children, patients or other vulnerable groups",
}
"""Characteristics of an AI system that decide which risk scenarios apply (``engine.ai``), by column
name of ``ai_systems``. Each is yes, no or not recorded; a scenario whose conditions rest on a
characteristic nobody recorded is still proposed, so a gap in the inventory never hides a risk."""

SEVERITIES = _table({
    "low": "l|minor|1|negligible",
    "medium": "m|moderate|med|2",
    "high": "h|major|3",
    "very high": "vh|critical|severe|catastrophic|4",
})

ASSESSMENT_STATUSES = _table({"current": "approved|final|valid", "draft": "in progress|open",
                              "superseded": "archived|replaced|retired"})
