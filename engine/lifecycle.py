"""Creating and upgrading a database: migrations, catalogs, crosswalks, views, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import crosswalk, soa, store
from engine.access import rls
from engine.ai import library
from engine.crosswalk import catalog

from .config import db_path


@dataclass
class InitReport:
    path: Path
    migrations: list[str] = field(default_factory=list)
    catalog_rows: int = 0
    mapping_rows: int = 0
    soa_rows: int = 0
    scenario_rows: int = 0
    views: list[str] = field(default_factory=list)
    tailorings_to_review: int = 0  # tailored mappings whose shipped (or imported) record beneath changed

    @property
    def changed(self) -> bool:
        return bool(self.migrations or self.catalog_rows or self.mapping_rows or self.soa_rows
                    or self.scenario_rows)


def init_database(db: str | Path | None = None) -> InitReport:
    """Create or upgrade the database and load the bundled catalogs, crosswalks and AI risk scenarios.

    Idempotent: a second run on an up-to-date database writes nothing (the report says so).
    The files are validated before anything is written; a problem leaves the database untouched. The
    organisation's tailored mappings and imported crosswalks are kept apart and left as they are; the
    report counts the tailorings whose shipped record beneath has changed (``tailorings_to_review``).
    """
    path = db_path(db)
    cats = catalog.load_catalogs()
    records = crosswalk.load_crosswalk_files()
    scenarios = library.load_library()
    report = InitReport(path)
    with store.transaction(path) as con:
        report.migrations = store.migrate(con)
        report.catalog_rows = catalog.sync_catalogs(con, cats)
        report.soa_rows = soa.ensure_rows(con)
        crosswalk.validate_against_catalog(con, records)
        report.mapping_rows = crosswalk.sync_mappings(con, records)
        report.tailorings_to_review = crosswalk.tailoring.base_changes(con).height
        report.scenario_rows = library.sync_library(con, scenarios)
        report.views = store.create_views(con)
        if store.postgres.is_postgres(con):
            store.postgres.grant_reader(con)
            rls.apply_policies(con)  # readers limited to business units (reader_units)
    return report
