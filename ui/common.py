"""Widgets and helpers every page shares: the database path, the signed-in principal, errors, messages.

Pages hold no SQL: they read through engine functions, which open one read-only connection per
operation and close it before the script run ends, so an analyst's ``duckdb -readonly`` session (or the
CLI) works while the app is running. Cached reads are keyed on :func:`stamp`, which changes whenever the
database does, and, for what depends on who is asking, on :func:`scope`.

Who acts is the principal ``app.py`` establishes on every run (``ui/auth.py``): pages pass it to every
engine write and to the reads that depend on the business units it may see, and show edit controls only
when it holds the role (:func:`can`); the engine refuses a write without the role anyway.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from engine import access, config, labels, register, store
from engine.errors import InputError, PermissionDenied, RiskmapError, StaleEditError
from engine.register import MatrixSpec

CHANNEL = "app"
PRINCIPAL_KEY = "riskmap_principal"
_FLASH_KEY = "riskmap_flash"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=])")


def db_path() -> Path:
    """The store the app works on: ``RISKMAP_DB`` when set (a DuckDB file or a ``postgresql://`` URL),
    else riskmap's default."""
    return config.db_path()


def stamp() -> tuple[str, int, int]:
    """Identifies the store's current content for caches (``engine.store.change_stamp``: the file's
    modification times, or the PostgreSQL server's snapshot); its first item is the store."""
    return store.change_stamp(db_path())


def set_principal(who: access.Principal) -> None:
    """Record who this run acts as (``app.py``, after sign-in)."""
    st.session_state[PRINCIPAL_KEY] = who


def principal() -> access.Principal:
    """The principal this run acts as: recorded by ``app.py``; a page run on its own (tests, benchmarks)
    without a sign-in acts as the single-user default."""
    who = st.session_state.get(PRINCIPAL_KEY)
    if isinstance(who, access.Principal):
        return who
    return access.principal_for(access.os_account(), auth="none")


def scope() -> tuple[str, tuple[str, ...] | None]:
    """What the principal may see, as a cache key: its id and its units (None: every unit)."""
    who = principal()
    units = who.units
    return who.id, None if units is None else tuple(sorted(units))


def can(operation: str, units: Sequence[str | None] | None = None) -> bool:
    """True when the principal may perform ``operation`` (on records of ``units``; ``()``: in some unit,
    each record is checked by the engine when written)."""
    return access.allowed(principal(), operation, units)


def sidebar() -> None:
    """The shared sidebar: who is signed in (and their roles), sign-out, and which database is open."""
    from ui import auth

    who = principal()
    with st.sidebar:
        seen = "every business unit" if who.units is None else ", ".join(sorted(who.units)) or "no unit"
        # in words rather than behind a help icon: a screen reader reads the icon only as "Help"
        st.caption(md(f"Signed in as {who.name}" + ("" if who.name == who.id else f" ({who.id})")
                      if who.auth != "none" else f"Acting as {who.id} (no sign-in)")
                   + "  \n" + md(f"Roles: {', '.join(who.roles)}. Sees: {seen}."))
        auth.sign_out(who)
        path = db_path()
        st.caption(md(f"Database: {path.name}") + "  \n" + md(store.location_text(path)))


def md(text: object) -> str:
    """Escape text for a Markdown context (st.error, st.markdown...): shown exactly as written."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", "" if text is None else str(text)).replace("\n", "  \n")


def database_ready() -> bool:
    """Tell the user how to create the database when there is none, or why the server cannot be
    reached; True when the store holds a riskmap schema."""
    path = db_path()
    shown = store.location_text(path)
    try:
        if store.is_ready(path):
            return True
    except RiskmapError as exc:
        show_error(exc)
        return False
    st.error(md(f"No database at {shown}."))
    st.code(f"riskmap demo --db {shown}    # the demo organisation\nriskmap init --db {shown}    # an empty one",
            language="bash")
    return False


@st.cache_data(show_spinner=False, max_entries=4)
def matrix(stamp: tuple[str, int, int]) -> MatrixSpec:
    """The current risk matrix (``engine.register.get_matrix``), read once per database state."""
    return register.get_matrix(stamp[0])


def show_error(exc: BaseException) -> None:
    """One clear message for an engine error; an input error lists every problem as a table."""
    if isinstance(exc, InputError):
        st.error(md(str(exc).splitlines()[0]))
        if exc.problems:
            table(problems_frame(exc.problems), key=None)
    elif isinstance(exc, PermissionDenied):
        st.error(md(f"Not allowed: {exc}"))
    elif isinstance(exc, StaleEditError):
        st.error(md(f"Not saved: {exc}") + "  \nSomeone changed this record after you opened it. "
                 "The table now shows the current values; make your edit again.")
    elif isinstance(exc, RiskmapError):
        st.error(md(str(exc)))
    else:
        st.error(md(f"Database error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"))


def problems_frame(problems: Sequence[Any]) -> pl.DataFrame:
    """Problems (engine.errors.Problem) as a table: where, what, the value found, what was expected."""
    return pl.DataFrame(
        {"file": [str(p.file) for p in problems],
         "row": [None if p.record is None else str(p.record) for p in problems],
         "column": [p.field for p in problems],
         "problem": [p.message for p in problems],
         "value": [None if p.value is None else str(p.value) for p in problems],
         "expected": [p.expected for p in problems]},
        schema={"file": pl.String, "row": pl.String, "column": pl.String, "problem": pl.String,
                "value": pl.String, "expected": pl.String})


@contextmanager
def guard() -> Iterator[None]:
    """Turn an engine error raised inside the block into a message on the page (never a traceback)."""
    try:
        yield
    except (RiskmapError, duckdb.Error) as exc:
        show_error(exc)


def flash(text: str, kind: str = "success") -> None:
    """A message to show on the next run (after st.rerun)."""
    st.session_state[_FLASH_KEY] = (kind, text)


def show_flash() -> None:
    """The message flashed by the previous run, in a slot that is always there: the elements below keep
    their places (an expander the user opened stays open when a message comes or goes)."""
    slot = st.empty()
    got = st.session_state.pop(_FLASH_KEY, None)
    if got:
        kind, text = got
        {"success": slot.success, "warning": slot.warning, "info": slot.info}.get(kind, slot.info)(md(text))


def header(title: str, caption: str | None = None) -> None:
    from ui import auth

    st.title(title)
    if caption:
        st.caption(caption)
    auth.notice(principal())
    show_flash()


def editor_rows(key: str, current: pl.DataFrame) -> pl.DataFrame:
    """The rows a data editor shows: the current rows, except while edits are pending, when it keeps
    showing the rows as they were when the user started editing.

    Edits are positional and each is saved with the version of the row the user saw; re-reading the
    database on the run that saves would silently take someone else's newer version as the user's.
    """
    seen_key = f"{key}__seen"
    pending = st.session_state.get(key, {}).get("edited_rows") if key in st.session_state else None
    if not pending or seen_key not in st.session_state:
        st.session_state[seen_key] = current
    return st.session_state[seen_key]


def next_generation(name: str) -> None:
    """Start a fresh editor (new key): pending edits are dropped and current rows are shown."""
    st.session_state[name] = st.session_state.get(name, 0) + 1


def _cell(value: Any, dtype: pl.DataType) -> Any:
    """An edited value as the column's type, to show it again in the table (dates come back as text)."""
    if isinstance(value, str) and value:
        try:
            if dtype == pl.Date:
                return date.fromisoformat(value[:10])
            if isinstance(dtype, pl.Datetime):
                return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def _overlay(shown: pl.DataFrame, id_col: str, kept: Mapping[str, Mapping[str, Any]]) -> pl.DataFrame:
    """The rows shown with the refused edits (``kept``: id -> changes) put back in their cells."""
    if not kept or shown.is_empty():
        return shown
    rows = shown.to_dicts()
    for row in rows:
        for field, value in kept.get(str(row[id_col]), {}).get("changes", {}).items():
            if field in row:
                row[field] = _cell(value, shown.schema[field])
    return pl.DataFrame(rows, schema=shown.schema, strict=False)


def _refusals(ident: str, changes: Mapping[str, Any], exc: BaseException) -> list[dict[str, str | None]]:
    """One line per refused value of a row: the record, the field, the value, why (the engine's words)."""
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    if isinstance(exc, InputError) and exc.problems:
        return [{"record": ident, "field": p.field, "value": text(p.value if p.value is not None
                                                                  else changes.get(p.field or "")),
                 "why": p.message + (f"; expected {p.expected}" if p.expected else "")} for p in exc.problems]
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, StaleEditError):
        why += " (changed by someone else since you opened it: the table shows the current values, edit again)"
    elif isinstance(exc, PermissionDenied):
        why = f"Not allowed: {why}"
    return [{"record": ident, "field": ", ".join(changes), "value": "; ".join(f"{v}" for v in changes.values()),
             "why": why}]


