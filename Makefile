# Whizzy — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
UVENV  := .uv
UV     := $(UVENV)/bin/uv
STAMP  := $(VENV)/.whizzy-installed
WHIZZY := $(VENV)/bin/whizzy
export DO_NOT_TRACK := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install browser run test test-load bench lint clean help
help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(UV):
	@$(PYTHON) -m venv $(UVENV)
	@$(UVENV)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

# --quiet: no line per package (about 200 on a first install); errors are still shown.
# --compile-bytecode and compileall: every package's and the project's .pyc written now, so
# no process compiles sources when it starts (with PYTHONDONTWRITEBYTECODE set, a cold
# `whizzy ask` took 17 s instead of 2 s compiling LangGraph and LangChain again each time)
$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	@echo "installing into $(VENV) (about a minute the first time)…"
	@$(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON)
	@$(VENV)/bin/python -m compileall -q agents whizzy evals graph.py app.py >/dev/null
	@echo "installed: $$($(UV) pip list --quiet --python $(VENV)/bin/python 2>/dev/null | tail -n +3 | wc -l | tr -d ' ') packages in $(VENV)"
	@touch $@

install: $(STAMP)  ## install into .venv (only when pyproject.toml or uv.lock changed)

run: install  ## install, demo org if there is no warehouse, build when changed (REBUILD=1 forces), chat
	$(WHIZZY) up $(if $(REBUILD),--rebuild)

test: install browser  ## install, then run the whole test suite
	$(VENV)/bin/python -m pytest -q -n 2

browser:  ## Debian's chromium for the browser tests (skipped when it is already there)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (echo "installing Debian's chromium for the browser tests"; \
	   (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	   echo "could not install chromium: the browser tests will fail; install it with apt-get install chromium")

test-load: install  ## heavy concurrency tests
	$(VENV)/bin/python -m pytest -q -m load

bench: install  ## benchmark generation, build and answers at 10k/100k/1M opportunities
	$(WHIZZY) bench

lint: install  ## ruff, and import-linter: the layers of README "Architecture" (make test runs it too)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:  ## remove the venvs and local warehouses
	rm -rf $(VENV) $(UVENV) .whizzy dbt_project/target dbt_project/logs
