"""Every wrong invocation of the CLI ends in one clear message and an exit code, never a traceback.

Usage mistakes (unknown command or option, missing argument, a value of the wrong type or outside its
choices) print the usage line and one message and exit 2, as click does. The engine's refusals print
one ``error:`` line and exit with the error's code. The tables below cover every command group; the
generated cases cover every command, so a new command is checked as soon as it exists.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main

from engine.cli import app, main
from engine.cli.failures import EXIT_INTERNAL, report_failure

from .conftest import ROOT

RISKMAP = Path(sys.executable).with_name("riskmap")

# The smallest well-formed arguments of each command: enough to get past parsing to the --db check.
MINIMAL_ARGS: dict[str, list[str]] = {
    "audit": [], "backup": ["{tmp}/b.duckdb"], "shell": ["-c", "SELECT 1"], "counterparts": ["iso27001-2022:A.5.1"], "coverage": [],
    "demo": [], "depth": ["2"], "export crosswalk": ["--out", "{tmp}/c.csv"], "export parquet": ["{tmp}/pq"],
    "export plan": ["--out", "{tmp}/p.xlsx"], "export register": ["--out", "{tmp}/r.xlsx"],
    "export soa": ["--out", "{tmp}/s.xlsx"], "gaps": [], "import ai-systems": ["{tmp}/a.csv"],
    "import assessments": ["{tmp}/a.csv"], "import assets": ["{tmp}/a.csv"], "import risks": ["{tmp}/a.csv"],
    "import soa": ["{tmp}/a.csv"], "import actions": ["{tmp}/a.csv"], "import registers": [],
    "suggestions list": [], "suggestions accept": ["S-00001"], "suggestions reject": ["S-00001"],
    "init": [], "matrix set": ["{tmp}/m.yaml"], "matrix show": [], "merges": [], "merges undo": ["M-0001"],
    "plan accept-residual": ["R-0001", "--expires", "2030-01-01", "--justification", "j"],
    "plan add": ["--title", "T"], "plan approve": [],
    "plan link-control": ["A-001", "iso27001-2022:A.5.1"], "plan link-risk": ["A-001", "R-0001"],
    "plan rank": [], "plan residual": [], "plan unlink-control": ["A-001", "iso27001-2022:A.5.1"],
    "plan unlink-risk": ["A-001", "R-0001"], "plan update": ["A-001"], "query": ["SELECT 1"], "rescore": [],
    "restore": ["{tmp}/b.duckdb"], "risk list": [],
    "risk set": ["R-0001", "owner", "X", "--expected-version", "1"],
    "risk show": ["R-0001"], "soa accept-proposals": [], "soa add-control": ["ORG.1", "--title", "T"],
    "soa diff": ["1"], "soa propose": [], "soa reject-proposal": ["P", "--justification", "j"],
    "soa set": ["iso27001-2022:A.5.1"], "soa show": [], "soa snapshot": [],
    "soa versions": [], "user reader-units": ["ana"], "user set-password": ["someone"], "validate": [],
    "whoami": [],
    "export oscal": ["{tmp}/oscal"], "import library": ["{tmp}/l.yaml"], "import mapping": ["{tmp}/m.json"],
    "tailor accept": ["iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15"],
    "tailor add": ["iso42001-2023:A.7.4", "iso27001-2022:A.5.12", "--reason", "r", "--relationship", "equal",
                   "--strength", "3"],
    "tailor dispute": ["iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15", "--reason", "r"],
    "tailor strengthen": ["iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15", "--reason", "r"],
    "tailor weaken": ["iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15", "--reason", "r"],
    "tailor list": [], "tailor withdraw": ["T-0001", "--reason", "r"],
    "scenarios list": [], "scenarios show": ["SEC-01"], "scenarios propose": [], "scenarios status": [],
    "scenarios accept": ["AIS-01", "SEC-01"], "scenarios reject": ["AIS-01", "SEC-01", "--reason", "r"],
    "scenarios reopen": ["AIS-01", "SEC-01"], "scenarios characteristics": ["AIS-01"],
    "import ai-usage": ["{tmp}/u.csv"], "ai-usage list": [], "ai-usage register": ["U-0001"],
    "ai-usage dismiss": ["U-0001", "--reason", "r"],
}
CREATES_DB = {"init", "demo", "restore"}
"""Commands whose --db may name a file that does not exist yet."""
NO_DB = {"validate", "whoami", "user set-password"}
OWN_DB_CHECK = {"backup"}
"""Commands whose --db the engine checks (cases in CASES below)."""


def _commands(group: Any = None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, groups included (a group such as `merges` may run on its own)."""
    group = group or typer.main.get_command(app)
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append(path)
        if getattr(cmd, "commands", None):
            out.extend(_commands(cmd, path))
    return out


