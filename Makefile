# Two entry points (see README): `make sample` runs the main job, `make test` the tests.
# Both set up everything they need on a fresh machine (virtual environment, packages).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE ?= sample-project
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: install sample test lint clean

$(BIN)/mlops-accelerator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/mlops-accelerator

# The main job: the guided workflow on the bundled sample project (local target).
sample: install
	rm -rf $(SAMPLE)
	$(BIN)/mlops-accelerator init $(SAMPLE) --sample
	$(BIN)/mlops-accelerator -C $(SAMPLE) check || true
	$(BIN)/mlops-accelerator -C $(SAMPLE) status
	$(BIN)/mlops-accelerator -C $(SAMPLE) report --format html
	@echo "Sample project: $(SAMPLE)/  (report: $(SAMPLE)/deliverables-report.html)"

lint: install
	$(BIN)/ruff check mlops_accelerator tests

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) $(SAMPLE) .pytest_cache .ruff_cache
