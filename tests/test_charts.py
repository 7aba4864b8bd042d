"""The chart builders (engine.charts): plotly figures from frames, testable without Streamlit."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from engine import charts, store
from engine.crosswalk import coverage
from engine.register import DEFAULT_MATRIX, MatrixSpec

pytestmark = pytest.mark.both_stores

MATRIX = MatrixSpec(5, ("1", "2", "3", "4", "5"), ("a", "b", "c", "d", "e"), ("Low", "Medium", "High", "Critical"),
                    (1, 4, 8, 15), ("#0f0", "#ff0", "#f80", "#f00"), 6)
RISKS = pl.DataFrame({
    "id": ["R-1", "R-2", "R-3"],
    "inherent_likelihood": [4, 4, 2], "inherent_impact": [5, 5, 1],
    "residual_likelihood": [2, 1, 1], "residual_impact": [3, 3, None],
    "current_level": ["Critical", "Critical", "Low"],
    "management_system": ["ISMS", "AIMS", "ISMS"],
})


def _json_ok(fig: go.Figure) -> dict:
    """The figure serialises (what Streamlit sends to the browser)."""
    return json.loads(fig.to_json())


def _message(fig: go.Figure) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


@pytest.mark.parametrize("build", [
    lambda: charts.coverage_by_group(pl.DataFrame()),
    lambda: charts.coverage_summary(pl.DataFrame()),
    lambda: charts.overlap_heatmap(pl.DataFrame()),
    lambda: charts.crosswalk_sankey(pl.DataFrame()),
    lambda: charts.risk_matrix(pl.DataFrame(), MATRIX),
    lambda: charts.inherent_vs_residual(pl.DataFrame(), MATRIX),
    lambda: charts.risks_by_level(pl.DataFrame()),
    lambda: charts.risks_by(pl.DataFrame(), "ai_system"),
    lambda: charts.treatment_gantt(pl.DataFrame()),
    lambda: charts.do_once_ranking(pl.DataFrame()),
    lambda: charts.status_bar(pl.DataFrame()),
    lambda: charts.gap_effort(pl.DataFrame()),
])
def test_every_builder_accepts_an_empty_frame(build) -> None:
    fig = build()
    assert isinstance(fig, go.Figure)
    _json_ok(fig)


def test_empty_figure_says_so() -> None:
    assert "No data yet" in _message(charts.coverage_by_group(pl.DataFrame(), "x"))


def test_overlap_heatmap_cells_match_the_view(fresh_db: Path) -> None:
    overlap = coverage.overlap_summary(fresh_db)
    fig = charts.overlap_heatmap(overlap, "n_links")
    heat = fig.data[0]
    assert len(heat.y) == overlap["theme_27001"].n_unique()
    assert len(heat.x) == overlap["group_42001"].n_unique()
    total = sum(v for row in heat.z for v in row if v is not None)
    assert total == overlap["n_links"].sum()
    # Groups in numeric order: A.2 before A.10.
    groups = [x.split()[0] for x in heat.x]
    assert groups.index("A.2") < groups.index("A.10")
    strength = charts.overlap_heatmap(overlap, "mean_strength").data[0]
    assert max(v for row in strength.z for v in row if v is not None) <= 10


def test_overlap_heatmap_refuses_an_unknown_metric() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        charts.overlap_heatmap(pl.DataFrame({"theme_27001": ["x"]}), "colour")


def test_sankey_groups_flows_and_keeps_the_strongest_relationship() -> None:
    links = pl.DataFrame({"left": ["T1", "T1", "T2"], "right": ["G1", "G1", "G2"],
                          "relationship": ["intersects_with", "equal", "subset_of"], "strength": [4, 8, 6]})
    sankey = charts.crosswalk_sankey(links).data[0]
    assert list(sankey.node.label) == ["T1", "T2", "G1", "G2"]
    assert list(sankey.link.value) == [2, 1]           # link counts per flow at group level
    assert "strongest: equal" in sankey.link.customdata[0]
    control_level = charts.crosswalk_sankey(links, level="control").data[0]
    assert list(control_level.link.value) == [6, 6]     # mean strength per flow


def test_risk_matrix_puts_each_risk_in_its_cell() -> None:
    heat = charts.risk_matrix(RISKS, MATRIX, "inherent").data[0]
    assert heat.text[3][4] == "2"      # likelihood 4, impact 5
    assert heat.text[1][0] == "1"      # likelihood 2, impact 1
    assert heat.z[3][4] == 3           # score 20: Critical (4th level)
    assert heat.z[0][0] == 0           # score 1: Low
    fig = charts.inherent_vs_residual(RISKS, MATRIX)
    assert [t.type for t in fig.data] == ["heatmap", "heatmap", "scatter", "scatter"]   # cells, then counts
    assert fig.data[1].text[1][2] == "1" and fig.data[1].text[0][2] == "1"
    unrated = RISKS.filter(pl.col("residual_likelihood").is_null() | pl.col("residual_impact").is_null()).height
    assert unrated > 0
    # a risk without a residual rating is counted, not dropped: the residual matrix says how many
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Inherent", f"Residual ({unrated} not rated)"], titles
    assert charts.risk_matrix(RISKS, MATRIX, "residual").layout.title.text == f"Residual risk ({unrated} not rated)"
    cells = charts.matrix_cells(RISKS)
    assert cells.filter(stage="residual")["n"].sum() == cells.filter(stage="inherent")["n"].sum() == RISKS.height
    # one likelihood axis, on the left: the residual matrix's labels cannot run into the inherent one
    assert fig.layout.yaxis.title.text == "Likelihood" and fig.layout.yaxis2.showticklabels is False
    assert fig.layout.yaxis2.title.text is None
    _json_ok(fig)


def test_the_mapping_flow_keeps_its_nodes_in_id_order() -> None:
    links = pl.DataFrame({"left": ["A.8.15", "A.5.10", "A.5.9", "A.8.2"], "right": ["A.6.2.8", "A.4.2", "A.10.3", "A.4.2"],
                          "relationship": ["intersects_with"] * 4, "strength": [7, 6, 5, 4]})
    node = charts.crosswalk_sankey(links, level="control").data[0].node
    assert list(node.label) == ["A.5.9", "A.5.10", "A.8.2", "A.8.15", "A.4.2", "A.6.2.8", "A.10.3"]
    assert list(node.y[:4]) == sorted(node.y[:4]) and list(node.y[4:]) == sorted(node.y[4:])
    assert set(node.x[:4]) == {0.001} and set(node.x[4:]) == {0.999}
    assert charts.crosswalk_sankey(links, level="control").data[0].arrangement == "fixed"


def test_matrix_spec_levels() -> None:
    assert [MATRIX.level_index(s) for s in (1, 3, 4, 8, 14, 15, 25)] == [0, 0, 1, 2, 2, 3, 3]
    spec = MatrixSpec.from_mapping({"size": 4, "likelihood_labels": list("abcd"), "impact_labels": list("abcd"),
                                    "level_names": ["L", "H"], "level_thresholds": [1, 6],
                                    "level_colours": ["#0f0", "#f00"], "appetite": 4})
    assert spec.size == 4 and spec.level_index(6) == 1 and spec.appetite == 4


def test_charts_draw_the_matrix_the_register_uses(fresh_db: Path) -> None:
    """One MatrixSpec: the charts read the register's own matrix (a row of risk_matrix_versions), with
    the register's thresholds and appetite, not defaults of their own."""
    with store.connect(fresh_db) as con:
        row = con.execute("SELECT * FROM risk_matrix_versions ORDER BY version DESC LIMIT 1").pl().row(0, named=True)
    spec = MatrixSpec.from_mapping(row)
    assert spec.same_criteria(DEFAULT_MATRIX) and spec.version == 1
    assert charts.MatrixSpec is MatrixSpec
    heat = charts.risk_matrix(RISKS, spec).data[0]
    # score 4 (2 x 2) is Medium on the register's matrix (levels from 1, 4, 8, 15)
    assert heat.z[1][1] == 1 and spec.level(4) == "Medium"


