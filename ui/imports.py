"""Import: one wizard for every kind of file (risk registers, inventories, impact assessments, a Statement
of Applicability, an action plan). Upload, check the column each heading was recognised as (and change
it), check the file (a dry run: grouped problems, merges, differences, suggestions), then import; the
choices can be downloaded as a mapping file for ``riskmap import ... --mapping``. A second section
decides the control suggestions imports made. The engine reads, validates and writes; nothing is written until
the check passes."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from engine import importing, labels
from engine.errors import InputError, problem_lines
from engine.register import suggestions
from engine.register.imports import describe_changes, headers, known_registers, reading, write_problems_csv
from ui import common

FRAMEWORKS = {None: "(as written in the file)", "iso27001-2022": "ISO/IEC 27001:2022",
              "iso42001-2023": "ISO/IEC 42001:2023", "iso27001-2013": "ISO/IEC 27001:2013 (translated to 2022)"}
SYSTEMS = {None: "(as written in the file)", "ISMS": "ISMS", "AIMS": "AIMS", "both": "both"}
_CHECKED_KEY = "import_checked"
_SHOWN_ROWS = 500


def _save_upload(upload: Any, folder: Path) -> Path:
    """The uploaded bytes as a file with the upload's name: the engine reads files and names them in
    its messages, so the user sees their own file name."""
    path = folder / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    return path


def _named(report: Any) -> Any:
    """The report naming the user's file, not the temporary copy the engine read."""
    for f in report.files:
        f.file = Path(f.file).name
        f.warnings = [dataclasses.replace(w, file=Path(w.file).name) for w in f.warnings]
    return report


def _named_error(exc: InputError, folder: Path) -> InputError:
    prefix = f"{folder}/"
    problems = [dataclasses.replace(p, file=str(p.file).replace(prefix, "")) for p in exc.problems]
    return InputError(problems, exc.summary.replace(prefix, ""))


def _settings(kind: str, upload_name: str, digest: str) -> dict[str, Any]:
    """The importer's settings besides the mapping, as the kind takes them."""
    wanted = importing.KINDS[kind].settings
    out: dict[str, Any] = {}
    c1, c2, c3 = st.columns(3)
    if "source" in wanted:
        out["source"] = _register_choice(c1, kind, upload_name, digest)
    if "framework" in wanted:
        label = ("Bare control references (A.x.y) belong to" if kind == "risks"
                 else "Rows that name no standard belong to")
        out["framework"] = c2.selectbox(label, list(FRAMEWORKS), format_func=FRAMEWORKS.get,
                                        key=f"import_framework_{kind}")
    if "management_system" in wanted:
        out["management_system"] = c3.selectbox("Management system of every row", list(SYSTEMS),
                                                format_func=SYSTEMS.get, key="import_system")
    return out


_NEW_REGISTER = "(a new register)"


def _register_choice(col: Any, kind: str, upload_name: str, digest: str) -> str:
    """The register the file is: one imported before (chosen from the list, so next quarter's file updates
    this quarter's risks), or a new one named below (default: the file name; a file whose ids, columns and
    titles are those of a known register is recognised as it anyway)."""
    known = known_registers(common.db_path()) if kind == "risks" else pl.DataFrame()
    choice = _NEW_REGISTER
    if not known.is_empty():
        names = {r["register"]: f"{r['register']} ({r['risks']} risks, last file {r['last_file']})"
                 for r in known.iter_rows(named=True)}
        choice = col.selectbox("Register", [_NEW_REGISTER, *names], key=f"import_register_{digest}",
                               format_func=lambda r: names.get(r, r),
                               help="Choose the register this file is a new version of: its rows then update "
                                    "that register's risks (matched by the register's own ids) with history.")
    if choice != _NEW_REGISTER:
        return str(choice)
    return col.text_input("Register name (source)", value=Path(upload_name).stem, key=f"import_source_{digest}",
                          help="Names where the rows came from; a re-import of the same register updates it.") \
        or Path(upload_name).stem


def _column_choices(table: reading.Table, cols: headers.Columns, kind: str, key: str) -> dict[str, str]:
    """The mapping form: one selectbox per heading, set to the field it was recognised as (``ignore``
    when it was not). Returns the headings the person mapped differently."""
    by_index = {i: f for f, ids in ((f, cols.columns_of(f)) for f in cols.fields) for i in ids}
    options = headers.fields_of(kind)
    changed: dict[str, str] = {}
    grid = st.columns(3)
    for i, heading in enumerate(table.headers):
        if not heading:
            continue
        guess = by_index.get(i)
        pick = grid[i % 3].selectbox(f"{heading} ({'recognised' if guess else 'not recognised'})", options,
                                     index=options.index(guess or headers.IGNORE), key=f"{key}_col_{i}",
                                     format_func=_field_label,
                                     help="The field this column holds; 'ignore' leaves it out (it stays in "
                                          "the lineage of risk registers).")
        if pick != (guess or headers.IGNORE):
            changed[heading] = pick
    return changed


