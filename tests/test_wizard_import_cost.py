"""The wizard must open at once: no azure.ai.ml, papermill or plotting at import time."""

import subprocess
import sys

HEAVY = ["azure.ai.ml", "papermill", "matplotlib", "mlflow", "nbformat", "pandas", "jupyter_server"]


def test_wizard_imports_light():
    code = ("import sys, mlops_accelerator.wizard as w; w.stage_wizard; "
            "import mlops_accelerator.wizard.stage, mlops_accelerator.wizard.home, mlops_accelerator.wizard.engine, "
            "mlops_accelerator.wizard.run, mlops_accelerator.wizard.radar, mlops_accelerator.serve; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_building_a_wizard_stays_light(tmp_path):
    code = ("import sys; from mlops_accelerator.workspace import Project; "
            f"p = Project.create({str(tmp_path / 'p')!r}, 'light-proj'); "
            "from mlops_accelerator.wizard import stage_wizard, home; w = stage_wizard('design', p); w.next(); "
            "home(p.root); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
