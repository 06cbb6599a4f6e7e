# Two commands set everything up on a machine with Python 3.11+ and make:
#   make demo   create .venv, install the planner, run it on a demo workspace
#   make test   install the dev tools and run the whole suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[postgres,images]'
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet --group dev
	touch $@

demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/planner init $(DEMO)  # DEMO may be relative to here or absolute
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner queue sync
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner feeds sync
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner queue list --status queued
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner plan
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner preview
	cd $(DEMO) && $(CURDIR)/$(BIN)/planner simulate
	@echo
	@echo "Next, as the README's Quick start says: . $(BIN)/activate  (puts planner on your PATH)"
	@echo "then: cd $(DEMO) && planner config check"

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto  # one worker per core (pytest-xdist)

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/queue_sync.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
