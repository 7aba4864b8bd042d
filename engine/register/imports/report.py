"""What an import did, or would do (dry run), and how it is printed.

Every importer returns an :class:`ImportReport`: one :class:`FileReport` per file with what was (or
would be) created, merged, updated or left unchanged, and what the person should look at: warnings
(a register's own score that disagrees with the matrix), differences with what riskmap already held,
legacy rows carried onto the current standard, and proposals to confirm. :meth:`ImportReport.lines`
prints it in at most :data:`MAX_LINES` lines whatever the size of the files: long lists show their
first items and a count, warnings are grouped like problems (:func:`engine.errors.problem_lines`).
:func:`write_problems_csv` writes every problem or warning, for a person to work through.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Problem, problem_lines

__all__ = ["MAX_LINES", "FileReport", "ImportReport", "describe_changes", "write_problems_csv"]

MAX_LINES = 190
"""The most lines a report prints, whatever the files."""


def describe_changes(update: dict[str, Any], words: bool = False) -> str:
    """The fields of an update, each with its value before and after when known: ``likelihood 2 -> 4``;
    with ``words``, as a person reads them (``Inherent likelihood 2 -> 4``, a status by its label)."""
    # imported here: engine.labels reads the SoA's vocabulary, whose package imports this module
    from engine import labels

    changes = update.get("changes") or {}

    def name(f: str) -> str:
        return labels.heading(f) if words else f

    def value(f: str, v: Any) -> str:
        if words and v is not None and v != "" and not isinstance(v, list):
            return labels.word(f, v)
        return _shown(v)

    return ", ".join(f"{name(f)} {value(f, changes[f][0])} -> {value(f, changes[f][1])}" if f in changes else name(f)
                     for f in update["fields"])


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "(none)"
    return "(none)" if value is None or value == "" else str(value)


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
    updated: list[dict[str, Any]] = field(default_factory=list)    # row, id, fields, changes (field: old, new)
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)               # keys imported before, absent now
    new_assets: list[str] = field(default_factory=list)
    new_ai_systems: list[str] = field(default_factory=list)
    translated: list[dict[str, Any]] = field(default_factory=list)  # row, as_written, ref
    notes: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)          # never refusing: shown for a person to check
    suggested: list[dict[str, Any]] = field(default_factory=list)  # row, id, risk_id, phrase, control, score
    differences: list[dict[str, Any]] = field(default_factory=list)  # row, id, field, stored, imported
    carried: list[dict[str, Any]] = field(default_factory=list)    # ref, sources, outcome (a legacy merge)
    proposals: list[dict[str, Any]] = field(default_factory=list)  # proposal_id, basis
    scales: list[dict[str, Any]] = field(default_factory=list)     # column, field, value, read_as (a score)

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
        if self.suggested:
            parts.append(f"{len(self.suggested)} control suggestion(s)")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        return f"{self.file} [{self.source}] {self.rows} rows: " + ", ".join(parts)

    def sections(self) -> list[tuple[str, list[str]]]:
        """The detail of the file, section by section (each a list of lines)."""
        return [
            ("new", [f"  new      row {x['row']}: {x['id']} {x.get('title') or x.get('name') or ''}"
                     for x in self.created]),
            ("merged", [f"  merge    row {x['row']} into {x['risk_id']}: {x['reason']}" for x in self.merged]),
            ("updated", [f"  update   row {x['row']}: {x['id']} ({describe_changes(x)})" for x in self.updated]),
            ("differences", [f"  differs  row {x['row']}: {x['id']} {x['field']}: riskmap has {x['stored']!r}, the "
                             f"file {x['imported']!r}" for x in self.differences]),
            ("carried", [f"  carried  {x['ref']} <- {x['sources']}: {x['outcome']}" for x in self.carried]),
            ("suggested", [f"  suggest  row {x['row']}: {x['risk_id']} {x['phrase']!r} -> {x['control']} "
                           f"({x['score']:.2f})" for x in self.suggested]),
        ]


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
    def warnings(self) -> list[Problem]:
        return [w for f in self.files for w in f.warnings]

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)

    def lines(self, detail: bool = False) -> list[str]:
        """Human-readable lines for the CLI: at most :data:`MAX_LINES`, however large the files."""
        head = "dry run, nothing written: " if self.dry_run else ""
        per_section = max(3, 40 // max(1, len(self.files)))
        out: list[str] = []
        for f in self.files:
            out.append(head + f.summary())
            out.extend(f"  note: {n}" for n in f.notes)
            out.extend(f"  warning: {w}" for w in problem_lines(f.warnings, limit=max(5, 60 // len(self.files))))
            if detail or self.dry_run:
                for name, items in f.sections():
                    shown = len(items) if name == "carried" else per_section  # every legacy merge is listed
                    out.extend(items[:shown])
                    if len(items) > shown:
                        out.append(f"  ... and {len(items) - shown:,} more")
            elif f.differences:
                out.append(f"  {len(f.differences)} value(s) differed from what riskmap held and were replaced "
                           "(the history keeps the old values)")
            if f.suggested:
                out.append(f"  {len(f.suggested)} control suggestion(s) for controls written in words: accept or "
                           "reject them with `riskmap suggestions` (or on the Import page)")
            if f.proposals:
                out.append(f"  {len(f.proposals)} SoA proposal(s) from the crosswalk, e.g. {f.proposals[0]['basis']}: "
                           "review them with `riskmap soa propose`")
            if f.missing:
                missing_shown = ", ".join(f.missing[:10]) + (" ..." if len(f.missing) > 10 else "")
                out.append(f"  {len(f.missing)} key(s) imported before are not in this file (kept): {missing_shown}")
        if len(out) > MAX_LINES:
            out = [*out[: MAX_LINES - 1], f"... and {len(out) - MAX_LINES + 1:,} more line(s) not shown"]
        return out


def write_problems_csv(problems: list[Problem], path: str | Path, kind: str = "problem") -> int:
    """Every problem (or warning) as one CSV row: kind, file, row, column, problem, value, expected.
    Cells that a spreadsheet would run as a formula are written as text. Returns the rows written."""
    from engine.exports.safe import safe_text

    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "file", "row", "column", "problem", "value", "expected"])
        for p in problems:
            w.writerow([safe_text(x) for x in (kind, p.file, "" if p.record is None else p.record, p.field or "",
                                                p.message, "" if p.value is None else p.value, p.expected or "")])
    return len(problems)
