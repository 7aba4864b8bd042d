"""Chart builders for the app: each takes polars frames and returns a plotly figure.

No Streamlit here: the figures are built and tested without a UI, and the same functions serve
notebooks. Every builder accepts an empty frame and returns a figure that says "no data" instead
of failing, so a page on a new database still renders.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from engine import labels
from engine.contrast import contrast_ratio
from engine.register.scoring import MatrixSpec

COVERAGE_COLOURS = {"full": "#2e7d32", "partial": "#f9a825", "none": "#c62828"}
RELATIONSHIP_COLOURS = {
    "equal": "#1b5e20",
    "subset_of": "#2e7d32",
    "superset_of": "#1565c0",
    "intersects_with": "#f9a825",
    "no_relationship": "#9e9e9e",
}
STATUS_COLOURS = {
    "done": "#2e7d32", "completed": "#2e7d32", "implemented": "#2e7d32", "closed": "#2e7d32",
    "in_progress": "#1565c0", "in progress": "#1565c0", "partially_implemented": "#1565c0",
    "planned": "#9e9e9e", "not_started": "#9e9e9e", "open": "#f9a825",
    "overdue": "#c62828", "blocked": "#c62828", "not_implemented": "#c62828",
    "applicable": "#2e7d32", "not applicable": "#757575", "undecided": "#f9a825",
    "partial": "#1565c0", "cancelled": "#757575", "error": "#c62828", "warning": "#f9a825",
}
MS_COLOURS = {"ISMS": "#1565c0", "AIMS": "#6a1b9a", "both": "#00838f"}
PROVENANCE_COLOURS = {"shipped": "#546e7a", "tailored": "#ef6c00", "imported": "#00838f"}
_FALLBACK = ("#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#455a64", "#ad1457", "#827717")
_LAYOUT: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "template": "plotly_white"}


def _figure(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **_LAYOUT)
    return fig


def empty_figure(title: str, message: str = "No data yet") -> go.Figure:
    """A blank figure with a centred message (used when a frame has no rows)."""
    fig = _figure(title)
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 16, "color": "#757575"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def plain(value: object) -> str:
    """Text from the data as plotly shows it: its few HTML-like tags (links, bold) are escaped, so a
    title a user typed is displayed as typed and never becomes markup."""
    return html.escape("" if value is None else str(value), quote=False)


def _plain_col(name: str) -> pl.Expr:
    """``plain`` for a whole column."""
    return (pl.col(name).cast(pl.String).str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True))


def _colour(name: object, palette: Mapping[str, str], i: int) -> str:
    return palette.get(str(name), _FALLBACK[i % len(_FALLBACK)])


def _counts(frame: pl.DataFrame, by: Sequence[str], value: str | None = None) -> pl.DataFrame:
    """Row counts per group (or the sum of ``value`` when given), sorted by the group columns."""
    agg = pl.col(value).sum().alias("n") if value else pl.len().alias("n")
    return frame.group_by(list(by)).agg(agg).sort(list(by), nulls_last=True)


# --- coverage and overlap --------------------------------------------------------------------------

def coverage_by_group(coverage: pl.DataFrame, title: str = "Coverage") -> go.Figure:
    """Stacked bars: for each group (Annex A group or clause) how many controls are fully, partly or
    not covered. Takes rows of ``v_coverage`` (``grp`` and ``coverage`` columns)."""
    if coverage.is_empty():
        return empty_figure(title)
    counts = _counts(coverage.with_columns(pl.col("grp").fill_null("-")), ["grp", "coverage"])
    groups = sorted(counts["grp"].unique().to_list(), key=_ref_key)
    fig = _figure(title)
    for level in ("full", "partial", "none"):
        sub = counts.filter(pl.col("coverage") == level)
        by = dict(zip(sub["grp"].to_list(), sub["n"].to_list(), strict=True))
        fig.add_bar(name=level, x=groups, y=[by.get(g, 0) for g in groups],
                    marker_color=COVERAGE_COLOURS[level])
    fig.update_layout(barmode="stack", xaxis_title="Group", yaxis_title="Controls", legend_title="Coverage")
    return fig


def coverage_summary(coverage: pl.DataFrame, title: str = "Coverage") -> go.Figure:
    """A donut of full / partial / none over all rows of ``v_coverage`` given."""
    if coverage.is_empty():
        return empty_figure(title)
    counts = _counts(coverage, ["coverage"])
    by = dict(zip(counts["coverage"].to_list(), counts["n"].to_list(), strict=True))
    labels = [k for k in ("full", "partial", "none") if by.get(k)]
    fig = _figure(title)
    fig.add_trace(go.Pie(labels=labels, values=[by[k] for k in labels], hole=0.5, sort=False,
                         marker={"colors": [COVERAGE_COLOURS[k] for k in labels]}))
    return fig


def overlap_heatmap(overlap: pl.DataFrame, metric: str = "n_links",
                    title: str | None = None) -> go.Figure:
    """27001:2022 themes (rows) x 42001 groups (columns), coloured by link count or mean strength.

    Takes rows of ``v_overlap``. ``metric`` is ``n_links``, ``mean_strength`` or ``n_strong``.
    """
    labels = {"n_links": "links", "mean_strength": "mean strength", "n_strong": "strong links"}
    if metric not in labels:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(labels)}")
    title = title or f"27001 themes x 42001 groups ({labels[metric]})"
    if overlap.is_empty():
        return empty_figure(title)
    themes = sorted(overlap["theme_27001"].drop_nulls().unique().to_list())
    groups = sorted(overlap["group_42001"].drop_nulls().unique().to_list(), key=_ref_key)
    titles = dict(zip(overlap["group_42001"].to_list(), overlap["group_title"].to_list(), strict=True))
    cell = {(r["theme_27001"], r["group_42001"]): r[metric] for r in overlap.iter_rows(named=True)}
    z = [[cell.get((t, g)) for g in groups] for t in themes]
    text = [["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in row] for row in z]
    fig = _figure(title)
    fig.add_trace(go.Heatmap(
        z=z, x=[f"{g} {titles.get(g) or ''}".strip() for g in groups], y=themes, text=text,
        texttemplate="%{text}", colorscale="Blues", hoverongaps=False, colorbar={"title": labels[metric]},
        zmin=0, zmax=10 if metric == "mean_strength" else None))
    fig.update_layout(xaxis_title="ISO/IEC 42001:2023 Annex A group", yaxis_title="ISO/IEC 27001:2022 theme")
    return fig


_REF = re.compile(r"(?:^|\s)(A\.)?(\d+(?:\.\d+)*)(?=\s|$)")


def _ref_key(ref: object) -> tuple[Any, ...]:
    """Order refs numerically, clauses before Annex A: 4 < 10 < A.2 < A.10, 6.1.2 < 6.1.10; a node label
    (``42001 A.10 Third-party...``, ``27001 Organizational``) by the standard, then its first ref."""
    text = str(ref)
    standard, _, rest = text.partition(" ") if text[:5].isdigit() and text[5:6] == " " else ("", "", text)
    got = _REF.search(rest) if not rest.startswith("A.") or " " in rest else None
    if rest.startswith("A.") and " " not in rest:
        annex, parts = True, rest[2:].split(".")
    elif got:
        annex, parts = bool(got.group(1)), got.group(2).split(".")
    else:
        return (standard, 2, rest)
    return (standard, int(annex), *((0, int(p)) if p.isdigit() else (1, p) for p in parts))


def provenance_kind(provenance: object) -> str:
    """Which kind of record a link rests on, for colours and filters: ``tailored`` when any hop is the
    organisation's, else ``imported`` when any is imported, else ``shipped`` (an inferred link's
    provenance names every hop's: ``shipped+imported``)."""
    text = str(provenance or "")
    return "tailored" if "tailored" in text else "imported" if "imported" in text else "shipped"


