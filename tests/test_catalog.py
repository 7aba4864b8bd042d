"""Catalogs: agreement with the reference index, validation defects, init idempotence, db path."""

from __future__ import annotations

import csv
import hashlib
import subprocess
from pathlib import Path

import duckdb
import pytest

from engine import config, store
from engine.crosswalk import catalog
from engine.lifecycle import init_database
from tests import stores

from .conftest import ROOT, TEST_DATA

pytestmark = pytest.mark.both_stores

CATALOG_DATA = TEST_DATA / "catalogs"


def reference_rows() -> list[dict[str, str]]:
    with (ROOT / "mappings" / "reference" / "iso-control-index.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_v_controls_counts_and_titles_equal_the_reference_index(fresh_db: Path) -> None:
    rows = reference_rows()
    with store.connect(fresh_db) as con:
        got = {(f, r): (t, k, p) for f, r, t, k, p in con.execute(
            "SELECT framework, ref, title, kind, coalesce(parent_ref, '') FROM v_controls").fetchall()}
        counts = dict(((f, k), n) for f, k, n in con.execute(
            "SELECT framework, kind, count(*) FROM v_controls GROUP BY ALL").fetchall())
    expected = {(r["framework"], r["ref"]): (r["title"], r["kind"], r["parent"]) for r in rows}
    assert got == expected
    assert counts[("iso27001-2022", "annex_a_control")] == 93
    assert counts[("iso42001-2023", "annex_a_control")] == 38
    assert counts[("iso27001-2013", "annex_a_control")] == 114


def test_catalog_entries_have_summaries_themes_and_groups(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM controls WHERE coalesce(summary, '') = ''").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM controls WHERE framework = 'iso27001-2022' "
                           "AND kind = 'annex_a_control' AND theme IS NULL").fetchone()[0] == 0
        groups = {r[0] for r in con.execute("SELECT DISTINCT grp FROM controls WHERE framework = 'iso42001-2023' "
                                            "AND kind = 'annex_a_control'").fetchall()}
        ai_clauses = {r[0] for r in con.execute("SELECT ref FROM controls WHERE framework = 'iso42001-2023' "
                                                "AND ref IN ('6.1.1','6.1.2','6.1.3','6.1.4','8.4')").fetchall()}
        frameworks = con.execute("SELECT framework, name, edition, copyright, catalog_version FROM frameworks "
                                 "ORDER BY framework").fetchall()
    assert groups == {f"A.{i}" for i in range(2, 11)}
    assert ai_clauses == {"6.1.1", "6.1.2", "6.1.3", "6.1.4", "8.4"}
    assert [f[0] for f in frameworks] == ["iso27001-2013", "iso27001-2022", "iso42001-2023"]
    assert all(f[3] and "not reproduced" in f[3] for f in frameworks)


def test_bundled_catalogs_validate_clean(run_cli) -> None:
    code, out, err = run_cli("validate")
    assert code == 0, out + err
    assert "valid" in out


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("duplicate_id.yaml", ":ref: duplicate id"),
        ("unknown_parent.yaml", "A.2.2:parent: unknown parent (value 'A.99')"),
        ("missing_title.yaml", "A.2.3:title: missing title"),
        ("title_disagrees_with_index.yaml", "A.6.2.8:title: disagrees with the reference index"),
        ("missing_copyright_header.yaml", "header:copyright: missing header field"),
        ("missing_entry.yaml", "8.4:ref: missing: in the reference index but not in the catalog"),
    ],
)
def test_validate_reports_each_defect_as_file_record_field(run_cli, name: str, needle: str) -> None:
    path = CATALOG_DATA / name
    code, out, err = run_cli("validate", path)
    assert code != 0
    lines = [ln for ln in out.splitlines() if ln.startswith(str(path) + ":")]
    assert any(needle in ln for ln in lines), out
    assert "Traceback" not in out + err


def test_good_catalog_validates(run_cli) -> None:
    code, out, _ = run_cli("validate", CATALOG_DATA / "good.yaml")
    assert code == 0, out


def _digest(path: Path) -> str:
    con = stores.open_db(path)
    try:
        h = hashlib.sha256()
        for table in ("frameworks", "controls", "mappings", "crosswalk_links", "schema_migrations", "settings"):
            for row in con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        con.close()


