"""The PostgreSQL figures of `make bench`: the same enterprise on a throw-away PostgreSQL server.

(a) the 50 registers imported into one register (``engine.register.import_risk_files`` on a
    ``postgresql://`` store: DuckDB attaches the server; rows go in through COPY), budget 10 s;
(c) the SoA written to Excel with 100,000 linked risks, budget 1 s;
(d) every app page's script run under AppTest on that register, first run with empty caches
    included, budget 1.5 s per page.

The server is a cluster in a temporary directory on a free port (``tests/pg_server.py``, as the tests
start it), with ``fsync=off`` as there. Every run is a fresh process, like the DuckDB runs, and an
import run starts from a copy of a prepared database (``CREATE DATABASE ... TEMPLATE``, untimed). The
import's clock includes attaching the server and defining the views in the process's DuckDB instance
(about 0.2 s), which ``riskmap import`` pays too; the SoA export, like the DuckDB run, exports once
before the timed export, and the pages are timed after the app's process has started.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .register_bench import _files

TARGETS = {"a": "under 10 s", "c": "under 1 s", "d": "under 1.5 s per page"}
INVENTORIES = "bench_inventories"
ENTERPRISE = "bench_enterprise"


def available() -> str | None:
    """None when PostgreSQL's server binaries are installed, else why the PostgreSQL figures are skipped."""
    from tests.pg_server import _bin

    if _bin("initdb") and _bin("pg_ctl"):
        return None
    return "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"


@dataclass
class Cluster:
    """A running throw-away server and the psql that creates its databases."""

    port: int
    psql: str

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", "postgres", "-c", statement],
                       check=True, capture_output=True, timeout=600)

    def copy(self, template: str, name: str) -> str:
        """A fresh copy of database ``template`` named ``name`` (replacing one of that name); its URL."""
        self.sql(f"DROP DATABASE IF EXISTS {name}")
        self.sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def version(self) -> str:
        got = subprocess.run([self.psql, "-X", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                              "-d", "postgres", "-c", "SHOW server_version"], capture_output=True, text=True,
                             timeout=60)
        return got.stdout.strip()


def start() -> tuple[Any, Cluster]:
    """Start the server; returns (the server, to stop it at the end, and its cluster handle)."""
    from tests.pg_server import Server

    server = Server()
    return server, Cluster(server.port, server.psql)


def prepare(cluster: Cluster, assets_file: Path, ai_systems_file: Path) -> None:
    """The inventories database every import run copies: schema, catalogs, assets and AI systems (untimed)."""
    from engine import register
    from engine.lifecycle import init_database
    from engine.store import postgres

    cluster.sql(f"DROP DATABASE IF EXISTS {INVENTORIES}")
    cluster.sql(f"CREATE DATABASE {INVENTORIES}")
    url = cluster.url(INVENTORIES)
    init_database(url)
    register.import_assets(url, assets_file, actor="bench")
    register.import_ai_systems(url, ai_systems_file, actor="bench")
    postgres.reset()  # a template database must have no session connected


def keep_enterprise(cluster: Cluster) -> str:
    """The register the last import run built, kept as the enterprise database for (c) and (d)."""
    cluster.copy("a_engine", ENTERPRISE)
    return ENTERPRISE


# ------------------------------------------------------------------------ runs (each in a fresh process)

def import_run(port: int, psql: str, reg_dir: str) -> tuple[float, str]:
    """(a) Import the 50 registers into a copy of the inventories database."""
    from engine import register, store

    url = Cluster(port, psql).copy(INVENTORIES, "a_engine")
    files = [register.RiskFile(p, s, management_system=m) for p, s, m in _files(reg_dir)]
    t0 = time.perf_counter()
    register.import_risk_files(url, files, actor="bench")
    elapsed = time.perf_counter() - t0
    with store.connect(url) as con:
        n = con.execute("SELECT count(*) FROM risks").fetchone()[0]
        lin = con.execute("SELECT count(*) FROM risk_sources").fetchone()[0]
    return elapsed, f"{n} risks from {lin} source rows"


def soa_run(port: int, psql: str, work: str) -> tuple[float, str]:
    """(c) The SoA to Excel from the enterprise database (a warm-up export first, as for the file)."""
    from engine import exports

    url = Cluster(port, psql).url(ENTERPRISE)
    out = Path(work) / "c-postgres.xlsx"
    exports.export_soa(url, "xlsx", Path(work) / "c-postgres-warm.xlsx")
    t0 = time.perf_counter()
    exports.export_soa(url, "xlsx", out)
    return time.perf_counter() - t0, f"{out.stat().st_size // 1024} KiB workbook"
