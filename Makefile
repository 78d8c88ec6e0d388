# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU wheel of torch 2.13.0; asking pip for a plain `torch` would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test test-all lint venv kernels clean

# The install compiles the C kernels (setup.py; optional: without a C compiler it goes on
# and the winograd path says why it cannot run). An editable install does not rebuild
# them when they change, so the kernels stamp reinstalls (without dependencies) when
# their sources do.
KERNEL_SOURCES := setup.py googlenet/deploy/kernel_sources.py \
	$(wildcard googlenet/deploy/kernels/*.c googlenet/deploy/kernels/*.h)

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[plot]"
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e ".[test]"
	touch $@

$(VENV)/.stamp-kernels: $(VENV)/.stamp-base $(KERNEL_SOURCES)
	$(PY) -m pip install -q --no-deps -e .
	touch $@

venv: $(VENV)/.stamp-base

kernels: $(VENV)/.stamp-kernels

demo: $(VENV)/.stamp-base $(VENV)/.stamp-kernels
	$(PY) -m googlenet demo

test: $(VENV)/.stamp-test $(VENV)/.stamp-kernels
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -m "not slow"

test-all: $(VENV)/.stamp-test $(VENV)/.stamp-kernels
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
	rm -f googlenet/deploy/kernels/*.so googlenet/deploy/kernels/*.unavailable
