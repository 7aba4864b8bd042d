"""Build step: ship the catalogs, crosswalks and demo files inside the wheel.

``mappings/`` and ``data/demo/`` stay at the top of the repository (the design fixes that layout, and
they are reviewed like code there). A wheel copies them to ``engine/bundled/mappings/`` and
``engine/bundled/data/demo/``, where ``engine/config.py`` looks first. Everything else about the package
is declared in ``pyproject.toml``. An editable install copies nothing: it reads the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent

BUNDLED = {
    "mappings": ("*.yaml", "*.csv", "*.md"),
    "data/demo": ("*.csv", "*.xlsx", "*.yaml"),
}
"""Directory of the repository -> the kinds of file shipped from it (and its sub-directories)."""


class BuildPyWithBundledData(build_py):
    """``build_py`` that also copies the bundled data files into ``engine/bundled/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for rel, patterns in BUNDLED.items():
            src = HERE / rel
            files = sorted({p for pattern in patterns for p in src.rglob(pattern) if p.is_file()})
            if not files:
                raise SystemExit(f"build: {src} holds no {', '.join(patterns)} files to bundle")
            for path in files:
                dest = Path(self.build_lib) / "engine" / "bundled" / rel / path.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)


setup(cmdclass={"build_py": BuildPyWithBundledData})
