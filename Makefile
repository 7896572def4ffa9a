# Ripple: `make up` runs the main demo (a Git push drives a CI flow), `make test` runs every
# test. Both create the virtualenv and install the project themselves; only python3 is needed.
# `make quickstart` runs the first example. Ports: `make up PORT=9080`,
# `make quickstart PORT=9080 DISPLAY_PORT=9081`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .ripple
PORT ?= 8080
DISPLAY_PORT ?= 8081
QUICKSTART := manifests/examples/01-quickstart
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: up ci-demo quickstart test unit typecheck lint bench soak clean chromium

CHROMIUM ?= /usr/bin/chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Issue #12's demo: Git pushes drive a CI flow (manifests/examples/ci-flow), traced live;
# then it stays up with the URLs to open until Ctrl-C. Runs without a terminal too.
up: $(STAMP)
	@$(BIN)/ripple demo ci --port $(PORT) --data-dir $(DATA_DIR) $(DEMO_ARGS)

ci-demo: up

# The quickstart's Trigger names the display at 127.0.0.1:8081; a copy in the data dir names
# $(DISPLAY_PORT). --keep-existing: a second run creates what is missing and leaves the
# objects you changed as they are (it says which). The display's lines start "display | ".
quickstart: $(STAMP)
	@echo "Ripple quickstart: Broker 'default', and a Trigger on type dev.example.hello to an"
	@echo "event display on :$(DISPLAY_PORT) that prints what it receives here. In another shell:"
	@echo "  . $(BIN)/activate"
	@if [ "$(PORT)" != 8080 ]; then echo "  export RIPPLE_SERVER=http://127.0.0.1:$(PORT)"; fi
	@echo "  ripple event send --to broker:default --type dev.example.hello --source /me --data '{\"msg\":\"hi\"}'"
	@echo "  ripple event tail broker:default      # watch events enter the broker"
	@echo "  ripple get triggers; ripple describe trigger hello-display"
	@echo "Ctrl-C stops everything."
	@mkdir -p $(DATA_DIR)/quickstart && \
	for f in $(QUICKSTART)/*.yaml; do \
	  sed 's|http://127.0.0.1:8081/|http://127.0.0.1:$(DISPLAY_PORT)/|' "$$f" > $(DATA_DIR)/quickstart/$$(basename "$$f"); \
	done; \
	( $(BIN)/ripple event display --port $(DISPLAY_PORT) 2>&1 & echo $$! > $(DATA_DIR)/quickstart/display.pid; wait ) \
	  | while IFS= read -r line; do printf 'display | %s\n' "$$line"; done & \
	trap 'kill $$(cat $(DATA_DIR)/quickstart/display.pid) 2>/dev/null' EXIT INT TERM; \
	$(BIN)/ripple up --port $(PORT) --data-dir $(DATA_DIR) -f $(DATA_DIR)/quickstart/ --keep-existing

# The console's browser test drives Debian's chromium through Playwright (never `playwright
# install`, which downloads a browser build of its own).
chromium:
	@test -x $(CHROMIUM) || { echo "installing chromium for the console's browser test"; \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

test: $(STAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/mypy ripple channels broker sources serving controllers bench
	$(BIN)/python -m pytest -q --durations=40 $(PYTEST_ARGS)

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
