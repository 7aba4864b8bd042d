"""A throw-away PostgreSQL server for the tests: a cluster in a temporary directory on a free port.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the server runs as the
``postgres`` account. The server's binaries come from Debian's ``postgresql`` package (``.ci/run``
installs it). When they are missing the PostgreSQL tests are skipped locally, but fail under CI
(``RISKMAP_REQUIRE_POSTGRES=1``, set by ``.ci/run``): a skipped suite is not a pass.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _bin(name: str) -> str | None:
    for pattern in ("/usr/lib/postgresql/*/bin/" + name,):
        found = sorted(glob.glob(pattern))
        if found:
            return found[-1]
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class Server:
    """A running cluster; :meth:`database` makes a fresh empty database and returns its URL."""

    def __init__(self) -> None:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            message = "needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql; CI installs it)"
            if os.environ.get("RISKMAP_REQUIRE_POSTGRES"):
                pytest.fail(message)
            pytest.skip(message)
        self.pg_ctl = pg_ctl
        self.psql = _bin("psql") or "psql"
        self.dir = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
        os.chmod(self.dir, 0o777)
        self.data = self.dir / "data"
        self.port = _free_port()
        subprocess.run(_as_server_user([initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                        "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        subprocess.run(_as_server_user([pg_ctl, "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                                        "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                              "-c fsync=off -c max_connections=200", "start"]),
                       check=True, capture_output=True, timeout=120)
        self.n = 0

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement on the server with psql (outside a transaction, as CREATE DATABASE needs)."""
        subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", database, "-c", statement],
                       check=True, capture_output=True, timeout=120)

    def database(self, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its URL."""
        self.n += 1
        name = f"t{self.n}_{int(time.time() * 1000) % 100000}"
        self.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_server_user([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
