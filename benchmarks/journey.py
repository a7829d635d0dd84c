"""Whole-journey budget: the main job's run (`run --all --jobs 2` on the sample) notebook by notebook.

For every notebook of the run: its time in the runner (ledger `duration_s`), split into
  kernel   waiting for its kernel, moving it to the output folder, saving (duration - cells);
  imports  what the notebook's import statements cost in a fresh interpreter that has already
           imported IPython and ipykernel, as a kernel has (measured separately, after the run);
  cells    the rest of its cells' execution time (papermill's per-cell durations - imports).
Then the shares of the three over all notebooks, the run's wall time and its critical path.

    .venv/bin/python benchmarks/journey.py [--jobs 2] [--keep DIR] [--stages foundations design deploy]
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]

IMPORT_TIMER = """
import sys, time
import IPython, ipykernel.ipkernel  # a kernel has these already
source = sys.stdin.read()
start = time.perf_counter()
exec(compile(source, "imports", "exec"), {})
print(time.perf_counter() - start)
"""


def import_statements(nb) -> str:
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def import_seconds(source: str, env: dict[str, str]) -> float:
    if not source:
        return 0.0
    out = subprocess.run([sys.executable, "-c", IMPORT_TIMER], input=source, capture_output=True, text=True,
                         env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="run in this folder and keep it")
    ap.add_argument("--stages", nargs="*", default=[], help="only these stages (default: --all)")
    args = ap.parse_args()
    from mlops_accelerator.workspace import Project

    with tempfile.TemporaryDirectory() as tmp_name:
        root = args.keep or Path(tmp_name)
        proj = root / "sample"
        env = {**os.environ, "NO_COLOR": "1", "MLOPS_ACCELERATOR_TEMPLATES": str(REPO / "notebooks")}
        cli = str(BIN / "mlops-accelerator")
        subprocess.run([cli, "init", str(proj), "--sample"], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([cli, "-C", str(proj), "run", *(args.stages or ["--all"]), "--jobs", str(args.jobs)], env=env,
                       check=True, capture_output=True)
        wall = time.perf_counter() - start
        project = Project(proj)
        rows = []
        for event in project.events("notebook_finished"):
            nb = nbformat.read(proj / event["output"], as_version=4)
            cells = sum(c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells)
            imports = min(import_seconds(import_statements(nb), env), cells)
            rows.append({"notebook": event["key"], "status": event["status"], "total": event["duration_s"],
                         "kernel": max(event["duration_s"] - cells, 0.0), "imports": imports,
                         "cells": max(cells - imports, 0.0)})
    what = " ".join(args.stages) or "--all"
    print(f"`run {what} --jobs {args.jobs}` on the sample: {wall:.1f} s wall, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| notebook | status | total s | kernel s | imports s | cells s |")
    print("|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["total"]):
        print(f"| {r['notebook']} | {r['status']} | {r['total']:.2f} | {r['kernel']:.2f} | {r['imports']:.2f} | "
              f"{r['cells']:.2f} |")
    total = sum(r["total"] for r in rows) or 1.0
    shares = {k: sum(r[k] for r in rows) for k in ("kernel", "imports", "cells")}
    print(f"| **all {len(rows)}** | | {total:.2f} | " + " | ".join(
        f"{v:.2f} ({100 * v / total:.0f}%)" for v in shares.values()) + " |")
    longest = max(rows, key=lambda r: r["total"])
    print(f"\nLongest notebook {longest['notebook']}: {longest['total']:.1f} s of the {wall:.1f} s wall "
          f"(the floor for any schedule); notebook time summed over {args.jobs} slots: {total / args.jobs:.1f} s.")


if __name__ == "__main__":
    main()
