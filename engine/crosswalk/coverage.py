"""Coverage, overlap and gap analysis over the crosswalk (reads the views, returns polars frames)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine import store
from engine.config import ISO27001, ISO42001
from engine.errors import InputError, NotFoundError, Problem

from .refs import ref_of
from .relationships import CROSSWALK_COLUMNS


def crosswalk_frame(db: str | Path | None = None, *, framework: str | None = None, ref: str | None = None,
                    origins: tuple[str, ...] = ("authored", "inverse", "inferred")) -> pl.DataFrame:
    """Rows of ``v_crosswalk``, optionally those leaving one framework or one control."""
    sql = f"SELECT {', '.join(CROSSWALK_COLUMNS)} FROM v_crosswalk WHERE origin IN ({', '.join('?' * len(origins))})"
    params: list[object] = list(origins)
    if framework:
        sql += " AND source_framework = ?"
        params.append(framework)
    if ref:
        sql += " AND source_ref = ?"
        params.append(ref)
    sql += " ORDER BY source_framework, source_ref, origin, strength DESC, target_framework, target_ref"
    with store.connect(db) as con:
        return con.execute(sql, params).pl()


def counterparts(db: str | Path | None, framework: str, ref: str) -> pl.DataFrame:
    """Every counterpart of one control with its justification and, for inferred links, the path."""
    with store.connect(db) as con:
        if not con.execute("SELECT count(*) FROM controls WHERE framework = ? AND ref = ?",
                           [framework, ref]).fetchone()[0]:
            raise NotFoundError(f"{framework}:{ref}: no such control")
        return con.execute(
            """SELECT l.target_framework, l.target_ref, c.title AS target_title, l.relationship, l.strength,
                      l.rationale_type, l.origin, l.justification, l.path
               FROM v_crosswalk l
               LEFT JOIN controls c ON c.framework = l.target_framework AND c.ref = l.target_ref
               WHERE l.source_framework = ? AND l.source_ref = ?
               ORDER BY CASE l.origin WHEN 'authored' THEN 0 WHEN 'inverse' THEN 1 ELSE 2 END,
                        l.strength DESC, l.target_framework, l.target_ref""",
            [framework, ref]).pl()


def coverage_frame(db: str | Path | None = None, framework: str = ISO42001,
                   counterpart: str = ISO27001) -> pl.DataFrame:
    """``v_coverage`` for one direction: how far each control of ``framework`` is covered by ``counterpart``."""
    with store.connect(db) as con:
        return con.execute(
            "SELECT framework, ref, title, counterpart_framework, best_relationship, max_strength, n_links, "
            "coverage, kind, grp FROM v_coverage WHERE framework = ? AND counterpart_framework = ? ORDER BY ordinal",
            [framework, counterpart]).pl()


def overlap_summary(db: str | Path | None = None) -> pl.DataFrame:
    """27001:2022 themes x 42001 groups: link counts and mean strength (``v_overlap``)."""
    with store.connect(db) as con:
        return con.execute("SELECT * FROM v_overlap ORDER BY theme_27001, group_42001").pl()


def crosswalk_stats(db: str | Path | None = None) -> pl.DataFrame:
    """Counts of links by framework pair, origin and relationship."""
    with store.connect(db) as con:
        return con.execute(
            "SELECT source_framework, target_framework, origin, relationship, count(*) AS n, "
            "round(avg(strength), 2) AS mean_strength FROM v_crosswalk GROUP BY ALL ORDER BY ALL").pl()


@dataclass
class GapReport:
    """What remains for ``target`` once the ``implemented`` controls of ``source`` are in place."""

    source: str
    target: str
    implemented: list[str]
    rows: pl.DataFrame           # one row per target control, with its coverage by the implemented set
    total: int
    full: int
    partial: int

    @property
    def none(self) -> int:
        return self.total - self.full - self.partial

    @property
    def full_pct(self) -> float:
        return round(100.0 * self.full / self.total, 1) if self.total else 0.0

    @property
    def covered_pct(self) -> float:
        """Share covered at least partly."""
        return round(100.0 * (self.full + self.partial) / self.total, 1) if self.total else 0.0


def read_implemented_file(path: Path, framework: str) -> list[str]:
    """Refs listed one per line (or in a CSV's first column / a ``ref`` column); ``#`` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read file: {exc}")]) from exc
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    refs = []
    first = True
    col = 0
    for n, ln in enumerate(lines, start=1):
        if not ln:
            continue
        cells = [c.strip().strip('"') for c in ln.split(",")]
        if first:
            first = False
            lowered = [c.lower() for c in cells]
            if "ref" in lowered or "control" in lowered:
                col = lowered.index("ref") if "ref" in lowered else lowered.index("control")
                continue
        value = cells[col] if col < len(cells) else ""
        refs.append((n, ref_of(value, framework)))
    return [r for _, r in refs]


def gaps(db: str | Path | None = None, source: str = ISO27001, target: str = ISO42001,
         implemented: list[str] | None = None, *, include_clauses: bool = False,
         implemented_label: str = "the given list") -> GapReport:
    """Gap analysis: for each control of ``target``, how far the implemented ``source`` controls cover it.

    ``implemented`` lists refs of ``source``; None means every Annex A control of ``source``. A target
    control is fully covered when an implemented counterpart is equal to it or contains it (its
    relationship to the counterpart is equal or subset_of), partly when one only overlaps it.
    Remaining controls come first, ordered by how little is covered.
    """
    kinds = ("annex_a_control", "clause") if include_clauses else ("annex_a_control",)
    with store.connect(db) as con:
        known = {r[0] for r in con.execute("SELECT ref FROM controls WHERE framework = ?", [source]).fetchall()}
        if not known:
            raise NotFoundError(f"{source}: no such framework in the database")
        if implemented is None:
            implemented = sorted(r for r, in con.execute(
                "SELECT ref FROM controls WHERE framework = ? AND kind = 'annex_a_control'", [source]).fetchall())
        unknown = [r for r in implemented if r not in known]
        if unknown:
            raise InputError([Problem(implemented_label, None, "ref", f"not a control of {source}", r)
                              for r in unknown])
        impl = pl.DataFrame({"ref": implemented}, schema={"ref": pl.String})  # noqa: F841
        rows = con.execute(
            f"""
            WITH links AS (
                SELECT l.source_ref AS ref, l.target_ref, l.relationship, l.strength,
                       CASE l.relationship WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4
                            WHEN 'superset_of' THEN 3 WHEN 'intersects_with' THEN 2 ELSE 1 END AS rnk
                FROM v_crosswalk l JOIN impl i ON i.ref = l.target_ref
                WHERE l.source_framework = ? AND l.target_framework = ? AND l.origin <> 'inferred'
            ),
            best AS (
                SELECT ref, max(rnk) AS rnk, max(strength) AS max_strength,
                       string_agg(target_ref || ' (' || relationship || ', ' || strength || ')', '; '
                                  ORDER BY rnk DESC, strength DESC) AS covered_by
                FROM links GROUP BY ref
            )
            SELECT c.ref, c.title, c.kind, c.grp,
                   CASE WHEN b.rnk >= 4 THEN 'full' WHEN b.rnk >= 2 THEN 'partial' ELSE 'none' END AS coverage,
                   coalesce(b.max_strength, 0) AS max_strength,
                   b.covered_by,
                   CASE WHEN b.rnk >= 4 THEN 0 WHEN b.rnk >= 2 THEN 10 - coalesce(b.max_strength, 0) ELSE 10 END
                     AS remaining_effort
            FROM controls c LEFT JOIN best b ON b.ref = c.ref
            WHERE c.framework = ? AND c.kind IN ({', '.join('?' * len(kinds))})
            ORDER BY remaining_effort DESC, c.ordinal
            """,
            [target, source, target, *kinds]).pl()
    full = rows.filter(pl.col("coverage") == "full").height
    partial = rows.filter(pl.col("coverage") == "partial").height
    return GapReport(source, target, list(implemented), rows, rows.height, full, partial)


def export_crosswalk(db: str | Path | None, fmt: str, out: Path) -> int:
    """Write ``v_crosswalk`` as CSV, JSON or Excel; the CSV columns are the view's columns."""
    frame = crosswalk_frame(db)
    if fmt == "csv":
        from engine.exports.safe import safe_frame

        safe_frame(frame).write_csv(out)
    elif fmt == "json":
        frame.write_json(out)
    elif fmt == "xlsx":
        from engine.exports.safe import safe_frame

        safe_frame(frame).write_excel(out, worksheet="crosswalk", autofilter=True, freeze_panes=(1, 0),
                                      autofit=True)
    else:
        raise InputError([Problem("--format", None, None, "unknown export format", fmt, "csv, json or xlsx")])
    return frame.height


def implemented_from_soa(db: str | Path | None, framework: str) -> list[str] | None:
    """Refs of ``framework`` whose SoA row says implemented; None when there is no SoA yet."""
    with store.connect(db) as con:
        has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'soa_rows'").fetchone()[0]
        if not has:
            return None
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'soa_rows'").fetchall()}
        if "status" not in cols:
            return None
        rows = con.execute("SELECT ref FROM soa_rows WHERE framework = ? AND status = 'implemented'",
                           [framework]).fetchall()
    return [r[0] for r in rows] if rows else None
