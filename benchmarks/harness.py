"""Measurement harness: every run in a fresh process, timed, with its peak memory.

A run is ``(module:function, kwargs)``; the function does its own untimed set-up and returns the
seconds of the timed part, so set-up (copying a database, generating files, loading libraries)
never counts. Each run happens in a spawned process so caches do not carry over and the process's
peak RSS is that run's.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import platform
import resource
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    name: str
    variant: str                  # engine | limit | baseline
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(median=self.median, min=min(self.runs) if self.runs else None,
                 max=max(self.runs) if self.runs else None)
        return d


def _warm_up() -> None:
    """Load the libraries a running riskmap process (the app, a notebook) has already loaded.

    DuckDB's Python client imports pandas and pyarrow the first time a query takes a parameter
    (about 0.4 s here); the clock should measure the work, not the loading of Python libraries, so
    every variant's process does this once before its timed part, as it imports its modules."""
    import duckdb

    duckdb.connect().execute("SELECT ?", [1]).fetchall()


def _child(target: str, kwargs: dict[str, Any], queue: mp.Queue) -> None:
    try:
        _warm_up()
        mod, fn = target.split(":")
        result = getattr(importlib.import_module(mod), fn)(**kwargs)
        seconds, note = result if isinstance(result, tuple) else (result, "")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(("ok", seconds, peak, note))
    except BaseException as exc:  # report, don't hang the parent
        import traceback

        queue.put(("error", traceback.format_exc(), 0.0, str(exc)))


def run_once(target: str, **kwargs: Any) -> tuple[float, float, str]:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, kwargs, queue))
    proc.start()
    status, value, peak, note = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{target} failed:\n{value}")
    return float(value), float(peak), note


def measure(name: str, variant: str, target: str, runs: int, **kwargs: Any) -> Measurement:
    m = Measurement(name, variant)
    for _ in range(runs):
        seconds, peak, note = run_once(target, **kwargs)
        m.runs.append(round(seconds, 4))
        m.peak_rss_mb = max(m.peak_rss_mb, round(peak, 1))
        m.note = note or m.note
    return m


def cached_database_is_current(path: Path) -> bool:
    """A database prepared by an earlier run can be reused only if it has every migration of this
    checkout; otherwise it is prepared again (and the new one renamed over it)."""
    from engine import store

    return path.exists() and store.schema_version(path) == max(v for v, _, _ in store.migrations())


def machine() -> dict[str, Any]:
    """A description of the machine the numbers were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpus": mp.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as fh:
            info["memory_gib"] = round(int(fh.readline().split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        if names:
            info["cpu_model"] = names[0]
    except OSError:
        pass
    try:
        import duckdb
        import polars

        info["duckdb"] = duckdb.__version__
        info["polars"] = polars.__version__
    except ImportError:
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                            text=True, check=False).stdout.strip()
    except OSError:
        pass
    return info
