"""Crosswalks imported from other tools: an OSCAL mapping-collection, or a CISO Assistant library with its
frameworks and requirement mapping sets (``riskmap import mapping``, ``riskmap import library``).

Imported records are kept apart from the shipped ones (``imported_mappings``, by import source; each
source's header in ``crosswalk_imports``, its frameworks in ``imported_frameworks``), so ``riskmap init``
never removes them and importing the same source again replaces what it brought. A shipped record, and the
organisation's tailoring, win over an imported one for the same pair (``mappings_in_force.sql``); the
inference reaches through imported frameworks (a user's SCF or NIST CSF library links show up as inferred
27001 <-> 42001 paths). An OSCAL file may instead be imported as the organisation's tailoring: each record
that differs from the record beneath becomes the decision that turns that record into it
(:func:`engine.crosswalk.tailoring.decision_between`); a record that agrees is left alone.

Every import is all or nothing: every problem of the file is listed, and nothing is written. ``dry_run``
reports what would change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import store
from engine.errors import InputError, Problem
from engine.store import history, query

from . import library as library_mod
from . import oscal_read, tailoring
from .inference import rebuild_links
from .mappings import Mapping, check_records, mappings_frame
from .relationships import inverse

__all__ = ["ImportReport", "import_library", "import_mapping", "imports_frame"]


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    source: str
    mode: str                      # extra, tailored or library
    mappings: int = 0              # records stored (extra, library) or decisions recorded (tailored)
    frameworks: list[str] = field(default_factory=list)   # extra frameworks loaded
    controls: int = 0
    shadowed: int = 0              # imported records a shipped or tailored record overrides
    tailored: list[str] = field(default_factory=list)     # tailoring ids written
    unmatched: list[str] = field(default_factory=list)    # library nodes of a shipped framework not in its catalog
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction, so everything it wrote is rolled back."""


@contextmanager
def _writing(db: str | Path | None, dry_run: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction for an import: committed, or with ``dry_run`` rolled back once the report is made."""
    try:
        with store.transaction(db) as con:
            yield con
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass


def _known(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple[str, str]], set[str]]:
    known = {(fw, ref) for fw, ref in con.execute("SELECT framework, ref FROM controls").fetchall()}
    return known, {r[0] for r in con.execute("SELECT framework FROM frameworks").fetchall()}


def _check(records: list[Mapping], known: set[tuple[str, str]], fws: set[str], summary: str) -> None:
    problems = check_records(records, known, fws)
    if problems:
        raise InputError(problems, summary)


def _store_records(con: duckdb.DuckDBPyConnection, source: str, records: list[Mapping]) -> None:
    """Replace the import source's records (DuckDB reads ``frame`` from this function's locals)."""
    frame = mappings_frame(records).with_columns(pl.lit(source).alias("import_source"),  # noqa: F841
                                                 pl.lit(store.now()).alias("imported_at"))
    con.execute("DELETE FROM imported_mappings WHERE import_source = ?", [source])
    cols = "import_source, " + ", ".join(mappings_frame([]).columns) + ", imported_at"
    con.execute(f"INSERT INTO imported_mappings ({cols}) SELECT {cols} FROM frame")


def _shadowed(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """How many of the source's records are not in force (a shipped, tailored or other import's record wins)."""
    in_force = query.load("mappings_in_force")
    row = con.execute(f"""
        SELECT count(*) FROM imported_mappings i
        WHERE i.import_source = $source AND NOT EXISTS (
            SELECT 1 FROM ({in_force}) m WHERE m.import_source = $source
              AND m.source_framework = i.source_framework AND m.source_ref = i.source_ref
              AND m.target_framework = i.target_framework AND m.target_ref = i.target_ref)""",
        {"source": source, "with_tailoring": True}).fetchone()
    return int(row[0]) if row else 0


def _record_import(con: duckdb.DuckDBPyConnection, row: dict[str, Any], summary: dict[str, Any], *, actor: str,
                   channel: str) -> None:
    """The source's header row (replacing an earlier import of it) and one history row for the import."""
    row = {**row, "imported_at": store.now(), "imported_by": actor}
    con.execute("DELETE FROM crosswalk_imports WHERE import_source = ?", [row["import_source"]])
    con.execute(f"INSERT INTO crosswalk_imports ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))
    history.record(con, entity="crosswalk_import", entity_id=row["import_source"], action="import", actor=actor,
                   channel=channel, field="summary", new=summary)


# OSCAL mapping collections ----------------------------------------------------------------------------


def import_mapping(db: str | Path | None, path: Path, *, as_tailoring: bool = False,
                   frameworks: dict[str, str] | None = None, default_strength: int | None = None,
                   dry_run: bool = False, actor: str, channel: str) -> ImportReport:
    """Load an OSCAL mapping-collection as an extra crosswalk, or (``as_tailoring``) as the organisation's
    tailoring of the crosswalk in force.

    ``frameworks`` names the framework of the ``source`` and ``target`` resources when the file does not;
    ``default_strength`` is the strength of maps with no confidence score. Controls are matched to the
    loaded catalogs by ref, case-insensitively.
    """
    path = Path(path)
    with store.connect(db) as con:
        known, fws = _known(con)
    records = oscal_read.read_mapping_collection(path, known=known, frameworks=frameworks,
                                                 default_strength=default_strength)
    _check(records, known, fws, f"{path}: the mapping collection has problems")
    if as_tailoring:
        return _import_tailoring(db, path, records, dry_run=dry_run, actor=actor, channel=channel)
    source = f"oscal:{path.name}"
    report = ImportReport(source, "extra", len(records), dry_run=dry_run)
    with _writing(db, dry_run) as con:
        _store_records(con, source, records)
        report.shadowed = _shadowed(con, source)
        if not dry_run:
            _record_import(con, {"import_source": source, "kind": "oscal", "file_name": path.name,
                                 "name": path.stem}, {"mappings": len(records)}, actor=actor, channel=channel)
            rebuild_links(con)
    return report


def _import_tailoring(db: str | Path | None, path: Path, records: list[Mapping], *, dry_run: bool, actor: str,
                      channel: str) -> ImportReport:
    """Each record as the decision that turns the record beneath into it. Left out, with a note: records
    naming no target control (a tailoring decides a pair of controls) and records that agree with the
    record beneath (an import is not a review, so it accepts nothing)."""
    report = ImportReport(f"oscal:{path.name}", "tailored", dry_run=dry_run)
    untargeted = agreeing = 0
    with _writing(db, dry_run) as con:
        bases = tailoring.records_beneath(con)
        decisions = []
        for i, m in enumerate(records):
            if not m.target_ref:
                untargeted += 1
                continue
            base = bases.get(tailoring.pair_key(m.source_framework, m.source_ref, m.target_framework, m.target_ref))
            rel = m.relationship
            if base is not None and (base["source_framework"], base["source_ref"]) != (m.source_framework, m.source_ref):
                rel = inverse(rel)
            decision = tailoring.decision_between(base, rel, m.strength)
            if decision in (None, "accept"):
                agreeing += 1
                continue
            changes = decision not in ("accept", "dispute")
            decisions.append(tailoring.Decision(
                (m.source_framework, m.source_ref), (m.target_framework, m.target_ref), decision,
                m.relationship if changes else None, m.strength if changes else None, m.rationale_type,
                f"{m.justification} (imported from {path.name})", where=f"{path}:record {i + 1}"))
        report.tailored = tailoring.apply_decisions(con, decisions, actor=actor, channel=channel)
        report.mappings = len(report.tailored)
        if not dry_run:
            rebuild_links(con)
    if agreeing:
        report.notes.append(f"{agreeing} record(s) agree with the crosswalk already: nothing to decide, left as they are")
    if untargeted:
        report.notes.append(f"{untargeted} record(s) name no target control and were left out (a tailoring decides "
                            "a pair of controls)")
    return report


# CISO Assistant libraries -----------------------------------------------------------------------------


def _loaded_extra(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, set[str]], dict[str, str], set[str]]:
    """Extra frameworks in the store (id -> refs), which import brought each, and the organisation's own."""
    owners = dict(con.execute("SELECT framework, import_source FROM imported_frameworks").fetchall())
    refs: dict[str, set[str]] = {fw: set() for fw in owners}
    for fw, ref in con.execute("SELECT c.framework, c.ref FROM controls c JOIN imported_frameworks i "
                               "ON i.framework = c.framework").fetchall():
        refs[fw].add(ref)
    own = {r[0] for r in con.execute("SELECT framework FROM frameworks WHERE custom").fetchall()}
    return refs, owners, own


def _framework_problems(lib: library_mod.Library, owners: dict[str, str], own: set[str]) -> list[Problem]:
    """A library may not redefine the organisation's own framework or one another import brought."""
    problems = []
    for i, fw in enumerate(f for f in lib.frameworks if not f.shipped):
        other = owners.get(fw.framework)
        if fw.framework in own:
            problems.append(Problem(lib.file, f"objects.framework[{i}]", "urn", "the organisation's own framework "
                                    "has this id", fw.urn, expected="a framework id of its own"))
        elif other is not None and other != lib.header.urn:
            problems.append(Problem(lib.file, f"objects.framework[{i}]", "urn", f"framework {fw.framework} was "
                                    f"loaded by another library ({other})", fw.urn,
                                    expected="each framework from one library"))
    return problems


