"""A change of a risk's links (controls, assets, AI systems, lineage) counts as a change of the risk.

Record edits of every kind go through :mod:`engine.records` (``records.edit``, ``records.bump``);
this name is kept for the register importers' call sites.
"""

from __future__ import annotations

from engine.records import bump

__all__ = ["bump"]
