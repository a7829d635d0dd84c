"""Benchmark: the runner against papermill's own Python API, measured in one run.

Two workloads, each method repeated and alternated (the order rotates every repeat):

* trivial: N notebooks of a parameters cell and one small cell;
* stages: the real stage 1-3 notebooks of the sample project (`init --sample`, a fresh project
  for every measurement, so every run is a first run; `run foundations design deploy`).

Methods:
  papermill API loop     `papermill.execute_notebook` over the notebooks in a loop, in one Python
                         process; timed around the loop only (its interpreter start and papermill
                         import are not counted: in papermill's favour). The baseline.
  papermill CLI loop     one `papermill` command per notebook (a second, labelled baseline; trivial only).
  runner --jobs N        `mlops-accelerator run` (whole command: start-up, ledger, the automatic
                         checks it runs at the end).
  runner --cold-kernels  the same with each kernel started when its notebook starts.
  previous runner        `mlops-accelerator run --jobs 2` of an earlier commit (--baseline-ref,
                         default: the last commit before warm kernels), on the same notebooks
                         (trivial suite: that commit cannot run today's stage notebooks, whose
                         parameters changed after it).
  release REF            (stages, --release-ref) an earlier release as a whole: its package, its own
                         stage 1-3 notebooks and sample (not the same work: for scale only).
  runner at REF          (stages) `run --jobs 2` of the package at --stages-ref (default: the runner
                         before the kernel template preloaded the notebooks' modules), on today's
                         notebooks; its kernels use that package too.

Prints medians, min-max and ratios against the API loop (and, for the stages, the previous runner).

    .venv/bin/python benchmarks/runner_vs_papermill.py [--notebooks 10] [--repeat 3] [--suite both]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
BASELINE_REF = "5789709"  # the runner before warm kernels (worker processes, a cold kernel per notebook)
STAGES_REF = "23517b4"  # the last runner before preloading, settings cache and catalogue cache (runs today's notebooks)
STAGES = ["foundations", "design", "deploy"]

API_LOOP = """
import json, sys, time
import papermill as pm
jobs = json.load(open(sys.argv[1]))
start = time.perf_counter()
for job in jobs:
    pm.execute_notebook(job["input"], job["output"], parameters=job["parameters"], cwd=job["cwd"],
                        kernel_name="python3", progress_bar=False)
print(time.perf_counter() - start)
"""


def make_trivial(root: Path, n: int) -> Path:
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


def run(cmd: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if proc.returncode not in (0,):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    run(cmd, env)
    return time.perf_counter() - start


def previous_checkout(ref: str, into: Path, *parts: str) -> Path:
    """The package as it was at `ref` (and `parts`), importable with PYTHONPATH (run from this virtual environment)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "mlops_accelerator", *parts],
                             capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    compileall.compile_dir(into, quiet=1)  # as an installed package has it (see main)
    return into


def api_loop(jobs: list[dict], work: Path, env: dict[str, str]) -> float:
    spec = work / f"jobs-{time.monotonic_ns()}.json"
    spec.write_text(json.dumps(jobs))
    out = run([sys.executable, "-c", API_LOOP, str(spec)], env)
    return float(out.stdout.strip().splitlines()[-1])


def trivial_suite(args: argparse.Namespace, tmp: Path, old: Path | None) -> tuple[dict[str, list[float]], str]:
    stage = make_trivial(tmp, args.notebooks)
    env = {**os.environ, "MLOPS_ACCELERATOR_TEMPLATES": str(tmp / "templates"), "NO_COLOR": "1"}
    cli = str(BIN / "mlops-accelerator")
    proj = tmp / "proj"
    run([cli, "init", str(proj), "--name", "bench"], env)
    out = tmp / "papermill-out"
    out.mkdir()
    notebooks = sorted(stage.glob("*.ipynb"))
    jobs = [{"input": str(nb), "output": str(out / nb.name), "cwd": str(out),
             "parameters": {"sprint_length_weeks": 2, "project_name": "bench"}} for nb in notebooks]

    def cli_loop() -> float:
        start = time.perf_counter()
        for nb in notebooks:
            run([str(BIN / "papermill"), str(nb), str(out / nb.name), "-p", "sprint_length_weeks", "2",
                 "-p", "project_name", "bench", "--no-progress-bar"], env)
        return time.perf_counter() - start

    methods = {
        "papermill API loop (one process)": lambda: api_loop(jobs, tmp, env),
        "runner --jobs 2": lambda: timed([cli, "-C", str(proj), "run", "foundations", "--jobs", "2"], env),
        "runner --jobs 1": lambda: timed([cli, "-C", str(proj), "run", "foundations", "--jobs", "1"], env),
        "runner --jobs 2 --cold-kernels": lambda: timed([cli, "-C", str(proj), "run", "foundations", "--jobs", "2",
                                                         "--cold-kernels"], env),
    }
    if old is not None:
        old_env = {**env, "PYTHONPATH": str(old)}
        methods[f"previous runner --jobs 2 ({args.baseline_ref})"] = lambda: timed(
            [sys.executable, "-m", "mlops_accelerator.cli", "-C", str(proj), "run", "foundations", "--jobs", "2"],
            old_env)
    if not args.skip_cli_loop:
        methods["papermill command per notebook"] = cli_loop
    return measure(methods, args.repeat), f"{args.notebooks} trivial notebooks"


