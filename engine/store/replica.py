"""A live read-only replica of a DuckDB file for an analyst's shell: Parquet files refreshed after commits.

DuckDB lets no process write a file while another holds it open, so an analyst's session on the file
itself would make every app and CLI write wait. The analyst's shell therefore never opens the file: it
runs an in-memory session whose base tables are views over Parquet files, one per table, and defines the
macros and documented views on top of them exactly as the engine does. While the shell runs, a watcher
looks at the file every :data:`POLL_SECONDS`; when a commit has changed it, the watcher takes a
consistent copy under a brief shared lock (:func:`engine.store.shell.snapshot`: milliseconds for the
demo), exports every table of the copy to a new generation of Parquet files, without any lock, and
switches the ``current`` link to it in one rename. Every query reads the generation ``current`` names
when it starts, so the analyst sees committed changes a few seconds after they land, and writers wait
only for the copy.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

__all__ = ["POLL_SECONDS", "Replica"]

POLL_SECONDS = 1.0
"""How often the watcher looks at the file for a commit."""
KEPT = 3
"""Generations kept on disk: the current one and the two before it."""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass
class Replica:
    """The Parquet replica of ``source`` in ``directory`` (``current`` -> ``gen-N/`` with one file per
    table), refreshed by :meth:`refresh` or, while :meth:`watching`, by a background thread."""

    source: Path
    directory: Path
    tables: list[str] = field(default_factory=list)
    generation: int = 0
    refreshes: int = 0
    error: str | None = None
    _seen: tuple[tuple[int, int], ...] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def current(self) -> Path:
        return self.directory / "current"

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        """What changes when a commit lands: the file's and its write-ahead log's size and time."""
        out = []
        for path in (self.source, Path(str(self.source) + ".wal")):
            try:
                st = path.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                out.append((-1, -1))
        return tuple(out)

    def refresh(self, force: bool = False) -> bool:
        """Export the file's tables to a new generation when it changed since the last one (or ``force``).
        Returns True when a new generation was made current."""
        from .shell import snapshot  # the consistent copy under a shared lock

        stamp = self._stamp()
        if not force and stamp == self._seen:
            return False
        work = self.directory / "copy"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        copy = snapshot(self.source, work)
        gen = self.directory / f"gen-{self.generation + 1}"
        gen.mkdir()
        con = duckdb.connect(str(copy), read_only=True)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
            for table in tables:
                con.execute(f"COPY (SELECT * FROM {_quoted(table)}) TO {_literal(gen / (table + '.parquet'))} "
                            "(FORMAT parquet)")
        finally:
            con.close()
            shutil.rmtree(work, ignore_errors=True)
        link = self.directory / "current.next"
        link.unlink(missing_ok=True)
        link.symlink_to(gen.name)
        os.replace(link, self.current)  # one rename: a query sees the old generation or the new one
        self.generation += 1
        self.tables, self._seen = tables, stamp
        self.refreshes += 1
        # A query that found its files through the old link may still be about to open them: the last
        # generations stay until two newer ones exist (files already open stay readable anyway).
        shutil.rmtree(self.directory / f"gen-{self.generation - KEPT}", ignore_errors=True)
        return True

    def script(self) -> list[str]:
        """The statements that make an empty session read the replica: a view per table over its file."""
        return [f"CREATE OR REPLACE VIEW {_quoted(t)} AS SELECT * FROM read_parquet("
                f"{_literal(self.current / (t + '.parquet'))});" for t in self.tables]

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh()
                self.error = None
            except Exception as exc:  # noqa: BLE001  (the file busy or being replaced: try again next time)
                self.error = str(exc)

    def start(self) -> None:
        """Refresh in a background thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="riskmap-replica", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