def crosswalk_sankey(links: pl.DataFrame, title: str = "Mappings", level: str = "group",
                     colour_by: str = "relationship") -> go.Figure:
    """Flows from ISO 27001:2022 to ISO 42001:2023.

    ``links`` has one row per link with ``left`` and ``right`` (labels of the two ends: themes and
    groups for ``level='group'``, control ids for ``level='control'``), ``relationship`` and ``strength``
    (and ``provenance`` to colour by it). Group flows are weighted by link count; control flows carry the
    strength. ``colour_by='relationship'`` colours a flow by its strongest relationship;
    ``colour_by='provenance'`` splits flows by the kind of record they rest on (shipped, tailored by the
    organisation, imported) and colours each kind, so the three are told apart at a glance.
    """
    if colour_by not in ("relationship", "provenance"):
        raise ValueError(f"unknown colour_by {colour_by!r}; expected relationship or provenance")
    if links.is_empty():
        return empty_figure(title, "No mappings match the filters")
    rank = {"equal": 5, "subset_of": 4, "superset_of": 3, "intersects_with": 2, "no_relationship": 1}
    by_kind = colour_by == "provenance"
    kinds = (pl.col("provenance").map_elements(provenance_kind, return_dtype=pl.String) if by_kind
             else pl.lit("")).alias("kind")
    flows = (links.with_columns(_plain_col("left"), _plain_col("right"), kinds,
                                pl.col("relationship").replace_strict(rank, default=0).alias("rnk"))
             .group_by(["left", "right", "kind"])
             .agg(pl.len().alias("n"), pl.col("strength").mean().alias("strength"),
                  pl.col("rnk").max().alias("rnk"))
             .sort(["left", "right", "kind"]))
    by_rank = {v: k for k, v in rank.items()}
    lefts = sorted(flows["left"].unique().to_list(), key=_ref_key)
    rights = sorted(flows["right"].unique().to_list(), key=_ref_key)
    index = {("L", n): i for i, n in enumerate(lefts)}
    index.update({("R", n): len(lefts) + i for i, n in enumerate(rights)})
    rows = list(flows.iter_rows(named=True))
    value = [r["n"] if level == "group" else max(r["strength"], 1) for r in rows]
    colours = [_fade(PROVENANCE_COLOURS[r["kind"]] if by_kind
                     else RELATIONSHIP_COLOURS.get(by_rank.get(r["rnk"], ""), "#9e9e9e")) for r in rows]
    hover = [f"{r['left']} → {r['right']}<br>{r['n']} {r['kind'] + ' ' if by_kind else ''}link(s), mean strength "
             f"{r['strength']:.1f}, strongest: {by_rank.get(r['rnk'], '?')}" for r in rows]
    fig = _figure(title)
    # Nodes stay where their order puts them (27001 on the left, 42001 on the right, each in id order),
    # with room for their labels: plotly would otherwise move them to shorten the flows.
    fig.add_trace(go.Sankey(
        arrangement="fixed", textfont={"size": 12, "color": "#212121"},
        node={"label": [*lefts, *rights], "pad": 10, "thickness": 14,
              "x": [0.001] * len(lefts) + [0.999] * len(rights),
              "y": [*_spread(len(lefts)), *_spread(len(rights))],
              "color": ["#1565c0"] * len(lefts) + ["#6a1b9a"] * len(rights)},
        link={"source": [index[("L", r["left"])] for r in rows],
              "target": [index[("R", r["right"])] for r in rows],
              "value": value, "color": colours, "customdata": hover,
              "hovertemplate": "%{customdata}<extra></extra>"}))
    fig.update_layout(height=max(420, 26 * max(len(lefts), len(rights))))
    return fig


