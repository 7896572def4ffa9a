# Ripple: `make up` runs the quickstart demo, `make test` runs every test.
# Both create the virtualenv and install the project themselves; only python3 is needed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .ripple
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: up ci-demo test unit typecheck lint bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

up: $(STAMP)
	@echo "Ripple quickstart: Broker 'default', and a Trigger on type dev.example.hello to an"
	@echo "event display on :8081 that prints what it receives here. In another shell:"
	@echo "  . $(BIN)/activate"
	@echo "  ripple event send --to broker:default --type dev.example.hello --source /me --data '{\"msg\":\"hi\"}'"
	@echo "  ripple event tail broker:default      # watch events enter the broker"
	@echo "  ripple get triggers; ripple describe trigger hello-display"
	@echo "Ctrl-C stops everything."
	@$(BIN)/ripple event display --port 8081 & display=$$!; \
	trap "kill $$display 2>/dev/null" EXIT INT TERM; \
	$(BIN)/ripple up --data-dir $(DATA_DIR) -f manifests/examples/01-quickstart/

# Issue #12's demo: Git pushes drive a CI flow (manifests/examples/ci-flow), traced live;
# then it stays up with the URLs to open until Ctrl-C. Runs without a terminal too.
ci-demo: $(STAMP)
	@$(BIN)/ripple demo ci --data-dir $(DATA_DIR) $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy ripple channels broker sources serving controllers bench
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

# mypy as pyproject.toml's [tool.mypy] sets it: every flag of --strict on the kernel
# (`ripple.*`), the default checks on the subsystems and the benchmarks.
typecheck: $(STAMP)
	$(BIN)/mypy ripple channels broker sources serving controllers bench

bench: $(STAMP)
	$(BIN)/python -m bench

# The full forms of the reliability checks (issue #5): minutes each; `make test` runs the short ones.
soak: $(STAMP)
	RIPPLE_SOAK=1 $(BIN)/python -m pytest -q -s tests/reliability $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .mypy_cache