def _write_frameworks(con: duckdb.DuckDBPyConnection, lib: library_mod.Library, previous: list[str]) -> None:
    """The library's extra frameworks and their controls, replacing what this library loaded before."""
    mine = [f for f in lib.frameworks if not f.shipped]
    for fw in previous:
        con.execute("DELETE FROM controls WHERE framework = ?", [fw])
        con.execute("DELETE FROM imported_frameworks WHERE framework = ?", [fw])
        if fw not in {f.framework for f in mine}:
            con.execute("DELETE FROM frameworks WHERE framework = ?", [fw])
    for f in mine:
        row = f.row()
        con.execute("INSERT OR REPLACE INTO frameworks (framework, name, edition, title, source, copyright, "
                    "catalog_version, custom) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [row[k] for k in ("framework", "name", "edition", "title", "source", "copyright",
                                      "catalog_version", "custom")])
        con.execute("INSERT INTO imported_frameworks VALUES (?, ?)", [f.framework, lib.header.urn])
    if lib.controls:
        con.executemany("INSERT INTO controls (framework, ref, title, kind, parent_ref, grp, ordinal) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[c.framework, c.ref, c.title, c.kind, c.parent_ref, c.grp, c.ordinal] for c in lib.controls])


def _header_row(lib: library_mod.Library) -> dict[str, Any]:
    h = lib.header
    return {"import_source": h.urn, "kind": "library", "file_name": Path(lib.file).name, "ref_id": h.ref_id,
            "name": h.name, "description": h.description, "locale": h.locale, "copyright": h.copyright,
            "version": h.version, "provider": h.provider, "packager": h.packager,
            "publication_date": h.publication_date, "dependencies": ", ".join(h.dependencies) or None}


def import_library(db: str | Path | None, path: Path, *, default_strength: int | None = None,
                   dry_run: bool = False, actor: str, channel: str) -> ImportReport:
    """Load a CISO Assistant library: its extra frameworks (ids, titles, hierarchy) with the library's
    header and copyright, and its mapping sets as an extra crosswalk (:mod:`engine.crosswalk.library` says how
    the file is read). Importing a library again replaces what it loaded before.
    """
    path = Path(path)
    with store.connect(db) as con:
        loaded, owners, own = _loaded_extra(con)
        known, fws = _known(con)
    lib = library_mod.parse_library(path, loaded=loaded, default_strength=default_strength)
    problems = _framework_problems(lib, owners, own)
    if problems:
        raise InputError(problems, f"{path}: the library's frameworks clash with loaded ones")
    mine = {f.framework for f in lib.frameworks if not f.shipped}
    previous = [fw for fw, src in owners.items() if src == lib.header.urn]
    known = {k for k in known if k[0] not in previous} | {(c.framework, c.ref) for c in lib.controls}
    _check(lib.mappings, known, (fws - set(previous)) | mine, f"{path}: the library's mappings have problems")
    report = ImportReport(lib.header.urn, "library", len(lib.mappings), sorted(mine), len(lib.controls),
                          unmatched=list(lib.unmatched), dry_run=dry_run)
    with _writing(db, dry_run) as con:
        _write_frameworks(con, lib, previous)
        _store_records(con, lib.header.urn, lib.mappings)
        report.shadowed = _shadowed(con, lib.header.urn)
        if not dry_run:
            _record_import(con, _header_row(lib), {"version": lib.header.version, "frameworks": sorted(mine),
                                                   "controls": len(lib.controls), "mappings": len(lib.mappings)},
                           actor=actor, channel=channel)
            rebuild_links(con)
    return report


def imports_frame(db: str | Path | None = None) -> pl.DataFrame:
    """Every imported crosswalk source with its header, what it brought and when (``crosswalk_imports``)."""
    with store.connect(db) as con:
        return con.execute("""
            SELECT i.import_source, i.kind, i.name, i.version, i.provider, i.copyright, i.file_name,
                   i.imported_at, i.imported_by,
                   (SELECT count(*) FROM imported_frameworks f WHERE f.import_source = i.import_source) AS frameworks,
                   (SELECT count(*) FROM imported_mappings m WHERE m.import_source = i.import_source) AS mappings
            FROM crosswalk_imports i ORDER BY i.imported_at DESC, i.import_source""").pl()
