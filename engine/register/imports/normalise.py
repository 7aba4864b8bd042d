"""Turning text cells into stored values, column by column, reporting every cell that fails.

Each rule parses the *distinct* values of a column once and joins the result back, so a column of
100,000 cells costs as much as its handful of different spellings. A cell that cannot be read
becomes a :class:`~engine.errors.Problem` naming file, row, column, value and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl

from engine.errors import Problem
from engine.records.fields import TRISTATE_EXPECTED
from engine.register import records, vocab
from engine.register.scales import Scale, expected_values, normalise_values

from .reading import ROW


class Cells:
    """A file's rows with one text column per recognised field, and the problems found so far."""

    def __init__(self, file: str, frame: pl.DataFrame, labels: dict[str, str]):
        self.file = file
        self.frame = frame          # _row + one column per field (text until normalised)
        self.labels = labels        # field -> heading, for messages
        self.problems: list[Problem] = []

    def has(self, fld: str) -> bool:
        return fld in self.frame.columns

    def problem_rows(self, mask: pl.Expr, fld: str, message: str, expected: str | None,
                     value: str | None = None) -> None:
        bad = self.frame.filter(mask).select(ROW, pl.col(value or fld).alias("_v"))
        self.problems.extend(Problem(self.file, r, self.labels.get(fld, fld), message, v, expected)
                             for r, v in bad.iter_rows())

    def map_distinct(self, fld: str, parse: Callable[[str], Any], dtype: records.DType,
                     message: str | Callable[[str], str], expected: str) -> None:
        """Replace a text column by ``parse`` of each value; a ValueError marks the cell bad."""
        col = self.frame[fld]
        values, bad = {}, {}
        for v in col.drop_nulls().unique().to_list():
            try:
                values[v] = parse(v)
            except ValueError as exc:
                bad[v] = exc.args[0] if exc.args else "not valid"
        keys = list(values)
        lookup = pl.DataFrame({fld: keys, "_parsed": [values[k] for k in keys]},
                              schema={fld: pl.String, "_parsed": dtype})
        if bad:
            for r, v in self.frame.filter(pl.col(fld).is_in(list(bad))).select(ROW, fld).iter_rows():
                msg = message(bad[v]) if callable(message) else message
                self.problems.append(Problem(self.file, r, self.labels.get(fld, fld), msg, v, expected))
        self.frame = (self.frame.join(lookup, on=fld, how="left", maintain_order="left")
                      .drop(fld).rename({"_parsed": fld}))


def normalise_enum(cells: Cells, fld: str, table: dict[str, str], default: str | None = None) -> None:
    if not cells.has(fld):
        return

    def parse(v: str) -> str:
        got = vocab.canon(v, table)
        if got is None:
            raise ValueError("not an allowed value")
        return got

    cells.map_distinct(fld, parse, pl.String, "not an allowed value", vocab.expected(table))
    if default is not None:
        cells.frame = cells.frame.with_columns(pl.col(fld).fill_null(default))


def normalise_multi(cells: Cells, fld: str, spec: records.FieldSpec) -> None:
    if not cells.has(fld):
        return

    def parse(v: str) -> Any:
        try:
            return records.coerce(spec, v)
        except ValueError as exc:
            raise ValueError(exc.args[0]) from None

    dtype: records.DType = pl.List(pl.String) if spec.kind == "list" else pl.String
    cells.map_distinct(fld, parse, dtype, lambda m: m, vocab.expected(spec.table or {}))


def normalise_bool(cells: Cells, fld: str) -> None:
    if not cells.has(fld):
        return
    cells.map_distinct(fld, records.parse_bool, pl.Boolean, "not yes or no", "yes/no, true/false, 1/0 or x")
    cells.frame = cells.frame.with_columns(pl.col(fld).fill_null(False))


def normalise_tristate(cells: Cells, fld: str) -> None:
    """A yes / no / not known column (AI system characteristics): empty or "unknown" stays not recorded."""
    if not cells.has(fld):
        return
    cells.map_distinct(fld, records.parse_tristate, pl.Boolean, "not yes, no or unknown", TRISTATE_EXPECTED)


@lru_cache(maxsize=65536)
def _parse_date_text(text: str, date_format: str | None) -> date | None:
    """records.parse_date of one cell text, remembered: registers of one run share their dates, so
    each spelling is parsed once for every file (a bad one raises ValueError each time)."""
    return records.parse_date(text, date_format)


def normalise_date(cells: Cells, fld: str, date_format: str | None) -> None:
    if not cells.has(fld):
        return
    cells.map_distinct(fld, lambda v: _parse_date_text(v, date_format), pl.Date, "not a date",
                       records.date_expected(date_format))


_CIA_WORDS = {"confidentiality": "c", "integrity": "i", "availability": "a", "conf": "c", "integ": "i",
              "avail": "a", "c": "c", "i": "i", "a": "a"}


