# The two commands a newcomer needs: `make demo` and `make test`. CI runs `make test` too.
SHELL := /bin/bash
UV := python3 -m uv

.PHONY: install airflow demo test lint stop bench

install:  ## Install uv (if missing) and the locked Python environment in .venv
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --user --quiet uv \
		|| python3 -m pip install --user --quiet --break-system-packages uv
	@$(UV) sync --frozen --quiet
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
		else echo "browser tests need Chromium: sudo apt-get install chromium chromium-driver"; fi; fi
	@echo "installed: .venv ($$($(UV) run --frozen python --version))"

demo: install  ## Start the local stack and run the platform live (Ctrl-C stops; `make stop` ends the stack)
	$(UV) run --frozen cxa demo

stop:  ## Stop the local stack that `make demo` started
	$(UV) run --frozen cxa stack down

lint: install  ## Lint, format, types and architecture boundaries
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

airflow:  ## Airflow in an environment of its own (.cache/airflow-venv), for the DAG's tests
	@[ -x .cache/airflow-venv/bin/airflow ] || { $(UV) venv --quiet --python 3.11 .cache/airflow-venv \
		&& $(UV) pip install --quiet --python .cache/airflow-venv/bin/python "apache-airflow==2.11.2"; }

test: lint airflow  ## Everything CI runs: lint, then the whole suite on a throwaway Kafka + PostgreSQL
	$(UV) run --frozen pytest

bench: install  ## Every benchmark (about 20 minutes); results under bench/results/
	for name in skeleton pipeline backfill routing routing-loop categorizer batch forecast reforecast dashboard ingest; do \
		$(UV) run --frozen python -m bench $$name || exit 1; done