def _spread(n: int) -> list[float]:
    """``n`` node positions from top to bottom, evenly spaced."""
    return [0.001 + 0.998 * (i + 0.5) / n for i in range(n)]


def _fade(hex_colour: str, alpha: float = 0.45) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# --- risks -----------------------------------------------------------------------------------------

def risk_matrix(risks: pl.DataFrame, matrix: MatrixSpec, stage: str = "inherent",
                title: str | None = None) -> go.Figure:
    """One risk matrix: how many risks sit in each likelihood x impact cell at one ``stage``
    (``inherent``, ``current`` or ``residual``: columns ``<stage>_likelihood`` and ``<stage>_impact``).

    ``risks`` may instead hold counts per cell already made (see ``matrix_cells``), which is how a
    large register is charted without reading every risk."""
    unrated = not_rated(risks, stage)
    fig = _figure((title or f"{stage.capitalize()} risk") + (f" ({unrated} not rated)" if unrated else ""))
    fig.add_trace(_add_matrix(fig, risks, matrix, stage, None))
    _matrix_axes(fig, matrix, None)
    return fig


def inherent_vs_residual(risks: pl.DataFrame, matrix: MatrixSpec,
                         title: str = "Inherent versus residual risk") -> go.Figure:
    """Two risk matrices side by side (counts per cell) with the shift of each risk's position.

    ``risks`` holds risk rows, or counts per cell already made (see ``matrix_cells``)."""
    names = []
    for stage in ("inherent", "residual"):
        unrated = not_rated(risks, stage)
        names.append(stage.capitalize() + (f" ({unrated} not rated)" if unrated else ""))
    # The two matrices share their likelihood axis: its labels and title stand once, on the left, so the
    # residual matrix's labels never run into the inherent one at any width.
    fig = make_subplots(rows=1, cols=2, subplot_titles=names, horizontal_spacing=0.04, shared_yaxes=True)
    fig.update_layout(title=title, **_LAYOUT)
    counts = [_add_matrix(fig, risks, matrix, "inherent", 1), _add_matrix(fig, risks, matrix, "residual", 2)]
    fig.add_traces(counts)
    _matrix_axes(fig, matrix, 1)
    _matrix_axes(fig, matrix, 2)
    fig.update_yaxes(title_text=None, showticklabels=False, row=1, col=2)
    fig.update_layout(height=460)
    return fig


