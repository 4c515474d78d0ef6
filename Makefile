# Two commands for a new machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install lint format bench-link bench-codes clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

demo: install
	scripts/demo.sh

test: install
	scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks print their figures; with DATABASE_URL=postgres://... they run on PostgreSQL.
bench-link: install
	SUPPORT_TOOLS_INSECURE_DEV=1 $(BIN)/python bench/link_program_enrollments.py

bench-codes: install
	SUPPORT_TOOLS_INSECURE_DEV=1 $(BIN)/python bench/diagnose_code.py

clean:
	rm -rf $(VENV) var
