"""Demo organisation and analyst commands."""

from __future__ import annotations
