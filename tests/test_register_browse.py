"""register_page: the register filtered, sorted and paged in SQL agrees with the full register view,
and user text is only ever a value."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine import charts, register
from engine.errors import RiskmapError
from tests import stores
from tests.test_app_pages import demo_once

pytestmark = pytest.mark.both_stores


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stores.copy_db(demo_once(tmp_path_factory), tmp_path_factory.mktemp("browse"), "demo.duckdb")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo register with copies of its risks (and their links), for several pages."""
    path = stores.copy_db(demo_once(tmp_path_factory), tmp_path_factory.mktemp("browse-big"), "big.duckdb")
    with stores.open_db(path, read_only=False) as con:
        con.execute("CREATE TEMP TABLE copies AS SELECT i FROM range(1, 9) t(i)")
        con.execute("INSERT INTO risks SELECT r.* REPLACE (r.id || '-c' || c.i AS id) FROM risks r, copies c")
        con.execute("INSERT INTO risk_ai_systems SELECT x.* REPLACE (x.risk_id || '-c' || c.i AS risk_id) "
                    "FROM risk_ai_systems x, copies c")
        con.execute("INSERT INTO risk_assets SELECT x.* REPLACE (x.risk_id || '-c' || c.i AS risk_id) "
                    "FROM risk_assets x, copies c")
    return path


def view(db: Path) -> pl.DataFrame:
    with stores.open_db(db) as con:
        return con.execute("SELECT * FROM v_risk_register").pl()


def reference(full: pl.DataFrame, *, systems=(), statuses=(), levels=(), owners=(), text="", sort="id",
              descending=False) -> pl.DataFrame:
    """The filters and sort of the register page, done on the whole view in polars."""
    frame = full
    for col, values in (("management_system", systems), ("status", statuses), ("level", levels),
                        ("owner", owners)):
        if values:
            frame = frame.filter(pl.col(col).is_in(list(values)))
    if text:
        frame = frame.filter(pl.col("title").str.to_lowercase().str.contains(text.lower(), literal=True))
    return frame.sort([sort, "id"], descending=[descending, False], nulls_last=True)


CASES = [
    {},
    {"statuses": ["open", "treated", "accepted"]},
    {"systems": ["AIMS"], "sort": "score", "descending": True},
    {"levels": ["High", "Critical"], "sort": "residual_score"},
    {"sort": "next_review", "descending": True},
    {"sort": "title"},
    {"sort": "owner", "statuses": ["open"]},
    {"sort": "inherent_score", "descending": True, "systems": ["ISMS", "both"]},
]


@pytest.mark.parametrize("case", CASES)
def test_page_matches_the_view(demo: Path, case: dict) -> None:
    full = view(demo)
    want = reference(full, **case)
    got = register.register_page(demo, **case, limit=1000)
    assert got.total == full.height
    assert got.filtered == want.height
    assert got.rows["id"].to_list() == want["id"].to_list()
    assert got.rows.columns == full.columns                       # the view's columns, lists included
    assert got.rows.sort("id").to_dicts() == want.sort("id").to_dicts()
    assert got.owners == sorted(full["owner"].drop_nulls().unique().to_list())


@pytest.mark.parametrize("case", CASES[:4])
def test_chart_counts_cover_every_filtered_risk(big: Path, case: dict) -> None:
    want = reference(view(big), **case)
    got = register.register_page(big, **case, limit=10)
    assert got.rows.height == min(10, want.height) and got.filtered == want.height
    assert got.cells.sort(["stage", "likelihood", "impact"]).to_dicts() == \
        charts.matrix_cells(want).sort(["stage", "likelihood", "impact"]).to_dicts()
    for col, name, frame in (("ai_systems", "ai_system", got.by_ai_system), ("assets", "asset", got.by_asset)):
        exploded = want.select("level", pl.col(col).alias(name)).explode(name).drop_nulls(name)
        expect = exploded.group_by([name, "level"]).len("n").with_columns(pl.col("n").cast(pl.Int64))
        assert frame.with_columns(pl.col("n").cast(pl.Int64)).sort([name, "level"], nulls_last=True).to_dicts() == \
            expect.sort([name, "level"], nulls_last=True).to_dicts()


