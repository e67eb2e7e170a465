# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv and installs
# the project (editable, with the dev extras) when pyproject.toml is newer than the last install.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The suite runs on SQLite/in-memory and, when these answer, on PostgreSQL/Redis as well.
ORS_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/ors_test
ORS_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export ORS_TEST_DATABASE_URL ORS_TEST_REDIS_URL

.PHONY: install demo test test-fast test-faults lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ors demo

# tests/faults is left out: it is `make test-faults`, with a time budget of its own.
# TEST_WORKERS pytest-xdist processes (the machines have two cores), each with its own PostgreSQL
# and Redis database (tests/workers.py); TEST_WORKERS=0 runs in one process. Tests go to
# whichever worker is free, except the files that open dozens of connections at once, which
# share one worker (tests/scheduling.py).
TEST_WORKERS ?= 2
test: install
	$(BIN)/pytest --ignore=tests/faults -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The edit loop: SQLite only, no browser, no slow tests (about 1.5 minutes on two cores; the
# PostgreSQL half, the browsers and the races are left to `make test`).
test-fast: install
	$(BIN)/pytest --ignore=tests/faults -n $(TEST_WORKERS) \
		-m "not postgres and not browser and not slow" $(PYTEST_ARGS)

# Fault injection (tests/faults/, a few minutes): a PostgreSQL and a Redis of its own on free
# ports (never the shared ones), the production stack through proxies that stop and hang them,
# and a table of what each fault cost. `make test-faults ORS_FAULTS_WRITE=1` also rewrites
# the "## Faults" block of bench/results.md; ORS_FAULTS_KEEP=1 keeps the processes' logs.
test-faults: install
	$(BIN)/pytest tests/faults $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (bench/harness.py): the production stack on loopback (PostgreSQL database
# ors_bench, Redis db 13, gunicorn, RQ workers), one table; numbers go to bench/results.md.
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--quick" or "--workers 2 --threads 4".
bench: install
	$(BIN)/python -m bench.harness --write-results $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
