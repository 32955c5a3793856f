# mailbind: `make run` starts the service on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The suite mostly waits on sockets, servers and the worker: several processes (pytest-xdist) overlap the waits.
TEST_PROCESSES ?= 4

.PHONY: run test lint install install-test migrate messages clean bench

# Runtime dependencies only: what `make run` needs.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "mailbind needs Python 3.11 or newer"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# The test tools on top (pytest, Playwright, the test servers, ruff, import-linter): `make test`, `lint`, `bench`.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

messages: install
	$(PY) manage.py compilemessages_py

migrate: install
	$(PY) manage.py migrate --noinput

# The demo organization, then web server, Celery worker and beat in the foreground; the URL and the demo sign-ins
# again once all three are up. Ctrl-C stops all three.
run: messages migrate
	$(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "mailbind is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo ""
	PORT=$(PORT) $(PY) -m config.run_local

# axe-core for the browser tests' accessibility checks (tests/browser/package.json), where npm exists.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund --silent; \
	else echo "npm not found: browser tests will skip their accessibility checks"; fi

test: install-test messages tests/browser/node_modules/.package-lock.json
	$(PY) -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# Throughput of the periodic re-check on loopback servers (needs root for Dovecot), then the health page and its CSV
# export with 100,000 accounts, then settings discovery (local hit, network miss under the deadline, probe
# connections of a full guess); each prints ratios against raw limits, asserts no time.
# BENCH_ARGS="--accounts 48 --concurrency 1,2,4"; HEALTH_BENCH_ARGS="--accounts 100000 --samples 7";
# DISCOVERY_BENCH_ARGS="--samples 500"; DATABASE_URL / CELERY_BROKER_URL pick PostgreSQL and Redis.
bench: install-test
	$(PY) -m tests.benchmarks.recheck_throughput $(BENCH_ARGS)
	$(PY) -m tests.benchmarks.health_page $(HEALTH_BENCH_ARGS)
	$(PY) -m tests.benchmarks.discovery_latency $(DISCOVERY_BENCH_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var db.sqlite3
