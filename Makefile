# Two commands matter: `make demo` and `make test`. Everything they need is set up here.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint format bench setup clean migrate up

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	touch $@

setup: $(VENV)/.synced

migrate: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_periodic_tasks -v0

demo: migrate
	$(PY) manage.py setup_periodic_tasks
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py seed_demo --if-empty --org northwind --name "Northwind Outdoor" --seed 2
	$(PY) manage.py seed_demo_rules --org demo
	@echo ""
	@echo "  adplatform is starting on http://127.0.0.1:8000/"
	@echo "  Sign in as demo@example.com with password: $${DEMO_PASSWORD:-demo}"
	@echo ""
	$(PY) manage.py serve --host 127.0.0.1 --port 8000

# Production process model on this machine: needs DATABASE_URL and REDIS_URL.
up: migrate
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || (echo "make up needs DATABASE_URL and REDIS_URL (PostgreSQL and Redis)"; exit 2)
	$(PY) manage.py collectstatic --noinput -v0
	@# Prometheus multiprocess mode: every process writes its counters here and /metrics
	@# sums them; emptied at start so counters of a previous run do not linger.
	rm -rf "$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/prometheus}" && mkdir -p "$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/prometheus}"
	PROMETHEUS_MULTIPROC_DIR="$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/prometheus}" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

test: setup
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
