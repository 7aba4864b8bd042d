"""Authored crosswalk records: reading and validating the CSV files, loading them into the store."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from engine.config import CROSSWALK_DIR
from engine.crosswalk import catalog
from engine.errors import InputError, Problem

from .inference import rebuild_links
from .relationships import RATIONALES, RELATIONSHIPS, inverse

REVIEW_STATUSES = ("draft", "authored", "reviewed", "approved")
"""draft: work in progress; authored: written, not independently reviewed; reviewed/approved: by the person
named in ``reviewer``, on ``reviewed_on``."""


COLUMNS = ("source", "target", "relationship", "strength", "rationale_type", "justification",
           "author", "date", "review_status", "reviewer", "reviewed_on")

PROVENANCE_COLUMNS = ("reviewer", "reviewed_on")
"""Columns a file written before they existed may lack; missing, they read as empty (nobody reviewed)."""


@dataclass(frozen=True)
class Mapping:
    source_framework: str
    source_ref: str
    target_framework: str
    target_ref: str
    relationship: str
    strength: int
    rationale_type: str
    justification: str
    author: str
    authored_on: date
    review_status: str
    origin_file: str
    line: int
    file: str = ""  # the path as given, for messages
    reviewer: str = ""
    reviewed_on: date | None = None
    provenance: str = ""  # in the store: shipped, tailored or imported (mappings_in_force.sql)


def crosswalk_files(directory: Path = CROSSWALK_DIR) -> list[Path]:
    return sorted(directory.glob("*.csv"))


def _split_id(value: str) -> tuple[str, str] | None:
    if ":" not in value:
        return None
    fw, ref = value.split(":", 1)
    return fw.strip(), ref.strip()


def parse_file(path: Path) -> tuple[list[Mapping], list[Problem]]:
    """Read one crosswalk file; return its records and every format problem (vocabulary, types)."""
    f = str(path)
    records: list[Mapping] = []
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(f, None, None, f"cannot read crosswalk: {exc}")]
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or []) and c not in PROVENANCE_COLUMNS]
    if missing:
        return [], [Problem(f, 1, c, "missing column", expected=", ".join(COLUMNS)) for c in missing]
    for line, row in enumerate(reader, start=2):
        record, found = _parse_row(path, line, row)
        problems.extend(found)
        if record is not None:
            records.append(record)
    return records, problems


def _parse_row(path: Path, line: int, row: dict[str, str]) -> tuple[Mapping | None, list[Problem]]:
    """One record of a crosswalk file, or None when the row has a problem; and the row's problems."""
    f = str(path)
    problems: list[Problem] = []
    src = _split_id(row["source"] or "")
    tgt = _split_id(row["target"] or "")
    rel = (row["relationship"] or "").strip()
    if src is None or not src[1]:
        problems.append(Problem(f, line, "source", "not a full id", row["source"],
                                expected="framework:ref, e.g. iso27001-2022:A.5.1"))
    if tgt is None:
        problems.append(Problem(f, line, "target", "not a full id", row["target"],
                                expected="framework:ref, or framework: for no_relationship"))
    if rel not in RELATIONSHIPS:
        problems.append(Problem(f, line, "relationship", "unknown relationship", rel,
                                expected=" | ".join(RELATIONSHIPS)))
    try:
        strength = int((row["strength"] or "").strip())
    except ValueError:
        strength = -1
    problems += _strength_and_target_problems(f, line, row, rel, strength, tgt)
    rt = (row["rationale_type"] or "").strip()
    status = (row["review_status"] or "").strip()
    problems += _provenance_problems(f, line, row, rt, status)
    try:
        authored_on = date.fromisoformat((row["date"] or "").strip())
    except ValueError:
        problems.append(Problem(f, line, "date", "not a date", row["date"], expected="YYYY-MM-DD"))
        authored_on = date.min
    reviewer, reviewed_on = _review(f, line, row, status, problems)
    if problems or not src or not tgt:
        return None, problems
    return Mapping(src[0], src[1], tgt[0], tgt[1], rel, strength, rt, row["justification"].strip(),
                   row["author"].strip(), authored_on, status, path.name, line, f, reviewer,
                   reviewed_on), problems


def _strength_and_target_problems(f: str, line: int, row: dict[str, str], rel: str, strength: int,
                                  tgt: tuple[str, str] | None) -> list[Problem]:
    """``no_relationship`` takes strength 0; with a target control it records a pair considered and
    rejected, with ``framework:`` only that the source has no counterpart in that framework at all.
    Every other relationship names a target control with a strength from 1 to 10."""
    problems: list[Problem] = []
    if rel == "no_relationship":
        if strength != 0:
            problems.append(Problem(f, line, "strength", "no_relationship takes strength 0", row["strength"]))
    else:
        if not 1 <= strength <= 10:
            problems.append(Problem(f, line, "strength", "strength out of range", row["strength"],
                                    expected="an integer from 1 to 10"))
        if tgt is not None and not tgt[1]:
            problems.append(Problem(f, line, "target", "missing target control", row["target"]))
    return problems


def _provenance_problems(f: str, line: int, row: dict[str, str], rt: str, status: str) -> list[Problem]:
    """A record says why (rationale type, justification), who authored it and its review status."""
    problems: list[Problem] = []
    if rt not in RATIONALES:
        problems.append(Problem(f, line, "rationale_type", "unknown rationale type", rt,
                                expected=" | ".join(RATIONALES)))
    if not (row["justification"] or "").strip():
        problems.append(Problem(f, line, "justification", "missing justification"))
    if not (row["author"] or "").strip():
        problems.append(Problem(f, line, "author", "missing author"))
    if status not in REVIEW_STATUSES:
        problems.append(Problem(f, line, "review_status", "unknown review status", status,
                                expected=" | ".join(REVIEW_STATUSES)))
    return problems


def _review(f: str, line: int, row: dict[str, str], status: str,
            problems: list[Problem]) -> tuple[str, date | None]:
    """The reviewer and review date of a row: a reviewed or approved record names both, others neither."""
    reviewer = (row.get("reviewer") or "").strip()
    raw = (row.get("reviewed_on") or "").strip()
    reviewed_on = None
    if raw:
        try:
            reviewed_on = date.fromisoformat(raw)
        except ValueError:
            problems.append(Problem(f, line, "reviewed_on", "not a date", raw, expected="YYYY-MM-DD"))
    if status in ("reviewed", "approved"):
        if not reviewer:
            problems.append(Problem(f, line, "reviewer", f"a {status} record names its reviewer",
                                    expected="the person who reviewed it, or review_status authored"))
        if not raw:
            problems.append(Problem(f, line, "reviewed_on", f"a {status} record gives its review date",
                                    expected="YYYY-MM-DD"))
    elif reviewer or raw:
        problems.append(Problem(f, line, "review_status", "a record with a reviewer is reviewed", status,
                                expected="reviewed or approved, or leave reviewer and reviewed_on empty"))
    return reviewer, reviewed_on


