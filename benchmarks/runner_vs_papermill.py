"""Benchmark: the runner against a plain loop of the `papermill` command, in one run.

N trivial notebooks (a parameters cell and one cell) are executed three ways:
  1. baseline: `papermill in.ipynb out.ipynb -p ...` once per notebook, sequentially;
  2. `mlops-accelerator run --jobs 1`;
  3. `mlops-accelerator run --jobs 2`.
Figures are wall-clock seconds and ratios against the baseline measured in the same run.

    .venv/bin/python benchmarks/runner_vs_papermill.py [--notebooks 10] [--repeat 1]
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

import nbformat

BIN = Path(sys.executable).parent


def make_templates(root: Path, n: int) -> Path:
    stage = root / "templates" / "01-foundations"
    stage.mkdir(parents=True)
    for i in range(n):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        params = nbformat.v4.new_code_cell('sprint_length_weeks: int = 2\nproject_name: str = "x"')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell("total = sum(range(sprint_length_weeks * 1000))")]
        nbformat.write(nb, stage / f"{i:02d}-trivial.ipynb")
    return stage


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notebooks", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stage = make_templates(root, args.notebooks)
        env = {**os.environ, "MLOPS_ACCELERATOR_TEMPLATES": str(root / "templates"), "NO_COLOR": "1"}
        cli = str(BIN / "mlops-accelerator")
        subprocess.run([cli, "init", str(root / "proj"), "--name", "bench"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        out = root / "papermill-out"
        out.mkdir()
        times: dict[str, list[float]] = {"papermill loop": [], "runner --jobs 1": [], "runner --jobs 2": []}
        for _ in range(args.repeat):
            start = time.perf_counter()
            for nb in sorted(stage.glob("*.ipynb")):
                subprocess.run([str(BIN / "papermill"), str(nb), str(out / nb.name), "-p", "sprint_length_weeks", "2",
                                "-p", "project_name", "bench", "--no-progress-bar"],
                               check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times["papermill loop"].append(time.perf_counter() - start)
            for jobs in (1, 2):
                times[f"runner --jobs {jobs}"].append(
                    timed([cli, "-C", str(root / "proj"), "run", "foundations", "--jobs", str(jobs)], env))
        base = statistics.median(times["papermill loop"])
        print(f"{args.notebooks} trivial notebooks, {os.cpu_count()} cores, median of {args.repeat}")
        print(f"{'method':<18}{'seconds':>9}{'per notebook':>14}{'speed-up':>10}")
        for name, values in times.items():
            t = statistics.median(values)
            print(f"{name:<18}{t:>9.2f}{t / args.notebooks:>14.2f}{base / t:>9.2f}x")


if __name__ == "__main__":
    main()