def _command(path: tuple[str, ...]) -> Any:
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


COMMANDS = _commands()
LEAVES = [c for c in COMMANDS if " ".join(c) in MINIMAL_ARGS]
REQUIRING = [c for c in LEAVES if any(p.required for p in _command(c).params)]


def _fill(args: list[str], **values: Path) -> list[str]:
    return [a.format(**{k: str(v) for k, v in values.items()}) for a in args]


def _assert_clean(code: int, out: str, err: str) -> None:
    assert isinstance(code, int)
    assert "Traceback" not in out + err
    assert "internal error" not in err, err


def test_the_minimal_arguments_cover_every_command() -> None:
    groups = {" ".join(c) for c in COMMANDS if " ".join(c) not in MINIMAL_ARGS}
    assert groups == {"ai-usage", "export", "import", "matrix", "plan", "risk", "scenarios", "soa", "suggestions",
                      "tailor", "user"}, (
        "give each new command its minimal arguments in MINIMAL_ARGS")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_a_usage_error(run_cli, command: tuple[str, ...]) -> None:
    code, out, err = run_cli(*command, "--no-such-option")
    _assert_clean(code, out, err)
    assert code == 2
    assert f"Usage: riskmap {' '.join(command)}" in err and "No such option: --no-such-option" in err


@pytest.mark.parametrize("command", REQUIRING, ids=" ".join)
def test_a_missing_argument_is_a_usage_error(run_cli, command: tuple[str, ...]) -> None:
    code, out, err = run_cli(*command)
    _assert_clean(code, out, err)
    assert code == 2
    assert f"Usage: riskmap {' '.join(command)}" in err and "Error: Missing " in err


@pytest.mark.parametrize("command", [c for c in LEAVES if " ".join(c) not in CREATES_DB | NO_DB | OWN_DB_CHECK],
                         ids=" ".join)
def test_a_database_that_does_not_exist_is_refused_and_not_created(run_cli, tmp_path: Path,
                                                                   command: tuple[str, ...]) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.duckdb"
    code, out, err = run_cli(*command, *_fill(MINIMAL_ARGS[" ".join(command)], tmp=tmp_path), "--db", missing)
    _assert_clean(code, out, err)
    assert code == 1
    assert f"error: {missing}: no such database; run `riskmap init --db {missing}` first" in err
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", [c for c in LEAVES if " ".join(c) not in NO_DB | OWN_DB_CHECK], ids=" ".join)
def test_a_directory_as_database_is_refused(run_cli, tmp_path: Path, command: tuple[str, ...]) -> None:
    code, out, err = run_cli(*command, *_fill(MINIMAL_ARGS[" ".join(command)], tmp=tmp_path), "--db", tmp_path)
    _assert_clean(code, out, err)
    assert code == 1 and f"error: {tmp_path}: is a directory; --db names a DuckDB file" in err


@pytest.mark.parametrize("command", [("risk", "list"), ("query", "SELECT 1"), ("init",), ("audit",),
                                     ("plan", "add", "--title", "T")], ids=" ".join)
def test_a_file_that_is_not_a_database_is_refused(run_cli, command: tuple[str, ...]) -> None:
    readme = ROOT / "README.md"
    code, out, err = run_cli(*command, "--db", readme)
    _assert_clean(code, out, err)
    assert code == 1 and "not a valid DuckDB database file" in err and err.count("\n") == 1


