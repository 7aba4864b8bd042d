"""The Statement of Applicability (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f).

One SoA covers every Annex A control of ISO/IEC 27001:2022 and ISO/IEC 42001:2023 and every control an
organisation adds in a custom framework. Each row records whether the control is applicable and why
(inclusion reason codes, linked risks), or why not (exclusion reason and a justification, which is
required), how far it is implemented, by whom, with what evidence, its counterparts in the other
standard, and for 42001 rows the AI systems in scope and their impact assessments.

The engine proposes, the manager decides: :func:`proposals` lists what the register and the crosswalk
suggest; nothing changes until :func:`accept_proposal` or :func:`reject_proposal`. Approved versions are
frozen by :func:`snapshot` and compared by :func:`diff`. Every write runs in one transaction with its
history rows; reads use a read-only connection.
"""

from __future__ import annotations

from .importing import import_soa
from .proposals import PROPOSAL_KINDS, accept_proposal, accept_proposals, proposals, reject_proposal
from .rows import add_control, citing_risks, ensure_rows, get_row, set_row, soa_frame
from .versions import SNAPSHOT_FIELDS, approval_check, diff, latest_version, snapshot, versions
from .vocab import CUSTOM_FRAMEWORK, EXCLUSION_REASONS, REASONS, STATUS_RANK, STATUSES, UNSET

__all__ = ["CUSTOM_FRAMEWORK", "EXCLUSION_REASONS", "PROPOSAL_KINDS", "REASONS", "SNAPSHOT_FIELDS", "STATUSES", "STATUS_RANK", "UNSET", "accept_proposal", "accept_proposals", "add_control", "approval_check", "citing_risks", "diff", "ensure_rows", "get_row", "import_soa", "latest_version", "proposals", "reject_proposal", "set_row", "snapshot", "soa_frame", "versions"]
