"""Scores and ratings a register computed itself, checked against the matrix.

Registers often carry their own arithmetic beside likelihood and impact: a ``Risk Score`` column
(likelihood x impact) and a ``Risk Rating`` column (its level: Low, Medium, High...). riskmap
computes both from the likelihood and impact it stores, so these columns are not stored; they are
*checked*, stage by stage (``Risk Score`` / ``Risk Rating`` for the inherent scores, ``Current risk
score``..., ``Residual risk rating``...):

- a score agrees when it equals likelihood x impact on the matrix, or the product of the values as
  the register wrote them (its own scale);
- a rating agrees when it is the matrix's level of that score (compared without case). A rating
  column whose values are none of the matrix's level names (``Amber``, ``Red``) is not compared,
  and the dry run says so.

A disagreement is a warning naming the row, shown by the dry run and the import report; it never
refuses the file, since the likelihood and impact are what is imported.
"""

from __future__ import annotations

import polars as pl

from engine.errors import Problem
from engine.register.scoring import MatrixSpec

from .normalise import Cells
from .reading import ROW

__all__ = ["STATED_FIELDS", "check_stated"]

STAGE_COLUMNS = {"inherent": ("score_stated", "rating_stated"),
                 "current": ("current_score_stated", "current_rating_stated"),
                 "residual": ("residual_score_stated", "residual_rating_stated")}
STATED_FIELDS = tuple(c for pair in STAGE_COLUMNS.values() for c in pair)
"""Fields holding what a register computed itself; checked, then dropped (never stored)."""

_NUMBER = r"^\s*(\d+(?:[.,]\d+)?)"


def check_stated(cells: Cells, matrix: MatrixSpec) -> tuple[list[Problem], list[str]]:
    """(warnings, notes) for the stated score and rating columns of a file; the columns are dropped."""
    warnings: list[Problem] = []
    notes: list[str] = []
    for stage, (score_col, rating_col) in STAGE_COLUMNS.items():
        lk, im = f"{stage}_likelihood", f"{stage}_impact"
        present = [c for c in (score_col, rating_col) if cells.has(c)]
        if not present:
            continue
        if not (cells.has(lk) and cells.has(im)):
            notes.extend(f"{cells.labels[c]}: not checked (the file has no {stage} likelihood and impact)"
                         for c in present)
            continue
        frame = cells.frame.with_columns((pl.col(lk) * pl.col(im)).alias("_score"), _original_product(lk, im))
        if cells.has(score_col):
            warnings += _check_scores(cells, frame, score_col, lk, im)
        if cells.has(rating_col):
            found, note = _check_ratings(cells, frame, rating_col, matrix)
            warnings += found
            if note:
                notes.append(note)
    cells.frame = cells.frame.drop([c for c in STATED_FIELDS if cells.has(c)])
    return warnings, notes


def _original_product(lk: str, im: str) -> pl.Expr:
    def num(c: str) -> pl.Expr:
        return pl.col(f"_orig_{c}").str.extract(_NUMBER).str.replace(",", ".").cast(pl.Float64, strict=False)

    return (num(lk) * num(im)).alias("_own")


def _check_scores(cells: Cells, frame: pl.DataFrame, col: str, lk: str, im: str) -> list[Problem]:
    stated = pl.col(col).str.extract(_NUMBER).str.replace(",", ".").cast(pl.Float64, strict=False)
    bad = frame.filter(pl.col("_score").is_not_null() & stated.is_not_null()
                       & (stated != pl.col("_score")) & stated.ne_missing(pl.col("_own")))
    return [Problem(cells.file, r, cells.labels[col], "the register's score is not likelihood x impact",
                    f"{v} (matrix: {li} x {i} = {li * i})", "likelihood x impact on the matrix")
            for r, v, li, i in bad.select(ROW, col, lk, im).iter_rows()]


def _check_ratings(cells: Cells, frame: pl.DataFrame, col: str, matrix: MatrixSpec) -> tuple[list[Problem], str | None]:
    levels = {n.lower(): n for n in matrix.level_names}
    written = frame.select(pl.col(col).str.strip_chars().str.to_lowercase().alias("_r"), ROW, col, "_score")
    words = set(written["_r"].drop_nulls().unique().to_list())
    if words and not words & set(levels):
        shown = ", ".join(sorted(w.capitalize() for w in words)[:5])
        return [], (f"{cells.labels[col]}: not checked (its values {shown} are not the matrix levels "
                    f"{', '.join(matrix.level_names)})")
    lookup = pl.DataFrame({"_score": list(range(1, matrix.max_score + 1)),
                           "_level": [matrix.level(s) for s in range(1, matrix.max_score + 1)]},
                          schema={"_score": pl.Int32, "_level": pl.String})
    joined = written.with_columns(pl.col("_score").cast(pl.Int32)).join(lookup, on="_score", how="left",
                                                                        maintain_order="left")
    bad = joined.filter(pl.col("_r").is_not_null() & pl.col("_level").is_not_null()
                        & (pl.col("_r") != pl.col("_level").str.to_lowercase()))
    return [Problem(cells.file, r, cells.labels[col], "the register's rating is not the matrix level of "
                    "likelihood x impact", f"{v} (matrix: {level} for {score})", "the matrix level of the score")
            for r, v, score, level in bad.select(ROW, col, "_score", "_level").iter_rows()], None
