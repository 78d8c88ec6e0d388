# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is installed first, as the version the project is checked with. PyPI's Linux wheel
# of torch is the CUDA build (several GB), so PyTorch's own index of CPU wheels is asked
# beside pip's configured indexes and its `+cpu` build wins. For a CUDA build set
# TORCH_INDEX to one of PyTorch's CUDA indexes (.../whl/cu126, say), or to nothing for
# PyPI's default build. Where the index cannot be reached, pip warns, retries a few seconds
# and takes torch from its other indexes (a local wheel, or PyPI).
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_INDEX_ARG = $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

.PHONY: demo test test-all lint venv kernels clean docs docs-serve

# The install compiles the C kernels (setup.py; optional: without a C compiler it goes on
# and the winograd path says why it cannot run). An editable install does not rebuild
# them when they change, so the kernels stamp reinstalls (without dependencies) when
# their sources do.
KERNEL_SOURCES := setup.py googlenet/deploy/kernel_sources.py \
	$(wildcard googlenet/deploy/kernels/*.c googlenet/deploy/kernels/*.h)

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)" $(TORCH_INDEX_ARG)
	$(PY) -m pip install -q -e ".[plot]"
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e ".[test]"
	touch $@

$(VENV)/.stamp-kernels: $(VENV)/.stamp-base $(KERNEL_SOURCES)
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.stamp-docs: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e ".[docs]"
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

# The site, strictly: a broken link, a missing page or a tutorial block that fails stops the
# build. The tutorials' `googlenet ...` shell blocks run the venv's console script.
docs: $(VENV)/.stamp-docs $(VENV)/.stamp-kernels
	NO_MKDOCS_2_WARNING=1 PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m mkdocs build --strict --clean

docs-serve: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m mkdocs serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build site
	rm -f googlenet/deploy/kernels/*.so googlenet/deploy/kernels/*.unavailable
