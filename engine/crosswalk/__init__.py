"""The crosswalk: control catalogs, authored mappings between frameworks (NIST IR 8477 relationships),
their inverses and inferred links with paths, coverage and gaps; the organisation's tailoring; OSCAL out
and in; CISO Assistant libraries in.

Mappings follow NIST IR 8477 set-theory relationship mapping. One direction is authored (CSV files in
``mappings/crosswalks``, the shipped records); the inverse is derived; links across frameworks are inferred
to a configurable depth by set operations in DuckDB, composing relationships by set algebra and keeping
the weakest strength and the path, so every inferred link explains itself. Beside the shipped records
the store keeps the organisation's tailored records (:mod:`.tailoring`) and imported crosswalks
(:mod:`.imported`, read by :mod:`.oscal_read` and :mod:`.library`); for each pair of controls one record
is in force, tailored over shipped over imported. :mod:`.oscal` writes OSCAL 1.2 documents; :mod:`.census`
counts a crosswalk file for its documentation.
"""

from __future__ import annotations

from engine.crosswalk import catalog, census, coverage, imported, library, oscal, oscal_read, tailoring

from .inference import get_depth, rebuild_links, set_depth
from .mappings import (
    COLUMNS,
    REVIEW_STATUSES,
    Mapping,
    check_records,
    crosswalk_files,
    load_crosswalk_files,
    mappings_frame,
    parse_file,
    sync_mappings,
    validate_against_catalog,
    validate_files,
)
from .refs import FRAMEWORK_ALIASES, parse_control
from .relationships import CROSSWALK_COLUMNS, INVERSE, RANK, RATIONALES, RELATIONSHIPS, compose, inverse

__all__ = ["COLUMNS", "CROSSWALK_COLUMNS", "FRAMEWORK_ALIASES", "INVERSE", "Mapping", "RANK", "RATIONALES", "RELATIONSHIPS",
           "REVIEW_STATUSES", "catalog", "census", "check_records", "compose", "coverage", "crosswalk_files",
           "get_depth", "imported", "inverse", "library", "load_crosswalk_files", "mappings_frame", "oscal",
           "oscal_read", "parse_control", "parse_file", "rebuild_links", "set_depth", "sync_mappings", "tailoring",
           "validate_against_catalog", "validate_files"]
