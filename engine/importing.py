"""Every import kind in one place: what it imports, how a file's columns are recognised, and the
mapping file that records a person's choices.

The app's Import page offers one wizard for every kind (risk registers, assets, AI systems, impact
assessments, a Statement of Applicability, an action plan): it reads the uploaded file's columns
with :func:`read_columns`, shows the field each heading was recognised as, lets the person change
them, writes the changes as a mapping file (:func:`mapping_text`, the same YAML ``--mapping`` reads on
the command line, offered for download) and runs the kind's importer through :func:`run_import`,
first as a dry run. The importers themselves live with their records (``engine.register.imports``,
``engine.soa.importing``, ``engine.plan.importing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine import plan, register, soa
from engine.register.imports import ImportReport, Limits
from engine.register.imports import headers as hd
from engine.register.imports.reading import Table, read_table

__all__ = ["KINDS", "ImportKind", "mapping_text", "read_columns", "run_import"]


@dataclass(frozen=True)
class ImportKind:
    """One kind of file an organisation brings: its name, the noun of one record, and the settings
    its importer takes besides the mapping (``source``, ``framework``, ``management_system``)."""

    key: str
    label: str
    noun: str
    settings: tuple[str, ...] = ()


KINDS: dict[str, ImportKind] = {k.key: k for k in (
    ImportKind("risks", "Risk register", "risk", ("source", "framework", "management_system")),
    ImportKind("assets", "Asset inventory", "asset"),
    ImportKind("ai_systems", "AI system inventory", "AI system"),
    ImportKind("assessments", "AI impact assessments", "assessment"),
    ImportKind("soa", "Statement of Applicability", "SoA row", ("framework",)),
    ImportKind("actions", "Action plan", "action"),
)}


def read_columns(path: str | Path, kind: str, sheet: str | None = None,
                 limits: Limits | None = None) -> tuple[Table, hd.Columns]:
    """The file as read (limits checked first) and the field each of its headings is recognised as."""
    table = read_table(path, sheet, limits)
    return table, hd.resolve_columns(table, kind)


def mapping_text(kind: str, columns: Mapping[str, str], *, framework: str | None = None,
                 management_system: str | None = None, sheet: str | None = None) -> str:
    """A mapping file (YAML) of the headings a person mapped differently from recognition, and the
    settings chosen: what ``riskmap import KIND FILE --mapping THIS_FILE`` needs to read the file the
    same way."""
    doc: dict[str, Any] = {}
    if columns:
        doc["columns"] = dict(columns)
    if framework:
        doc["framework"] = framework
    if management_system:
        doc["management_system"] = management_system
    if sheet:
        doc["sheet"] = sheet
    head = (f"# How riskmap reads this {KINDS[kind].label.lower()}: riskmap import {kind.replace('_', '-')} FILE "
            "--mapping THIS_FILE\n# Headings not listed here are recognised by their wording.\n")
    return head + (yaml.safe_dump(doc, allow_unicode=True, sort_keys=False) if doc else "{}\n")


def run_import(db: str | Path | None, kind: str, path: str | Path, *, actor: str, channel: str,
               mapping: str | Path | None = None, dry_run: bool = False, source: str | None = None,
               framework: str | None = None, management_system: str | None = None,
               limits: Limits | None = None) -> ImportReport:
    """Run the importer of ``kind`` on one file (a dry run first, then for real, as the wizard does)."""
    common: dict[str, Any] = {"actor": actor, "channel": channel, "mapping": mapping, "dry_run": dry_run,
                              "limits": limits}
    if kind == "risks":
        return register.import_risks(db, path, source or Path(path).stem, framework=framework,
                                     management_system=management_system, **common)
    if kind == "soa":
        return soa.import_soa(db, path, framework=framework, **common)
    if kind == "actions":
        return plan.import_actions(db, path, **common)
    entity = {"assets": register.import_assets, "ai_systems": register.import_ai_systems,
              "assessments": register.import_assessments}[kind]
    return entity(db, path, **common)
