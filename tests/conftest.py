"""Shared fixtures: a real database initialised once per session, copied for each test.

The store is a DuckDB file, or a PostgreSQL database with ``RISKMAP_TEST_STORE=postgres`` (see
``tests/stores.py``); then only the modules marked ``both_stores`` run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.lifecycle import init_database

from . import stores
from .pg_server import Server

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


def _runs_here(item: pytest.Item) -> bool:
    """Whether a test belongs to this pass: on PostgreSQL the modules marked ``both_stores`` (the others
    are about the file, the browser or things that do not depend on the store) less the ``file_only``
    tests; on a DuckDB file everything but the ``postgres_only`` tests."""
    if stores.ON_POSTGRES:
        return bool(item.get_closest_marker("both_stores")) and not item.get_closest_marker("file_only")
    return not item.get_closest_marker("postgres_only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each pass runs the tests of its store; the others are deselected and counted as such, never
    skipped (``make test`` runs both passes, so every test runs in one of them)."""
    kept = [i for i in items if _runs_here(i)]
    dropped = [i for i in items if not _runs_here(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A throw-away PostgreSQL server of the module's own (the store-level PostgreSQL tests)."""
    from engine.store import postgres

    srv = Server()
    yield srv
    postgres.reset()
    srv.stop()


@pytest.fixture(autouse=True)
def _drop_the_tests_databases() -> Iterator[None]:
    """On PostgreSQL, drop the server databases a test made (those of wider fixtures stay)."""
    if not stores.ON_POSTGRES:
        yield
        return
    mark = stores.made()
    yield
    stores.drop_made_since(mark)


@pytest.fixture(autouse=True)
def single_user_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with the single-user default (no roles file, no service identity), whatever the
    shell running the suite has set; tests of roles configure their own (tests/access_support.py)."""
    monkeypatch.delenv("RISKMAP_ROLES", raising=False)
    monkeypatch.delenv("RISKMAP_SERVICE_IDENTITY", raising=False)


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
