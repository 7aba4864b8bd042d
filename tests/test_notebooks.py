"""The analyst notebooks run, top to bottom, against the demo database, and are stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from . import stores
from .demo_support import demo_copy, demo_template

pytestmark = pytest.mark.both_stores

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = ["01_overlap_analysis.ipynb", "02_consolidated_register_sql.ipynb", "03_remaining_for_42001.ipynb",
            "04_ai_risk_identification.ipynb"]


def test_the_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has stored outputs; clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_uses_the_engine_not_copies_of_it(path: Path) -> None:
    """Notebooks read through engine functions and SQL on the views; they write nothing."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from engine" in code
    assert "RISKMAP_DB" in code
    for forbidden in ("INSERT ", "UPDATE ", "DELETE ", "CREATE ", "read_only=False", "transaction("):
        assert forbidden not in code, f"{path.name} contains {forbidden!r}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_executes_against_the_demo(path: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db = demo_copy(demo_template(tmp_path_factory), tmp_path)
    before = stores.content(db)
    monkeypatch.setenv("RISKMAP_DB", str(db))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("application/vnd.plotly.v1+json" in getattr(o, "data", {}) for o in shown), "no chart was drawn"
    assert stores.content(db) == before, "a notebook changed the database"
