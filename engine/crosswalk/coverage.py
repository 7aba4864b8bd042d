"""Coverage, overlap and gap analysis over the crosswalk (reads the views, returns polars frames).

The CLI (``riskmap coverage``, ``gaps``, ``counterparts``) and the app's Overview, Overlap explorer and
Gap analysis pages call the same functions here, so they give the same answers. The longer queries are
in ``engine/sql/queries`` (``gaps.sql``, ``counterparts.sql``, ``open_risks_by_control.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine import store
from engine.config import ISO27001, ISO42001
from engine.errors import InputError, NotFoundError, Problem
from engine.store import query

from .refs import ref_of
from .relationships import CROSSWALK_COLUMNS

__all__ = ["ESTIMATE_DEFINITION", "CoverageCounts", "CoverageSummary", "GapReport", "controls_frame", "counterparts",
           "coverage_frame", "coverage_summary", "crosswalk_frame", "crosswalk_stats", "export_crosswalk", "gaps",
           "implemented_from_soa", "overlap_summary", "read_implemented_file"]

ESTIMATE_DEFINITION = (
    "Strength-weighted estimate of the work already done: each control counts 1 when it is fully covered (a "
    "counterpart equals or contains it), the strength of its strongest link divided by 10 when it is only "
    "partly covered (strength 1-10 rates how much of the concept the two controls share), and 0 when it is "
    "not covered; the estimate is the mean over the controls, as a percentage. It is an estimate of how much "
    "of the work the counterparts do, not a share of controls met: a partly covered control still needs work "
    "of its own. Fully, partly and not covered are counted from the same links (v_coverage, the "
    "coverage_share macro).")
"""What the strength-weighted estimate means: the CLI, the app and the README say it in these words."""

CONTROL_COLUMNS = ("framework", "ref", "title", "kind", "grp", "theme", "ordinal")


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
        if not store.scalar(con, "SELECT count(*) FROM v_controls WHERE framework = ? AND ref = ?",
                            [framework, ref]):
            raise NotFoundError(f"{framework}:{ref}: no such control")
        return con.execute(query.load("counterparts"), {"framework": framework, "ref": ref}).pl()


def controls_frame(db: str | Path | None = None, *, framework: str | None = None,
                   kinds: tuple[str, ...] = ("clause", "annex_a_control")) -> pl.DataFrame:
    """The controls (``v_controls``: framework, ref, title, kind, grp, theme, ordinal) of every framework
    or of one, of the given ``kinds``, in catalog order: what coverage and gaps are asked about."""
    sql = (f"SELECT {', '.join(CONTROL_COLUMNS)} FROM v_controls "
           "WHERE list_contains($kinds::VARCHAR[], kind) AND ($framework IS NULL OR framework = $framework) "
           "ORDER BY framework, ordinal")
    with store.connect(db) as con:
        return con.execute(sql, {"kinds": list(kinds), "framework": framework}).pl()


def coverage_frame(db: str | Path | None = None, framework: str = ISO42001,
                   counterpart: str = ISO27001) -> pl.DataFrame:
    """``v_coverage`` for one direction: how far each control of ``framework`` is covered by ``counterpart``,
    by all its controls (``coverage``, ``share``) and by those the SoA marks implemented (``implemented_*``)."""
    with store.connect(db) as con:
        return con.execute(
            "SELECT framework, ref, title, counterpart_framework, best_relationship, max_strength, n_links, "
            "coverage, kind, grp, share, implemented_coverage, implemented_share FROM v_coverage "
            "WHERE framework = ? AND counterpart_framework = ? ORDER BY ordinal", [framework, counterpart]).pl()


@dataclass(frozen=True)
class CoverageCounts:
    """How many controls are fully, partly and not covered, and the strength-weighted estimate of the work
    their counterparts do (:data:`ESTIMATE_DEFINITION`), in percent."""

    total: int
    full: int
    partial: int
    none: int
    estimate_pct: float

    @classmethod
    def of(cls, frame: pl.DataFrame, coverage: str = "coverage", share: str = "share") -> CoverageCounts:
        """Counted from rows with a coverage column (full, partial, none) and a share column (0 to 1)."""
        n = frame.height
        count = {level: frame.filter(pl.col(coverage) == level).height for level in ("full", "partial", "none")}
        estimate = round(100.0 * float(frame[share].sum()) / n, 1) if n else 0.0
        return cls(n, count["full"], count["partial"], count["none"], estimate)

    def sentence(self, of: str) -> str:
        """One line a manager cannot misread: the three counts, then the estimate with what it is."""
        return (f"{of}: {self.full} fully covered, {self.partial} partly, {self.none} not covered (of {self.total}); "
                f"strength-weighted estimate of the work done: {self.estimate_pct}%")


@dataclass(frozen=True)
class CoverageSummary:
    """The coverage of ``framework``'s controls (of ``kinds``) by ``counterpart``: by every counterpart
    control (what the crosswalk offers at most) and by those the SoA marks implemented (done so far)."""

    framework: str
    counterpart: str
    crosswalk: CoverageCounts
    implemented: CoverageCounts


def coverage_summary(db: str | Path | None = None, framework: str = ISO42001, counterpart: str = ISO27001, *,
                     kinds: tuple[str, ...] = ("annex_a_control",)) -> CoverageSummary:
    """The headline numbers of ``v_coverage`` for one direction (the Overview, ``riskmap coverage``)."""
    rows = coverage_frame(db, framework, counterpart).filter(pl.col("kind").is_in(list(kinds)))
    return CoverageSummary(framework, counterpart, CoverageCounts.of(rows),
                           CoverageCounts.of(rows, "implemented_coverage", "implemented_share"))


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
    def counts(self) -> CoverageCounts:
        """The counts and the strength-weighted estimate of the work the implemented controls do."""
        return CoverageCounts.of(self.rows)

    @property
    def estimate_pct(self) -> float:
        return self.counts.estimate_pct


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
         implemented_label: str = "the given list", with_risks: bool = False) -> GapReport:
    """Gap analysis: for each control of ``target``, how far the implemented ``source`` controls cover it.

    ``implemented`` lists refs of ``source``; None means every Annex A control of ``source`` (to take them
    from the SoA, pass :func:`implemented_from_soa`). A target control is fully covered when an implemented
    counterpart is equal to it or contains it (its relationship to the counterpart is equal or subset_of),
    partly when one only overlaps it, through any link in force (authored, inverse or inferred, as
    ``v_coverage`` counts them); ``share`` is its part of the strength-weighted estimate
    (:data:`ESTIMATE_DEFINITION`). Remaining controls come first, ordered by how little is covered
    (``engine/sql/queries/gaps.sql``). ``with_risks`` adds, per control, the open risks citing it
    (``n_risks``) and the highest score among them (``max_risk_score``), 0 when none.
    """
    kinds = ["annex_a_control", "clause"] if include_clauses else ["annex_a_control"]
    with store.connect(db) as con:
        known = {r for r, in con.execute("SELECT ref FROM v_controls WHERE framework = ?", [source]).fetchall()}
        if not known:
            raise NotFoundError(f"{source}: no such framework in the database")
        if implemented is None:
            implemented = [r for r, in con.execute(
                "SELECT ref FROM v_controls WHERE framework = ? AND kind = 'annex_a_control' ORDER BY ref",
                [source]).fetchall()]
        unknown = [r for r in implemented if r not in known]
        if unknown:
            raise InputError([Problem(implemented_label, None, "ref", f"not a control of {source}", r)
                              for r in unknown])
        rows = con.execute(query.load("gaps"), {"source": source, "target": target,
                                                "implemented": list(implemented), "kinds": kinds}).pl()
        if with_risks:
            risks = con.execute(query.load("open_risks_by_control"), {"framework": target}).pl()
            rows = rows.join(risks, on="ref", how="left", maintain_order="left").with_columns(
                pl.col("n_risks").fill_null(0), pl.col("max_risk_score").fill_null(0))
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


def implemented_from_soa(db: str | Path | None, framework: str) -> list[str]:
    """Refs of ``framework`` that the Statement of Applicability (working copy, ``v_soa``) says are
    implemented, in catalog order: the one answer to "what is implemented?" for ``riskmap gaps`` and the
    app's gap analysis.

    A control is implemented when its SoA row's status is ``implemented`` and the row is not excluded
    (the ``soa_implemented`` macro): an excluded control is not implemented, whatever its status says.
    An SoA with nothing marked implemented means nothing is implemented: the list is then empty, never
    "every control".
    """
    with store.connect(db) as con:
        rows = con.execute("SELECT ref FROM v_soa WHERE framework = ? AND soa_implemented(status, applicable) "
                           "ORDER BY ordinal", [framework]).fetchall()
    return [r[0] for r in rows]