def _choice_labels(config: Mapping[str, Any], editable: Sequence[str]) -> dict[str, dict[str, str]]:
    """For each editable coded column with a list of choices: code -> label (``columns`` labelled them)."""
    out: dict[str, dict[str, str]] = {}
    for name in editable:
        options = ((config.get(name) or {}).get("type_config") or {}).get("options") or []
        pairs = {o["value"]: o["label"] for o in options if isinstance(o, dict) and "label" in o}
        if pairs and len(set(pairs.values())) == len(pairs):
            out[name] = pairs
    return out


def _as_labels(frame: pl.DataFrame, choices: Mapping[str, Mapping[str, str]]) -> pl.DataFrame:
    """The editor's cells of coded choice columns as their labels: the grid (and a screen reader) holds
    what a person reads; :func:`_as_codes` turns an edit back into the stored code."""
    exprs = []
    for name, pairs in choices.items():
        if name not in frame.columns:
            continue
        if isinstance(frame.schema[name], pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.eval(
                pl.element().replace(dict(pairs))).alias(name))
        else:
            exprs.append(pl.col(name).cast(pl.String).replace(dict(pairs)).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _label_options(config: Mapping[str, Any], choices: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The column configuration with the labelled columns' choices as their labels."""
    out = dict(config)
    for name, pairs in choices.items():
        cfg = dict(out[name])
        cfg["type_config"] = {**cfg["type_config"], "options": list(pairs.values())}
        if cfg.get("default") in pairs:
            cfg["default"] = pairs[cfg["default"]]
        out[name] = cfg
    return out


def _as_codes(value: Any, pairs: Mapping[str, str] | None) -> Any:
    """An edited value of a labelled choice column as its code (a value that is no label stays as it is)."""
    if not pairs:
        return value
    back = {label: code for code, label in pairs.items()}
    if isinstance(value, list):
        return [back.get(v, v) for v in value]
    return back.get(value, value) if isinstance(value, str) else value


def _pending_edits(key: str, shown: pl.DataFrame, original: pl.DataFrame, id_col: str,
                   editable: Sequence[str], choices: Mapping[str, Mapping[str, str]] | None = None,
                   ) -> list[tuple[str, int, dict[str, Any]]]:
    """(id, version seen, changes) of every row whose editable cells differ from the stored values: the
    refused edits put back in the table plus what the user changed in the editor since (a labelled
    choice back as its code)."""
    choices = choices or {}
    positions = {int(p): {k: _as_codes(v, choices.get(k)) for k, v in f.items()}
                 for p, f in st.session_state.get(key, {}).get("edited_rows", {}).items()}
    edits = []
    for pos, (now, was) in enumerate(zip(shown.iter_rows(named=True), original.iter_rows(named=True), strict=True)):
        cells = {k: now[k] for k in editable if k in now}
        cells.update({k: (None if v == "" else v) for k, v in positions.get(pos, {}).items() if k in editable})
        changed = {k: v for k, v in cells.items() if _differs(v, was.get(k))}
        if changed:
            edits.append((str(was[id_col]), int(was["version"]), changed))
    return edits


def _differs(value: Any, stored: Any) -> bool:
    if isinstance(stored, (date, datetime)) and isinstance(value, str):
        return value[:10] != stored.isoformat()[:10]
    if isinstance(stored, list) or isinstance(value, list):
        return list(value or []) != list(stored or [])
    if isinstance(stored, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) != float(stored)
    return value != stored


def _save_all(edits: Sequence[tuple[str, int, dict[str, Any]]],
              save: Callable[[str, int, dict[str, Any]], object]) -> tuple[list[str], dict[str, dict[str, Any]],
                                                                          list[dict[str, str | None]]]:
    """Save every edit on its own: the ids saved, the refused edits kept for correction (a stale one is
    not kept: the row moved on), and one line per refused value."""
    saved: list[str] = []
    kept: dict[str, dict[str, Any]] = {}
    lines: list[dict[str, str | None]] = []
    for ident, version, changed in edits:
        try:
            save(ident, version, changed)
            saved.append(ident)
        except (RiskmapError, duckdb.Error) as exc:
            lines.extend(_refusals(ident, changed, exc))
            if not isinstance(exc, StaleEditError):
                kept[ident] = {"version": version, "changes": changed}
    return saved, kept, lines


EMPTY = "–"
"""What an empty cell shows (not the word None)."""

PAGE_ROWS = 200
"""Rows a read-only table shows at once; a longer one is paged, with its count."""


def columns(names: Sequence[str], given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The column configuration of a table: each column headed in words (``labels.heading``, or the
    page's own label with a capital), each choice of a coded column shown as its label; a column the
    page maps to None stays hidden."""
    given = given or {}
    out: dict[str, Any] = {}
    for name in names:
        if name in given and given[name] is None:
            out[name] = None
            continue
        cfg = dict(given.get(name) or {})
        label = cfg.get("label")
        cfg["label"] = labels.heading(name) if not label else label[:1].upper() + label[1:]
        options = (cfg.get("type_config") or {}).get("options")
        if options and labels.is_coded(name):
            cfg["type_config"] = {**cfg["type_config"], "options": [_option(name, o) for o in options]}
        out[name] = cfg
    return out


def _option(column: str, option: Any) -> Any:
    """One choice of an editable column with its label (a plain value, or Streamlit's ``{"value": ...}``)."""
    if isinstance(option, dict):
        return option if option.get("label") else {**option, "label": labels.word(column, option.get("value"))}
    return {"value": option, "label": labels.word(column, option)}


def _page(frame: pl.DataFrame, key: str, page_rows: int, box: Any) -> pl.DataFrame:
    """The rows of the page chosen (a page number and "Rows a-b of n" above the table), or every row
    when they fit on one page."""
    total = frame.height
    if total <= page_rows:
        return frame
    pages = -(-total // page_rows)
    c1, c2 = box.columns([1, 4], vertical_alignment="bottom")
    page = int(c1.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key=f"{key}_page") or 1)
    start = (page - 1) * page_rows
    shown = frame.slice(start, page_rows)
    c2.caption(f"Rows {start + 1}-{start + shown.height} of {total} (page {page} of {pages})")
    return shown


def table(frame: pl.DataFrame, *, key: str | None, column_config: Mapping[str, Any] | None = None,
          page_rows: int = PAGE_ROWS, where: Any = None) -> None:
    """A read-only table in words (``labels.in_words``): headed, codes as labels, dates as dates, as tall
    as its rows; beyond ``page_rows`` rows it is paged and says which rows of how many it shows."""
    box = where or st
    shown = _page(labels.in_words(frame), key or "table", page_rows, box)
    box.dataframe(shown, hide_index=True, key=key, height="content", placeholder=EMPTY,
                  column_config=columns(shown.columns, column_config))


def ticked(frame: pl.DataFrame, *, key: str, id_col: str, column_config: Mapping[str, Any] | None = None,
           page_rows: int = PAGE_ROWS) -> list[str]:
    """A table in words whose rows are ticked to choose them; the ids (``id_col``) of the ticked rows.
    ``id_col`` is not shown unless ``column_config`` gives it a column."""
    page = _page(frame, key, page_rows, st)
    shown = labels.in_words(page)
    config = {id_col: None, **(column_config or {})}
    event = st.dataframe(shown, hide_index=True, key=key, height="content", on_select="rerun", placeholder=EMPTY,
                         selection_mode="multi-row", column_config=columns(shown.columns, config))
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    ids = page[id_col].cast(pl.String).to_list()
    return [ids[i] for i in rows if 0 <= i < len(ids)]


def versioned_editor(frame: pl.DataFrame, *, name: str, id_col: str, editable: Sequence[str],
                     save: Callable[[str, int, dict[str, Any]], object], noun: str,
                     column_config: Mapping[str, Any] | None = None, selection: object = None,
                     allowed: bool = True) -> None:
    """An editable table whose rows are saved one by one with the version the user saw.

    ``frame`` has ``id_col`` and ``version``; ``save(id, version, changes)`` calls the engine. A save
    applies every valid edit and lists each refused one (record, field, value, why); the refused edits
    stay in their cells for correction, except a stale one (the row changed since the user saw it), which
    is listed and shows the current values. ``selection`` identifies the rows shown (filters): another
    selection starts a fresh edit state, since pending edits are positional. Without ``allowed`` (the
    principal's roles cannot edit these rows) the rows are shown read-only.
    """
    if not allowed:
        table(frame, key=f"{name}_readonly", column_config={k: v for k, v in (column_config or {}).items()
                                                            if v is None or k not in editable})
        who = principal()
        st.caption(md(f"Read only: your roles ({', '.join(who.roles)}) do not include changing these {noun}s."))
        return
    generation, kept_key, lines_key = f"{name}_generation", f"{name}_kept", f"{name}_refused"
    digest = hashlib.sha1(json.dumps([selection, frame[id_col].to_list()], default=str).encode()).hexdigest()[:10]
    key = f"{name}_editor_{st.session_state.get(generation, 0)}_{digest}"
    for old in [k for k in st.session_state if k.startswith(f"{name}_editor_") and k != f"{key}__seen"
                and k.endswith("__seen")]:
        del st.session_state[old]   # rows kept for an editor no longer shown
    original = editor_rows(key, frame)
    kept = {i: e for i, e in st.session_state.get(kept_key, {}).items()
            if i in set(original[id_col].cast(pl.String).to_list())}
    shown = _overlay(original, id_col, kept)
    lines = st.session_state.get(lines_key) or []
    refusals = st.container()   # always there, so the elements below keep their places
    if lines:
        first: dict[str | None, str | None] = {}
        for line in lines:
            first.setdefault(line["record"], line["why"])
        refusals.error(md(f"Not saved: {len(first)} {noun}(s). " + "; ".join(f"{r}: {w}" for r, w in first.items()))
                       + "  \nEach refused value is listed below and, unless the record changed meanwhile, is "
                       "still in the table to correct.")
        refused = pl.DataFrame(lines, schema={c: pl.String for c in ("record", "field", "value", "why")})
        table(refused, key=f"{name}_refusals", where=refusals)
    config = columns(shown.columns, column_config)
    choices = _choice_labels(config, editable)
    display = _as_labels(labels.in_words(shown, keep=editable, lists=editable), choices)
    st.data_editor(display, key=key, hide_index=True, num_rows="fixed", height="content", placeholder=EMPTY,
                   disabled=[c for c in shown.columns if c not in editable], column_config=_label_options(config, choices))
    edits = _pending_edits(key, shown, original, id_col, editable, choices)
    c1, c2, c3 = st.columns([1, 1, 4])
    if c1.button("Save changes", type="primary", disabled=not edits, key=f"{name}_save"):
        saved, kept_now, refused = _save_all(edits, save)
        st.session_state[kept_key], st.session_state[lines_key] = kept_now, refused
        next_generation(generation)
        if saved:
            flash(f"Saved {len(saved)} {noun}(s): {', '.join(saved)}"
                  + (f"; {len({x['record'] for x in refused})} refused, listed below" if refused else ""),
                  "success" if not refused else "warning")
        st.rerun()
    if c2.button("Discard changes", disabled=not edits and not lines, key=f"{name}_discard"):
        st.session_state[kept_key], st.session_state[lines_key] = {}, []
        next_generation(generation)
        st.rerun()
    c3.caption(f"{len(edits)} {noun}(s) changed, not saved yet" if edits else "No unsaved changes")


def list_text(frame: pl.DataFrame, sep: str = "; ", keep: Sequence[str] = ()) -> pl.DataFrame:
    """List columns joined into text, so tables show them compactly and CSV downloads can hold them.

    Columns named in ``keep`` stay lists (an editable multiselect column needs its list)."""
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List) and n not in keep]
    if not lists:
        return frame
    return frame.with_columns(pl.col(n).cast(pl.List(pl.String)).list.join(sep) for n in lists)


# --- creating and linking records ------------------------------------------------------------------

def control_label(code: str, title: str | None = None) -> str:
    """``iso27001-2022:A.8.13`` in words: ``ISO/IEC 27001:2022 A.8.13 Information backup``."""
    framework, _, ref = code.partition(":")
    return " ".join(p for p in (labels.standard(framework), ref, title) if p)


@st.cache_data(show_spinner=False, max_entries=4)
def annex_a_controls(stamp: tuple[str, int, int]) -> dict[str, str]:
    """Every Annex A control of both standards, ``framework:ref`` -> its label, in catalog order (the
    choices of the control pickers, searchable by id or title)."""
    from engine.config import ISO27001, ISO42001
    from engine.crosswalk import coverage

    out: dict[str, str] = {}
    for framework in (ISO27001, ISO42001):
        frame = coverage.controls_frame(stamp[0], framework=framework, kinds=("annex_a_control",))
        for ref, title in frame.select("ref", "title").iter_rows():
            out[f"{framework}:{ref}"] = control_label(f"{framework}:{ref}", title)
    return out


@st.cache_data(show_spinner=False, max_entries=4)
def inventories(stamp: tuple[str, int, int]) -> tuple[dict[str, str], dict[str, str]]:
    """The assets and the AI systems, id -> "id name" (retired ones marked), for the link pickers."""
    def labels(frame: pl.DataFrame) -> dict[str, str]:
        return {i: f"{i} {n}" + ("" if s in (None, "active") else f" ({s})")
                for i, n, s in frame.select("id", "name", "status").iter_rows()}

    return labels(register.list_assets(stamp[0])), labels(register.list_ai_systems(stamp[0]))


def link_panel(key: str, noun: str, linked: Sequence[str], options: Mapping[str, str],
               link: Callable[[str], object], unlink: Callable[[str], object]) -> None:
    """Link more ``noun``s (picked from ``options``: id -> label) and unlink linked ones, one engine call
    each; every change is recorded in the history, a refused one is shown with its reason."""
    label = lambda i: options.get(i, i)  # noqa: E731
    st.caption(md(f"Linked {noun}s: " + ("; ".join(label(i) for i in linked) or "none")))
    c1, c2, c3 = st.columns([3, 3, 1], vertical_alignment="bottom")
    add = c1.multiselect(f"Link {noun}s", [o for o in options if o not in linked], format_func=label,
                         key=f"{key}_add", placeholder="Type an id or words of the title")
    drop = c2.multiselect(f"Unlink {noun}s", list(linked), format_func=label, key=f"{key}_drop")
    if c3.button("Apply", key=f"{key}_apply", disabled=not add and not drop):
        done: list[str] = []
        try:
            for target in add:
                link(target)
                done.append(f"linked {label(target)}")
            for target in drop:
                unlink(target)
                done.append(f"unlinked {label(target)}")
        except (RiskmapError, duckdb.Error) as exc:
            show_error(exc)
            if done:
                st.success(md("Recorded before the refusal: " + ", ".join(done)))
            return
        flash(", ".join(done))
        for k in (f"{key}_add", f"{key}_drop"):
            st.session_state.pop(k, None)
        st.rerun()
