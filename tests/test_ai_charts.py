"""The charts of AI risk identification and observed use: plotly figures from the engine's frames."""

from __future__ import annotations

import json

import polars as pl
import pytest

from engine.ai import charts

COVERAGE = pl.DataFrame({"ai_system_id": ["AIS-01", "AIS-02"], "ai_system_name": ["Triage", "<b>Bot</b>"],
                         "n_identified": [5, 1], "n_not_applicable": [2, 0], "n_open": [0, 7]})
IDENTIFICATION = pl.DataFrame({
    "ai_system_id": ["AIS-01", "AIS-01", "AIS-02", "AIS-02"], "ai_system_name": ["Triage", "Triage", "Bot", "Bot"],
    "theme": ["security", "privacy", "security", "security"],
    "state": ["identified", "open", "open", "not_applicable"]})
USAGE = pl.DataFrame({"tool": ["ParrotChat", "ParrotChat", "CodeMate", None], "domain": ["p.example"] * 3 + ["x.example"],
                      "vendor": [None] * 4, "user_count": [9, 3, 38, None],
                      "ai_system_id": [None, None, "AIS-05", None], "unregistered": [True, True, False, False]})


@pytest.mark.parametrize("build", [charts.identification_by_system, charts.open_by_theme, charts.usage_by_tool])
def test_an_empty_frame_gives_a_message(build) -> None:
    fig = build(pl.DataFrame())
    assert fig.layout.annotations and json.loads(fig.to_json())


def test_identification_bars_stack_the_three_states() -> None:
    fig = charts.identification_by_system(COVERAGE)
    assert [t.name for t in fig.data] == ["identified", "not applicable", "open"]
    assert fig.layout.barmode == "stack"
    by_state = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert by_state["open"]["AIS-02 &lt;b&gt;Bot&lt;/b&gt;"] == 7   # names are shown as typed, never as markup
    assert by_state["identified"]["AIS-01 Triage"] == 5


def test_open_by_theme_counts_open_of_applicable() -> None:
    fig = charts.open_by_theme(IDENTIFICATION)
    heat = fig.data[0]
    assert list(heat.x) == ["privacy", "security"]
    assert [list(r) for r in heat.text] == [["1/1", "0/1"], ["", "1/2"]]


def test_usage_by_tool_sums_users_per_tool_and_state() -> None:
    fig = charts.usage_by_tool(USAGE)
    got = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert got["unregistered"] == {"ParrotChat": 12}
    assert got["registered"] == {"CodeMate": 38}
    assert got["dismissed"] == {"x.example": 0}
