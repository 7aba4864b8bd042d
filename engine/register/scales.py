"""The scales registers are scored on, and how their values are mapped onto the risk matrix.

Registers arrive on many scales (1-3, 1-4, 1-5, 1-10, Low/Medium/High, Very low..Very high,
Rare..Almost certain, percentages, probabilities). :func:`normalise_values` maps the distinct values
of one column onto the matrix (:class:`~engine.register.scoring.MatrixSpec`) and says how (the note
is kept with the lineage of every row):

- a k-point scale (numbers 1..k or k ordered labels) maps linearly, end to end, rounding halves up:
  ``round(1 + (v - 1) * (size - 1) / (k - 1))``. On a 5x5 matrix 1-10 becomes 1-2 -> 1, 3-4 -> 2,
  5-6 -> 3, 7-8 -> 4, 9-10 -> 5, and Low/Medium/High becomes 1/3/5;
- a percentage p (or a probability p/100) maps to ``max(1, ceil(p * size / 100))``:
  0-20 % -> 1, 21-40 % -> 2, ... on a 5x5 matrix;
- without a declared scale a column is read by what it holds: whole numbers that all fit the matrix
  (1..size) are the matrix's own scale; whole numbers up to 10 are 1-10; up to 100, or any value
  written with ``%``, percentages; fractions from 0 to 1 probabilities; words a label scale (the
  matrix's own labels first, then Low/Medium/High, Low..Critical, Very low..Very high,
  Rare..Almost certain, Negligible..Severe). A register on a smaller scale (say 1-3 on a 5x5 matrix)
  must say so, in the heading (``Likelihood (1-3)``) or in the mapping file
  (``scales: {likelihood: 1-3}``), or its values are taken as they are. The note of each column
  (shown by a dry run) says which reading was used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["LABEL_SCALES", "Normalised", "Scale", "expected_values", "from_percent", "matrix_scale",
           "normalise_values", "parse_scale_name", "rescale", "scale_names"]


def rescale(value: int, points: int, size: int) -> int:
    """Map a value of a 1..points scale onto 1..size, end to end, rounding halves up."""
    if points == size:
        return int(value)
    if points <= 1:
        return 1
    return int(math.floor(1 + (value - 1) * (size - 1) / (points - 1) + 0.5))


def from_percent(pct: float, size: int) -> int:
    """Map a percentage (0..100) onto 1..size in equal bands: 0-20 % -> 1 ... on a 5x5 matrix."""
    return max(1, min(size, math.ceil(pct * size / 100 - 1e-9)))


@dataclass(frozen=True)
class Scale:
    """A scale a register column is written on.

    ``kind`` is ``numeric`` (whole numbers 1..points), ``percent`` (0..100), ``probability``
    (0..1) or ``labels`` (``labels[i]`` holds the spellings of point i+1, lowest first).
    """

    name: str
    kind: str
    points: int = 0
    labels: tuple[tuple[str, ...], ...] = field(default=(), compare=False)

    def describe(self) -> str:
        if self.kind == "labels":
            return "/".join(alts[0].capitalize() for alts in self.labels)
        if self.kind == "numeric":
            return f"1-{self.points}"
        return "percent (0-100 %)" if self.kind == "percent" else "probability (0-1)"

    def note(self, size: int) -> str:
        """How this scale is mapped onto a size x size matrix."""
        if self.kind in ("numeric", "labels"):
            if self.points == size and self.kind == "numeric":
                return f"1-{size} (matrix scale, unchanged)"
            mapped = [rescale(i, self.points, size) for i in range(1, self.points + 1)]
            if self.kind == "labels":
                pairs = ", ".join(f"{alts[0].capitalize()}->{m}" for alts, m in zip(self.labels, mapped,
                                                                                     strict=True))
                return f"{self.describe()} onto 1-{size} ({pairs})"
            bands: dict[int, list[int]] = {}
            for i, m in enumerate(mapped, start=1):
                bands.setdefault(m, []).append(i)
            parts = ", ".join(f"{v[0]}-{v[-1]}->{m}" if len(v) > 1 else f"{v[0]}->{m}" for m, v in bands.items())
            return f"1-{self.points} onto 1-{size} (linear: {parts})"
        unit = "%" if self.kind == "percent" else ""
        scale = 100 if self.kind == "percent" else 1
        bands_text = [f"{(m - 1) * scale / size:g}-{m * scale / size:g}{unit}->{m}" for m in range(1, size + 1)]
        return f"{self.describe()} onto 1-{size} ({', '.join(bands_text)})"


def _labels(*points: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split("|")) for p in points)


LABEL_SCALES: dict[str, Scale] = {
    s.name: s for s in (
        Scale("low-medium-high", "labels", 3, _labels("low|l|lo", "medium|m|med|moderate|mid", "high|h|hi")),
        Scale("low-medium-high-critical", "labels", 4,
              _labels("low|l", "medium|m|med|moderate", "high|h", "critical|c|crit|very high")),
        Scale("very-low-very-high", "labels", 5,
              _labels("very low|vl|very-low", "low|l", "medium|m|med|moderate", "high|h",
                      "very high|vh|very-high")),
        Scale("rare-almost-certain", "labels", 5,
              _labels("rare", "unlikely", "possible", "likely", "almost certain|certain|very likely")),
        Scale("negligible-severe", "labels", 5,
              _labels("negligible|insignificant", "minor", "moderate", "major", "severe|catastrophic")),
    )
}
"""Label scales recognised in registers, tried smallest first after the matrix's own labels."""

