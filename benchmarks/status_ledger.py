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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict[str, str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


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
        subprocess.run([cli, "-C", str(proj), "run", "--all", "--jobs", "2"], env=env, check=True, capture_output=True)
        subprocess.run([cli, "-C", str(proj), "check"], env=env, capture_output=True)
        status = [cli, "-C", str(proj), "status"]
        ledger = proj / ".mlops-accelerator" / "ledger.jsonl"
        small = len(ledger.read_text().splitlines())
        before = timed(status, env, args.repeat)
        big = grow(ledger, args.events)
        after = timed(status, env, args.repeat)
        python = timed([sys.executable, "-c", "pass"], env, args.repeat)
    print(f"`mlops-accelerator status`, {args.repeat} runs each, seconds (whole command)\n")
    print("| ledger | median s | min s | max s |\n|---|---|---|---|")
    for name, values in ((f"sample after one run ({small} events)", before), (f"{big} events", after),
                         ("(bare `python -c pass`, for scale)", python)):
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |")


if __name__ == "__main__":
    main()
