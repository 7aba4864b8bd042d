"""Crosswalk commands: gaps and the crosswalk export."""

from __future__ import annotations
