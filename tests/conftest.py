import os

import pytest
from hypothesis import settings as hypothesis_settings

# The suite is reproducible: fuzz tests draw the same examples on every run (a CI failure can be
# replayed). Explore new examples locally with: pytest --hypothesis-profile=explore tests/test_fuzz_*.py
hypothesis_settings.register_profile("default", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile("default")

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLOPS_ACCELERATOR_USER", "pytest")


@pytest.fixture
def project(tmp_path):
    from mlops_accelerator.workspace import Project

    return Project.create(tmp_path / "proj", "contoso-churn")


@pytest.fixture
def cli(project):
    """Run the CLI in-process against the test project; returns (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from mlops_accelerator.cli import main

    def run(*args):
        result = CliRunner().invoke(main, ["-C", str(project.root), *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run
