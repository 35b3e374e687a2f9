# Two entry points a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==24.3.1
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## Start the local API server (embedded DynamoDB, example flows from ./flows) on 127.0.0.1:$(PORT).
PORT ?= 7860
run: install
	$(BIN)/flowless run --backend-only --flows flows --port $(PORT)

## Install and run every test (unit, API, handlers, integration, conformance).
test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .aws-sam build *.egg-info

.PHONY: sam-check
## cfn-lint, sam validate --lint and sam build of template.yaml (own venv in .cache/sam-venv), sizes vs budget.
sam-check:
	bash .ci/sam-checks