def test_init_twice_changes_nothing(tmp_path: Path, run_cli) -> None:
    db = stores.new_db(tmp_path, "x.duckdb")
    code, out, _ = run_cli("init", "--db", db)
    assert code == 0 and "migrations applied: 0001_catalog" in out
    before = _digest(db)
    code, out, _ = run_cli("init", "--db", db)
    assert code == 0 and "nothing changed" in out
    assert _digest(db) == before


def test_init_upgrades_a_database_at_an_older_schema(tmp_path: Path) -> None:
    db = stores.new_db(tmp_path, "old.duckdb")
    first = ("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
             "applied_at TIMESTAMP NOT NULL);\n" + (store.MIGRATIONS_DIR / "0001_catalog.sql").read_text())
    with stores.writing(db) as con:
        if stores.ON_POSTGRES:
            store.postgres.native(con, store.postgres.pg_dialect(first))
            con.execute("CALL pg_clear_cache()")
        else:
            con.execute(first)
        con.execute("INSERT INTO schema_migrations VALUES (1, 'catalog', now()::TIMESTAMP)")
    report = init_database(db)
    assert report.migrations and report.migrations[0].startswith("0002_")
    assert store.schema_version(db) == max(v for v, _, _ in store.migrations())


def test_db_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RISKMAP_DB", raising=False)
    assert config.db_path() == config.DEFAULT_DB
    monkeypatch.setenv("RISKMAP_DB", str(tmp_path / "env.duckdb"))
    assert config.db_path() == tmp_path / "env.duckdb"
    assert config.db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_init_uses_riskmap_db_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli) -> None:
    db = stores.new_db(tmp_path, "env.duckdb")
    monkeypatch.setenv("RISKMAP_DB", str(db))
    code, _, _ = run_cli("init")
    assert code == 0
    assert stores.exists(db)


def test_a_broken_catalog_file_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cats = tmp_path / "catalogs"
    cats.mkdir()
    for p in catalog.catalog_files():
        (cats / p.name).write_text(p.read_text())
    (cats / "iso42001-2023.yaml").write_text((CATALOG_DATA / "duplicate_id.yaml").read_text())
    monkeypatch.setattr(catalog, "CATALOG_DIR", cats)
    monkeypatch.setattr(catalog.load_catalogs, "__defaults__", (cats,))
    db = stores.new_db(tmp_path, "x.duckdb")
    with pytest.raises(Exception, match="duplicate id"):
        init_database(db)
    if stores.ON_POSTGRES or db.exists():
        assert store.schema_version(db) == 0


def test_cli_installed_commands_exist() -> None:
    venv = ROOT / ".venv" / "bin"
    for exe in ("riskmap", "streamlit", "pytest", "duckdb"):
        assert (venv / exe).exists(), exe


def test_duckdb_cli_reads_the_database(fresh_db: Path) -> None:
    out = subprocess.run(
        stores.analyst_command(fresh_db, "SELECT framework, kind, count(*) AS n FROM v_controls GROUP BY ALL "
                                         "ORDER BY ALL", csv=True),
        capture_output=True, text=True, check=True).stdout
    assert "iso27001-2022,annex_a_control,93" in out
    assert "iso42001-2023,annex_a_control,38" in out
    assert "iso27001-2013,annex_a_control,114" in out


@stores.file_only("the compression of a DuckDB file's checkpoint; a server has its own storage")
def test_a_bulk_transaction_skips_dictionary_compression_only_while_it_lasts(fresh_db: Path) -> None:
    def setting(con: duckdb.DuckDBPyConnection) -> str:
        return con.execute("SELECT current_setting('disabled_compression_methods')").fetchone()[0]

    with store.transaction(fresh_db, bulk=True) as con:
        assert setting(con).lower() == store.BULK_DISABLED_COMPRESSION
        con.execute("CREATE TABLE bulk_probe AS SELECT range AS i, md5(range::VARCHAR) AS t FROM range(200000)")
    with pytest.raises(RuntimeError), store.transaction(fresh_db, bulk=True) as con:
        con.execute("INSERT INTO bulk_probe VALUES (-1, 'x')")
        raise RuntimeError("rolled back")
    with store.transaction(fresh_db) as con:
        assert setting(con) == ""
        assert con.execute("SELECT count(*), min(i) FROM bulk_probe").fetchone() == (200000, 0)
