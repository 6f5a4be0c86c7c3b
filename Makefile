# Two entry points for a fresh machine: `make run` (the main job on the
# built-in MobileNetV2) and `make test` (every test). Both create .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test test-unit test-lit bench
# The package's bytecode is compiled here, as `pip install .` does for a regular install
# (an editable one leaves it to the first run, and with PYTHONDONTWRITEBYTECODE set every
# run compiles our ~25 modules again: ~0.05-0.1 s of each `tt-dw-opt` start-up). Run on
# every `make venv`; only files changed since are compiled again.
venv: $(STAMP)
	$(BIN)/python -m compileall -q tt_dw_mlir
# setup.py and the C source: the editable install compiles the reference backend's kernel
$(STAMP): pyproject.toml setup.py tt_dw_mlir/runtime/_dwconv.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: venv
	$(BIN)/tt-dw run --model mobilenetv2

test: venv test-lit test-unit

test-lit: venv
	$(BIN)/lit -sv test/lit

test-unit: venv
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python benchmarks/run_all.py
