"""Row level security on a real PostgreSQL server: an analyst's read-only login limited to business units
reads those units' risks and what hangs off them only, whether through psql or DuckDB; the engine's own
login is not limited; only an admin sets a login's units."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from engine import lifecycle, plan, register
from engine.access import Principal, rls
from engine.errors import ConfigError, PermissionDenied
from engine.store import postgres
from tests.pg_server import Server

SETUP = Principal.everything("setup", "Test Setup", auth="api")
ADMIN = Principal("ada", "Ada Admin", {"admin": None})
UNITS = {"Clinical": ("Sepsis missed by triage", "Model drift"), "Platform": ("Database lost", "Root account taken")}


@pytest.fixture(scope="module")
def store_url(server: Server) -> str:
    """A store with two risks per unit, their controls, an action, an acceptance, and two reader logins:
    ``ana`` limited to Clinical, ``bo`` reading every unit."""
    url = server.database()
    lifecycle.init_database(url)
    ids: dict[str, list[str]] = {}
    for unit, titles in UNITS.items():
        for title in titles:
            rid = register.create_risk(url, {"title": title, "management_system": "ISMS", "business_unit": unit,
                                             "owner": "Owner"}, actor=SETUP, controls=["iso27001-2022:A.5.1"])
            ids.setdefault(unit, []).append(rid)
    plan.add_action(url, title="Fix it", risk_ids=[ids["Platform"][0]], actor=SETUP, channel="api")
    plan.accept_residual(url, ids["Platform"][1], expires_on=date.today() + timedelta(days=90),
                         justification="Watched", actor=SETUP, channel="api")
    for login in ("ana", "bo"):
        server.sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN "
                   f"CREATE ROLE {login} LOGIN; END IF; END $$; GRANT riskmap_reader TO {login};")
    assert rls.set_reader_units(url, "ana", ["Clinical"], actor=ADMIN) == ["Clinical"]
    return url


def psql(server: Server, url: str, login: str, sql: str) -> list[str]:
    got = subprocess.run([server.psql, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", login,
                          "-d", url.rsplit("/", 1)[-1], "-tAc", sql], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    return [line for line in got.stdout.splitlines() if line]


def test_a_limited_reader_sees_its_units_risks_only(server: Server, store_url: str) -> None:
    assert psql(server, store_url, "ana", "SELECT DISTINCT business_unit FROM risks") == ["Clinical"]
    assert psql(server, store_url, "ana", "SELECT count(*) FROM risks") == ["2"]
    assert psql(server, store_url, "bo", "SELECT count(*) FROM risks") == ["4"]


@pytest.mark.parametrize(("table", "column"), [*rls.HANGING_TABLES.items(), ("history", "entity_id")])
def test_what_hangs_off_a_risk_is_seen_with_the_risk_only(server: Server, store_url: str, table: str,
                                                          column: str) -> None:
    clinical = set(psql(server, store_url, "bo", "SELECT id FROM risks WHERE business_unit = 'Clinical'"))
    where = " WHERE entity = 'risk'" if table == "history" else ""
    seen = set(psql(server, store_url, "ana", f"SELECT DISTINCT {column} FROM {table}{where}"))
    assert seen <= clinical, f"{table}: rows of other units' risks visible: {seen - clinical}"
    everything = set(psql(server, store_url, "bo", f"SELECT DISTINCT {column} FROM {table}{where}"))
    assert seen == everything & clinical


def test_readers_see_their_own_limits_only_and_still_cannot_write(server: Server, store_url: str) -> None:
    assert psql(server, store_url, "ana", "SELECT login || ':' || business_unit FROM reader_units") == [
        "ana:Clinical"]
    assert psql(server, store_url, "bo", "SELECT count(*) FROM reader_units") == ["0"]
    got = subprocess.run([server.psql, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "ana", "-d",
                          store_url.rsplit("/", 1)[-1], "-c", "DELETE FROM reader_units"],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode != 0 and "permission denied" in got.stderr


def test_the_limit_holds_through_duckdb_too(server: Server, store_url: str) -> None:
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    try:
        con.execute(f"LOAD '{postgres.extension_path()}'")
        reader = server.url(store_url.rsplit("/", 1)[-1], user="ana")
        con.execute(f"ATTACH '{reader}' AS s (TYPE postgres, READ_ONLY)")
        assert con.execute("SELECT DISTINCT business_unit FROM s.public.risks").fetchall() == [("Clinical",)]
    finally:
        con.close()


def test_the_engine_is_not_limited_and_keeps_writing(store_url: str) -> None:
    assert len(register.list_risks(store_url)) == 4
    rid = register.list_risks(store_url)["id"][0]
    after = register.update_risk(store_url, rid, {"owner": "Someone"}, None, actor=SETUP)
    assert after["owner"] == "Someone"


def test_only_an_admin_sets_a_readers_units(server: Server, store_url: str, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="may not manage users and passwords: needs the role admin"):
        rls.set_reader_units(store_url, "bo", ["Platform"], actor=Principal("vic", grants={"viewer": None}))
    assert psql(server, store_url, "bo", "SELECT count(*) FROM risks") == ["4"]
    with pytest.raises(ConfigError, match="for the PostgreSQL store"):
        rls.set_reader_units(tmp_path / "file.duckdb", "bo", ["Platform"], actor=ADMIN)
    assert rls.set_reader_units(store_url, "bo", ["Platform"], actor=ADMIN) == ["Platform"]
    assert psql(server, store_url, "bo", "SELECT DISTINCT business_unit FROM risks") == ["Platform"]
    assert rls.reader_units(store_url) == {"ana": ["Clinical"], "bo": ["Platform"]}
    assert rls.set_reader_units(store_url, "bo", [], actor=ADMIN) == []  # every unit again
    assert psql(server, store_url, "bo", "SELECT count(*) FROM risks") == ["4"]


def test_init_again_keeps_the_policies(server: Server, store_url: str) -> None:
    lifecycle.init_database(store_url)
    assert psql(server, store_url, "ana", "SELECT count(*) FROM risks") == ["2"]
