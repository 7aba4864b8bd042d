"""The command line acts as the operating system account (or a scheduled job's service identity) under the
roles file: `riskmap whoami`, refusals as one line with exit code 77, local-account passwords."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.access import os_account
from tests.reliability.dbstate import db_state, rows
from tests.test_soa_support import seed_register

from .access_support import as_service, use_roles

RISKMAP = Path(sys.executable).with_name("riskmap")
ME = os_account()


@pytest.fixture
def db(fresh_db: Path) -> Path:
    seed_register(fresh_db)
    return fresh_db


def test_whoami_without_a_roles_file_is_the_single_user_default(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("whoami")
    assert code == 0, err
    assert out.splitlines()[:3] == [f"principal: {ME}", "identified as: the operating system account running "
                                    "the command", "roles file: none (single-user default: every role)"]
    assert "role admin: every business unit" in out and "sees: every business unit" in out


def test_whoami_shows_roles_and_units_from_the_roles_file(run_cli, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    path = use_roles(monkeypatch, tmp_path, {"nightly": ["contributor"]},
                     me={"name": "Test Runner", "roles": ["viewer", "contributor"], "units": ["Clinical"]})
    code, out, _ = run_cli("whoami")
    assert code == 0
    assert f"principal: {ME} (Test Runner)" in out and f"roles file: {path}" in out
    assert "role viewer: Clinical" in out and "role contributor: Clinical" in out and "sees: Clinical" in out
    as_service(monkeypatch, "nightly")
    code, out, _ = run_cli("whoami", "--format", "json")
    got = json.loads(out)
    assert (got["id"], got["auth"], got["roles"], got["units"]) == ("nightly", "service", ["contributor"], None)


def test_a_refused_command_prints_one_line_exits_77_and_writes_nothing(run_cli, db: Path,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {}, me={"name": "Vic Viewer", "roles": ["viewer"]})
    before = db_state(db)
    code, out, err = run_cli("risk", "set", "R-1", "owner", "Mallory", "--expected-version", "1", "--db", db)
    assert code == 77 and out == ""
    assert err == (f"error: Vic Viewer <{ME}> (viewer) may not edit risks (risk R-1, unit (none)): needs the role "
                   "contributor\n")
    for args in (["depth", "2"], ["soa", "snapshot"], ["plan", "accept-residual", "R-1", "--expires", "2099-01-01",
                                                       "--justification", "j"], ["restore", str(tmp_path / "x")]):
        code, _, err = run_cli(*args, "--db", db)
        assert code == 77 and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    assert db_state(db) == before
    code, out, _ = run_cli("risk", "list", "--format", "csv", "--db", db)  # reading is every role's
    assert code == 0 and "R-1" in out


def test_a_user_the_roles_file_does_not_list_may_do_nothing(run_cli, db: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"someone-else": ["admin"]})
    code, _, err = run_cli("risk", "list", "--db", db)
    assert code == 77 and f"{ME} (no role) may not read" in err
    code, out, _ = run_cli("whoami")
    assert code == 0 and "roles: none (every operation is refused)" in out


def test_the_history_names_the_account_that_ran_the_command(run_cli, db: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"nightly": {"name": "Nightly job", "roles": ["contributor"]}},
              me={"name": "Test Runner", "roles": ["contributor"]})
    assert run_cli("risk", "set", "R-1", "owner", "Zed", "--expected-version", "1", "--db", db)[0] == 0
    as_service(monkeypatch, "nightly")
    assert run_cli("risk", "set", "R-1", "owner", "Yan", "--expected-version", "2", "--db", db)[0] == 0
    got = rows(db, "SELECT actor, actor_name, channel FROM v_history WHERE entity = 'risk' AND entity_id = 'R-1' "
                   "ORDER BY id")
    assert got == [(ME, "Test Runner", "cli"), ("nightly", "Nightly job", "cli")]
    code, out, _ = run_cli("risk", "show", "R-1", "--db", db)
    assert "Nightly job <nightly> (cli) update owner: 'Zed' -> 'Yan'" in out


def test_a_bad_roles_file_is_named_with_key_and_value(run_cli, db: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(f"users:\n  {ME}:\n    roles: [superuser]\n", encoding="utf-8")
    monkeypatch.setenv("RISKMAP_ROLES", str(path))
    code, _, err = run_cli("risk", "list", "--db", db)
    assert code == 2 and f"{path}:users.{ME}:roles: unknown role (value 'superuser')" in err


def test_set_password_reads_the_password_and_stores_only_its_hash(run_cli, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    path = use_roles(monkeypatch, tmp_path, {"ann": ["viewer"]}, me=["admin"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))
    code, out, err = run_cli("user", "set-password", "ann")
    assert code == 0, err
    assert "password of ann set" in out and "a long enough secret" not in out + err
    text = path.read_text(encoding="utf-8")
    assert "a long enough secret" not in text and "$argon2id$" in text
    as_service(monkeypatch, None)
    use_roles(monkeypatch, tmp_path, {"ann": ["viewer"]}, me=["viewer"])
    code, _, err = run_cli("user", "set-password", "ann")
    assert code == 77 and "may not manage users and passwords: needs the role admin" in err


def test_the_installed_command_reports_a_refusal_in_one_line(db: Path, tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text(f"users:\n  {ME}: {{roles: [viewer]}}\n", encoding="utf-8")
    env = {**os.environ, "RISKMAP_ROLES": str(roles)}
    env.pop("RISKMAP_SERVICE_IDENTITY", None)
    proc = subprocess.run([str(RISKMAP), "matrix", "set", str(tmp_path / "m.yaml"), "--db", str(db)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2  # the matrix file is missing: an input problem comes first
    proc = subprocess.run([str(RISKMAP), "depth", "2", "--db", str(db)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 77 and proc.stderr.count("\n") == 1 and "needs the role admin" in proc.stderr
