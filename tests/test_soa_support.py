"""Register rows for the SoA, treatment and audit tests, written with plain SQL (no importer needed).

No tests here: the module holds the data the other test modules share.

The organisation: its own 5x5 matrix, version 2 (appetite 8, levels from 1, 5, 10, 17); four risks owned by Alice and Bob; two AI systems, one of
which (AI-1) has an impact assessment and one (AI-2) does not.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tests import stores

TS = datetime(2026, 1, 1, 9, 0, 0)

RISKS = [
    # id, title, owner, system, inherent L/I, current L/I, residual L/I, treatment, status
    ("R-1", "Ransomware encrypts file servers", "Alice", "ISMS", 4, 5, 4, 5, 2, 3, "modify", "open"),
    ("R-2", "Model drift degrades credit decisions", "Bob", "AIMS", 4, 4, 3, 4, 2, 2, "modify", "open"),
    ("R-3", "Supplier outage", "Alice", "ISMS", 3, 3, 3, 3, None, None, None, "open"),
    ("R-4", "Old risk, closed", "Bob", "ISMS", 5, 5, 5, 5, None, None, None, "closed"),
]


def seed_register(db: Path) -> None:
    """Insert the matrix, risks, their controls, AI systems and impact assessments."""
    con = stores.open_db(db, read_only=False)
    try:
        con.execute("""
            INSERT INTO risk_matrix_versions VALUES (2, 5,
                ['Rare', 'Unlikely', 'Possible', 'Likely', 'Almost certain'],
                ['Minor', 'Moderate', 'Major', 'Severe', 'Critical'],
                ['Low', 'Medium', 'High', 'Critical'], [1, 5, 10, 17],
                ['#00B050', '#FFC000', '#FF6600', '#C00000'], 8, ?, 'tests', NULL)""", [TS])
        for (rid, title, owner, ms, il, ii, cl, ci, rl, ri, treatment, status) in RISKS:
            con.execute(
                "INSERT INTO risks (id, title, owner, management_system, inherent_likelihood, inherent_impact, "
                "current_likelihood, current_impact, residual_likelihood, residual_impact, treatment, status, "
                "matrix_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2, ?, ?)",
                [rid, title, owner, ms, il, ii, cl, ci, rl, ri, treatment, status, TS, TS])
        con.executemany("INSERT INTO risk_controls (risk_id, framework, ref, status) VALUES (?, ?, ?, ?)", [
            ["R-1", "iso27001-2022", "A.8.7", "existing"],
            ["R-1", "iso27001-2022", "A.8.13", "planned"],
            ["R-2", "iso42001-2023", "A.6.2.6", "planned"],
            ["R-4", "iso27001-2022", "A.5.30", "existing"],   # closed risk: cites nothing
        ])
        con.executemany("INSERT INTO ai_systems (id, name, owner) VALUES (?, ?, ?)",
                        [["AI-1", "Credit scoring model", "Bob"], ["AI-2", "Support chatbot", "Bob"]])
        con.execute("INSERT INTO impact_assessments (id, ai_system_id, title, severity, assessed_on) "
                    "VALUES ('IA-1', 'AI-1', 'Credit scoring impact on applicants', 'high', ?)", [date(2026, 1, 5)])
        con.executemany("INSERT INTO risk_ai_systems VALUES (?, ?)", [["R-2", "AI-1"]])
    finally:
        con.close()