def test_risks_by_level_stacks_management_systems() -> None:
    fig = charts.risks_by_level(RISKS, MATRIX, level_col="current_level")
    names = {t.name for t in fig.data}
    assert names == {"ISMS (ISO/IEC 27001)", "AIMS (ISO/IEC 42001)"}   # by their names, not their codes
    assert fig.layout.legend.title.text == "Management system"
    isms = next(t for t in fig.data if t.name == "ISMS (ISO/IEC 27001)")
    assert list(isms.x) == list(MATRIX.level_names) and list(isms.y) == [1, 0, 0, 1]


def test_user_text_is_never_markup() -> None:
    links = pl.DataFrame({"risk_id": ["R-1"], "ai_system": ['<a href="http://evil">Bot</a>'],
                          "current_level": ["High"]})
    fig = charts.risks_by(links, "ai_system", "current_level", MATRIX)
    assert fig.data[0].y[0] == '&lt;a href="http://evil"&gt;Bot&lt;/a&gt;'
    actions = pl.DataFrame({"title": ["<b>bold</b>"], "due_date": [date(2026, 5, 1)], "status": ["planned"],
                            "owner": ["<i>me</i>"]})
    bar = charts.treatment_gantt(actions).data[0]
    assert bar.y[0] == "&lt;b&gt;bold&lt;/b&gt;" and bar.customdata[0][2] == "&lt;i&gt;me&lt;/i&gt;"
    assert charts.plain("a & b") == "a &amp; b"


