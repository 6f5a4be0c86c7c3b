# Two entry points for a fresh machine: `make run` (the main job on the
# built-in MobileNetV2) and `make test` (every test). Both create .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test test-unit test-lit bench
venv: $(STAMP)
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
