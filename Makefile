# The two commands a newcomer needs: `make demo` and `make test`. CI runs `make test` too.
SHELL := /bin/bash
UV := python3 -m uv

.PHONY: install demo test lint stop bench

install:  ## Install uv (if missing) and the locked Python environment in .venv
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --user --quiet uv \
		|| python3 -m pip install --user --quiet --break-system-packages uv
	@$(UV) sync --frozen --quiet
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

test: lint  ## Everything CI runs: lint, then the whole suite on a throwaway Kafka + PostgreSQL
	$(UV) run --frozen pytest

bench: install  ## Benchmarks on a throwaway stack; results under bench/results/
	$(UV) run --frozen python -m bench skeleton
