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


def test_the_architecture_doc_names_every_engine_package_and_cli_module() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    packages = sorted(p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "engine").glob("*/__init__.py"))
    missing = [p for p in packages if f"`{p}`" not in doc]
    assert missing == [], f"packages not described in docs/architecture.md: {missing}"
    cli = sorted(p.name for p in (ROOT / "engine" / "cli").glob("*.py") if p.name != "__init__.py")
    assert [m for m in cli if f"`{m}`" not in doc and f"`cli/{m}`" not in doc] == []
    assert "](docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_the_engine_does_not_import_the_cli() -> None:
    """The layering rule of docs/architecture.md: the CLI calls the engine, never the other way round."""
    import ast

    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if "cli" in path.relative_to(ROOT / "engine").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):  # `from ..cli import x` counts too
                names = ["engine." + (node.module or "") if node.level else node.module or ""]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.startswith("engine.cli") or (n.startswith("engine.") and ".cli" in n)]
    assert offenders == []
