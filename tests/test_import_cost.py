"""Opening the CLI or a wizard must feel instant: no heavy library at import time."""

import subprocess
import sys

HEAVY = ["azure.ai.ml", "papermill", "jupyter_server", "matplotlib", "ipywidgets", "mlflow"]


def test_package_and_cli_import_without_heavy_libraries():
    code = ("import sys, mlops_accelerator, mlops_accelerator.cli, mlops_accelerator.workspace;"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
