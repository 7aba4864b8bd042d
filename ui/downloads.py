"""Export downloads shared by pages: the file is prepared on request with progress, then offered.

The engine writes every format (engine.exports); this module only picks the format and hands over bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import streamlit as st

from engine import exports
from ui import common

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
}
LABELS = {"xlsx": "Excel workbook", "csv": "CSV", "md": "Markdown", "json": "JSON"}


@dataclass(frozen=True)
class Format:
    label: str
    extension: str
    mime: str
    make: Callable[[], bytes]


def _via_file(write: Callable[[Path], Path], extension: str) -> bytes:
    """Bytes of an export the engine writes to a file."""
    with tempfile.TemporaryDirectory(prefix="riskmap-export-") as tmp:
        return write(Path(tmp) / f"export.{extension}").read_bytes()


def _format(ext: str, make: Callable[[], bytes]) -> Format:
    return Format(LABELS[ext], ext, MIME[ext], make)


def soa_formats(version: int | None = None) -> dict[str, Format]:
    """Every format the SoA exports to (working copy, or an approved ``version``)."""
    db = common.db_path()
    out = {}
    for ext in exports.SOA_FORMATS:
        if ext == "xlsx":
            out[ext] = _format(ext, lambda: exports.soa_xlsx_bytes(db, version=version))
        else:
            out[ext] = _format(ext, lambda e=ext: _via_file(
                lambda p: exports.export_soa(db, e, p, version=version), e))
    return out


def plan_formats() -> dict[str, Format]:
    """The treatment plan's formats, with the risks the principal may see."""
    db, who = common.db_path(), common.principal()
    return {"xlsx": _format("xlsx", lambda: exports.plan_xlsx_bytes(db, principal=who)),
            "csv": _format("csv", lambda: _via_file(lambda p: exports.export_plan(db, "csv", p, principal=who),
                                                    "csv"))}


def register_formats() -> dict[str, Format]:
    """The register's formats, with the risks the principal may see."""
    db, who = common.db_path(), common.principal()
    return {"xlsx": _format("xlsx", lambda: exports.register_xlsx_bytes(db, principal=who)),
            "csv": _format("csv", lambda: _via_file(
                lambda p: exports.export_register(db, "csv", p, principal=who), "csv"))}


def prepared_download(name: str, formats: dict[str, Format], key: str) -> None:
    """Choose a format, prepare the file (showing progress), then download it."""
    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    kind = c1.selectbox("Format", list(formats), format_func=lambda k: formats[k].label, key=f"{key}_format")
    kind = kind or next(iter(formats))
    fmt = formats[kind]
    state_key = f"{key}_prepared"
    if c2.button(f"Prepare {fmt.label}", key=f"{key}_prepare"):
        with common.guard(), st.status(f"Writing the {fmt.label.lower()}...", expanded=False) as status:
            data = fmt.make()
            st.session_state[state_key] = (name, kind, common.stamp(), data, common.scope())
            status.update(label=f"{fmt.label} ready ({len(data):,} bytes)", state="complete")
    got = st.session_state.get(state_key)
    # A file prepared before the data changed (or for another version) is not offered: prepare it again.
    if got and got[:3] == (name, kind, common.stamp()) and got[4:] == (common.scope(),):
        c3.download_button(f"Download {name}.{fmt.extension}", got[3], file_name=f"{name}.{fmt.extension}",
                           mime=fmt.mime, key=f"{key}_download", type="primary", on_click="ignore")


def soa_downloads(versions: pl.DataFrame) -> None:
    """The SoA export panel; ``versions`` are the approved versions (engine.soa.versions)."""
    labels: dict[int | None, str] = {None: "Working copy"}
    for r in versions.sort("version", descending=True).iter_rows(named=True):
        labels[int(r["version"])] = f"Version {r['version']} (approved by {r['approved_by']}, {r['approved_at']:%Y-%m-%d})"
    version = st.selectbox("Which SoA", list(labels), format_func=lambda v: labels[v], key="soa_export_version")
    st.caption("The SoA in every export format: an Excel workbook with a cover sheet, one sheet per standard and a "
               "combined sheet; CSV; Markdown; JSON.")
    name = "statement_of_applicability" + ("" if version is None else f"_v{version}")
    prepared_download(name, soa_formats(version), "soa_export")
