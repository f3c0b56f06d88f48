# Two commands matter: `make run` (the local stack) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: deps run test demo lint typecheck unit clean

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(STAMP) node_modules/.package-lock.json

run: deps
	$(PY) -m devstack

demo: $(STAMP)
	$(PY) -m bots.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy protocol functions gateway devstack bots tasks_emulator

unit: $(STAMP)
	$(PY) -m pytest tests -m "not stack" -q

test: deps lint typecheck
	$(PY) -m pytest tests -q

clean:
	rm -rf $(VENV) node_modules .devstack