# (arguments, exit code, a fragment of the message). {db} is an initialised database, {tmp} a private
# directory, {text} a text file that is nothing riskmap reads, {binary} a file that is not text at all.
CASES: list[tuple[list[str], int, str]] = [
    # commands and groups that do not exist
    (["nosuchcmd"], 2, "No such command 'nosuchcmd'"),
    (["import", "soa", "{tmp}/nosuch.csv", "--db", "{db}"], 2, "nosuch.csv"),
    (["risk", "nosuch"], 2, "No such command 'nosuch'"),
    ([], 2, "Usage: riskmap [OPTIONS] COMMAND"),
    (["export"], 2, "Usage: riskmap export"),
    # required options and values of the wrong type
    (["risk", "set", "R-0001", "owner", "--db", "{db}"], 2, "Missing argument 'value'"),
    (["risk", "set", "R-0001", "owner", "X", "--expected-version", "x", "--db", "{db}"], 2,
     "Invalid value for '--expected-version'"),
    (["depth", "abc", "--db", "{db}"], 2, "Invalid value for 'value'"),
    (["depth", "0", "--db", "{db}"], 2, "depth out of range"),
    (["matrix", "show", "--version", "x", "--db", "{db}"], 2, "Invalid value for '--version'"),
    (["query", "SELECT 1", "--max-rows", "0", "--db", "{db}"], 2, "Invalid value for '--max-rows'"),
    (["query", "SELECT 1", "--timeout", "-1", "--db", "{db}"], 2, "Invalid value for '--timeout'"),
    (["plan", "add", "--title", "T", "--effort", "lots", "--db", "{db}"], 2, "Invalid value for '--effort'"),
    (["user", "set-password"], 2, "Missing argument 'USER'"),
    (["whoami", "--format", "xml"], 2, "'xml' is not one of 'text', 'json'"),
    # bad dates
    (["audit", "--today", "2024-13-01", "--db", "{db}"], 2, "'2024-13-01' is not a date (YYYY-MM-DD)"),
    (["plan", "approve", "--expires", "soon", "--db", "{db}"], 2, "'soon' is not a date"),
    (["plan", "add", "--title", "T", "--due", "2024-02-30", "--db", "{db}"], 2, "'2024-02-30' is not a date"),
    (["plan", "accept-residual", "R-1", "--expires", "May", "--justification", "j", "--db", "{db}"], 2,
     "Invalid value for '--expires': 'May' is not a date"),
    (["soa", "set", "iso27001-2022:A.5.1", "--last-verified", "yesterday", "--db", "{db}"], 2,
     "'yesterday' is not a date"),
    # bad choices
    (["risk", "list", "--format", "xml", "--db", "{db}"], 2, "'xml' is not one of 'table', 'csv', 'json'"),
    (["risk", "show", "R-0001", "--format", "xml", "--db", "{db}"], 2, "'xml' is not one of 'text', 'json'"),
    (["matrix", "show", "--format", "json", "--db", "{db}"], 2, "'json' is not one of 'text', 'yaml'"),
    (["risk", "list", "--status", "nosuch", "--db", "{db}"], 2, "'nosuch' is not one of open, treated"),
    (["risk", "list", "--management-system", "itsm", "--db", "{db}"], 2,
     "'itsm' is not one of ISMS, AIMS, both"),
    (["coverage", "--framework", "iso9001", "--db", "{db}"], 2, "'iso9001' is not one of iso27001-2022"),
    (["gaps", "--to", "42001", "--db", "{db}"], 2, "Invalid value for '--to'"),
    (["soa", "show", "--framework", "nosuch", "--db", "{db}"], 1, "no SoA rows for framework 'nosuch'"),
    (["soa", "set", "iso27001-2022:A.5.1", "--status", "nosuch", "--db", "{db}"], 1, "unknown status 'nosuch'"),
    (["export", "soa", "--format", "docx", "--out", "{tmp}/x.docx", "--db", "{db}"], 1, "not 'docx'"),
    (["export", "crosswalk", "--format", "xml", "--out", "{tmp}/x.xml", "--db", "{db}"], 2,
     "unknown export format"),
    (["audit", "--rule", "nosuch", "--db", "{db}"], 1, "no audit rule 'nosuch'"),
    (["soa", "accept-proposals", "--kind", "nosuch", "--db", "{db}"], 1, "unknown proposal kind 'nosuch'"),
    (["import", "risks", "{text}", "--framework", "nosuch", "--db", "{db}"], 2, "unknown"),
    (["scenarios", "list", "--format", "xml", "--db", "{db}"], 2, "'xml' is not one of 'table', 'csv', 'json'"),
    (["scenarios", "list", "--theme", "nosuch", "--db", "{db}"], 1, "no theme 'nosuch'"),
    # ids that do not exist or are malformed
    (["risk", "show", "R-9999", "--db", "{db}"], 1, "no risk 'R-9999'"),
    (["merges", "undo", "M-9999", "--db", "{db}"], 1, "no merge 'M-9999'"),
    (["plan", "update", "A-999", "--title", "X", "--db", "{db}"], 1, "no action 'A-999'"),
    (["counterparts", "A.5.1", "--db", "{db}"], 2, "name a control with its framework"),
    (["counterparts", "nosuch:A.5.1", "--db", "{db}"], 1, "nosuch:A.5.1: no such control"),
    (["soa", "set", "A.5.1", "--db", "{db}"], 2, "name a control with its framework"),
    (["soa", "diff", "one", "--db", "{db}"], 1, "expected a number or 'current'"),
    (["scenarios", "show", "XX-99", "--db", "{db}"], 1, "no AI risk scenario 'XX-99'"),
    (["scenarios", "propose", "--ai-system", "nosuch", "--db", "{db}"], 1, "no AI system 'nosuch'"),
    (["scenarios", "characteristics", "nosuch", "--db", "{db}"], 1, "no AI system 'nosuch'"),
    (["ai-usage", "dismiss", "U-9999", "--reason", "r", "--db", "{db}"], 1, "no observed AI use 'U-9999'"),
    # queries the read-only gate refuses
    (["query", "DELETE FROM risks", "--db", "{db}"], 1, "DELETE statements are not allowed"),
    (["query", "SELECT * FROM nosuch", "--db", "{db}"], 1, "Table with name nosuch does not exist"),
    (["query", "SELECT", "--db", "{db}"], 1, "query does not parse"),
    # files that do not exist, are directories, or are not what the command reads
    (["import", "risks", "{tmp}/missing.csv", "--db", "{db}"], 2, "missing.csv: no such file"),
    (["import", "assets", "{tmp}", "--db", "{db}"], 2, "is a directory"),
    (["import", "ai-usage", "{tmp}/missing.csv", "--db", "{db}"], 2, "missing.csv: no such file"),
    (["import", "ai-usage", "{tmp}", "--db", "{db}"], 2, "is a directory"),
    (["import", "ai-usage", "{text}", "--db", "{db}"], 2, "unsupported file type"),
    (["import", "ai-systems", "{text}", "--db", "{db}"], 2, "unsupported file type"),
    (["import", "assessments", "{tmp}/a.csv", "--mapping", "{tmp}/missing.yaml", "--db", "{db}"], 2,
     "no such mapping file"),
    (["matrix", "set", "{tmp}/missing.yaml", "--db", "{db}"], 2, "missing.yaml: no such file"),
    (["matrix", "set", "{binary}", "--db", "{db}"], 2, "is not UTF-8 text"),
    (["validate", "{tmp}/missing.yaml"], 2, "problem(s) in 1 file(s)"),
    (["validate", "{binary}"], 2, "problem(s) in 1 file(s)"),
    (["validate", "{tmp}"], 2, "is a directory"),
    (["gaps", "--implemented", "{tmp}/missing.txt", "--db", "{db}"], 2, "cannot read file"),
    (["restore", "{tmp}/missing.duckdb", "--db", "{tmp}/x.duckdb"], 2, "no such backup file"),
    (["restore", "{text}", "--db", "{tmp}/x.duckdb"], 2, "not a DuckDB database"),
    (["export", "plan", "--out", "{tmp}", "--db", "{db}"], 2, "Invalid value for '--out'"),
    (["export", "soa", "--out", "/proc/no/such/dir/x.xlsx", "--db", "{db}"], 1, "No such file or directory"),
    (["export", "parquet", "{text}", "--db", "{db}"], 2, "is a file"),
    (["backup", "{tmp}", "--db", "{db}"], 2, "is a directory"),
    (["backup", "{tmp}/b.duckdb", "--db", "{tmp}/missing.duckdb"], 2, "missing.duckdb: no such database"),
    (["backup", "{tmp}/b.duckdb", "--db", "{tmp}"], 1, "Is a directory"),
    (["init", "--db", "/proc/no/such/dir/x.duckdb"], 1, "No such file or directory"),
    (["demo", "--db", "{text}"], 1, "refusing to replace it"),
    # rules the engine enforces
    (["soa", "set", "iso27001-2022:A.5.1", "--not-applicable", "--db", "{db}"], 1, "needs a justification"),
    (["import", "risks", "a.csv", "b.csv", "--source", "x", "--db", "{db}"], 2, "several files were given"),
]


