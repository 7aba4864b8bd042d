"""The risk matrix: the criteria every risk is scored on.

Risk criteria are required by ISO/IEC 27001:2022 6.1.2 a) and ISO/IEC 42001:2023 6.1.2: how
likelihood and consequence are rated, how they combine into a level, and which level is acceptable
(the risk appetite). riskmap keeps them as a :class:`MatrixSpec` of 3x3 to 6x6 cells:

- score = likelihood x impact (1 .. size*size);
- a level is the last one whose threshold (minimum score) the score reaches;
- a score is within appetite when it is at most ``appetite``.

The scales registers are written on, and how their values are mapped onto the matrix, are in
:mod:`engine.register.scales` (re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from engine.errors import InputError, Problem

from .scales import (
    LABEL_SCALES,
    Normalised,
    Scale,
    expected_values,
    from_percent,
    matrix_scale,
    normalise_values,
    parse_scale_name,
    rescale,
    scale_names,
)

__all__ = ["DEFAULT_MATRIX", "LABEL_SCALES", "MAX_SIZE", "MIN_SIZE", "MatrixSpec", "Normalised", "Scale",
           "default_matrix", "expected_values", "from_percent", "matrix_scale", "normalise_values",
           "parse_scale_name", "rescale", "scale_names"]

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
