"""Benchmark: `mlops-accelerator status` on a project whose ledger holds many events.

The sample project is run once (stages 1-3) and checked, then its ledger is grown to --events
lines by repeating the run's own events (settings saves, run starts and finishes, notebook
results, check results) with fresh ids. `status` is timed as a whole command (interpreter start
included) on the fresh sample and on the grown one; the target is under 0.3 s.

    .venv/bin/python benchmarks/status_ledger.py [--events 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) of each run; CPU does not depend on other load."""
    wall, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def grow(ledger: Path, events: int) -> int:
    lines = [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]
    seed = [e for e in lines if e["type"] != "project_created"]
    with ledger.open("a", encoding="utf-8") as fh:
        i = 0
        while len(lines) + i < events:
            event = dict(seed[i % len(seed)], id=uuid.uuid4().hex[:12])
            fh.write(json.dumps(event) + "\n")
            i += 1
    return len(ledger.read_text().splitlines())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cli = str(BIN / "mlops-accelerator")
    env = {**os.environ, "NO_COLOR": "1", "MLOPS_ACCELERATOR_TEMPLATES": str(REPO / "notebooks")}
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "sample"
        subprocess.run([cli, "init", str(proj), "--sample"], env=env, check=True, capture_output=True)
        subprocess.run([cli, "-C", str(proj), "run", "foundations", "design", "deploy", "--jobs", "2"], env=env,
                       check=True, capture_output=True)
        subprocess.run([cli, "-C", str(proj), "check"], env=env, capture_output=True)
        status = [cli, "-C", str(proj), "status"]
        ledger = proj / ".mlops-accelerator" / "ledger.jsonl"
        small = len(ledger.read_text().splitlines())
        load = os.getloadavg()[0]
        # The first status after the run, timed apart (the run validated the settings and cached them,
        # settings_cache.py); the cache is deleted at the end to time the first status after an edit.
        first = timed(status, env, 1)
        before = timed(status, env, args.repeat)
        big = grow(ledger, args.events)
        after = timed(status, env, args.repeat)
        (proj / ".mlops-accelerator" / "cache" / "settings.json").unlink()
        uncached = timed(status, env, 1)
        python = timed([sys.executable, "-c", "pass"], env, args.repeat)
    print(f"`mlops-accelerator status`, {args.repeat} runs each, seconds (whole command)\n")
    print("| ledger | wall median s | wall min s | wall max s | CPU median s |\n|---|---|---|---|---|")
    for name, (wall, cpu) in ((f"first status after the run ({small} events; the run filled the cache)", first),
                              (f"sample after one run ({small} events)", before), (f"{big} events", after),
                              (f"{big} events, settings cache deleted (one run)", uncached),
                              ("(bare `python -c pass`, for scale)", python)):
        print(f"| {name} | {statistics.median(wall):.3f} | {min(wall):.3f} | {max(wall):.3f} | "
              f"{statistics.median(cpu):.3f} |")
    print(f"\nload average: {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
