"""Shared fixtures: a real database initialised once per session, copied for each test.

The store is a DuckDB file, or a PostgreSQL database with ``RISKMAP_TEST_STORE=postgres`` (see
``tests/stores.py``); then only the modules marked ``both_stores`` run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.lifecycle import init_database

from . import stores

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests marked ``both_stores`` (the others are about the file, the
    browser or things that do not depend on the store); the rest are deselected and counted as such."""
    if not stores.ON_POSTGRES:
        return
    kept = [i for i in items if i.get_closest_marker("both_stores")]
    dropped = [i for i in items if not i.get_closest_marker("both_stores")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _drop_the_tests_databases() -> Iterator[None]:
    """On PostgreSQL, drop the server databases a test made (those of wider fixtures stay)."""
    if not stores.ON_POSTGRES:
        yield
        return
    mark = stores.made()
    yield
    stores.drop_made_since(mark)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> stores.Location:
    """A database with the catalogs and crosswalks loaded, built once per session."""
    path = stores.new_db(tmp_path_factory.mktemp("template"), "template.duckdb", keep=True)
    init_database(path)
    return path


@pytest.fixture
def fresh_db(template_db: stores.Location, tmp_path: Path) -> stores.Location:
    """A private copy of the initialised database for one test."""
    return stores.copy_db(template_db, tmp_path)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the riskmap CLI in-process; returns (exit code, stdout, stderr)."""
    from engine.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