def _field_label(fld: str) -> str:
    """A field to map a column to, in words (``inherent_likelihood`` -> ``Inherent likelihood``)."""
    return "Ignore (leave the column out)" if fld == headers.IGNORE else labels.heading(fld)


def _show_problems(exc: InputError, folder: Path) -> None:
    """The problems of a file: grouped (a few lines however many there are), the first ones as a
    table, and all of them as a CSV download."""
    st.error(common.md(exc.summary))
    st.code("\n".join(problem_lines(exc.problems, limit=60)), language=None)
    if exc.problems:
        common.table(common.problems_frame(exc.problems[:_SHOWN_ROWS]), key="import_problems")
        out = folder / "problems.csv"
        write_problems_csv(exc.problems, out)
        st.download_button(f"Download all {len(exc.problems):,} problem(s) as CSV", out.read_bytes(),
                           file_name="problems.csv", mime="text/csv", key="import_problems_download")


def _run(kind: str, path: Path, folder: Path, args: dict[str, Any], dry_run: bool) -> Any:
    try:
        return _named(importing.run_import(common.db_path(), kind, path, channel=common.CHANNEL, dry_run=dry_run,
                                           **args))
    except InputError as exc:
        _show_problems(_named_error(exc, folder), folder)
        return None


def _wizard() -> None:
    kinds = importing.KINDS
    kind = st.radio("What to import", list(kinds), format_func=lambda k: kinds[k].label, horizontal=True,
                    key="import_kind") or "risks"
    upload = st.file_uploader("File", type=["csv", "xlsx", "xlsm", "tsv", "txt"], key="import_file")
    if upload is None:
        st.info("Choose a file to begin. Headings are recognised in many wordings (Risk ID, Likelihood, Annex A "
                "controls, Applicable, Due date...); change any the page did not read as you meant.")
        return
    digest = hashlib.sha256(upload.getvalue()).hexdigest()[:16]
    settings = _settings(kind, upload.name, digest)
    with tempfile.TemporaryDirectory(prefix="riskmap-upload-") as tmp:
        folder = Path(tmp)
        path = _save_upload(upload, folder)
        try:
            table, cols = importing.read_columns(path, kind)
        except InputError as exc:
            _show_problems(_named_error(exc, folder), folder)
            return
        with common.guard():
            _check_and_import(kind, table, cols, path, folder, digest, settings)


def _check_and_import(kind: str, table: reading.Table, cols: headers.Columns, path: Path, folder: Path,
                      digest: str, settings: dict[str, Any]) -> None:
    st.subheader("Columns")
    changed = _column_choices(table, cols, kind, f"import_{kind}_{digest}")
    text = importing.mapping_text(kind, changed, framework=settings.get("framework"),
                                  management_system=settings.get("management_system"))
    st.download_button("Download the mapping file", text.encode("utf-8"), file_name=f"{Path(path).stem}.mapping.yaml",
                       mime="text/yaml", key="import_mapping_download",
                       help="The column choices and settings, for `riskmap import ... --mapping FILE`.")
    st.subheader(f"Preview ({table.rows:,} row(s))")
    names = {f"c{i}": (h or f"column {headers.column_letter(i)}") for i, h in enumerate(table.headers)}
    st.caption("The first 20 rows as written in the file.")
    st.dataframe(table.frame.head(20).rename({reading.ROW: "Row", **names}, strict=False), hide_index=True,
                 key="import_preview", height="content")
    mapping = folder / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    args = {"mapping": mapping, **{k: v for k, v in settings.items() if k != "management_system" or v},
            "actor": common.principal()}
    state = (kind, digest, tuple(sorted(settings.items(), key=str)), tuple(sorted(changed.items())))
    check, commit = st.columns([1, 1])
    if check.button("Check (dry run)", key="import_check"):
        st.session_state.pop(_CHECKED_KEY, None)
        report = _run(kind, path, folder, args, dry_run=True)
        if report is not None:
            st.session_state[_CHECKED_KEY] = (state, report)
    checked = st.session_state.get(_CHECKED_KEY)
    ready = bool(checked and checked[0] == state)
    if ready:
        _show_report(checked[1], importing.KINDS[kind].noun)
    if commit.button("Import", type="primary", disabled=not ready, key="import_commit",
                     help="Check the file first; the import is enabled once the check passes."):
        report = _run(kind, path, folder, args, dry_run=False)
        if report is not None:
            st.session_state.pop(_CHECKED_KEY, None)
            common.flash("Imported: " + "; ".join(f.summary() for f in report.files))
            st.rerun()


_SECTIONS = (("created", "New"), ("merged", "Merged into an existing record"), ("updated", "Updated"),
             ("differences", "Values that differ from what riskmap holds (they would be replaced; the history "
                             "keeps the old ones)"),
             ("carried", "27001:2013 rows carried onto one 2022 control"),
             ("suggested", "Controls proposed for controls written in words (decide them under Control suggestions)"),
             ("proposals", "Crosswalk proposals for the 42001 rows (confirm them on the SoA page)"))


