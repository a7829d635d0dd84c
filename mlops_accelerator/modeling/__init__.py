"""Stage 5, Build ML Models, on the local target.

- `project_code`: the project's training package under git (sample code, commit, clean-tree rule)
- `quality`: the quality gates (pytest JUnit XML, coverage, flake8-compatible lint)
- `training`: data asset in, tuned model out, tracked in MLflow
- `promotion`: thresholds, champion/challenger, registry tags and aliases
- `rai`: fairness, explanations, error analysis and the HTML report
- `endpoint` / `collector_app`: the local realtime endpoint with its data collector, smoke and batch
- `azure_specs`, `workflows`: the Azure ML and CI/CD files to run the same on Azure
- `steps`: what each step of the Azure ML training pipeline runs (one command component per step)
"""


class ModelingError(RuntimeError):
    """A stage-5 step that cannot go on: says what, where and how to fix it."""
