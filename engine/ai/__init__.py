"""Identifying AI risks (ISO/IEC 42001 6.1.2, 8.2 and Annex C) and the AI in use that nobody registered.

- :mod:`~engine.ai.library`: the scenario library in ``mappings/scenarios`` (reading, validating, loading).
- :mod:`~engine.ai.characteristics`: the characteristics of each AI system that decide which scenarios apply.
- :mod:`~engine.ai.identification`: proposals per system, decisions on them (accept as a register risk,
  reject as not applicable with a reason, reopen) and identification coverage.
- :mod:`~engine.ai.usage`: observed AI use (proxy, CASB or expense exports), matched to the inventory.
- :mod:`~engine.ai.charts`: the plotly figures of identification coverage and observed use.

Which scenario applies to which system, and how observed use matches the inventory, is SQL in the views
``v_ai_risk_identification`` and ``v_ai_usage``: one definition, read by the app, the CLI and analysts.
"""

from __future__ import annotations

from .characteristics import (
    CHARACTERISTICS,
    MATCH_KEYS,
    characteristics,
    matching_keys,
    parse_assignments,
    set_characteristics,
)
from .identification import (
    STATES,
    Summary,
    accept,
    candidate_risks,
    coverage,
    identification,
    proposals,
    reject,
    reopen,
    summary,
)
from .library import (
    SCENARIO_DIR,
    Scenario,
    get_scenario,
    is_scenario_file,
    list_scenarios,
    load_library,
    read_files,
    scenario_files,
    sync_library,
    validate_files,
)
from .usage import UsageReport, dismiss_usage, import_usage, list_usage, register_usage

__all__ = [
    "CHARACTERISTICS", "MATCH_KEYS", "SCENARIO_DIR", "STATES", "Scenario", "Summary", "UsageReport", "accept", "candidate_risks",
    "characteristics", "coverage", "dismiss_usage", "get_scenario", "identification", "import_usage", "is_scenario_file",
    "list_scenarios", "list_usage", "load_library", "matching_keys", "parse_assignments", "proposals", "read_files",
    "register_usage", "reject", "reopen", "scenario_files", "set_characteristics", "summary", "sync_library",
    "validate_files",
]
