"""Roles files for tests: who holds which role, written where the engine reads it (RISKMAP_ROLES)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.access import ROLES, SERVICE_ENV, os_account

EVERY_ROLE = list(ROLES)


def write_roles(path: Path, users: Mapping[str, Mapping[str, Any] | list[str]]) -> Path:
    """A roles file at ``path``: each user with its roles (a list) or its full entry (a mapping)."""
    doc = {"users": {name: ({"roles": list(entry)} if isinstance(entry, list) else dict(entry))
                     for name, entry in users.items()}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def use_roles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
              users: Mapping[str, Mapping[str, Any] | list[str]], *, me: Mapping[str, Any] | list[str] | None = None
              ) -> Path:
    """Configure a roles file for the rest of the test. ``me``: the entry of the operating system account
    running the tests (left out when None, so that account holds no role)."""
    everyone = dict(users)
    if me is not None:
        everyone[os_account()] = me
    path = write_roles(tmp_path / "roles.yaml", everyone)
    monkeypatch.setenv("RISKMAP_ROLES", str(path))
    monkeypatch.delenv(SERVICE_ENV, raising=False)
    return path


def as_service(monkeypatch: pytest.MonkeyPatch, name: str | None) -> None:
    """Run the next CLI commands as the service identity ``name`` (None: the operating system account)."""
    if name is None:
        monkeypatch.delenv(SERVICE_ENV, raising=False)
    else:
        monkeypatch.setenv(SERVICE_ENV, name)
