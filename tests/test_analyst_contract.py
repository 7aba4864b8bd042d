"""The analysts' contract: every view is documented with its real columns, every view exports as Parquet,
and the `duckdb` CLI reads the database from another process while the Streamlit app is running on it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest

from engine import store
from tests import stores

from .demo_support import demo_copy, demo_template

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## For analysts"
BIN = ROOT / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
_VIEW_HEADING = re.compile(r"^#{3,5} `(v_[a-z0-9_]+)`\s*$", re.M)
_COLUMN_ROW = re.compile(r"^\| `([a-z0-9_]+)` \|", re.M)


def analysts_section() -> tuple[str, str]:
    """The analysts' section of README.md. Returns (where, text)."""
    readme = README.read_text(encoding="utf-8")
    assert SECTION in readme, "README.md has no analysts' section"
    text = readme.split(SECTION, 1)[1]
    return "README.md", SECTION + text.split("\n## ", 1)[0]


def documented_views(text: str) -> dict[str, list[str]]:
    """View name -> the columns its table lists, in order."""
    out: dict[str, list[str]] = {}
    parts = _VIEW_HEADING.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = re.split(r"^#{1,5} ", body, maxsplit=1, flags=re.M)[0]
        out[name] = _COLUMN_ROW.findall(body)
    return out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_copy(demo_template(tmp_path_factory), tmp_path_factory.mktemp("analysts"))


def real_columns(db: Path) -> dict[str, list[str]]:
    con = stores.open_db(db)
    try:
        return {v: [r[0] for r in con.execute(f"DESCRIBE {v}").fetchall()] for v in store.view_names()}
    finally:
        con.close()


def test_every_view_is_documented_with_its_columns(fresh_db: Path) -> None:
    where, text = analysts_section()
    docs = documented_views(text)
    real = real_columns(fresh_db)
    undocumented = sorted(set(real) - set(docs))
    assert not undocumented, f"views not documented in {where}: {undocumented}"
    stale = sorted(set(docs) - set(real))
    assert not stale, f"{where} documents views that do not exist: {stale}"
    for view, columns in real.items():
        assert docs[view] == columns, (
            f"{where}: the columns listed for {view} differ from the view's.\n"
            f"  documented: {docs[view]}\n  real:       {columns}")


def test_the_section_covers_the_contract() -> None:
    _where, text = analysts_section()
    for needle in ("duckdb -readonly", "riskmap export parquet DIR", "```sql", "riskmap shell", "RISKMAP_READER_URL",
                   "GRANT riskmap_reader TO"):
        assert needle in text
    for name in ("v_controls", "v_crosswalk", "v_coverage", "v_risk_register", "v_treatment_plan", "v_soa"):
        assert f"`{name}`" in text


def test_example_queries_run(demo_db: Path) -> None:
    _where, text = analysts_section()
    queries = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert len(queries) >= 5
    con = stores.open_db(demo_db)
    try:
        for q in queries:
            con.execute(q).fetchall()
    finally:
        con.close()


def test_export_parquet_writes_every_view(demo_db: Path, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "parquet"
    code, stdout, err = run_cli("export", "parquet", out, "--db", demo_db)
    assert code == 0, err
    files = sorted(p.stem for p in out.glob("*.parquet"))
    assert files == sorted(store.view_names())
    real = real_columns(demo_db)
    con = stores.open_db(demo_db)
    try:
        for view in store.view_names():
            got = pl.read_parquet(out / f"{view}.parquet")
            assert got.columns == real[view]
            assert got.height == con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    finally:
        con.close()
    register = pl.read_parquet(out / "v_risk_register.parquet")
    assert register.height == 90 and register.schema["sources"] == pl.List(pl.String)
    assert f"{len(files)} views written" in stdout


# --------------------------------------------------------------------- duckdb CLI beside the running app

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_app(demo_db: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` serving the demo database on a free port."""
    port = _free_port()
    env = {**os.environ, "RISKMAP_DB": str(demo_db)}
    log = tmp_path / "streamlit.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "streamlit"), "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _open_in_browser(url: str) -> Iterator[None]:
    """Keep one browser session on the app (so its script runs and reads the database), if chromium is here."""
    if not CHROMIUM.exists():
        yield
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("h1", timeout=60_000)
            yield
        finally:
            browser.close()


@pytest.mark.slow
def test_duckdb_cli_reads_while_the_app_runs(running_app: str, demo_db: Path) -> None:
    duckdb_cli = BIN / "duckdb"
    assert duckdb_cli.exists(), "the duckdb CLI (pip duckdb-cli) is missing from .venv"
    with _open_in_browser(running_app):
        result = subprocess.run(stores.analyst_command(demo_db, "SELECT count(*) FROM v_risk_register"),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert re.search(r"\b90\b", result.stdout), result.stdout
        csv = subprocess.run(
            stores.analyst_command(demo_db, "SELECT count(*) AS n FROM v_soa WHERE applicable IS NOT NULL", csv=True),
            capture_output=True, text=True, timeout=60)
        assert csv.returncode == 0, csv.stderr
        assert csv.stdout.split() == ["n", "92"]
        with urllib.request.urlopen(f"{running_app}/_stcore/health", timeout=5) as resp:
            assert resp.read().strip() == b"ok", "the app stopped serving while the CLI read the file"
