"""The demo database for tests: built once per test session with `riskmap demo`, copied for each user.

On PostgreSQL (``RISKMAP_TEST_STORE=postgres``) the demo is a server database and a copy is made from
it as a template (see ``tests/stores.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.demo import build_demo

from . import stores

_server_demo: list[stores.Location] = []


def demo_template(factory: pytest.TempPathFactory) -> stores.Location:
    """The demo database of this test session (built on first use, then reused by every test module)."""
    if stores.ON_POSTGRES:
        if not _server_demo:
            url = stores.new_db(factory.getbasetemp(), keep=True)
            build_demo(url)
            _server_demo.append(url)
        return _server_demo[0]
    path = factory.getbasetemp() / "demo-template" / "demo.duckdb"
    if not path.exists():
        build_demo(path)
    return path


def demo_copy(template: stores.Location, directory: Path, name: str = "riskmap.duckdb") -> stores.Location:
    """A private copy of the demo database in ``directory`` (or on the server)."""
    return stores.copy_db(template, directory, name)
