"""The risk matrix and the scales registers are scored on.

Risk criteria are required by ISO/IEC 27001:2022 6.1.2 a) and ISO/IEC 42001:2023 6.1.2: how
likelihood and consequence are rated, how they combine into a level, and which level is acceptable
(the risk appetite). riskmap keeps them as a :class:`MatrixSpec` of 3x3 to 6x6 cells:

- score = likelihood x impact (1 .. size*size);
- a level is the last one whose threshold (minimum score) the score reaches;
- a score is within appetite when it is at most ``appetite``.

Registers arrive on many scales (1-3, 1-4, 1-5, 1-10, Low/Medium/High, Very low..Very high,
Rare..Almost certain, percentages, probabilities). :func:`normalise_values` maps the distinct values
of one column onto the matrix and says how (the note is kept with the lineage of every row):

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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.errors import InputError, Problem

MIN_SIZE = 3
MAX_SIZE = 6
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class MatrixSpec:
    """One version of the risk criteria: a size x size matrix with labels, levels and appetite.

    ``level_thresholds[i]`` is the minimum score of ``level_names[i]``; thresholds ascend and the
    first is 1, so every score has a level. ``appetite`` is the highest score accepted without
    treatment (ISO 27001 6.1.2 a) 1), ISO 42001 6.1.2).
    """

    size: int
    likelihood_labels: tuple[str, ...]
    impact_labels: tuple[str, ...]
    level_names: tuple[str, ...]
    level_thresholds: tuple[int, ...]
    level_colours: tuple[str, ...]
    appetite: int
    version: int | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    note: str | None = None

    # -- checks -------------------------------------------------------------------------------
    def problems(self, file: str = "matrix") -> list[Problem]:
        """Every reason this matrix is unusable (empty when it is valid)."""
        out: list[Problem] = []
        size = self.size
        if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            out.append(Problem(file, None, "size", "matrix size out of range", size,
                               expected=f"a whole number from {MIN_SIZE} to {MAX_SIZE}"))
            return out
        for name in ("likelihood_labels", "impact_labels"):
            labels = getattr(self, name)
            if len(labels) != size:
                out.append(Problem(file, None, name, f"{len(labels)} labels for a {size}x{size} matrix",
                                   list(labels), expected=f"{size} labels, lowest first"))
            if any(not str(x).strip() for x in labels):
                out.append(Problem(file, None, name, "empty label", list(labels), expected="non-empty labels"))
            if len({str(x).strip().lower() for x in labels}) != len(labels):
                out.append(Problem(file, None, name, "labels repeat", list(labels), expected="distinct labels"))
        n = len(self.level_names)
        if n == 0:
            out.append(Problem(file, None, "levels", "no levels", expected="at least one level"))
            return out
        if len(self.level_thresholds) != n or len(self.level_colours) != n:
            out.append(Problem(file, None, "levels", "each level needs a name, a minimum score and a colour",
                               expected=f"{n} thresholds and {n} colours"))
            return out
        if any(not str(x).strip() for x in self.level_names):
            out.append(Problem(file, None, "levels", "empty level name", list(self.level_names)))
        th = list(self.level_thresholds)
        if th[0] != 1:
            out.append(Problem(file, None, "levels", "the lowest level must start at score 1", th[0], expected="1"))
        if any(b <= a for a, b in zip(th, th[1:], strict=False)):
            out.append(Problem(file, None, "levels", "level thresholds must ascend", th,
                               expected="strictly increasing minimum scores"))
        if th[-1] > size * size:
            out.append(Problem(file, None, "levels", "a level starts above the highest score", th[-1],
                               expected=f"at most {size * size}"))
        for colour in self.level_colours:
            if not _COLOUR.match(str(colour)):
                out.append(Problem(file, None, "levels", "not a colour", colour, expected="#rrggbb"))
        if not isinstance(self.appetite, int) or not 1 <= self.appetite <= size * size:
            out.append(Problem(file, None, "appetite", "appetite out of range", self.appetite,
                               expected=f"a score from 1 to {size * size}"))
        return out

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> MatrixSpec:
        """The matrix of one row of ``risk_matrix_versions`` (as a dict, e.g. a frame's row)."""
        return cls(size=int(row["size"]), likelihood_labels=tuple(row["likelihood_labels"]),
                   impact_labels=tuple(row["impact_labels"]), level_names=tuple(row["level_names"]),
                   level_thresholds=tuple(int(t) for t in row["level_thresholds"]),
                   level_colours=tuple(row["level_colours"]), appetite=int(row["appetite"]),
                   version=row.get("version"), created_at=row.get("created_at"), created_by=row.get("created_by"),
                   note=row.get("note"))

    def validated(self, file: str = "matrix") -> MatrixSpec:
        """This matrix, or InputError listing every problem."""
        found = self.problems(file)
        if found:
            raise InputError(found, f"{file}: the risk matrix is not valid")
        return self

    # -- use ----------------------------------------------------------------------------------
    @property
    def max_score(self) -> int:
        return self.size * self.size

    def score(self, likelihood: int | None, impact: int | None) -> int | None:
        """likelihood x impact, or None when either is missing."""
        if likelihood is None or impact is None:
            return None
        return int(likelihood) * int(impact)

    def level_index(self, score: int | None) -> int | None:
        if score is None:
            return None
        return sum(1 for t in self.level_thresholds if t <= score) - 1

    def level(self, score: int | None) -> str | None:
        """The level name of a score (None for no score)."""
        i = self.level_index(score)
        return None if i is None else self.level_names[i]

    def colour(self, score: int | None) -> str | None:
        i = self.level_index(score)
        return None if i is None else self.level_colours[i]

    def within_appetite(self, score: int | None) -> bool | None:
        return None if score is None else score <= self.appetite

    def cells(self) -> list[dict[str, Any]]:
        """Every cell of the matrix, for heat maps: likelihood, impact, score, level, colour."""
        return [
            {"likelihood": li, "impact": im, "likelihood_label": self.likelihood_labels[li - 1],
             "impact_label": self.impact_labels[im - 1], "score": li * im,
             "level": self.level(li * im), "colour": self.colour(li * im),
             "within_appetite": li * im <= self.appetite}
            for li in range(1, self.size + 1) for im in range(1, self.size + 1)
        ]

    # -- (de)serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The file form read by :meth:`from_dict` (``riskmap matrix set FILE``)."""
        out: dict[str, Any] = {
            "size": self.size,
            "likelihood_labels": list(self.likelihood_labels),
            "impact_labels": list(self.impact_labels),
            "levels": [{"name": n, "min": t, "colour": c}
                       for n, t, c in zip(self.level_names, self.level_thresholds, self.level_colours,
                                          strict=True)],
            "appetite": self.appetite,
        }
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str = "matrix") -> MatrixSpec:
        """Read the file form; missing labels default to the standard ones for the size.

        Raises InputError listing every problem (unknown keys, wrong types, invalid matrix).
        """
        problems: list[Problem] = []
        if not isinstance(doc, Mapping):
            raise InputError([Problem(file, None, None, "not a matrix definition", type(doc).__name__,
                                      expected="a mapping with size, levels and appetite")])
        known = {"size", "likelihood_labels", "impact_labels", "levels", "appetite", "note"}
        for key in doc:
            if key not in known:
                problems.append(Problem(file, None, str(key), "unknown key", expected=", ".join(sorted(known))))
        size = doc.get("size", 5)
        if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
            problems.append(Problem(file, None, "size", "matrix size out of range", size,
                                    expected=f"a whole number from {MIN_SIZE} to {MAX_SIZE}"))
            raise InputError(problems, f"{file}: the risk matrix is not valid")
        base = default_matrix(size)
        levels = doc.get("levels")
        names, mins, colours = list(base.level_names), list(base.level_thresholds), list(base.level_colours)
        if levels is not None:
            if not isinstance(levels, list) or not all(isinstance(x, Mapping) for x in levels):
                problems.append(Problem(file, None, "levels", "levels must be a list of {name, min, colour}",
                                        levels))
            else:
                names, mins, colours = [], [], []
                for i, lv in enumerate(levels, start=1):
                    for key in ("name", "min", "colour"):
                        if key not in lv:
                            problems.append(Problem(file, f"level {i}", key, "missing"))
                    mn = lv.get("min")
                    if not isinstance(mn, int) or isinstance(mn, bool):
                        problems.append(Problem(file, f"level {i}", "min", "not a whole number", mn,
                                                expected="the level's minimum score"))
                        mn = 0
                    names.append(str(lv.get("name", "")))
                    mins.append(mn)
                    colours.append(str(lv.get("colour", "")))
        appetite = doc.get("appetite", base.appetite)
        if not isinstance(appetite, int) or isinstance(appetite, bool):
            problems.append(Problem(file, None, "appetite", "not a whole number", appetite,
                                    expected=f"a score from 1 to {size * size}"))
            appetite = 0
        labels = {}
        for key in ("likelihood_labels", "impact_labels"):
            val = doc.get(key, list(getattr(base, key)))
            if not isinstance(val, list):
                problems.append(Problem(file, None, key, "labels must be a list", val))
                val = list(getattr(base, key))
            labels[key] = tuple(str(x) for x in val)
        if problems:
            raise InputError(problems, f"{file}: the risk matrix is not valid")
        spec = cls(size=size, likelihood_labels=labels["likelihood_labels"],
                   impact_labels=labels["impact_labels"], level_names=tuple(names),
                   level_thresholds=tuple(mins), level_colours=tuple(colours), appetite=appetite,
                   note=str(doc["note"]) if doc.get("note") else None)
        return spec.validated(file)

    def same_criteria(self, other: MatrixSpec) -> bool:
        """True when both define the same criteria (ignoring version and authorship)."""
        return self.to_dict() | {"note": None} == other.to_dict() | {"note": None}


