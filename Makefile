# The two commands: `make demo` runs the whole loop on this machine, `make test` runs every test.
# Both set up what they need on a fresh machine (a .venv, the Python packages, Chromium).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck system-deps clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

demo: $(STAMP) system-deps
	$(PY) -m hubship demo

# The static checks run first (a few seconds): a lint or type error fails `make test` before
# the long pytest run starts.
test: $(STAMP) system-deps lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts models backend bench examples

# mypy, strict on src/hubship (the settings are in pyproject.toml under [tool.mypy]).
typecheck: $(STAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .hubship test-artifacts backend/model_assets .mypy_cache
