# The two commands: `make up` starts the whole system, `make test` runs every test.
# Both bootstrap first (venv, pinned Python deps, node modules) and do nothing when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.bithedge-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# Every Node project with a lock file is installed from it when the lock changes. Not `npm ci`: the lock holds
# only this platform's optional binaries (rollup's), because the registry reached here serves no others, and
# `npm ci` refuses such a lock; `npm install --no-save` installs exactly the locked versions and writes nothing.
NODE_STAMPS := $(patsubst %/package-lock.json,%/node_modules/.package-lock.json,\
	$(wildcard contracts/package-lock.json contracts/*/package-lock.json tests/*/js/package-lock.json dashboards/js/package-lock.json))

.PHONY: up test lint lock bootstrap chromium clean

up: bootstrap
	@$(BIN)/bithedge up

test: bootstrap chromium
	$(BIN)/python -m pytest

lint: bootstrap
	$(BIN)/ruff check .

bootstrap: $(STAMP) $(NODE_STAMPS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A new top-level package needs a re-install for the editable finder to see it.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml $(wildcard */__init__.py)
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps -e .
	@touch $@

%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm install --no-save --no-audit --no-fund --loglevel=error
	@touch $@

# the dashboards' plotly.js is built by that install (its postinstall): its sources rebuild it too
dashboards/js/node_modules/.package-lock.json: dashboards/js/build.mjs dashboards/js/plotly-bithedge.js

# Browser tests run Debian's chromium through Playwright; nothing downloads a browser of its own.
chromium:
	@if [ -d tests/dashboards ] && ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need Debian's chromium. Run:  sudo apt-get install -y chromium" >&2; exit 1; \
	  fi; \
	fi

# Regenerate requirements.lock from requirements.in in a throwaway venv.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip --disable-pip-version-check -q install -r requirements.in
	.lock-venv/bin/python -m pip freeze --exclude-editable | sort -f > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV)