def stages_suite(args: argparse.Namespace, tmp: Path, old: Path | None) -> tuple[dict[str, list[float]], str]:
    """`old`: the package at --stages-ref (5789709 cannot run today's stage notebooks)."""
    # The current templates for every method, so all of them run the same notebooks.
    env = {**os.environ, "MLOPS_ACCELERATOR_TEMPLATES": str(REPO / "notebooks"), "NO_COLOR": "1"}
    cli = str(BIN / "mlops-accelerator")
    counter = iter(range(10_000))

    def fresh() -> Path:
        proj = tmp / f"sample-{next(counter)}"
        run([cli, "init", str(proj), "--sample"], env)
        return proj

    def api() -> float:
        proj = fresh()
        run([cli, "-C", str(proj), "generate", *STAGES], env)
        jobs = []
        for nb in sorted((proj / "notebooks").glob("0[123]-*/*.ipynb")):
            (nb.parent / "outputs").mkdir(exist_ok=True)
            jobs.append({"input": str(nb), "output": str(nb.parent / "outputs" / nb.name),
                         "cwd": str(nb.parent / "outputs"), "parameters": {}})
        return api_loop(jobs, tmp, env)

    methods = {
        "papermill API loop (one process)": api,
        "runner --jobs 2": lambda: timed([cli, "-C", str(fresh()), "run", *STAGES, "--jobs", "2"], env),
        "runner --jobs 2 --cold-kernels": lambda: timed([cli, "-C", str(fresh()), "run", *STAGES, "--jobs", "2",
                                                         "--cold-kernels"], env),
    }
    if old is not None:
        old_env = {**env, "PYTHONPATH": str(old)}
        methods[f"runner at {args.stages_ref} --jobs 2"] = lambda: timed(
            [sys.executable, "-m", "mlops_accelerator.cli", "-C", str(fresh()), "run", *STAGES, "--jobs", "2"], old_env)
    if args.release_ref:
        # Not the same work: that release's own notebooks and sample (today's cannot run on it).
        release = previous_checkout(args.release_ref, tmp / "release", "notebooks")
        rel_env = {**env, "PYTHONPATH": str(release), "MLOPS_ACCELERATOR_TEMPLATES": str(release / "notebooks")}
        py = [sys.executable, "-m", "mlops_accelerator.cli"]

        def release_run() -> float:
            proj = tmp / f"release-{next(counter)}"
            run([*py, "init", str(proj), "--sample"], rel_env)
            return timed([*py, "-C", str(proj), "run", *STAGES, "--jobs", "2"], rel_env)

        methods[f"release {args.release_ref} --jobs 2 (its own notebooks)"] = release_run
    return measure(methods, args.repeat), "the sample's stage 1-3 notebooks (10)"


def measure(methods: dict, repeat: int) -> dict[str, list[float]]:
    names = list(methods)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:  # alternate the order
            times[name].append(methods[name]())
            print(f"  {name}: {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
    return times


def table(times: dict[str, list[float]], title: str, baselines: list[str]) -> str:
    """Ratios of medians, and (in brackets) the median of the ratios within each round: every round
    runs every method once, back to back, so a round's ratio is less exposed to the load of other
    sessions drifting during the run."""
    cols = " | ".join(f"vs {b}" for b in baselines)
    lines = [f"{title}, {os.cpu_count()} cores, {len(next(iter(times.values())))} runs each, alternated; "
             "ratio of medians (median of per-round ratios)",
             "", f"| method | median s | min s | max s | {cols} |", "|---|---|---|---|" + "---|" * len(baselines)]
    for name, values in times.items():
        med = statistics.median(values)
        ratios = " | ".join(
            f"{statistics.median(times[b]) / med:.2f}x "
            f"({statistics.median(bv / v for bv, v in zip(times[b], values, strict=True)):.2f}x)"
            for b in baselines)
        lines.append(f"| {name} | {med:.2f} | {min(values):.2f} | {max(values):.2f} | {ratios} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notebooks", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--suite", choices=["trivial", "stages", "both"], default="both")
    ap.add_argument("--baseline-ref", default=BASELINE_REF,
                    help="commit of the previous runner to compare with ('' to skip)")
    ap.add_argument("--stages-ref", default=STAGES_REF,
                    help="commit of the runner to compare with on the stage notebooks ('' to skip)")
    ap.add_argument("--release-ref", default="",
                    help="(stages) also time this commit's whole release: its own package, notebooks and sample")
    ap.add_argument("--skip-cli-loop", action="store_true", help="leave out the papermill-command baseline")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        api = "papermill API loop (one process)"
        # Bytecode as `pip install` leaves it: with PYTHONDONTWRITEBYTECODE set (as on this machine) an
        # editable checkout would otherwise recompile the package's modules in every runner process
        # (about 0.3 s), a cost installed users never pay and the API loop's process never shows.
        compileall.compile_dir(REPO / "mlops_accelerator", quiet=1)
        print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n", flush=True)
        if args.suite in ("trivial", "both"):
            old = previous_checkout(args.baseline_ref, tmp / "previous") if args.baseline_ref else None
            prev = [f"previous runner --jobs 2 ({args.baseline_ref})"] if old else []
            times, title = trivial_suite(args, tmp / "trivial", old)
            print(table(times, title, [api] + prev) + "\n", flush=True)
        if args.suite in ("stages", "both"):
            old = previous_checkout(args.stages_ref, tmp / "stages-ref") if args.stages_ref else None
            ref = [f"runner at {args.stages_ref} --jobs 2"] if old else []
            times, title = stages_suite(args, tmp / "stages", old)
            print(table(times, title, [api, "runner --jobs 2 --cold-kernels"] + ref) + "\n", flush=True)
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
