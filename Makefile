# Liên Thông — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: what the tests need (signing token, PDF tools, the browser) and what the demo uses.
TEST_DEBS := softhsm2 opensc poppler-utils qpdf chromium fonts-dejavu-core nginx
RUN_DEBS := softhsm2

.PHONY: run test lint typecheck pytest venv system-deps-test system-deps-run clean screenshots

run: venv system-deps-run
	$(BIN)/lienthong db upgrade
	$(BIN)/lienthong demo
	LIENTHONG_DEMO=1 $(BIN)/lienthong serve

test: venv system-deps-test lint typecheck pytest

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "python3 (3.11 or newer) is needed"; exit 2; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || bash scripts/apt-install.sh python3-venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps-test:
	@bash scripts/apt-install.sh $(TEST_DEBS)

system-deps-run:
	@bash scripts/apt-install.sh $(RUN_DEBS)

# ruff, then the house rules: imports one way (import-linter), no import cycles, small rooms
lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_cycles.py
	$(BIN)/python scripts/check_sizes.py

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# the main page of each demo role at a tablet's, a phone's and a wall's size → docs/screens/
screenshots: venv system-deps-test
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache
