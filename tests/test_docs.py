"""The README documents every CLI command: docs cannot rot."""

from __future__ import annotations

from typing import Any

import typer.main

from engine.cli import app

from .conftest import ROOT


def _commands(group: Any, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands") and cmd.commands:
            out.extend(_commands(cmd, full + " "))
        else:
            out.append(full)
    return out


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    group = typer.main.get_command(app)
    missing = [c for c in _commands(group) if f"riskmap {c}" not in readme]
    assert missing == [], f"commands not documented in README.md: {missing}"


def test_readme_quick_start_is_the_two_make_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make app" in quick and "make test" in quick
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup:", "app:", "test:", "bench:"):
        assert target in makefile
