# Two entry points a fresh machine needs: `make run` and `make test` (then `make conformance`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test conformance starters bench clean

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

## Langflow 1.13's starter projects, from the pinned langflow-base wheel (pip download, cached in .cache/).
starters: install
	$(BIN)/python -m tests.support.starters

## Install and run every test (unit, API, handlers, integration, starter flows). Needs nothing beside the clone.
# Three pytest workers on two cores (many tests wait on local servers; a test file stays on one
# worker, so its module fixtures start once): 5 min where one worker took 11, two 7. Then the
# timing budgets of tests/perf alone, on a machine nothing else loads.
# pytest's exit 5 (no test collected) is a failure too.
TEST_WORKERS ?= 3
test: starters
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/perf; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	$(BIN)/python -m pytest tests/perf; perf=$$?; \
	if [ $$status -ne 0 ]; then exit $$status; fi; exit $$perf

## Run corpora of real Langflow exports end to end against local test servers, one line per flow
## (../shared/flows and ../shared/wild-flows when present, and the 1.13 starters); fails on a regression.
conformance: starters
	$(BIN)/python -m tests.conformance.runner

bench: install
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .aws-sam build *.egg-info

.PHONY: sam-check
## cfn-lint, sam validate --lint and sam build of template.yaml (own venv in .cache/sam-venv), sizes vs budget.
sam-check:
	bash .ci/sam-checks
