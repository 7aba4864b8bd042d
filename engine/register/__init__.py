"""The consolidated risk register of the ISMS (ISO/IEC 27001:2022) and the AIMS (ISO/IEC 42001:2023).

One register for information-security and AI risks, scored on one versioned matrix, with the
asset and AI system inventories, AI system impact assessments, imports from the registers teams
keep (with lineage and reversible merges) and a complete change history.
"""

from __future__ import annotations

from .browse import SORT_KEYS, RegisterPage, register_page
from .entities import (
    create_ai_system,
    create_assessment,
    create_asset,
    get_ai_system,
    get_assessment,
    get_asset,
    list_ai_systems,
    list_assessments,
    list_assets,
    update_ai_system,
    update_assessment,
    update_asset,
)
from .imports import (
    ImportReport,
    RiskFile,
    import_ai_systems,
    import_assessments,
    import_assets,
    import_risk_files,
    import_risks,
)
from .matrix import get_matrix, matrix_versions, read_matrix_file, rescore, set_matrix
from .merges import list_merges, undo_merge
from .risks import (
    create_risk,
    create_risk_on,
    get_risk,
    link_ai_system,
    link_ai_system_on,
    link_asset,
    link_control,
    list_risks,
    risk_history,
    risk_links,
    unlink_ai_system,
    unlink_asset,
    unlink_control,
    update_risk,
)
from .scoring import DEFAULT_MATRIX, MatrixSpec, default_matrix

__all__ = [
    "DEFAULT_MATRIX", "ImportReport", "MatrixSpec", "RegisterPage", "RiskFile", "SORT_KEYS",
    "create_ai_system", "create_assessment", "create_asset", "create_risk", "create_risk_on", "default_matrix",
    "get_ai_system", "get_assessment", "get_asset", "get_matrix", "get_risk",
    "import_ai_systems", "import_assessments", "import_assets", "import_risk_files", "import_risks",
    "link_ai_system", "link_ai_system_on", "link_asset", "link_control", "list_ai_systems", "list_assessments", "list_assets",
    "list_merges", "list_risks", "matrix_versions", "read_matrix_file", "register_page", "rescore", "risk_history", "risk_links", "set_matrix",
    "undo_merge", "unlink_ai_system", "unlink_asset", "unlink_control", "update_ai_system", "update_assessment",
    "update_asset", "update_risk",
]
