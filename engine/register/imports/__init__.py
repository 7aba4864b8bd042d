"""Importing registers and inventories from CSV and Excel.

``import_risks`` / ``import_risk_files`` for risk registers; ``import_assets``,
``import_ai_systems`` and ``import_assessments`` for the inventories. Every importer collects every
problem of a file before failing and writes nothing then; every importer has a dry run.

How a file is read: ``limits`` (how large a file may be, checked before it is parsed), ``reading``
(CSV / Excel into text columns), ``headers`` and ``wordings`` (which column is which field, for
every import kind, and mapping files), ``normalise`` (cells into stored values), ``controls``
(control references, and the phrases written instead). A risk import then runs ``risks`` ->
``parse`` (one file into a normalised frame; ``titles`` composes titles for registers without them,
``checks`` compares a register's own scores with the matrix) -> ``plan`` and ``decide`` (new,
merged, updated or unchanged; rules for merges in ``matching``) -> ``write`` (new rows, lineage),
``apply`` (merges into and updates of stored risks) and ``phrases`` (control suggestions).
``registers`` lists the registers imported so far and recognises one re-imported under a new name;
``entities`` imports the inventories; ``report`` is what every import returns and how it prints.
The SoA and the action plan have their importers in their own packages (``engine.soa.importing``,
``engine.plan.importing``), reading files with these same modules.
"""

from __future__ import annotations

from pathlib import Path

from .entities import import_entities
from .limits import DEFAULT_LIMITS, Limits, parse_limits
from .registers import known_registers
from .report import FileReport, ImportReport, describe_changes, write_problems_csv
from .risks import RiskFile, import_risk_files, import_risks

__all__ = ["DEFAULT_LIMITS", "FileReport", "ImportReport", "Limits", "RiskFile", "describe_changes", "import_ai_systems",
           "import_assessments", "import_assets", "import_risk_files", "import_risks", "known_registers", "parse_limits",
           "write_problems_csv"]


def import_assets(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                  mapping: str | Path | None = None, dry_run: bool = False,
                  limits: Limits | None = None) -> ImportReport:
    """Import the asset inventory (ISO 27001 A.5.9)."""
    return import_entities(db, "assets", path, actor=actor, channel=channel, mapping=mapping, dry_run=dry_run,
                           limits=limits)


def import_ai_systems(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                      mapping: str | Path | None = None, dry_run: bool = False,
                      limits: Limits | None = None) -> ImportReport:
    """Import the AI system inventory (ISO 42001 A.4, A.6; the organisation's role per 4.1)."""
    return import_entities(db, "ai_systems", path, actor=actor, channel=channel, mapping=mapping, dry_run=dry_run,
                           limits=limits)


def import_assessments(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
                       mapping: str | Path | None = None, dry_run: bool = False,
                       limits: Limits | None = None) -> ImportReport:
    """Import AI system impact assessments (ISO 42001 6.1.4, 8.4, A.5)."""
    return import_entities(db, "assessments", path, actor=actor, channel=channel, mapping=mapping,
                           dry_run=dry_run, limits=limits)