CELL_COLUMNS = ("stage", "likelihood", "impact", "n")


def matrix_cells(risks: pl.DataFrame, stages: Sequence[str] = ("inherent", "residual")) -> pl.DataFrame:
    """Risks per matrix cell at each stage: columns ``stage``, ``likelihood``, ``impact``, ``n``; the risks
    not rated at a stage are one row with no likelihood and no impact, so every risk is counted. The
    matrix charts accept this in place of the risk rows."""
    parts = []
    for stage in stages:
        lk, im = f"{stage}_likelihood", f"{stage}_impact"
        if lk in risks.columns and im in risks.columns:
            cells = risks.select(pl.lit(stage).alias("stage"), pl.col(lk).cast(pl.Int64).alias("likelihood"),
                                 pl.col(im).cast(pl.Int64).alias("impact"))
            rated = cells.drop_nulls()
            parts.append(rated.group_by(CELL_COLUMNS[:3]).len("n").with_columns(pl.col("n").cast(pl.Int64)))
            unrated = cells.height - rated.height
            if unrated:
                parts.append(pl.DataFrame({"stage": [stage], "likelihood": [None], "impact": [None], "n": [unrated]},
                                          schema=dict(zip(CELL_COLUMNS, (pl.String, pl.Int64, pl.Int64, pl.Int64),
                                                          strict=True))))
    schema = {"stage": pl.String, "likelihood": pl.Int64, "impact": pl.Int64, "n": pl.Int64}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort(CELL_COLUMNS[:3], nulls_last=False)


def not_rated(risks: pl.DataFrame, stage: str) -> int:
    """How many risks have no likelihood x impact at ``stage`` (from risk rows or counts per cell)."""
    if risks.is_empty():
        return 0
    if not set(CELL_COLUMNS) <= set(risks.columns):
        risks = matrix_cells(risks, [stage])
    return int(risks.filter((pl.col("stage") == stage) & pl.col("likelihood").is_null())["n"].sum())


def _cells(risks: pl.DataFrame, stage: str) -> dict[tuple[int, int], int]:
    """{(likelihood, impact): risks} at ``stage``, from risk rows or from counts per cell."""
    if risks.is_empty():
        return {}
    if not set(CELL_COLUMNS) <= set(risks.columns):
        risks = matrix_cells(risks, [stage])
    sub = risks.filter((pl.col("stage") == stage) & pl.col("likelihood").is_not_null())
    return {(int(li), int(ii)): int(k) for li, ii, k in sub.select("likelihood", "impact", "n").iter_rows()}


DARK_TEXT, LIGHT_TEXT = "#1a1a1a", "#ffffff"
"""The two colours text on a coloured background is drawn in (:func:`text_colour` picks one)."""


