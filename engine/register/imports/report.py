"""What an import did, or would do (dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileReport:
    """One file's outcome. Rows are file rows (header = 1)."""

    file: str
    source: str
    kind: str
    rows: int = 0
    batch_id: str | None = None
    created: list[dict[str, Any]] = field(default_factory=list)    # row, id, title/name
    merged: list[dict[str, Any]] = field(default_factory=list)     # row, risk_id, merge_id, similarity, reason
    updated: list[dict[str, Any]] = field(default_factory=list)    # row, id, fields
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)               # keys imported before, absent now
    new_assets: list[str] = field(default_factory=list)
    new_ai_systems: list[str] = field(default_factory=list)
    translated: list[dict[str, Any]] = field(default_factory=list)  # row, as_written, ref
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.merged or self.updated or self.batch_id)

    def summary(self) -> str:
        parts = [f"{len(self.created)} new", f"{len(self.merged)} merged", f"{len(self.updated)} updated",
                 f"{self.unchanged} unchanged"]
        if self.new_assets:
            parts.append(f"{len(self.new_assets)} new asset(s)")
        if self.new_ai_systems:
            parts.append(f"{len(self.new_ai_systems)} new AI system(s)")
        if self.translated:
            parts.append(f"{len(self.translated)} 27001:2013 reference(s) translated")
        return f"{self.file} [{self.source}] {self.rows} rows: " + ", ".join(parts)


@dataclass
class ImportReport:
    """The outcome of one import run (one or several files, one transaction)."""

    kind: str
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)

    @property
    def created(self) -> list[dict[str, Any]]:
        return [x for f in self.files for x in f.created]

    @property
    def merged(self) -> list[dict[str, Any]]:
        return [x for f in self.files for x in f.merged]

    @property
    def updated(self) -> list[dict[str, Any]]:
        return [x for f in self.files for x in f.updated]

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)

    def lines(self, detail: bool = False) -> list[str]:
        """Human-readable lines for the CLI."""
        head = "dry run, nothing written: " if self.dry_run else ""
        out = []
        for f in self.files:
            out.append(head + f.summary())
            out.extend(f"  note: {n}" for n in f.notes)
            if detail or self.dry_run:
                out.extend(f"  new      row {x['row']}: {x['id']} {x.get('title') or x.get('name') or ''}"
                           for x in f.created)
                out.extend(f"  merge    row {x['row']} into {x['risk_id']}: {x['reason']}" for x in f.merged)
                out.extend(f"  update   row {x['row']}: {x['id']} ({', '.join(x['fields'])})" for x in f.updated)
            if f.missing:
                shown = ", ".join(f.missing[:10]) + (" ..." if len(f.missing) > 10 else "")
                out.append(f"  {len(f.missing)} key(s) imported before are not in this file (kept): {shown}")
        return out