_DEFAULT_LABELS = {
    3: (("Unlikely", "Possible", "Likely"), ("Minor", "Moderate", "Major")),
    4: (("Rare", "Unlikely", "Likely", "Almost certain"), ("Minor", "Moderate", "Major", "Severe")),
    5: (("Rare", "Unlikely", "Possible", "Likely", "Almost certain"),
        ("Negligible", "Minor", "Moderate", "Major", "Severe")),
    6: (("Very rare", "Rare", "Unlikely", "Possible", "Likely", "Almost certain"),
        ("Negligible", "Minor", "Moderate", "Significant", "Major", "Severe")),
}
_DEFAULT_LEVELS = {
    3: ((1, 3, 6), 3),
    4: ((1, 3, 6, 12), 4),
    5: ((1, 4, 8, 15), 6),
    6: ((1, 5, 12, 24), 8),
}
_LEVEL_NAMES = ("Low", "Medium", "High", "Critical")
_LEVEL_COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#c62828")


def default_matrix(size: int = 5) -> MatrixSpec:
    """The built-in criteria for a size (3..6). Size 5 is riskmap's default (matrix version 1)."""
    if size not in _DEFAULT_LABELS:
        raise InputError([Problem("matrix", None, "size", "matrix size out of range", size,
                                  expected=f"a whole number from {MIN_SIZE} to {MAX_SIZE}")])
    lik, imp = _DEFAULT_LABELS[size]
    th, appetite = _DEFAULT_LEVELS[size]
    n = len(th)
    colours = _LEVEL_COLOURS if n == 4 else (_LEVEL_COLOURS[0], _LEVEL_COLOURS[1], _LEVEL_COLOURS[3])
    return MatrixSpec(size=size, likelihood_labels=lik, impact_labels=imp, level_names=_LEVEL_NAMES[:n],
                      level_thresholds=tuple(th), level_colours=colours, appetite=appetite)


