# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU wheel of torch 2.13.0; asking pip for a plain `torch` would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test test-all lint venv clean docs docs-serve

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[plot]"
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e ".[test]"
	touch $@

$(VENV)/.stamp-docs: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e ".[docs]"
	touch $@

venv: $(VENV)/.stamp-base

demo: $(VENV)/.stamp-base
	$(PY) -m googlenet demo

test: $(VENV)/.stamp-test
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -m "not slow"

test-all: $(VENV)/.stamp-test
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .
	$(PY) -m mypy

# The site, strictly: a broken link, a missing page or a tutorial block that fails stops the
# build. The tutorials' `googlenet ...` shell blocks run the venv's console script.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m mkdocs build --strict --clean

docs-serve: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m mkdocs serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
