"""Titles for registers that have none: the classic asset / threat / vulnerability layout.

Many security registers have no title column (``Risk ID, Asset, Threat, Vulnerability, Likelihood,
Impact, ...``): the risk is named by what happens to what. Such a register is imported with a title
composed from the row: its event (else its threat, else its cause, else its vulnerability, else the
first sentence of its description) and, when the row names one, its asset or AI system::

    Threat "Data breach", Asset "Customer Database"   ->  "Data breach of Customer Database"

Two rows of one file that would get the same title are told apart by their vulnerability
(``... (Weak passwords)``). The threat, vulnerability and asset stay in their own fields; the dry
run says which columns the titles were composed from. A row with none of those columns filled has
nothing to name it by and is a problem; a file with none of those columns is refused as before
("no title column").
"""

from __future__ import annotations

import polars as pl

from engine.errors import Problem

from .normalise import Cells
from .reading import ROW
from .wordings import COMPOSED_FROM

__all__ = ["NAMING_FIELDS", "compose_titles"]

NAMING_FIELDS = COMPOSED_FROM[("risks", "title")]
"""What a composed title says happens, in order of preference."""
OBJECT_FIELDS = ("assets", "ai_systems")
"""What it happens to."""

_MAX_WHAT = 80


def _first_sentence(col: pl.Expr) -> pl.Expr:
    text = col.str.split_exact(". ", 1).struct.field("field_0").str.strip_chars(" .")
    return pl.when(text.str.len_chars() > _MAX_WHAT).then(text.str.slice(0, _MAX_WHAT - 3) + "...").otherwise(text)


def compose_titles(cells: Cells) -> str | None:
    """Add a composed ``title`` to a file without one; returns the note for the dry run, or None when
    the file has no column to compose from (the missing title column is then reported as before)."""
    f = cells.frame
    naming = [c for c in NAMING_FIELDS if c in f.columns]
    if not naming:
        return None
    what = pl.coalesce([_first_sentence(pl.col(c)) if c == "description" else pl.col(c) for c in naming])
    objects = [c for c in OBJECT_FIELDS if c in f.columns]
    on = pl.coalesce([pl.col(c).str.replace_all(r"\s*[;\n|]+\s*", ", ") for c in objects]) if objects else None
    title = what if on is None else pl.when(on.is_not_null()).then(what + " of " + on).otherwise(what)
    f = f.with_columns(title.alias("title"))
    if "vulnerability" in f.columns:
        twice = pl.col("title").is_not_null() & (pl.len().over("title") > 1) & pl.col("vulnerability").is_not_null()
        f = f.with_columns(pl.when(twice).then(pl.col("title") + " (" + pl.col("vulnerability") + ")")
                           .otherwise(pl.col("title")).alias("title"))
    cells.frame = f
    used = [" / ".join(cells.labels[c] for c in naming), *(cells.labels[c] for c in objects)]
    cells.labels["title"] = " / ".join(cells.labels[c] for c in (*naming, *objects))
    for r in f.filter(pl.col("title").is_null())[ROW].to_list():
        cells.problems.append(Problem(cells.file, r, cells.labels["title"], "nothing to name the risk by", None,
                                      "a title column, or a " + " or ".join(cells.labels[c] for c in naming)
                                      + " to compose one from"))
    sample = f.filter(pl.col("title").is_not_null()).head(1).select(ROW, "title").rows()
    example = f" (e.g. row {sample[0][0]}: {sample[0][1]!r})" if sample else ""
    return f"no title column: titles composed from {' and '.join(used)}{example}"