@pytest.fixture
def places(fresh_db: Path, tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\xff\xfe not text")
    return {"db": fresh_db, "tmp": tmp_path, "text": ROOT / "README.md", "binary": binary}


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=[" ".join(c[0]) or "(nothing)" for c in CASES])
def test_a_wrong_invocation_gives_one_clear_message(run_cli, places: dict[str, Path], args: list[str],
                                                    code: int, message: str) -> None:
    got, out, err = run_cli(*[a.format(**places) for a in args])
    _assert_clean(got, out, err)
    assert got == code, (out, err)
    assert message in err + out


@pytest.mark.parametrize(("args", "message"), [
    (["nosuchcmd"], "No such command 'nosuchcmd'"),
    (["risk", "set", "R-0001", "owner"], "Missing argument 'value'"),
    (["import", "nosuchkind", "x"], "No such command 'nosuchkind'"),
    (["plan", "approve", "--expires", "never"], "'never' is not a date"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_the_installed_command_exits_2_with_a_usage_message(tmp_path: Path, args: list[str],
                                                            message: str) -> None:
    env = {**os.environ, "RISKMAP_DB": str(tmp_path / "none.duckdb")}
    proc = subprocess.run([str(RISKMAP), *args], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Usage: riskmap ") and message in proc.stderr


def test_the_installed_command_refuses_a_missing_database_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.duckdb"
    proc = subprocess.run([str(RISKMAP), "risk", "list", "--db", str(missing)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith(f"error: {missing}: no such database")
    assert not missing.parent.exists()


def test_the_console_script_and_the_fixture_use_main(run_cli) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"riskmap": "engine.cli:main"}
    assert main(["--help"]) == 0
    code, out, _ = run_cli("--help")
    assert code == 0 and "risk-mapping engine" in out


def test_a_closed_pipe_ends_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_failure(BrokenPipeError(errno.EPIPE, "Broken pipe")) == 1
    assert capsys.readouterr().err == ""


def test_a_bug_is_one_line_unless_the_traceback_is_asked_for(capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise KeyError("boom")

    try:
        fail()
    except KeyError as exc:
        monkeypatch.delenv("RISKMAP_TRACEBACK", raising=False)
        assert report_failure(exc) == EXIT_INTERNAL
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "internal error in riskmap (KeyError: 'boom')" in err
        monkeypatch.setenv("RISKMAP_TRACEBACK", "1")
        assert report_failure(exc) == EXIT_INTERNAL
        assert "Traceback" in capsys.readouterr().err