_NUMERIC_NAME = re.compile(r"^\s*1\s*(?:-|to|\.\.|–)\s*(\d{1,2})\s*$")
_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(%)?(?:\s*(?:[-–:(/].*|[a-z].*))?$")


def scale_names() -> list[str]:
    """Names a mapping file may use under ``scales:``."""
    return ["1-3", "1-4", "1-5", "1-6", "1-10", "percent", "probability", "matrix", *LABEL_SCALES]


def parse_scale_name(text: str) -> Scale | None:
    """A scale from its name (``1-4``, ``percent``, ``low-medium-high`` ...); None when unknown.
    ``matrix`` is returned as a labels scale with no labels, resolved against the matrix later."""
    t = str(text).strip().lower().replace("_", "-")
    m = _NUMERIC_NAME.match(t)
    if m and 2 <= int(m.group(1)) <= 100:
        n = int(m.group(1))
        return Scale("percent", "percent") if n == 100 else Scale(f"1-{n}", "numeric", n)
    if t in ("percent", "percentage", "%", "0-100"):
        return Scale("percent", "percent")
    if t in ("probability", "0-1"):
        return Scale("probability", "probability")
    if t == "matrix":
        return Scale("matrix", "labels", 0)
    return LABEL_SCALES.get(t)


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", str(value).strip().lower()).rstrip(".")


def _number(text: str) -> tuple[float, bool] | None:
    m = _NUMBER.match(text)
    if not m:
        return None
    return float(m.group(1).replace(",", ".")), bool(m.group(2))


def matrix_scale(labels: Sequence[str]) -> Scale:
    """The matrix's own labels for one axis as a scale (so ``Likely`` reads as 4 on the default)."""
    return Scale("matrix", "labels", len(labels), tuple((_clean(x),) for x in labels))


@dataclass
class Normalised:
    """The outcome of normalising one column: value -> matrix point, bad values, and the note."""

    mapping: dict[str, int]
    bad: dict[str, str]
    note: str | None


def normalise_values(values: Iterable[str], size: int, labels: Sequence[str],
                     declared: Scale | None = None) -> Normalised:
    """Map the distinct cell values of one likelihood or impact column onto 1..size.

    ``labels`` are the matrix labels of that axis. Numbers and labels in one column are detected
    separately. ``bad`` maps each value that cannot be read to the reason, for the problem report.
    """
    distinct = {v for v in values if v is not None and str(v).strip() != ""}
    numbers, words = _split_values(distinct)
    own = matrix_scale(labels)
    if declared is not None and declared.name == "matrix":
        declared = own if words else Scale(f"1-{size}", "numeric", size)
    mapping: dict[str, int] = {}
    bad: dict[str, str] = {}
    notes: list[str] = []
    if numbers:
        scale = declared if declared is not None and declared.kind != "labels" else _number_scale(numbers, size)
        _map_numbers(numbers, scale, size, mapping, bad)
        notes.append(scale.note(size))
    if words:
        if declared is not None and declared.kind == "labels":
            candidates = [declared]
        else:
            candidates = [own, *LABEL_SCALES.values()]
        chosen = _label_scale(set(words.values()), candidates)
        _map_words(words, chosen, size, mapping, bad)
        notes.append(f"matrix labels {'/'.join(labels)} (unchanged)" if chosen is own else chosen.note(size))
    return Normalised(mapping, bad, "; ".join(notes) if notes else None)


def _split_values(distinct: Iterable[str]) -> tuple[dict[str, tuple[float, bool]], dict[str, str]]:
    """(value -> (number, written with %), value -> cleaned word) of a column's distinct values."""
    numbers: dict[str, tuple[float, bool]] = {}
    words: dict[str, str] = {}
    for v in distinct:
        c = _clean(v)
        n = _number(c)
        if n is None:
            words[v] = c
        else:
            numbers[v] = n
    return numbers, words


def _number_scale(numbers: Mapping[str, tuple[float, bool]], size: int) -> Scale:
    """The scale a column's numbers are written on, when none is declared (rules in the module docstring).

    A column that fits the matrix is the matrix's own scale; values that fit no scale are read on the
    closest one, and reported as bad by :func:`_map_numbers`."""
    vals = [x for x, _ in numbers.values()]
    whole = all(float(x).is_integer() for x in vals)
    if any(pct for _, pct in numbers.values()):
        return Scale("percent", "percent")
    if whole and min(vals) >= 1 and max(vals) <= size:
        return Scale(f"1-{size}", "numeric", size)
    if whole and min(vals) >= 1 and max(vals) <= 10:
        return Scale("1-10", "numeric", 10)
    if min(vals) >= 0 and max(vals) <= 1 and not whole:
        return Scale("probability", "probability")
    if whole and min(vals) >= 0 and 10 < max(vals) <= 100:
        return Scale("percent", "percent")
    if max(vals) <= size:
        return Scale(f"1-{size}", "numeric", size)  # 0 and fractions are reported as bad
    return Scale("1-10", "numeric", 10)


def _map_numbers(numbers: Mapping[str, tuple[float, bool]], scale: Scale, size: int, mapping: dict[str, int],
                 bad: dict[str, str]) -> None:
    """Each number read on ``scale`` into ``mapping`` (its matrix point), or into ``bad`` (why not)."""
    for v, (x, _pct) in numbers.items():
        if scale.kind == "numeric":
            if not float(x).is_integer() or not 1 <= x <= scale.points:
                bad[v] = f"not a whole number from 1 to {scale.points}"
            else:
                mapping[v] = rescale(int(x), scale.points, size)
        elif scale.kind == "percent":
            if not 0 <= x <= 100:
                bad[v] = "not a percentage from 0 to 100"
            else:
                mapping[v] = from_percent(x, size)
        else:
            if not 0 <= x <= 1:
                bad[v] = "not a probability from 0 to 1"
            else:
                mapping[v] = from_percent(x * 100, size)


def _label_scale(wanted: set[str], candidates: list[Scale]) -> Scale:
    """The first candidate label scale that reads every word; else, to suggest the nearest fix, the
    one that reads the most of them."""
    for cand in candidates:
        known = {alias for alts in cand.labels for alias in alts}
        if wanted <= known:
            return cand
    return max(candidates, key=lambda c: len(wanted & {a for alts in c.labels for a in alts}))


def _map_words(words: Mapping[str, str], chosen: Scale, size: int, mapping: dict[str, int],
               bad: dict[str, str]) -> None:
    """Each word read on the label scale ``chosen`` into ``mapping``, or into ``bad``."""
    index = {alias: i for i, alts in enumerate(chosen.labels, start=1) for alias in alts}
    for v, c in words.items():
        if c in index:
            mapping[v] = rescale(index[c], chosen.points, size)
        else:
            bad[v] = "not a value of the scale " + chosen.describe()


def expected_values(size: int, labels: Sequence[str]) -> str:
    """The 'expected' text of a bad likelihood/impact value."""
    return (f"a whole number 1-{size} (or 1-10), a percentage, one of {'/'.join(labels)}, "
            "Low/Medium/High or Very low..Very high")
