"""Naming a control: ``framework:ref``, with the short forms people type."""

from __future__ import annotations

from engine.config import ISO27001, ISO42001
from engine.errors import NotFoundError

FRAMEWORK_ALIASES = {"27001": ISO27001, "42001": ISO42001, "iso27001": ISO27001, "iso42001": ISO42001}


def parse_control(text: str) -> tuple[str, str]:
    """Split ``framework:ref`` (``27001:`` and ``42001:`` accepted as short forms) into its parts.

    A bare ``A.5.2`` is refused: both standards number Annex A from A.5, so it is ambiguous.
    """
    text = (text or "").strip()
    if ":" not in text:
        raise NotFoundError(f"{text!r}: name a control with its framework, e.g. {ISO27001}:A.5.1 or "
                            f"{ISO42001}:A.6.2.8 (a bare Annex A id is ambiguous between the standards)")
    fw, ref = (p.strip() for p in text.split(":", 1))
    fw = FRAMEWORK_ALIASES.get(fw.lower(), fw)
    if not fw or not ref:
        raise NotFoundError(f"{text!r}: expected framework:ref, e.g. {ISO27001}:A.5.1")
    return fw, ref
