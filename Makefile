# qa-bot: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench demo web migrate clean install

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qa-bot run

migrate: $(STAMP)
	$(BIN)/qa-bot migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot cogs

# The suite on every core (at most 4 workers); PYTEST_ARGS=-n0 runs it in one process.
PYTEST_ARGS ?= -n auto --maxprocesses=4
pytest: $(STAMP)
	scripts/with-test-postgres scripts/with-test-mariadb $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	scripts/with-test-postgres $(BIN)/python -m tests.bench $(BENCH_ARGS)

# The real bot against the loopback fake Discord on a throwaway SQLite file: a scripted
# conversation printed as what each member sees (no token needed; a few seconds).
demo: $(STAMP)
	$(BIN)/python -m tests.demo $(DEMO_ARGS)

# The public web archive (issue 24) of the demo's conversation, with consent given, served at
# http://127.0.0.1:8080/ (the database is kept in .demo/web.sqlite3; Ctrl-C stops it).
web: $(STAMP)
	$(BIN)/python -m tests.demo.web $(WEB_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
