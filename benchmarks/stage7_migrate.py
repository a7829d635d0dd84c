"""Benchmark: stage 7 (migrate) on the sample against the cost floor of its own parts, in one run.

Measured in one run, wall-clock seconds:
  1. baseline: the two stage-7 parity subprocesses' fixed cost, i.e. `python -c "import sklearn, mlflow"`
     (what any parity run must pay: the training library and MLflow in a fresh interpreter);
  2. the inventory + codemod of the sample's legacy project (library calls);
  3. `mlops-accelerator run migrate --jobs 2` on a fresh `init --sample` project (both notebooks).
The target is stage 7 under 30 s on the sample; ratios are against the baseline.

    .venv/bin/python benchmarks/stage7_migrate.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    base, lib, stage = [], [], []
    for _ in range(args.repeat):
        base.append(timed([sys.executable, "-c", "import sklearn.ensemble, mlflow"], env))
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "p"
            subprocess.run([str(BIN / "mlops-accelerator"), "init", str(project), "--sample"], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            code = ("from mlops_accelerator.migration import inventory, codemod\n"
                    f"inv = inventory.scan('legacy-churn', {str(project)!r})\n"
                    f"codemod.migrate_tree(inv['source'], {str(Path(tmp) / 'm')!r}, ['notebooks/explore-churn.ipynb'])")
            lib.append(timed([sys.executable, "-c", code], env))
            stage.append(timed([str(BIN / "mlops-accelerator"), "-C", str(project), "run", "migrate", "--jobs", "2"],
                               env))
    b = statistics.median(base)
    for name, values in (("baseline: import sklearn + mlflow", base), ("inventory + codemod (process)", lib),
                         ("stage 7, run migrate --jobs 2", stage)):
        m = statistics.median(values)
        print(f"{name:36} {m:7.2f} s  {m / b:5.2f}x baseline")
    print(f"target: stage 7 under 30 s -> {'met' if statistics.median(stage) < 30 else 'NOT met'} on this machine")


if __name__ == "__main__":
    main()
