"""Records: the one home of field rules, record ids and the versioned write path.

- :mod:`~engine.records.fields`: :class:`FieldSpec` and :func:`coerce` (text, vocabularies, lists,
  yes/no, scores, numbers, dates as people write them);
- :mod:`~engine.records.vocab`: vocabularies (spelling -> stored value);
- :mod:`~engine.records.entity`: the kinds of record (:class:`Entity`, declared by each domain with its
  fields and its rules as a validation hook), opening a record at an expected version, validation;
- :mod:`~engine.records.write`: :func:`edit` (one record: version check, validation, change history),
  :func:`apply_changes` (bulk, for importers and rescoring), :func:`bump` (a link change counts as a
  change of the record) and :func:`create`;
- :mod:`~engine.records.ids`: :func:`next_ids`, the one generator of sequential ids, and :func:`slug`.

Every write of a risk, AI system, impact assessment, asset, SoA row or treatment action goes through
:mod:`~engine.records.write`, so a rule about writing (who may, which version, what is recorded) is
added in one place: the principal's role (:func:`authorize`, called by every write here, and by the
domains before they write a link table of a record).
"""

from __future__ import annotations

from .entity import Change, Entity, Link, check_version, current, declare, entity_of, fetch, validate
from .fields import (
    BOOL,
    DATE,
    DATE_FORMATS,
    FRAME_TYPES,
    REQUIRED,
    SCORE,
    TEXT,
    DType,
    FieldSpec,
    coerce,
    coerce_all,
    date_expected,
    parse_bool,
    parse_date,
    parse_tristate,
    split_list,
)
from .ids import next_ids, slug
from .write import (
    apply_changes,
    authorize,
    bump,
    create,
    current_rows,
    edit,
    record_history,
    text_expr,
    text_of,
    write,
)

__all__ = ["BOOL", "DATE", "DATE_FORMATS", "FRAME_TYPES", "REQUIRED", "SCORE", "TEXT", "Change", "DType", "Entity",
           "FieldSpec", "Link", "apply_changes", "authorize", "bump", "check_version", "coerce", "coerce_all", "create", "current",
           "current_rows", "date_expected", "declare", "edit", "entity_of", "fetch", "next_ids", "parse_bool",
           "parse_date", "parse_tristate", "record_history", "slug", "split_list", "text_expr", "text_of", "validate",
           "write"]
