"""Colour contrast as WCAG 2.1 measures it: how well text reads on a coloured background.

The charts write counts on the matrix's level colours (``engine.charts.text_colour`` picks the text
colour from these measures) and the accessibility tests check what the browser drew against them.
"""

from __future__ import annotations

import re

__all__ = ["MINIMUM_TEXT_CONTRAST", "contrast_ratio", "relative_luminance"]

MINIMUM_TEXT_CONTRAST = 4.5
"""WCAG 2.1 success criterion 1.4.3 (level AA): normal text needs 4.5:1 against its background."""

_HEX = re.compile(r"[0-9a-fA-F]{6}")


def relative_luminance(colour: str) -> float:
    """The WCAG 2.1 relative luminance of ``#rrggbb`` (or ``#rgb``): 0 for black, 1 for white."""
    h = colour.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if not _HEX.fullmatch(h):
        raise ValueError(f"not a colour: {colour!r}; expected #rrggbb")

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """The WCAG 2.1 contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