def _show_scales(readings: list[dict[str, Any]], matrix_size: int) -> None:
    """How each likelihood and impact value of the file is read on the matrix, before anything is
    imported: the same word can land on different points of the two axes."""
    if not readings:
        return
    st.markdown(f"**How the scores will be read on the {matrix_size}x{matrix_size} risk matrix**")
    st.caption("Check each value: it is stored as the point shown. A mapping file's `scales` (or a scale in the "
               "column heading, such as \"Likelihood (1-3)\") changes how a column is read.")
    common.table(pl.DataFrame(readings).select("column", "value", "read_as"), key="import_scales",
                 column_config={"column": st.column_config.TextColumn("Column in the file"),
                                "value": st.column_config.TextColumn("Value as written"),
                                "read_as": st.column_config.TextColumn("Read as (matrix point)")})


def _show_report(report: Any, noun: str) -> None:
    """What the import would do: per file, how its scores are read, its notes and warnings, then each list
    of rows."""
    size = common.matrix(common.stamp()).size
    for f in report.files:
        st.success(common.md("Check passed: " + f.summary()))
        _show_scales(getattr(f, "scales", []), size)
        for note in f.notes:
            st.caption(common.md(note))
        if f.warnings:
            st.warning(common.md(f"{len(f.warnings)} warning(s); the file imports as it is"))
            st.code("\n".join(problem_lines(f.warnings, limit=30)), language=None)
        for attr, label in _SECTIONS:
            rows = getattr(f, attr)
            if attr == "updated":  # each update with its fields' values before and after
                rows = [{"row": x["row"], "id": x["id"], "changes": describe_changes(x, words=True)} for x in rows]
            if attr == "differences":  # each value as its field's words
                rows = [{**x, "id": labels.control_text(str(x.get("id"))),
                         **{k: labels.word(str(x.get("field")), x.get(k)) for k in ("stored", "imported") if k in x}}
                        for x in rows]
            if rows:
                st.markdown(f"**{label}: {len(rows):,}**" + (f" ({noun})" if attr == "created" else ""))
                common.table(pl.DataFrame(rows[:_SHOWN_ROWS], strict=False), key=f"import_{f.file}_{attr}")


def _suggestions() -> None:
    """The control suggestions waiting for a decision: accept (the control is linked) or reject."""
    found = suggestions.list_suggestions(common.db_path(), status="proposed")
    if found.is_empty():
        st.info("No control suggestion is waiting. Importing a register whose controls are written in words "
                "(\"MFA, backups, logging\") proposes Annex A controls for them here.")
        return
    st.caption(f"{found.height:,} suggestion(s) waiting. Accepting links the control to the risk, with history.")
    shown = found.select("id", "risk_id", "risk_title", "phrase", "framework", "ref", "control_title", "score",
                         "reason", "link_status")
    st.caption("Tick the suggestions to decide (the box left of each row; the header box ticks them all).")
    picked = common.ticked(shown, key="suggest_table", id_col="id", column_config={
        "id": st.column_config.TextColumn("Suggestion"), "phrase": st.column_config.TextColumn("Written in the file"),
        "ref": st.column_config.TextColumn("Proposed control"), "control_title": st.column_config.TextColumn("Title"),
        "score": st.column_config.NumberColumn("Match", format="%.2f"),
        "link_status": st.column_config.TextColumn("Link status")})
    st.caption(f"{len(picked)} of {found.height} suggestion(s) ticked")
    note = st.text_input("Note (kept with the decision)", key="suggest_note")
    accept, reject = st.columns(2)
    for button, decide, verb in ((accept, suggestions.accept_suggestions, "Accepted"),
                                 (reject, suggestions.reject_suggestions, "Rejected")):
        if button.button(f"{verb[:-2]} selected", disabled=not picked, key=f"suggest_{verb.lower()}"):
            with common.guard():
                done = decide(common.db_path(), picked, note=note or None, actor=common.principal(),
                              channel=common.CHANNEL)
                common.flash(f"{verb} {len(done)} suggestion(s)")
                st.rerun()


def render() -> None:
    common.header("Import", "Upload a risk register, an inventory, a Statement of Applicability or an action plan "
                  "as CSV or Excel, check its columns, check the file (nothing is written; problems are grouped "
                  "by column and kind), then import it.")
    if not common.can("import", ()):
        st.info("Importing needs the role contributor.")
        return
    # a radio rather than tabs: the choice is kept across the reruns an import and a decision make
    section = st.radio("Section", ["Import a file", "Control suggestions"], horizontal=True, key="import_section",
                       label_visibility="collapsed")
    if section == "Control suggestions":
        _suggestions()
    else:
        _wizard()


render()
