"""The demo database for tests: built once per test session with `riskmap demo`, copied for each user."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.demo import build_demo


def demo_template(factory: pytest.TempPathFactory) -> Path:
    """The demo database of this test session (built on first use, then reused by every test module)."""
    path = factory.getbasetemp() / "demo-template" / "demo.duckdb"
    if not path.exists():
        build_demo(path)
    return path


def demo_copy(template: Path, directory: Path, name: str = "riskmap.duckdb") -> Path:
    """A private copy of the demo database in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    shutil.copyfile(template, path)
    return path
