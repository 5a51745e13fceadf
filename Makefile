# kefu — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint clean

# The virtualenv is made once; the project is (re)installed only when pyproject.toml is newer
# than the stamp left by the last install.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Migrate the embedded database, load the demo data once (printing the demo accounts), serve.
run: install
	$(BIN)/kefu db upgrade
	$(BIN)/kefu demo --if-empty
	$(BIN)/kefu serve --host $(HOST) --port $(PORT)

# The whole suite, browser and PostgreSQL tests included. pytest's exit code 5 (no tests
# collected) is turned into a failure.
test: install
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
