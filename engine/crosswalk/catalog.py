"""Control catalogs: the clauses and Annex A entries of each framework, with summaries.

A catalog is a YAML file in ``mappings/catalogs`` (format in ``mappings/README.md``). It must agree
with the reference index of ids and official short titles; :func:`validate_catalog` reports every
disagreement as a :class:`~engine.errors.Problem` so a reviewer fixes them in one pass.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from engine.config import CATALOG_DIR, MAPPINGS_DIR
from engine.errors import InputError, Problem

REFERENCE_INDEX = MAPPINGS_DIR / "reference" / "iso-control-index.csv"
KINDS = ("clause", "annex_a_group", "annex_a_control")
THEMES = ("organizational", "people", "physical", "technological")
HEADER_KEYS = ("framework", "name", "edition", "source", "copyright", "catalog_version")
ENTRY_KEYS = {"ref", "kind", "parent", "title", "theme", "group", "summary"}


@dataclass
class Catalog:
    path: Path
    framework: str
    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)


def reference_index(path: Path = REFERENCE_INDEX) -> dict[str, list[dict[str, str]]]:
    """The reference index of ids and official short titles, grouped by framework, in file order."""
    out: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["framework"], []).append(row)
    return out


def catalog_files(directory: Path = CATALOG_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def read_catalog(path: Path) -> Catalog:
    """Parse a catalog file. Raises InputError when it is not a readable catalog at all."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read catalog: {exc}")]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise InputError([Problem(str(path), None, "entries", "not a catalog: no list of entries",
                                  expected="a mapping with header keys and an 'entries' list")])
    header = {k: v for k, v in doc.items() if k != "entries"}
    entries = [e if isinstance(e, dict) else {"_invalid": e} for e in doc["entries"]]
    return Catalog(path, str(header.get("framework", "")), header, entries)


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def validate_catalog(cat: Catalog, index: dict[str, list[dict[str, str]]] | None = None) -> list[Problem]:
    """Every problem of one catalog: header, duplicates, parents, titles, kinds, reference index."""
    index = reference_index() if index is None else index
    f = str(cat.path)
    problems = [Problem(f, "header", key, "missing header field") for key in HEADER_KEYS
                if not _s(cat.header.get(key))]
    ref_rows = index.get(cat.framework)
    if ref_rows is None:
        problems.append(Problem(f, "header", "framework", "unknown framework", cat.framework,
                                expected="one of " + ", ".join(sorted(index))))
    seen: dict[str, int] = {}
    refs = {_s(e.get("ref")) for e in cat.entries}
    for i, e in enumerate(cat.entries, start=1):
        problems += _entry_problems(cat, i, e, seen, refs)
    if ref_rows is not None:
        problems += _index_problems(cat, ref_rows, seen)
    return problems


def _entry_problems(cat: Catalog, i: int, e: dict[str, Any], seen: dict[str, int], refs: set[str]) -> list[Problem]:
    """The problems of entry ``i`` on its own; records its ref in ``seen`` (ref -> entry number) to
    find duplicates. ``refs`` are all refs of the catalog, which parents must be among."""
    f = str(cat.path)
    if "_invalid" in e:
        return [Problem(f, f"entry {i}", None, "entry is not a mapping", e["_invalid"])]
    problems: list[Problem] = []
    ref = _s(e.get("ref"))
    rec = ref or f"entry {i}"
    if not ref:
        problems.append(Problem(f, rec, "ref", "missing ref"))
    elif ref in seen:
        problems.append(Problem(f, rec, "ref", f"duplicate id (first at entry {seen[ref]})", ref))
    else:
        seen[ref] = i
    for key in sorted(set(e) - ENTRY_KEYS):
        problems.append(Problem(f, rec, key, "unknown field", expected=", ".join(sorted(ENTRY_KEYS))))
    if not _s(e.get("title")):
        problems.append(Problem(f, rec, "title", "missing title"))
    if not _s(e.get("summary")):
        problems.append(Problem(f, rec, "summary", "missing summary"))
    kind = _s(e.get("kind"))
    if kind not in KINDS:
        problems.append(Problem(f, rec, "kind", "invalid kind", kind, expected=" | ".join(KINDS)))
    parent = _s(e.get("parent"))
    if parent and parent not in refs:
        problems.append(Problem(f, rec, "parent", "unknown parent", parent))
    theme = _s(e.get("theme"))
    if theme and theme not in THEMES:
        problems.append(Problem(f, rec, "theme", "invalid theme", theme, expected=" | ".join(THEMES)))
    if cat.framework == "iso27001-2022" and kind == "annex_a_control" and not theme:
        problems.append(Problem(f, rec, "theme", "missing theme for a 27001:2022 Annex A control"))
    return problems


def _index_problems(cat: Catalog, ref_rows: list[dict[str, str]], seen: dict[str, int]) -> list[Problem]:
    """Where the catalog and the reference index disagree: an entry the index lacks, a title, kind or
    parent that differs, and an id of the index missing from the catalog."""
    f = str(cat.path)
    problems: list[Problem] = []
    by_ref = {r["ref"]: r for r in ref_rows}
    for e in cat.entries:
        ref = _s(e.get("ref"))
        if not ref or "_invalid" in e:
            continue
        row = by_ref.get(ref)
        if row is None:
            problems.append(Problem(f, ref, "ref", "not in the reference index", ref))
            continue
        for key, ref_key in (("title", "title"), ("kind", "kind"), ("parent", "parent")):
            if _s(e.get(key)) != row[ref_key]:
                problems.append(Problem(f, ref, key, "disagrees with the reference index",
                                        _s(e.get(key)), expected=repr(row[ref_key])))
    for ref in by_ref:
        if ref not in seen:
            problems.append(Problem(f, ref, "ref", "missing: in the reference index but not in the catalog"))
    return problems


def load_catalogs(directory: Path = CATALOG_DIR) -> list[Catalog]:
    """Read and validate every catalog; raise InputError listing every problem of every file."""
    index = reference_index()
    cats, problems = [], []
    for path in catalog_files(directory):
        try:
            cat = read_catalog(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(validate_catalog(cat, index))
        cats.append(cat)
    if problems:
        raise InputError(problems, "the catalogs have problems")
    return cats


def catalog_frame(cat: Catalog) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "framework": [cat.framework] * len(cat.entries),
            "ref": [_s(e["ref"]) for e in cat.entries],
            "title": [_s(e["title"]) for e in cat.entries],
            "kind": [_s(e["kind"]) for e in cat.entries],
            "parent_ref": [_s(e.get("parent")) or None for e in cat.entries],
            "grp": [_s(e.get("group")) or None for e in cat.entries],
            "theme": [_s(e.get("theme")) or None for e in cat.entries],
            "summary": [_s(e.get("summary")) for e in cat.entries],
            "ordinal": list(range(1, len(cat.entries) + 1)),
        },
        schema={"framework": pl.String, "ref": pl.String, "title": pl.String, "kind": pl.String,
                "parent_ref": pl.String, "grp": pl.String, "theme": pl.String, "summary": pl.String,
                "ordinal": pl.Int32},
    )


def sync_catalogs(con: duckdb.DuckDBPyConnection, cats: list[Catalog]) -> int:
    """Bring the catalog tables in line with the files; touches nothing that already agrees.

    Returns the number of rows written. A user-loaded ``full_text`` is kept.
    """
    written = 0
    for cat in cats:
        h = cat.header
        head = [cat.framework, _s(h.get("name")), _s(h.get("edition")), _s(h.get("title")) or None,
                _s(h.get("source")), _s(h.get("copyright")), _s(h.get("catalog_version"))]
        current = con.execute(
            "SELECT framework, name, edition, title, source, copyright, catalog_version "
            "FROM frameworks WHERE framework = ?", [cat.framework]).fetchone()
        if current is None or list(current) != head:
            con.execute("INSERT OR REPLACE INTO frameworks VALUES (?, ?, ?, ?, ?, ?, ?, false)", head)
            written += 1
        frame = catalog_frame(cat)  # noqa: F841  (read by DuckDB below)
        cols = "framework, ref, title, kind, parent_ref, grp, theme, summary, ordinal"
        # DuckDB reads `frame` from this function's locals, so the queries run here; count(*) returns one row
        diff = (con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM frame EXCEPT SELECT {cols} FROM controls "
            f"WHERE framework = ?)", [cat.framework]).fetchone() or (0,))[0]
        stale = (con.execute(
            "SELECT count(*) FROM controls c WHERE framework = ? AND NOT EXISTS "
            "(SELECT 1 FROM frame f WHERE f.ref = c.ref)", [cat.framework]).fetchone() or (0,))[0]
        if diff or stale:
            con.execute("DELETE FROM controls c WHERE framework = ? AND NOT EXISTS "
                        "(SELECT 1 FROM frame f WHERE f.ref = c.ref)", [cat.framework])
            con.execute(
                f"INSERT INTO controls ({cols}) SELECT {cols} FROM frame "
                f"ON CONFLICT (framework, ref) DO UPDATE SET title = excluded.title, kind = excluded.kind, "
                f"parent_ref = excluded.parent_ref, grp = excluded.grp, theme = excluded.theme, "
                f"summary = excluded.summary, ordinal = excluded.ordinal")
            written += diff + stale
    return written