def test_pages_split_the_filtered_register(big: Path) -> None:
    full = view(big)
    want = reference(full, statuses=["open", "treated"], sort="score", descending=True)["id"].to_list()
    assert len(want) > 250
    seen: list[str] = []
    offset = 0
    while True:
        got = register.register_page(big, statuses=["open", "treated"], sort="score", descending=True,
                                     offset=offset, limit=100)
        assert got.filtered == len(want) and got.total == full.height
        if got.rows.is_empty():
            break
        seen += got.rows["id"].to_list()
        offset += 100
    assert seen == want
    past = register.register_page(big, offset=full.height + 5, limit=50)
    assert past.rows.is_empty() and past.filtered == full.height
    assert past.rows.columns == full.columns


def test_search_is_case_insensitive_text(demo: Path) -> None:
    full = view(demo)
    title = full["title"][0]
    word = title.split()[0]
    got = register.register_page(demo, text=word.upper(), limit=1000)
    assert got.filtered == reference(full, text=word).height > 0
    assert all(word.lower() in t.lower() for t in got.rows["title"])


@pytest.mark.parametrize("text", ["' OR 1=1 --", "x'); DROP TABLE risks; --", "%", "_", "\\", "$text", "?"])
def test_search_text_is_only_a_value(demo: Path, text: str) -> None:
    full = view(demo)
    got = register.register_page(demo, text=text, limit=1000)
    assert got.filtered == reference(full, text=text).height == 0
    assert got.rows.is_empty() and got.cells.is_empty()
    with stores.open_db(demo) as con:
        assert con.execute("SELECT count(*) FROM risks").fetchone()[0] == full.height


def test_search_finds_a_title_with_sql_and_pattern_characters(demo: Path) -> None:
    rid = view(demo)["id"][0]
    with stores.open_db(demo, read_only=False) as con:
        con.execute("UPDATE risks SET title = ? WHERE id = ?", ["Leak via 100% 'quoted' a_b; --", rid])
    try:
        got = register.register_page(demo, text="100% 'QUOTED' A_B; --")
        assert got.rows["id"].to_list() == [rid]
        assert register.register_page(demo, text="1000%").filtered == 0
    finally:
        with stores.open_db(demo, read_only=False) as con:
            con.execute("UPDATE risks SET title = 'restored' WHERE id = ?", [rid])


def test_owner_filter_with_quotes(demo: Path) -> None:
    full = view(demo)
    owner = full["owner"].drop_nulls()[0]
    got = register.register_page(demo, owners=[owner, "O'Brien'); --"], limit=1000)
    assert got.filtered == full.filter(pl.col("owner") == owner).height
    assert set(got.rows["owner"]) == {owner}


@pytest.mark.parametrize("kwargs", [{"sort": "title; DROP TABLE risks"}, {"sort": "description"},
                                    {"offset": -1}, {"limit": 0}, {"limit": 10**6}])
def test_bad_sort_or_page_is_refused(demo: Path, kwargs: dict) -> None:
    with pytest.raises(RiskmapError):
        register.register_page(demo, **kwargs)


def test_macro_reads_only_the_asked_risks_and_view_is_unchanged(demo: Path) -> None:
    full = view(demo)
    ids = full["id"].to_list()[:3]
    with stores.open_db(demo) as con:
        some = con.execute("SELECT * FROM risk_register_rows(?::VARCHAR[]) ORDER BY id", [ids]).pl()
        none = con.execute("SELECT * FROM risk_register_rows([]::VARCHAR[])").pl()
    assert some.to_dicts() == full.filter(pl.col("id").is_in(ids)).sort("id").to_dicts()
    assert none.is_empty() and none.columns == full.columns
