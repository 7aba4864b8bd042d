"""The NIST IR 8477 relationship vocabulary and its algebra: inverse, composition, rank."""

from __future__ import annotations

RELATIONSHIPS = ("equal", "subset_of", "superset_of", "intersects_with", "no_relationship")


RATIONALES = ("syntactic", "semantic", "functional")


INVERSE = {"equal": "equal", "subset_of": "superset_of", "superset_of": "subset_of",
           "intersects_with": "intersects_with", "no_relationship": "no_relationship"}


# Rank of a relationship as evidence of coverage: higher is closer.
RANK = {"equal": 5, "subset_of": 4, "superset_of": 3, "intersects_with": 2, "no_relationship": 1}


CROSSWALK_COLUMNS = ["source_framework", "source_ref", "target_framework", "target_ref", "relationship",
                     "strength", "rationale_type", "justification", "origin", "path", "review_status", "reviewer",
                     "provenance"]


def inverse(relationship: str) -> str:
    """The relationship of target to source, given that of source to target."""
    return INVERSE[relationship]


def compose(first: str, second: str) -> str:
    """Relationship of A to C given A `first` B and B `second` C (set algebra, conservative).

    equal is neutral; subset chains stay subset, superset chains stay superset; anything else,
    including any step through intersects_with, is at most intersects_with.
    """
    if "no_relationship" in (first, second):
        return "no_relationship"
    if first == "equal":
        return second
    if second == "equal":
        return first
    if first == second and first in ("subset_of", "superset_of"):
        return first
    return "intersects_with"