def text_colour(background: str) -> str:
    """The colour to write text in on ``background`` (a level colour of the matrix, say): white or near
    black, whichever contrasts more, so the text reads (WCAG 4.5:1 on every default level colour)."""
    light, dark = contrast_ratio(LIGHT_TEXT, background), contrast_ratio(DARK_TEXT, background)
    return LIGHT_TEXT if light >= dark else DARK_TEXT


def _add_matrix(fig: go.Figure, risks: pl.DataFrame, matrix: MatrixSpec, stage: str,
                col: int | None) -> go.Scatter:
    """The cells of one matrix (a heat map in the level colours; its ``text`` is each cell's count) and,
    returned to be added on top once every matrix is in, the counts written on them, each in the text
    colour its cell's colour needs (a heat map has one text colour for all its cells)."""
    n = matrix.size
    cells = _cells(risks, stage)
    levels = len(matrix.level_names)
    # z is the level index of each cell; a discrete colour scale paints it in the matrix colours.
    z = [[matrix.level_index(li * ii) or 0 for ii in range(1, n + 1)] for li in range(1, n + 1)]
    text = [[str(cells.get((li, ii), "")) for ii in range(1, n + 1)] for li in range(1, n + 1)]
    hover = [[f"likelihood {li}, impact {ii}: score {li * ii}, {matrix.level_names[z[li - 1][ii - 1]]}"
              f"<br>{cells.get((li, ii), 0)} risk(s)" for ii in range(1, n + 1)] for li in range(1, n + 1)]
    scale = []
    for i, c in enumerate(matrix.level_colours[:levels]):
        scale += [[i / levels, c], [(i + 1) / levels, c]]
    trace = go.Heatmap(z=z, x=list(range(1, n + 1)), y=list(range(1, n + 1)), text=text, customdata=hover,
                       hovertemplate="%{customdata}<extra></extra>", colorscale=scale, zmin=-0.5,
                       zmax=levels - 0.5, showscale=False, xgap=2, ygap=2)
    counted = [(li, ii) for li in range(1, n + 1) for ii in range(1, n + 1) if cells.get((li, ii))]
    counts = go.Scatter(x=[ii for _, ii in counted], y=[li for li, _ in counted], mode="text",
                        text=[f"<b>{cells[c]}</b>" for c in counted], hoverinfo="skip", showlegend=False,
                        textfont={"size": 16, "color": [text_colour(matrix.level_colours[z[li - 1][ii - 1]])
                                                        for li, ii in counted]},
                        xaxis="x" if col in (None, 1) else f"x{col}", yaxis="y" if col in (None, 1) else f"y{col}")
    if col is None:
        fig.add_trace(trace)
    else:
        fig.add_trace(trace, row=1, col=col)
    return counts


def _matrix_axes(fig: go.Figure, matrix: MatrixSpec, col: int | None) -> None:
    n = matrix.size
    kw = {} if col is None else {"row": 1, "col": col}
    fig.update_xaxes(title_text="Impact", tickvals=list(range(1, n + 1)), range=[0.5, n + 0.5],
                     ticktext=[f"{i} {lbl}" for i, lbl in enumerate(matrix.impact_labels, 1)], **kw)
    fig.update_yaxes(title_text="Likelihood", tickvals=list(range(1, n + 1)), range=[0.5, n + 0.5],
                     ticktext=[f"{i} {lbl}" for i, lbl in enumerate(matrix.likelihood_labels, 1)], **kw)


def risks_by_level(risks: pl.DataFrame, matrix: MatrixSpec | None = None, level_col: str = "level",
                   group_col: str = "management_system", title: str = "Risks by level") -> go.Figure:
    """Stacked bars: risks per level, split by management system (ISMS, AIMS, both)."""
    if risks.is_empty() or level_col not in risks.columns:
        return empty_figure(title)
    counts = _counts(risks.with_columns(pl.col(group_col).fill_null("-"), pl.col(level_col).fill_null("Not rated")),
                     [level_col, group_col])
    levels = list(matrix.level_names) if matrix else sorted(counts[level_col].unique().to_list())
    levels += [lv for lv in counts[level_col].unique().to_list() if lv not in levels]
    fig = _figure(title)
    for i, grp in enumerate(sorted(counts[group_col].unique().to_list())):
        sub = counts.filter(pl.col(group_col) == grp)
        by = dict(zip(sub[level_col].to_list(), sub["n"].to_list(), strict=True))
        fig.add_bar(name=labels.word(group_col, grp) if grp != "-" else "Not recorded", x=levels,
                    y=[by.get(lv, 0) for lv in levels], marker_color=_colour(grp, MS_COLOURS, i))
    fig.update_layout(barmode="stack", xaxis_title="Level", yaxis_title="Risks", legend_title=labels.heading(group_col))
    return fig


