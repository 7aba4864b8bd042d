"""Charts of AI risk identification and observed AI use: plotly figures from frames, no Streamlit.

Each builder takes the frames the engine returns (:func:`engine.ai.coverage`, :func:`engine.ai.identification`,
:func:`engine.ai.list_usage`) and returns a figure; an empty frame gives a figure that says so.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from engine.charts import empty_figure, plain, text_colour

STATE_COLOURS = {"identified": "#2e7d32", "not_applicable": "#9e9e9e", "open": "#ef6c00"}
STATE_LABELS = {"identified": "identified", "not_applicable": "not applicable", "open": "open"}
USE_COLOURS = {"registered": "#1565c0", "unregistered": "#c62828", "dismissed": "#9e9e9e"}
OPEN_SCALE = (("#e8f5e9", 0), ("#ef6c00", 1))
"""The open-scenarios heat map's colours, from none open (pale) to most open (the High level's orange)."""
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "template": "plotly_white"}

__all__ = ["identification_by_system", "open_by_theme", "usage_by_tool"]


def _label(system_id: object, name: object) -> str:
    return plain(f"{system_id} {name or ''}".strip())


def identification_by_system(coverage: pl.DataFrame,
                             title: str = "Risk identification per AI system") -> go.Figure:
    """Stacked bars per AI system: applicable scenarios identified, not applicable and still open
    (rows of :func:`engine.ai.coverage`)."""
    if coverage.is_empty():
        return empty_figure(title, "No AI system is recorded yet")
    rows = coverage.sort("ai_system_id", descending=True)
    labels = [_label(i, n) for i, n in rows.select("ai_system_id", "ai_system_name").iter_rows()]
    fig = go.Figure()
    for state, colour in STATE_COLOURS.items():
        fig.add_bar(name=STATE_LABELS[state], y=labels, x=rows[f"n_{state}"].to_list(), orientation="h",
                    marker_color=colour)
    fig.update_layout(title=title, barmode="stack", xaxis_title="applicable scenarios", legend_title="state",
                      height=max(280, 34 * len(labels) + 130), **_LAYOUT)
    return fig


def open_by_theme(identification: pl.DataFrame,
                  title: str = "Open scenarios by AI system and theme") -> go.Figure:
    """Heat map of open scenarios per AI system (rows) and library theme (columns), each cell showing
    open / applicable (rows of :func:`engine.ai.identification`)."""
    if identification.is_empty():
        return empty_figure(title)
    cells = (identification.group_by("ai_system_id", "ai_system_name", "theme")
             .agg(pl.len().alias("applicable"), (pl.col("state") == "open").sum().alias("open")))
    systems = cells.select("ai_system_id", "ai_system_name").unique().sort("ai_system_id")
    themes = sorted(cells["theme"].unique().to_list())
    got = {(r["ai_system_id"], r["theme"]): r for r in cells.iter_rows(named=True)}
    z, text = [], []
    for sid in systems["ai_system_id"]:
        z.append([got[(sid, t)]["open"] if (sid, t) in got else None for t in themes])
        text.append([f"{got[(sid, t)]['open']}/{got[(sid, t)]['applicable']}" if (sid, t) in got else ""
                     for t in themes])
    fig = go.Figure(go.Heatmap(z=z, x=[plain(t) for t in themes],
                               y=[_label(i, n) for i, n in systems.iter_rows()], text=text,
                               texttemplate="%{text}", colorscale=[[at, c] for c, at in OPEN_SCALE],
                               # one text colour for every cell: the one the darkest end needs reads on the
                               # paler cells too (their luminance only rises towards the pale end)
                               textfont={"color": text_colour(OPEN_SCALE[-1][0])},
                               colorbar={"title": "open"}, hovertemplate="%{y}<br>%{x}: %{text} open<extra></extra>"))
    fig.update_layout(title=title, height=max(300, 34 * systems.height + 160), **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig


def usage_by_tool(usage: pl.DataFrame, title: str = "Observed AI use by tool") -> go.Figure:
    """Users per tool seen in use, coloured by whether the tool is registered in the inventory, not
    registered, or dismissed (rows of :func:`engine.ai.list_usage`)."""
    if usage.is_empty():
        return empty_figure(title, "No observed AI use imported yet")
    data = usage.with_columns(
        pl.coalesce("tool", "domain", "vendor").alias("_tool"),
        pl.when(pl.col("ai_system_id").is_not_null()).then(pl.lit("registered"))
        .when(pl.col("unregistered")).then(pl.lit("unregistered")).otherwise(pl.lit("dismissed")).alias("_state"))
    per = (data.group_by("_tool", "_state").agg(pl.col("user_count").fill_null(0).sum().alias("users"))
           .sort("users", "_tool", descending=[False, True]))
    fig = go.Figure()
    for state, colour in USE_COLOURS.items():
        part = per.filter(pl.col("_state") == state)
        if not part.is_empty():
            fig.add_bar(name=state, y=[plain(t) for t in part["_tool"]], x=part["users"].to_list(), orientation="h",
                        marker_color=colour)
    fig.update_layout(title=title, barmode="stack", xaxis_title="users", legend_title="inventory",
                      yaxis={"categoryorder": "total ascending"}, height=max(260, 30 * per["_tool"].n_unique() + 130),
                      **_LAYOUT)
    return fig
