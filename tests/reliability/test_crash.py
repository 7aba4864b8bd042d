"""Crash safety: an import killed with SIGKILL at any moment leaves a database that opens cleanly and holds
either all of that import or none of it.

A register of ``N_ROWS`` risks (with assets, so the import writes to several tables) is imported by the real
command line in a subprocess, which is killed after a random delay: sometimes anywhere in the run, mostly
while the database is being written (the kill is aimed at the moment the write-ahead log appears, so it lands
in the commit or in the checkpoint that follows). After each kill the database is opened (replaying its
log), every table is read in full, a checkpoint is run, and the import's rows are counted: 0 or all of them.
A database that survived a kill with nothing imported is reused for the next attempt, so recovery after
repeated crashes is exercised too; the last step imports the file to completion on the survivor.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests import stores

N_ROWS = 20_000
ITERATIONS = 15
MIN_ITERATIONS = 10
BUDGET_SECONDS = 40.0
SOURCE = "crash-register"
ASSETS = ["Payroll DB", "CRM", "Model registry", "HR portal", "Data lake"]

pytestmark = [pytest.mark.slow, pytest.mark.both_stores, stores.file_only(
    "a process killed while writing the DuckDB file; on PostgreSQL a killed client's transaction is rolled "
    "back by the server")]


def _riskmap() -> str:
    exe = Path(sys.executable).parent / "riskmap"
    found = str(exe) if exe.exists() else shutil.which("riskmap")
    assert found, "the riskmap command is not installed in this environment"
    return found


def _make_register(path: Path, rows: int) -> None:
    rng = random.Random(7)
    words = ("data leak model drift supplier outage phishing ransomware bias poisoning backup failure insider "
             "misuse hallucination privacy breach vendor logging gap credential theft").split()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["Risk ID", "Title", "Owner", "Asset", "Likelihood", "Impact", "Controls", "Description"])
        for i in range(rows):
            out.writerow([f"CR-{i:06d}", f"{' '.join(rng.sample(words, 4))} {i}", rng.choice(["Ana", "Ben", "Cy"]),
                          rng.choice(ASSETS), rng.randint(1, 5), rng.randint(1, 5), "A.5.1; A.8.13",
                          "why this matters " * 5])


@dataclass(frozen=True)
class Counts:
    risks: int
    sources: int
    batches: int
    assets: int
    history: int
    risk_controls: int


def _check(db: Path) -> Counts:
    """Open the database (replaying its log), read every table in full, checkpoint, and count."""
    con = duckdb.connect(str(db))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        assert {"risks", "risk_sources", "import_batches", "history"} <= set(tables)
        for table in tables:
            # Casting each row to text reads every column of every row: a damaged block would fail here.
            con.execute(f'SELECT count(*), sum(length(CAST(t AS VARCHAR))) FROM "{table}" AS t').fetchone()
        con.execute("SELECT count(*) FROM v_risk_register").fetchone()
        con.execute("CHECKPOINT")
        assert con.execute("PRAGMA database_size").fetchone() is not None
        one = lambda sql, *p: con.execute(sql, list(p)).fetchone()[0]  # noqa: E731
        counts = Counts(
            risks=one("SELECT count(*) FROM risks"),
            sources=one("SELECT count(*) FROM risk_sources WHERE source = ?", SOURCE),
            batches=one("SELECT count(*) FROM import_batches WHERE source = ?", SOURCE),
            assets=one("SELECT count(*) FROM assets"),
            history=one("SELECT count(*) FROM history"),
            risk_controls=one("SELECT count(*) FROM risk_controls"),
        )
    finally:
        con.close()
    assert not Path(f"{db}.wal").exists(), "a clean close checkpoints the log away"
    return counts


def _start(csv_path: Path, db: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RISKMAP_ACTOR": "crash-test"}
    return subprocess.Popen([_riskmap(), "import", "risks", str(csv_path), "--source", SOURCE, "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _writing(db: Path, size: int) -> bool:
    """True once the import has started writing: large inserts go straight into the database file, small
    ones into the write-ahead log."""
    try:
        return Path(f"{db}.wal").exists() or db.stat().st_size != size
    except FileNotFoundError:
        return False


def _kill_when(proc: subprocess.Popen[bytes], db: Path, mode: str, delay: float) -> tuple[bool, bool]:
    """Kill ``proc`` after ``delay`` s (``uniform``) or ``delay`` s after it starts writing (``write``).
    Returns (killed while running, it had started writing at that moment)."""
    size = db.stat().st_size
    start = time.monotonic()
    if mode == "write":
        while proc.poll() is None and not _writing(db, size) and time.monotonic() - start < 120:
            time.sleep(0.0005)
        start = time.monotonic()
    while proc.poll() is None and time.monotonic() - start < delay:
        time.sleep(0.0005)
    if proc.poll() is not None:
        return False, False
    writing = _writing(db, size)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True, writing


def test_sigkill_during_import_leaves_all_or_nothing(fresh_db: Path, tmp_path: Path) -> None:
    register = tmp_path / "big.csv"
    _make_register(register, N_ROWS)
    empty = _check(fresh_db)
    assert empty.risks == 0 and empty.sources == 0

    # One undisturbed run: how long an import takes and what "all of it" looks like.
    full_db = tmp_path / "full.duckdb"
    shutil.copyfile(fresh_db, full_db)
    started = time.monotonic()
    proc = _start(register, full_db)
    _, err = proc.communicate(timeout=300)
    duration = time.monotonic() - started
    assert proc.returncode == 0, err.decode()
    full = _check(full_db)
    assert (full.risks, full.sources, full.batches) == (N_ROWS, N_ROWS, 1)
    assert full.assets == len(ASSETS) and full.history > empty.history

    rng = random.Random(int(os.environ.get("RISKMAP_CRASH_SEED", "20260127")))
    db = tmp_path / "crash.duckdb"
    shutil.copyfile(fresh_db, db)
    outcomes: list[tuple[str, float, bool, bool, str]] = []  # mode, delay, killed, writing, outcome
    deadline = time.monotonic() + BUDGET_SECONDS
    for i in range(ITERATIONS):
        if i >= MIN_ITERATIONS and time.monotonic() > deadline:
            break
        mode = "uniform" if i % 4 == 0 else "write"
        delay = rng.uniform(0.05, duration * 1.05) if mode == "uniform" else rng.uniform(0.0, 0.3)
        proc = _start(register, db)
        killed, had_wal = _kill_when(proc, db, mode, delay)
        if not killed:
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        got = _check(db)
        if got.sources == 0:
            outcome = "none"
            assert got == empty, f"attempt {i} ({mode}, {delay:.3f}s): partial import {got}"
        else:
            outcome = "all"
            assert got == full, f"attempt {i} ({mode}, {delay:.3f}s): partial import {got} != {full}"
        outcomes.append((mode, delay, killed, had_wal, outcome))
        if outcome == "all":
            shutil.copyfile(fresh_db, db)  # start the next attempt from an empty register again

    print("attempts (mode, delay, killed, writing, outcome):", *outcomes, sep="\n  ")
    assert len(outcomes) >= MIN_ITERATIONS, outcomes
    kills = [o for o in outcomes if o[2]]
    assert len(kills) >= MIN_ITERATIONS // 2, f"too few attempts were killed mid-run: {outcomes}"
    assert sum(o[3] for o in kills) >= 3, f"too few kills landed while the database was being written: {outcomes}"

    # The survivor of the last attempt takes the whole import.
    proc = _start(register, db)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert _check(db) == full
