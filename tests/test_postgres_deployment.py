"""The README's deployment steps for a team on PostgreSQL, run as written: a database owned by an
ordinary login, `riskmap init` by that login, libpq's environment for connection details, analysts on a
login granted the read-only role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pg_server import Server


def _riskmap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "riskmap"), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_an_owner_without_createrole_is_told_how_to_create_the_reader_role(server: Server) -> None:
    server.sql("CREATE ROLE team_app LOGIN")
    server.sql("CREATE DATABASE team OWNER team_app")
    url = server.url("team", user="team_app")
    refused = _riskmap("init", "--db", url)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "CREATE ROLE riskmap_reader NOLOGIN" in refused.stderr, refused.stderr
    server.sql("CREATE ROLE riskmap_reader NOLOGIN")  # once, by a role that may
    # the port from libpq's environment, as the README says for passwords and TLS settings
    done = _riskmap("init", "--db", "postgresql://team_app@127.0.0.1/team", env={"PGPORT": str(server.port)})
    assert done.returncode == 0, done.stderr
    assert "0001_catalog" in done.stdout  # the refused run applied nothing: it was one transaction
    server.sql("CREATE ROLE team_analyst LOGIN")
    server.sql("GRANT riskmap_reader TO team_analyst")
    psql = [server.psql, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "team_analyst", "-d", "team"]
    read = subprocess.run([*psql, "-tAc", "SELECT count(*) > 400 FROM controls"], capture_output=True, text=True)
    assert read.stdout.strip() == "t", read.stderr
    write = subprocess.run([*psql, "-c", "DELETE FROM risks"], capture_output=True, text=True)
    assert write.returncode != 0 and "permission denied" in write.stderr
