# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv and installs
# the project (editable) when pyproject.toml is newer than the last install: `make demo` only
# what the demo runs on, `make install` and everything that tests or checks the dev extras too.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
# The name it had when one install did both: a .venv made before the split stays current.
DEV_STAMP := $(VENV)/.installed-stamp
# `make demo DEMO_ARGS="--port 5050"` (or --port 0: any free port; `ors simulate` finds it).
DEMO_ARGS ?=

# The suite runs on SQLite/in-memory and, when these answer, on PostgreSQL/Redis as well.
ORS_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/ors_test
ORS_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export ORS_TEST_DATABASE_URL ORS_TEST_REDIS_URL

.PHONY: install install-runtime demo test test-fast test-faults deploy-check lint format bench clean

$(RUNTIME_STAMP): pyproject.toml
	if test $(DEV_STAMP) -nt pyproject.toml; then :; else \
		test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e .; fi
	touch $(RUNTIME_STAMP)

# The dev extras include the runtime: a `make demo` after `make test` installs nothing.
$(DEV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUNTIME_STAMP) $(DEV_STAMP)

# axe-core, the accessibility checker the browser tests run inside Chromium, and acorn, the
# parser `make lint` holds our browser scripts to: npm packages in a git-ignored folder (never
# committed, never fetched from a CDN at test time).
AXE := .cache/node/node_modules/axe-core/axe.min.js
ACORN := .cache/node/node_modules/acorn/bin/acorn
$(AXE) $(ACORN) &:
	npm install --silent --no-audit --no-fund --prefix .cache/node axe-core@4 acorn@8

install: $(DEV_STAMP) $(AXE) $(ACORN)

install-runtime: $(RUNTIME_STAMP)

demo: install-runtime
	$(BIN)/ors demo $(DEMO_ARGS)

# tests/faults is left out: it is `make test-faults`, with a time budget of its own.
# TEST_WORKERS pytest-xdist processes, each with its own PostgreSQL and Redis database
# (tests/workers.py); TEST_WORKERS=0 runs in one process. Three on the machines' two cores:
# the tests spend a third of their time waiting on PostgreSQL, browsers and subprocesses, and
# a third worker fills it (the whole suite: 230 s with two, 186 s with three). Tests go to
# whichever worker is free, except the files that open dozens of connections at once, which
# share one worker (tests/scheduling.py).
TEST_WORKERS ?= 3
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

# The deployment kit (deploy/check): systemd-analyze verify on the units, nginx -t on the site
# with a self-signed certificate, promtool on the alert rules. Needs nginx and prometheus (Debian).
deploy-check: install-runtime
	bash deploy/check

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	# The console runs on old hospital desktops: ES2017 at most. Kiosks run a current Chromium.
	node $(ACORN) --ecma2017 --silent gateway/console/static/*.js
	node $(ACORN) --ecma2020 --silent kiosk/static/*.js

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
