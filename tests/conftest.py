"""Shared fixtures: a real DuckDB file initialised once per session, copied for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.lifecycle import init_database

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def single_user_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with the single-user default (no roles file, no service identity), whatever the
    shell running the suite has set; tests of roles configure their own (tests/access_support.py)."""
    monkeypatch.delenv("RISKMAP_ROLES", raising=False)
    monkeypatch.delenv("RISKMAP_SERVICE_IDENTITY", raising=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the catalogs and crosswalks loaded, built once per session."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    init_database(path)
    return path


@pytest.fixture
def fresh_db(template_db: Path, tmp_path: Path) -> Path:
    """A private copy of the initialised database for one test."""
    path = tmp_path / "riskmap.duckdb"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the riskmap CLI in-process; returns (exit code, stdout, stderr)."""
    from engine.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