def test_gantt_spans_start_to_due() -> None:
    actions = pl.DataFrame({
        "action_id": ["A-1", "A-2", "A-3"], "title": ["one", "two", "three"],
        "start_date": [date(2026, 1, 1), None, None],
        "due_date": [date(2026, 1, 31), date(2026, 3, 15), None],
        "status": ["in_progress", "planned", "planned"], "effort": [None, None, 10.0]})
    fig = charts.treatment_gantt(actions, today=date(2026, 2, 1))
    bars = {t.name: t for t in fig.data}
    assert set(bars) == {"In progress", "Planned"}          # statuses by their labels
    assert bars["In progress"].base[0] == "2026-01-01" and bars["In progress"].x[0] == 30 * 86_400_000
    assert bars["Planned"].base[0] == "2026-03-01"          # no start, no effort: 14 days before the due date
    assert list(bars["Planned"].y) == ["two"]               # no due date: not on the timeline
    assert fig.layout.shapes                                # today's line
    with_effort = actions.with_columns(pl.lit(10.0).alias("effort"), pl.lit(None, pl.Date).alias("start_date"))
    assert charts.treatment_gantt(with_effort).data[0].base[0] == "2026-01-17"   # 10 person-days: 14 days
    assert charts._span(2) == timedelta(days=7)
    timestamps = actions.with_columns(pl.col("start_date").cast(pl.Datetime) + pl.duration(hours=9))
    assert charts.treatment_gantt(timestamps).data[0].base[0] == "2026-01-01"
    assert charts._as_date(datetime(2026, 1, 2, 3, 4)) == date(2026, 1, 2)


def test_do_once_ranking_keeps_the_rank_order() -> None:
    ranking = pl.DataFrame({"title": [f"a{i}" for i in range(20)], "n_27001": list(range(20)),
                            "n_42001": [1] * 20})
    fig = charts.do_once_ranking(ranking, top=5)
    assert list(fig.data[0].y) == ["a4", "a3", "a2", "a1", "a0"]   # best at the top of the chart
    assert {t.name for t in fig.data} == {"ISO/IEC 27001 controls", "ISO/IEC 42001 controls"}


def test_status_bar_counts() -> None:
    frame = pl.DataFrame({"status": ["done", "done", "planned", None], "standard": ["a", "b", "a", "a"]})
    simple = charts.status_bar(frame).data[0]
    assert dict(zip(simple.y, simple.x, strict=True)) == {"Not recorded": 1, "Done": 2, "Planned": 1}
    stacked = charts.status_bar(frame, by="standard")
    done = next(t for t in stacked.data if t.name == "Done")
    assert list(done.y) == ["a", "b"] and list(done.x) == [1, 1]


def test_coverage_charts_count_every_control(fresh_db: Path) -> None:
    cov = coverage.coverage_frame(fresh_db)
    fig = charts.coverage_by_group(cov)
    assert sum(sum(t.y) for t in fig.data) == cov.height
    donut = charts.coverage_summary(cov).data[0]
    assert sum(donut.values) == cov.height
    report = coverage.gaps(fresh_db, implemented=["A.5.1"])
    assert sum(sum(t.y) for t in charts.gap_effort(report.rows).data) == report.total


def test_matrix_charts_accept_counts_per_cell() -> None:
    cells = charts.matrix_cells(RISKS)
    assert set(cells.columns) == {"stage", "likelihood", "impact", "n"}
    from_rows, from_counts = charts.inherent_vs_residual(RISKS, MATRIX), charts.inherent_vs_residual(cells, MATRIX)
    for a, b in zip(from_rows.data, from_counts.data, strict=True):
        assert a.text == b.text and a.type == b.type and (a.type != "heatmap" or a.z == b.z)
    assert charts.risk_matrix(cells, MATRIX, "inherent").data[0].text[3][4] == "2"