def check_records(records: list[Mapping], known: set[tuple[str, str]], known_frameworks: set[str]) -> list[Problem]:
    """Cross-record checks: ids exist, no duplicates, no contradictions, no pair stored twice."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str, str], Mapping] = {}
    for m in records:
        f = m.file or m.origin_file
        if (m.source_framework, m.source_ref) not in known:
            problems.append(Problem(f, m.line, "source", "unknown control", f"{m.source_framework}:{m.source_ref}"))
        if m.target_ref and (m.target_framework, m.target_ref) not in known:
            problems.append(Problem(f, m.line, "target", "unknown control", f"{m.target_framework}:{m.target_ref}"))
        if not m.target_ref and m.target_framework not in known_frameworks:
            problems.append(Problem(f, m.line, "target", "unknown framework", m.target_framework))
        if m.source_framework == m.target_framework:
            problems.append(Problem(f, m.line, "target", "source and target are in the same framework",
                                    m.target_framework))
        key = (m.source_framework, m.source_ref, m.target_framework, m.target_ref)
        back = (m.target_framework, m.target_ref, m.source_framework, m.source_ref)
        if key in seen:
            first = seen[key]
            what = ("contradiction: the same pair is also " + first.relationship
                    if first.relationship != m.relationship else "duplicate pair")
            problems.append(Problem(f, m.line, "relationship", f"{what} (line {first.line})",
                                    m.relationship))
        elif m.target_ref and back in seen:
            first = seen[back]
            if inverse(first.relationship) != m.relationship:
                problems.append(Problem(f, m.line, "relationship",
                                        f"contradiction: line {first.line} of {first.origin_file} stores the "
                                        f"inverse pair as {first.relationship}", m.relationship))
            else:
                problems.append(Problem(f, m.line, "source", "pair already stored in the other direction "
                                        f"(line {first.line} of {first.origin_file}); store one direction",
                                        f"{m.source_framework}:{m.source_ref}"))
        else:
            seen[key] = m
    return problems


def _known_controls() -> tuple[set[tuple[str, str]], set[str]]:
    index = catalog.reference_index()
    known = {(fw, r["ref"]) for fw, rows in index.items() for r in rows}
    return known, set(index)


def validate_files(paths: list[Path]) -> list[Problem]:
    """Every problem in the given crosswalk files, format and cross-record."""
    known, fws = _known_controls()
    records: list[Mapping] = []
    problems: list[Problem] = []
    for p in paths:
        recs, probs = parse_file(p)
        records.extend(recs)
        problems.extend(probs)
    problems.extend(check_records(records, known, fws))
    return problems


def load_crosswalk_files(directory: Path = CROSSWALK_DIR) -> list[Mapping]:
    """Read and check every bundled crosswalk; raise InputError listing every problem."""
    paths = crosswalk_files(directory)
    problems = validate_files(paths)
    if problems:
        raise InputError(problems, "the crosswalks have problems")
    records: list[Mapping] = []
    for p in paths:
        records.extend(parse_file(p)[0])
    return records


def validate_against_catalog(con: duckdb.DuckDBPyConnection, records: list[Mapping]) -> None:
    """Every mapped id must exist in the loaded catalogs (custom frameworks included)."""
    known = {(fw, ref) for fw, ref in con.execute("SELECT framework, ref FROM controls").fetchall()}
    fws = {r[0] for r in con.execute("SELECT framework FROM frameworks").fetchall()}
    problems = [p for p in check_records(records, known, fws) if "unknown" in p.message]
    if problems:
        raise InputError(problems, "the crosswalks name controls that are not in the catalogs")


def mappings_frame(records: list[Mapping]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_framework": [m.source_framework for m in records],
            "source_ref": [m.source_ref for m in records],
            "target_framework": [m.target_framework for m in records],
            "target_ref": [m.target_ref for m in records],
            "relationship": [m.relationship for m in records],
            "strength": [m.strength for m in records],
            "rationale_type": [m.rationale_type for m in records],
            "justification": [m.justification for m in records],
            "author": [m.author for m in records],
            "authored_on": [m.authored_on for m in records],
            "review_status": [m.review_status for m in records],
            "origin_file": [m.origin_file for m in records],
            "reviewer": [m.reviewer or None for m in records],
            "reviewed_on": [m.reviewed_on for m in records],
        },
        schema={"source_framework": pl.String, "source_ref": pl.String, "target_framework": pl.String,
                "target_ref": pl.String, "relationship": pl.String, "strength": pl.Int32,
                "rationale_type": pl.String, "justification": pl.String, "author": pl.String,
                "authored_on": pl.Date, "review_status": pl.String, "origin_file": pl.String,
                "reviewer": pl.String, "reviewed_on": pl.Date},
    )


def sync_mappings(con: duckdb.DuckDBPyConnection, records: list[Mapping], *, depth: int | None = None) -> int:
    """Bring ``mappings`` in line with the files and rebuild the links if anything changed.

    Returns the number of mapping rows that changed (0 when the database already agrees).
    """
    frame = mappings_frame(records)  # noqa: F841  (read by DuckDB below)
    cols = ", ".join(frame.columns)
    # DuckDB reads `frame` from this function's locals, so the queries run here; count(*) returns one row
    added = (con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM frame EXCEPT SELECT {cols} FROM mappings)")
             .fetchone() or (0,))[0]
    removed = (con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM mappings EXCEPT SELECT {cols} FROM frame)")
               .fetchone() or (0,))[0]
    empty = (con.execute("SELECT count(*) = 0 FROM crosswalk_links").fetchone() or (True,))[0]
    if added or removed:
        con.execute("DELETE FROM mappings")
        con.execute(f"INSERT INTO mappings ({cols}) SELECT {cols} FROM frame")
    if added or removed or (empty and records) or depth is not None:
        rebuild_links(con, depth)
    return added + removed
