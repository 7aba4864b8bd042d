"""Importing registers and inventories from CSV and Excel.

``import_risks`` / ``import_risk_files`` for risk registers; ``import_assets``,
``import_ai_systems`` and ``import_assessments`` for the inventories. Every importer collects every
problem of a file before failing and writes nothing then; every importer has a dry run.

How a file is read: ``reading`` (CSV / Excel into text columns), ``headers`` and ``wordings``
(which column is which field, mapping files), ``normalise`` (cells into stored values),
``controls`` (control references). A risk import then runs ``risks`` -> ``parse`` (one file into a
normalised frame) -> ``plan`` and ``decide`` (new, merged, updated or unchanged; rules for merges
in ``matching``) -> ``write`` (new rows, lineage) and ``apply`` (merges into and updates of stored
risks). ``entities`` imports the inventories; ``report`` is what every import returns.
"""

from __future__ import annotations

from pathlib import Path

from .entities import import_entities
from .report import FileReport, ImportReport
from .risks import RiskFile, import_risk_files, import_risks

__all__ = ["FileReport", "ImportReport", "RiskFile", "import_ai_systems", "import_assessments", "import_assets",
           "import_risk_files", "import_risks"]


def import_assets(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                  mapping: str | Path | None = None, dry_run: bool = False) -> ImportReport:
    """Import the asset inventory (ISO 27001 A.5.9)."""
    return import_entities(db, "assets", path, actor=actor, channel=channel, mapping=mapping, dry_run=dry_run)


def import_ai_systems(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                      mapping: str | Path | None = None, dry_run: bool = False) -> ImportReport:
    """Import the AI system inventory (ISO 42001 A.4, A.6; the organisation's role per 4.1)."""
    return import_entities(db, "ai_systems", path, actor=actor, channel=channel, mapping=mapping, dry_run=dry_run)


def import_assessments(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                       mapping: str | Path | None = None, dry_run: bool = False) -> ImportReport:
    """Import AI system impact assessments (ISO 42001 6.1.4, 8.4, A.5)."""
    return import_entities(db, "assessments", path, actor=actor, channel=channel, mapping=mapping,
                           dry_run=dry_run)