def test_risks_by_accepts_counts() -> None:
    links = pl.DataFrame({"ai_system": ["Bot", "Bot", "Scorer"], "level": ["High", "Low", "High"]})
    counted = pl.DataFrame({"ai_system": ["Bot", "Bot", "Scorer"], "level": ["High", "Low", "High"], "n": [1, 1, 1]})
    a, b = charts.risks_by(links, "ai_system", "level", MATRIX), charts.risks_by(counted, "ai_system", "level",
                                                                                 MATRIX, count_col="n")
    assert [(t.name, list(t.y), list(t.x)) for t in a.data] == [(t.name, list(t.y), list(t.x)) for t in b.data]
    many = pl.DataFrame({"ai_system": [f"S{i}" for i in range(5)], "level": ["High"] * 5, "n": [5, 4, 3, 2, 1]})
    fig = charts.risks_by(many, "ai_system", "level", MATRIX, "By system", top=2, count_col="n")
    assert fig.layout.title.text == "By system (top 2 of 5)" and list(fig.data[0].x) == [4, 5]


@pytest.mark.parametrize("level, background", list(zip(DEFAULT_MATRIX.level_names, DEFAULT_MATRIX.level_colours,
                                                       strict=True)))
def test_text_on_each_default_level_colour_reads(level: str, background: str) -> None:
    """WCAG 2.1 AA: the text colour chosen for a level colour contrasts at least 4.5:1 with it (white on
    Medium and High would not)."""
    from engine.contrast import MINIMUM_TEXT_CONTRAST, contrast_ratio

    chosen = charts.text_colour(background)
    assert contrast_ratio(chosen, background) >= MINIMUM_TEXT_CONTRAST, (level, background, chosen)
    assert chosen == ("#ffffff" if level in ("Low", "Critical") else "#1a1a1a"), level


def test_contrast_ratio_follows_wcag() -> None:
    from engine.contrast import contrast_ratio, relative_luminance

    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777", "#777777") == pytest.approx(1.0)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#ffffff", "#767676") == pytest.approx(4.54, abs=0.01)   # the usual grey limit
    with pytest.raises(ValueError, match="not a colour"):
        relative_luminance("orange")


def test_matrix_counts_are_written_in_the_colour_their_cell_needs() -> None:
    """Each count on a heat map is drawn in ``text_colour`` of its cell's level colour."""
    fig = charts.inherent_vs_residual(RISKS, DEFAULT_MATRIX)
    for heat, counts in ((fig.data[0], fig.data[2]), (fig.data[1], fig.data[3])):
        assert counts.mode == "text" and counts.hoverinfo == "skip"
        for x, y, text, colour in zip(counts.x, counts.y, counts.text, counts.textfont.color, strict=True):
            assert text == f"<b>{heat.text[y - 1][x - 1]}</b>"
            background = DEFAULT_MATRIX.level_colours[heat.z[y - 1][x - 1]]
            assert colour == charts.text_colour(background)
    assert fig.data[2].xaxis == "x" and fig.data[3].xaxis == "x2" and fig.data[3].yaxis == "y2"
    single = charts.risk_matrix(RISKS, DEFAULT_MATRIX)
    assert [t.type for t in single.data] == ["heatmap", "scatter"]
    assert sorted(single.data[1].text) == ["<b>1</b>", "<b>2</b>"]


def test_open_scenarios_heat_map_text_reads_on_every_shade() -> None:
    """The AI heat map writes its counts in one colour over a pale-to-orange scale: 4.5:1 on every shade."""
    from engine.ai import charts as ai_charts
    from engine.contrast import MINIMUM_TEXT_CONTRAST, contrast_ratio

    frame = pl.DataFrame({"ai_system_id": ["AIS-1", "AIS-1", "AIS-2"], "ai_system_name": ["A", "A", "B"],
                          "theme": ["bias", "privacy", "bias"], "state": ["open", "identified", "open"]})
    colour = ai_charts.open_by_theme(frame).data[0].textfont.color
    (low, _), (high, _) = ai_charts.OPEN_SCALE
    ends = [tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in (low, high)]
    for step in range(11):
        shade = "#" + "".join(f"{round(a + (b - a) * step / 10):02x}" for a, b in zip(*ends, strict=True))
        assert contrast_ratio(colour, shade) >= MINIMUM_TEXT_CONTRAST, shade
