# Two entry points (see README): `make sample` runs the main job, `make test` the tests.
# Both set up everything they need on a fresh machine (virtual environment, packages).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE ?= sample-project
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: install sample test test-unit test-ui test-wheel chromium lint bench clean

$(BIN)/mlops-accelerator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/mlops-accelerator

# The main job: the guided workflow on the bundled sample project (local target): create it
# (with its generated churn data, committed training code and the legacy project stage 7
# migrates), run every stage that has notebooks (stage 6 replays the production windows,
# alerts on August's drift and retrains), check all deliverables, report.
sample: install
	rm -rf $(SAMPLE)
	$(BIN)/mlops-accelerator init $(SAMPLE) --sample
	$(BIN)/mlops-accelerator -C $(SAMPLE) run --all --jobs 2
	$(BIN)/mlops-accelerator -C $(SAMPLE) check > /dev/null || true  # items only Azure can prove stay to do
	$(BIN)/mlops-accelerator -C $(SAMPLE) status
	$(BIN)/mlops-accelerator -C $(SAMPLE) report --format html
	@echo "Outputs: $(SAMPLE)/runs/ (executed notebooks and artifacts); report: $(SAMPLE)/deliverables-report.html"
	@echo "Data: $(BIN)/mlops-accelerator -C $(SAMPLE) data list   (versioned assets in $(SAMPLE)/data-assets/, layers in $(SAMPLE)/lake/)"
	@echo "Models: cd $(SAMPLE) && ../$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db   endpoint: $(BIN)/mlops-accelerator -C $(SAMPLE) endpoint serve"
	@echo "Monitoring: $(SAMPLE)/runs/*/06-monitor/monitoring/monitoring-report.html   next pass: $(BIN)/mlops-accelerator -C $(SAMPLE) monitor run"
	@echo "Wizards: $(BIN)/mlops-accelerator -C $(SAMPLE) serve   JupyterLab: $(BIN)/jupyter lab $(SAMPLE)"

lint: install
	$(BIN)/ruff check mlops_accelerator tests benchmarks

# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

# Two workers; --dist loadfile keeps each test file (and its module fixtures) on one worker.
TEST_WORKERS ?= 2
test-unit: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

test-ui: install chromium
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -q tests/ui/lab
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -q tests/ui/voila

# The wheel carries the prebuilt labextension: install it where node is hidden and check it.
test-wheel: install
	scripts/check_wheel.sh

test: lint test-unit test-ui test-wheel

bench: install
	$(BIN)/python benchmarks/runner_vs_papermill.py --notebooks 10
	$(BIN)/python benchmarks/journey.py
	$(BIN)/python benchmarks/status_ledger.py --events 1000
	$(BIN)/python benchmarks/voila_tti.py --runs 5
	$(BIN)/python benchmarks/stage4_data.py
	@test -d $(SAMPLE)/mlruns && $(BIN)/python benchmarks/stage5_endpoint.py $(SAMPLE) || echo "stage 5 endpoint benchmark: run 'make sample' first"

clean:
	rm -rf $(VENV) $(SAMPLE) .pytest_cache .ruff_cache