DEFAULT_MATRIX = replace(default_matrix(5), version=1, note="default 5x5 matrix")
"""Matrix version 1, seeded by migration 0005 (a test keeps the two in step)."""


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


# --------------------------------------------------------------------------------------------------
# Scales of imported registers
# --------------------------------------------------------------------------------------------------

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
    mapping: dict[str, int] = {}
    bad: dict[str, str] = {}
    numbers: dict[str, tuple[float, bool]] = {}
    words: dict[str, str] = {}
    for v in distinct:
        c = _clean(v)
        n = _number(c)
        if n is None:
            words[v] = c
        else:
            numbers[v] = n
    own = matrix_scale(labels)
    notes: list[str] = []
    if declared is not None and declared.name == "matrix":
        declared = own if words else Scale(f"1-{size}", "numeric", size)

    # numbers
    if numbers:
        scale = declared if declared is not None and declared.kind != "labels" else None
        if scale is None:
            vals = [x for x, _ in numbers.values()]
            whole = all(float(x).is_integer() for x in vals)
            if any(pct for _, pct in numbers.values()):
                scale = Scale("percent", "percent")
            elif whole and min(vals) >= 1 and max(vals) <= size:
                scale = Scale(f"1-{size}", "numeric", size)
            elif whole and min(vals) >= 1 and max(vals) <= 10:
                scale = Scale("1-10", "numeric", 10)
            elif min(vals) >= 0 and max(vals) <= 1 and not whole:
                scale = Scale("probability", "probability")
            elif whole and min(vals) >= 0 and 10 < max(vals) <= 100:
                scale = Scale("percent", "percent")
            elif max(vals) <= size:
                scale = Scale(f"1-{size}", "numeric", size)  # 0 and fractions are reported below
            else:
                scale = Scale("1-10", "numeric", 10)
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
        notes.append(scale.note(size))

    # words
    if words:
        if declared is not None and declared.kind == "labels":
            candidates = [declared]
        else:
            candidates = [own, *LABEL_SCALES.values()]
        wanted = set(words.values())
        chosen = None
        for cand in candidates:
            known = {alias for alts in cand.labels for alias in alts}
            if wanted <= known:
                chosen = cand
                break
        if chosen is None:
            # Report against the scale that reads the most values, to suggest the nearest fix.
            chosen = max(candidates, key=lambda c: len(wanted & {a for alts in c.labels for a in alts}))
        index = {alias: i for i, alts in enumerate(chosen.labels, start=1) for alias in alts}
        for v, c in words.items():
            if c in index:
                mapping[v] = rescale(index[c], chosen.points, size)
            else:
                bad[v] = "not a value of the scale " + chosen.describe()
        if chosen is own:
            notes.append(f"matrix labels {'/'.join(labels)} (unchanged)")
        else:
            notes.append(chosen.note(size))
    return Normalised(mapping, bad, "; ".join(notes) if notes else None)


def expected_values(size: int, labels: Sequence[str]) -> str:
    """The 'expected' text of a bad likelihood/impact value."""
    return (f"a whole number 1-{size} (or 1-10), a percentage, one of {'/'.join(labels)}, "
            "Low/Medium/High or Very low..Very high")