def risks_by(links: pl.DataFrame, by: str, level_col: str = "level", matrix: MatrixSpec | None = None,
             title: str | None = None, top: int | None = None, count_col: str | None = None) -> go.Figure:
    """Horizontal stacked bars: risks per ``by`` (an AI system or an asset), coloured by level.

    ``links`` has one row per risk and ``by`` entry, or, with ``count_col``, the number of risks per
    ``by`` and level in that column. ``top`` keeps the ``top`` entries with most risks (the title says so)."""
    title = title or f"Risks by {by.replace('_', ' ')}"
    if links.is_empty() or by not in links.columns:
        return empty_figure(title)
    frame = links.with_columns(pl.col(level_col).fill_null("unscored")) if level_col in links.columns \
        else links.with_columns(pl.lit("risk").alias(level_col))
    frame = frame.with_columns(_plain_col(by).fill_null("-"))
    counts = _counts(frame, [by, level_col], count_col)
    order = (counts.group_by(by).agg(pl.col("n").sum()).sort(["n", by], descending=[False, True])[by].to_list())
    if top is not None and len(order) > top:
        order = order[-top:]
        counts = counts.filter(pl.col(by).is_in(order))
        title = f"{title} (top {top} of {frame[by].n_unique()})"
    levels = list(matrix.level_names) if matrix else []
    levels += [lv for lv in counts[level_col].unique().sort().to_list() if lv not in levels]
    colours = dict(zip(matrix.level_names, matrix.level_colours, strict=False)) if matrix else {}
    fig = _figure(title)
    for i, lv in enumerate(levels):
        sub = counts.filter(pl.col(level_col) == lv)
        if sub.is_empty():
            continue
        got = dict(zip(sub[by].to_list(), sub["n"].to_list(), strict=True))
        fig.add_bar(name=str(lv), y=order, x=[got.get(k, 0) for k in order], orientation="h",
                    marker_color=_colour(lv, colours, i))
    fig.update_layout(barmode="stack", xaxis_title="Risks", height=max(320, 28 * len(order) + 120))
    return fig


# --- treatment plan, SoA, audits -------------------------------------------------------------------

def treatment_gantt(actions: pl.DataFrame, title: str = "Treatment plan", label_col: str = "title",
                    start_col: str = "start_date", end_col: str = "due_date", status_col: str = "status",
                    effort_col: str = "effort", today: date | None = None) -> go.Figure:
    """A Gantt chart of treatment actions, one bar per action ending on its due date, coloured by status.

    A bar starts at ``start_col`` when the action has one; otherwise it spans the calendar time of the
    action's effort in person-days (five working days a week, at least a week), or two weeks when no
    effort is given. An action without a due date is left out.
    """
    if actions.is_empty() or end_col not in actions.columns:
        return empty_figure(title)
    dated = [(r, due) for r in actions.iter_rows(named=True) if (due := _as_date(r.get(end_col))) is not None]
    if not dated:
        return empty_figure(title, "No action has a due date")
    fig = _figure(title)
    statuses = sorted({str(r.get(status_col) or "-") for r, _ in dated})
    for i, status in enumerate(statuses):
        sub = [(r, due) for r, due in dated if str(r.get(status_col) or "-") == status]
        bars = [(r, _as_date(r.get(start_col)) or due - _span(r.get(effort_col)), due) for r, due in sub]
        fig.add_bar(name=labels.word(status_col, status), y=[plain(r.get(label_col) or r.get("id") or "")
                                                               for r, _, _ in bars],
                    # A one-day action would be invisible: every bar is at least a day long.
                    x=[max((end - start).days, 1) * 86_400_000 for _, start, end in bars],
                    base=[start.isoformat() for _, start, _ in bars], orientation="h",
                    marker_color=_colour(status, STATUS_COLOURS, i),
                    customdata=[[start.isoformat(), end.isoformat(), plain(r.get("owner"))] for r, start, end in bars],
                    hovertemplate="%{y}<br>%{customdata[0]} → %{customdata[1]}<br>owner: %{customdata[2]}"
                                  "<extra>" + plain(labels.word(status_col, status)) + "</extra>")
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    if today is not None:
        fig.add_vline(x=today.isoformat(), line_dash="dot", line_color="#c62828")
    fig.update_layout(barmode="overlay", height=max(360, 26 * len(dated) + 140), legend_title="Status")
    return fig