def parse_cia(value: str) -> tuple[bool, bool, bool]:
    """C/I/A affected from ``C, I``, ``CIA``, ``C/A``, ``Confidentiality; Availability``..."""
    text = vocab.clean(value)
    if text in vocab.FALSE_WORDS or text in ("n/a", "na"):
        return (False, False, False)
    letters: set[str] = set()
    compact = "".join(ch for ch in text if ch.isalpha())
    if compact and set(compact) <= {"c", "i", "a"} and len(compact) <= 3:
        letters = set(compact)
    else:
        for part in records.split_list(text.replace("/", ",").replace("+", ",").replace(" and ", ",")):
            got = _CIA_WORDS.get(part.strip())
            if got is None:
                raise ValueError("not C, I or A")
            letters.add(got)
    return ("c" in letters, "i" in letters, "a" in letters)


def normalise_cia(cells: Cells) -> None:
    """Fold a combined CIA column into the three flags (a separate column of a flag wins)."""
    if not cells.has("cia"):
        return
    cells.map_distinct("cia", parse_cia, pl.List(pl.Boolean), "not C, I or A",
                       "letters C, I, A (e.g. 'C, I' or 'CIA') or the words confidentiality, integrity, availability")
    f = cells.frame
    updates = []
    for i, name in enumerate(("confidentiality", "integrity", "availability")):
        from_cia = pl.col("cia").list.get(i, null_on_oob=True).fill_null(False)
        updates.append((pl.col(name) | from_cia).alias(name) if name in f.columns else from_cia.alias(name))
        cells.labels.setdefault(name, cells.labels["cia"])
    cells.frame = f.with_columns(updates).drop("cia")


def normalise_scores(cells: Cells, fields: tuple[str, ...], size: int, labels_for: Callable[[str], list[str]],
                     declared: dict[str, Scale],
                     readings: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Map likelihood/impact columns onto the matrix. Returns field -> note of how it was mapped; each
    value as written and the matrix point it is read as go to ``readings`` (column, field, value as
    written, read as), for a person to check before importing."""
    notes: dict[str, str] = {}
    for fld in fields:
        if not cells.has(fld):
            continue
        labels = labels_for(fld)
        col = cells.frame[fld]
        result = normalise_values(col.drop_nulls().unique().to_list(), size, labels, declared.get(fld))
        if result.note:
            notes[fld] = result.note
        if readings is not None:
            for value, point in sorted(result.mapping.items(), key=lambda kv: (kv[1], str(kv[0]))):
                readings.append({"column": cells.labels[fld], "field": fld, "value": str(value),
                                 "read_as": f"{point} {labels[point - 1]}" if 0 < point <= len(labels) else str(point)})
        if result.bad:
            exp = expected_values(size, labels)
            for r, v in cells.frame.filter(pl.col(fld).is_in(list(result.bad))).select(ROW, fld).iter_rows():
                cells.problems.append(Problem(cells.file, r, cells.labels[fld],
                                              f"not a valid {fld.split('_')[1]}: {result.bad[v]}", v, exp))
        keys = list(result.mapping)
        lookup = pl.DataFrame({fld: keys, "_score": [result.mapping[k] for k in keys]},
                              schema={fld: pl.String, "_score": pl.Int32})
        cells.frame = (cells.frame.rename({fld: f"_orig_{fld}"})
                       .join(lookup.rename({fld: f"_orig_{fld}"}), on=f"_orig_{fld}", how="left",
                             maintain_order="left")
                       .rename({"_score": fld}))
    return notes


def check_pairs(cells: Cells) -> None:
    """Likelihood and impact of one stage come together: a score needs both (ISO 27005 8.3)."""
    for stage in records.STAGES:
        lk, im = f"{stage}_likelihood", f"{stage}_impact"
        has_l, has_i = cells.has(lk), cells.has(im)
        if has_l != has_i:
            present, missing = (lk, im) if has_l else (im, lk)
            cells.problems.append(Problem(cells.file, 1, cells.labels[present],
                                          f"a {stage} {present.split('_')[1]} column without a {stage} "
                                          f"{missing.split('_')[1]} column", None,
                                          f"both {lk} and {im} columns, or neither"))
            continue
        if not has_l:
            continue
        f = cells.frame
        for a, b in ((lk, im), (im, lk)):
            mask = pl.col(f"_orig_{a}").is_not_null() & pl.col(f"_orig_{b}").is_null()
            for r, _v in f.filter(mask).select(ROW, f"_orig_{a}").iter_rows():
                cells.problems.append(Problem(cells.file, r, cells.labels[b],
                                              f"{stage} {b.split('_')[1]} missing while {a.split('_')[1]} is "
                                              f"given", None, f"a {b.split('_')[1]} value as well (or neither)"))
