# The README's commands. `make app` and `make test` are the quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/riskmap.duckdb
PORT ?= 8501

.PHONY: setup app test lint bench demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/riskmap demo --db $(DB)

# The app opens the embedded default database: built with the demo organisation the first time,
# upgraded (never rebuilt) afterwards, so edits made in the app are kept. `make demo` rebuilds it.
app: setup
	@if [ -f $(DB) ]; then $(BIN)/riskmap init --db $(DB); else $(BIN)/riskmap demo --db $(DB); fi
	RISKMAP_DB=$(DB) $(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal

# The suite on DuckDB files, then the modules marked both_stores again on a throw-away PostgreSQL server
# (tests/pg_server.py; skipped without PostgreSQL's binaries, failed instead under RISKMAP_REQUIRE_POSTGRES=1).
test: setup
	$(BIN)/pytest
	RISKMAP_TEST_STORE=postgres $(BIN)/pytest -m "both_stores and not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy engine

bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache
