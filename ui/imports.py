"""Import: upload a register (CSV or Excel), map its columns, check it (a dry run listing every problem),
then commit. The engine reads, validates and writes; nothing is written until the check passes."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
import yaml

from engine import access, register
from engine.errors import InputError
from engine.register.imports import headers, reading
from ui import common

KINDS = {"risks": "Risk register", "assets": "Asset inventory", "ai_systems": "AI system inventory",
         "assessments": "AI impact assessments"}
NOUNS = {"risks": "risk", "assets": "asset", "ai_systems": "AI system", "assessments": "assessment"}
AUTO = "(recognised automatically)"
FRAMEWORKS = {None: "(as written in the file)", "iso27001-2022": "ISO/IEC 27001:2022",
              "iso42001-2023": "ISO/IEC 42001:2023", "iso27001-2013": "ISO/IEC 27001:2013 (translated to 2022)"}
SYSTEMS = {None: "(as written in the file)", "ISMS": "ISMS", "AIMS": "AIMS", "both": "both"}
_CHECKED_KEY = "import_checked"


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
    return report


def _named_error(exc: InputError, folder: Path) -> InputError:
    prefix = f"{folder}/"
    problems = [dataclasses.replace(p, file=str(p.file).replace(prefix, "")) for p in exc.problems]
    return InputError(problems, str(exc).splitlines()[0].replace(prefix, ""))


def run_import(kind: str, path: Path, *, source: str, framework: str | None, system: str | None,
               mapping: Path | None, dry_run: bool, actor: access.Principal) -> Any:
    """The engine's importer for ``kind``; only risk registers take a source name and framework defaults."""
    if kind == "risks":
        return register.import_risks(common.db_path(), path, source, actor=actor, channel=common.CHANNEL,
                                     mapping=mapping, framework=framework, management_system=system, dry_run=dry_run)
    importer = {"assets": register.import_assets, "ai_systems": register.import_ai_systems,
                "assessments": register.import_assessments}[kind]
    return importer(common.db_path(), path, actor=actor, channel=common.CHANNEL, mapping=mapping, dry_run=dry_run)


def _mapping_file(folder: Path, columns: dict[str, str], sheet: str | None) -> Path | None:
    """The user's column choices as a mapping file (headings the user left to recognition are omitted)."""
    doc: dict[str, Any] = {}
    if columns:
        doc["columns"] = columns
    if sheet:
        doc["sheet"] = sheet
    if not doc:
        return None
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _column_choices(table: reading.Table, kind: str, key: str) -> dict[str, str]:
    """One selectbox per heading: recognised automatically, a field, or ignore. Returns the overrides."""
    guessed = headers.resolve_columns(table, kind)
    by_index = {i: f for f, i in guessed.fields.items()}
    options = [AUTO, *headers.fields_of(kind)]
    chosen: dict[str, str] = {}
    cols = st.columns(3)
    for i, heading in enumerate(table.headers):
        if not heading:
            continue
        guess = by_index.get(i)
        label = f"{heading} → {guess}" if guess else f"{heading} (not recognised)"
        pick = cols[i % 3].selectbox(label, options, key=f"{key}_col_{i}",
                                     help="Which field this column holds; 'ignore' leaves it out.")
        if pick and pick != AUTO:
            chosen[heading] = pick
    return chosen


def render() -> None:
    common.header("Import", "Upload a register as CSV or Excel, map its columns, check it (nothing is written "
                  "and every problem is listed with its row and column), then import it.")
    if not common.can("import", ()):
        st.info("Importing needs the role contributor.")
        return
    kind = st.radio("What to import", list(KINDS), format_func=KINDS.get, horizontal=True, key="import_kind")
    kind = kind or "risks"
    upload = st.file_uploader("Register file", type=["csv", "xlsx", "xlsm", "tsv", "txt"], key="import_file")
    if upload is None:
        st.info("Choose a file to begin. Headings are recognised in many wordings (Risk ID, Likelihood, "
                "Annex A controls...); map any the page does not recognise.")
        return
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    source, framework, system = "", None, None
    if kind == "risks":
        c1, c2, c3 = st.columns(3)
        source = c1.text_input("Register name (source)", value=Path(upload.name).stem,
                               key=f"import_source_{digest}",
                               help="Names where the rows came from; a re-import of the same register updates it.")
        framework = c2.selectbox("Bare control references (A.x.y) belong to", list(FRAMEWORKS),
                                 format_func=FRAMEWORKS.get, key="import_framework")
        system = c3.selectbox("Management system of every row", list(SYSTEMS), format_func=SYSTEMS.get,
                              key="import_system")

    with tempfile.TemporaryDirectory(prefix="riskmap-upload-") as tmp:
        folder = Path(tmp)
        path = _save_upload(upload, folder)
        try:
            table = reading.read_table(path)
        except InputError as exc:
            common.show_error(_named_error(exc, folder))
            return
        with common.guard():
            st.subheader("Columns")
            columns = _column_choices(table, kind, f"import_{kind}_{digest}")
            st.subheader(f"Preview ({table.rows} row(s))")
            names = {f"c{i}": (h or f"column {headers.column_letter(i)}") for i, h in enumerate(table.headers)}
            preview = table.frame.head(20).rename({reading.ROW: "row", **names}, strict=False)
            st.dataframe(preview, hide_index=True)
            mapping = _mapping_file(folder, columns, None)
            settings = (kind, digest, source, framework, system, tuple(sorted(columns.items())))
            args = {"source": source or "", "framework": framework, "system": system, "mapping": mapping,
                    "actor": common.principal()}

            check, commit = st.columns([1, 1])
            if check.button("Check (dry run)", key="import_check"):
                st.session_state.pop(_CHECKED_KEY, None)
                with st.status("Checking every row...", expanded=False) as status:
                    try:
                        report = _named(run_import(kind, path, dry_run=True, **args))
                    except InputError as exc:
                        status.update(label=f"{len(exc.problems)} problem(s): nothing can be imported yet",
                                      state="error")
                        common.show_error(_named_error(exc, folder))
                        report = None
                    if report is not None:
                        status.update(label="No problem found", state="complete")
                        st.session_state[_CHECKED_KEY] = (settings, report)
            checked = st.session_state.get(_CHECKED_KEY)
            ready = bool(checked and checked[0] == settings)
            if ready:
                _show_report(checked[1], NOUNS[kind])
            if commit.button("Import", type="primary", disabled=not ready, key="import_commit",
                             help="Check the file first; the import is enabled once the check passes."):
                with st.status(f"Importing {table.rows} row(s)...", expanded=False) as status:
                    try:
                        report = _named(run_import(kind, path, dry_run=False, **args))
                    except InputError as exc:  # the database changed since the check
                        status.update(label="Not imported", state="error")
                        common.show_error(_named_error(exc, folder))
                        return
                    status.update(label="Imported", state="complete")
                st.session_state.pop(_CHECKED_KEY, None)
                common.flash("; ".join(f.summary() for f in report.files))
                st.rerun()


def _show_report(report: Any, noun: str) -> None:
    """What the import would do: per file the new, merged and updated rows."""
    for f in report.files:
        st.success(common.md("Check passed: " + f.summary()))
        for note in f.notes:
            st.caption(common.md(note))
        for label, rows in ((f"New: {noun}", f.created), (f"Merged into an existing {noun}", f.merged),
                            (f"Updated: {noun}", f.updated)):
            if rows:
                st.markdown(f"**{label}: {len(rows)}**")
                st.dataframe(common.list_text(pl.DataFrame(rows, strict=False)), hide_index=True)


render()