def _span(effort: object) -> timedelta:
    """Calendar time of an effort in person-days: five working days a week, at least a week."""
    if not isinstance(effort, int | float) or effort <= 0:
        return timedelta(days=14)
    return timedelta(days=max(7, math.ceil(float(effort) * 7 / 5)))


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def do_once_ranking(ranking: pl.DataFrame, label_col: str = "title", title: str = "Do once, satisfy both",
                    top: int = 15) -> go.Figure:
    """Horizontal bars: actions ranked by how many controls they satisfy in each standard.

    ``ranking`` has ``label_col`` and the counts ``n_27001`` and ``n_42001``; rows are shown in order.
    """
    if ranking.is_empty():
        return empty_figure(title)
    head = ranking.head(top)
    labels = [plain(v) for v in head[label_col].to_list()][::-1]
    fig = _figure(title)
    for col, name, colour in (("n_27001", "ISO/IEC 27001 controls", MS_COLOURS["ISMS"]),
                              ("n_42001", "ISO/IEC 42001 controls", MS_COLOURS["AIMS"])):
        if col in head.columns:
            fig.add_bar(name=name, y=labels, x=head[col].fill_null(0).to_list()[::-1], orientation="h",
                        marker_color=colour)
    fig.update_layout(barmode="stack", xaxis_title="Controls satisfied", height=max(320, 28 * len(labels) + 120))
    return fig


def status_bar(frame: pl.DataFrame, status_col: str = "status", by: str | None = None,
               title: str = "Status") -> go.Figure:
    """Counts per status (optionally stacked by ``by``): plan progress, SoA completeness, findings."""
    if frame.is_empty() or status_col not in frame.columns:
        return empty_figure(title)
    data = frame.with_columns(_plain_col(status_col).fill_null("-"))
    fig = _figure(title)
    if by is None:
        counts = _counts(data, [status_col])
        statuses = counts[status_col].to_list()
        fig.add_bar(x=counts["n"].to_list(), y=[labels.word(status_col, s) if s != "-" else "Not recorded"
                                                for s in statuses], orientation="h",
                    marker_color=[_colour(s, STATUS_COLOURS, i) for i, s in enumerate(statuses)])
    else:
        data = data.with_columns(_plain_col(by).fill_null("-"))
        counts = _counts(data, [by, status_col])
        cats = counts[by].unique().sort().to_list()
        for i, status in enumerate(counts[status_col].unique().sort().to_list()):
            sub = counts.filter(pl.col(status_col) == status)
            got = dict(zip(sub[by].to_list(), sub["n"].to_list(), strict=True))
            fig.add_bar(name=labels.word(status_col, status) if status != "-" else "Not recorded",
                        y=[labels.word(by, c) for c in cats], x=[got.get(c, 0) for c in cats], orientation="h",
                        marker_color=_colour(status, STATUS_COLOURS, i))
        fig.update_layout(barmode="stack", legend_title=labels.heading(status_col))
    fig.update_layout(height=max(260, 34 * data[by or status_col].n_unique() + 120))
    return fig


def gap_effort(gaps: pl.DataFrame, title: str = "What remains") -> go.Figure:
    """Bars of remaining controls per group, coloured by coverage (rows of a gap report)."""
    if gaps.is_empty():
        return empty_figure(title)
    return coverage_by_group(gaps.select("grp", "coverage"), title)
