"""Benchmark: stage 4 (Prepare Data) on this machine, with baselines measured in the same run.

1. Versioning throughput: hashing ~1 GB of Parquet files the way a data asset version is hashed
   (`versioning.folder_hash`) against `sha256sum` on the same files (page cache warmed first, runs
   alternated, median of --repeat). Target: ratio >= 0.8.
2. The whole stage 4 on the 50,000-row sample: `mlops-accelerator run data --jobs 2` (both notebooks,
   kernels included), first run and re-run, plus the pipeline alone in-process. Target: < 15 s.
3. Optional (--big-rows 5000000): the pipeline on an N-row copy of the sample in a child process,
   its wall time and peak RSS (ru_maxrss of the child). Target: within 16 GiB.

    .venv/bin/python benchmarks/stage4_data.py [--size-gb 1.0] [--repeat 3] [--big-rows 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def make_parquet(folder: Path, size_gb: float) -> list[Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    rows = 1_000_000  # 16 float64 columns, uncompressed: ~128 MB per file
    files = []
    while sum(f.stat().st_size for f in files) < size_gb * 1024**3:
        table = pa.table({f"c{i}": rng.random(rows) for i in range(16)})
        path = folder / f"part-{len(files):03d}.parquet"
        pq.write_table(table, path, compression="none")
        files.append(path)
    return files


def bench_hashing(size_gb: float, repeat: int, work: Path) -> dict:
    from mlops_accelerator.dataprep.versioning import folder_hash

    folder = work / "parquet"
    files = make_parquet(folder, size_gb)
    total = sum(f.stat().st_size for f in files)
    for f in files:  # warm the page cache so both sides read from memory
        f.read_bytes()
    ours, theirs = [], []
    for i in range(repeat):
        order = ("ours", "sha256sum") if i % 2 == 0 else ("sha256sum", "ours")
        for who in order:
            start = time.perf_counter()
            if who == "ours":
                folder_hash(folder)
            else:
                subprocess.run(["sha256sum", *map(str, files)], check=True, stdout=subprocess.DEVNULL)
            (ours if who == "ours" else theirs).append(time.perf_counter() - start)
    mb = total / 1024**2
    return {"bytes": total, "files": len(files), "ours_s": statistics.median(ours),
            "sha256sum_s": statistics.median(theirs), "ours_mb_s": mb / statistics.median(ours),
            "sha256sum_mb_s": mb / statistics.median(theirs),
            "ratio": statistics.median(theirs) / statistics.median(ours), "runs": {"ours": ours, "sha256sum": theirs}}


def bench_stage(work: Path) -> dict:
    project = work / "sample"
    subprocess.run([str(BIN / "mlops-accelerator"), "init", str(project), "--sample"], check=True,
                   stdout=subprocess.DEVNULL)
    times = {}
    for label in ("first_run", "rerun"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([str(BIN / "mlops-accelerator"), "-C", str(project), "run", "data", "--jobs", "2"],
                       check=True, stdout=subprocess.DEVNULL)
        times[f"{label}_s"] = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the runner, its workers and kernels: what the run costs on an idle machine
        times[f"{label}_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    code = ("import time,sys;from mlops_accelerator.workspace import Project;"
            "from mlops_accelerator.dataprep.pipeline import run_pipeline;p=Project(sys.argv[1]);"
            "t=time.perf_counter();run_pipeline(p.settings('data'),p.root,p.root/'bench-out',run_id='b',"
            "notebook='bench');print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code, str(project)], check=True, capture_output=True, text=True)
    times["pipeline_in_process_rerun_s"] = float(out.stdout.strip().splitlines()[-1])
    return times


GENERATE = """
import json, sys, time
from mlops_accelerator.sample.churn import write_sample_data
t = time.perf_counter(); write_sample_data(sys.argv[1], n_customers=int(sys.argv[2]))
print(json.dumps({"generate_s": time.perf_counter() - t}))
"""

CHILD = """
import json, resource, sys, time
from mlops_accelerator.workspace import Project
from mlops_accelerator.dataprep.pipeline import run_pipeline
root, rows = sys.argv[1], int(sys.argv[2])
p = Project(root)
values = p.effective_settings('data')
for r in values['data_quality_rules']:
    if r['rule'] == 'row_count':
        r['min'] = rows * 0.8
from mlops_accelerator.settings import validate_settings
data, errors = validate_settings('data', values)
assert not errors, errors
t = time.perf_counter(); res = run_pipeline(data, root, root + '/bench-out', run_id='big', notebook='bench')
print(json.dumps({"pipeline_s": time.perf_counter() - t, "assets": [(a.name, a.status, a.version) for a in res.assets],
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}))  # KiB on Linux
"""


def bench_big(rows: int, work: Path) -> dict:
    project = work / "big"
    subprocess.run([str(BIN / "mlops-accelerator"), "init", str(project), "--sample"], check=True,
                   stdout=subprocess.DEVNULL)
    gen = subprocess.run([sys.executable, "-c", GENERATE, str(project), str(rows)], check=True,
                         capture_output=True, text=True)
    out = subprocess.run([sys.executable, "-c", CHILD, str(project), str(rows)], check=True, capture_output=True,
                         text=True)
    result = {**json.loads(gen.stdout.strip().splitlines()[-1]), **json.loads(out.stdout.strip().splitlines()[-1])}
    result["rows"] = rows  # peak RSS is the pipeline process's own (the generator runs in another process)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-rows", type=int, default=0, help="also run the pipeline on this many customers")
    ap.add_argument("--skip-hashing", action="store_true")
    ap.add_argument("--skip-stage", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    work = Path(tempfile.mkdtemp(prefix="stage4-bench-"))
    report: dict = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    try:
        if not args.skip_hashing:
            h = bench_hashing(args.size_gb, args.repeat, work)
            report["hashing"] = h
            print(f"hashing {h['bytes'] / 1024**3:.2f} GiB in {h['files']} Parquet files: "
                  f"ours {h['ours_mb_s']:.0f} MB/s, "
                  f"sha256sum {h['sha256sum_mb_s']:.0f} MB/s -> ratio {h['ratio']:.2f} (target >= 0.8)")
            shutil.rmtree(work / "parquet")
        if not args.skip_stage:
            s = bench_stage(work)
            report["stage4"] = s
            print(f"stage 4 on the 50,000-row sample (run data --jobs 2): first run {s['first_run_s']:.1f} s "
                  f"({s['first_run_cpu_s']:.1f} CPU s), re-run {s['rerun_s']:.1f} s ({s['rerun_cpu_s']:.1f} CPU s) "
                  "(target < 15 s); "
                  f"pipeline alone {s['pipeline_in_process_rerun_s']:.1f} s")
        if args.big_rows:
            b = bench_big(args.big_rows, work)
            report["big"] = b
            print(f"{args.big_rows:,} customers: generated in {b['generate_s']:.0f} s, "
                  f"pipeline {b['pipeline_s']:.0f} s, "
                  f"peak RSS {b['peak_rss_gib']:.2f} GiB (target <= 16 GiB); assets {b['assets']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["load_avg_at_end"] = os.getloadavg()
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
