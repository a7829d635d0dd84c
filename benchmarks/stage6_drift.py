"""Stage 6 benchmark: data drift on large windows, our engine against scipy and Evidently, in one run.

    .venv/bin/python benchmarks/stage6_drift.py [--rows 1000000] [--evidently-python /path/to/venv/bin/python]

Data: --rows baseline rows and --rows production rows, 20 numerical and 10 categorical features
(production shifted on 3 numerical and 2 categorical features), written once to Parquet; every
method runs in its own fresh process that reads the files, so each one's wall time covers the
computation only and its peak memory (the process's max RSS) is its own.

Methods, the same ones where all have them: normalized Wasserstein distance for numerical features
(Wasserstein / baseline std) and Jensen-Shannon distance for categorical ones.
- engine:    mlops_accelerator.monitoring (Baseline.from_frame + evaluate, data drift signal only)
- scipy:     scipy.stats.wasserstein_distance / std, scipy.spatial.distance.jensenshannon(base=2)
- evidently: Report([DataDriftPreset(method="wasserstein", cat_method="jensenshannon")]) in its own
             virtual environment (evidently 0.7 needs pandas<3); skipped when not given.
Prints a table (seconds, peak MiB, ratio to the engine) and the largest value difference per method.
Evidently's Jensen-Shannon distance uses the natural logarithm (scipy's default base) where Azure ML
and this engine use base 2, so its categorical values are sqrt(ln 2) = 0.833 times ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUM, CAT = 20, 10

ENGINE = r'''
import json, sys, time, resource
import pandas as pd
from mlops_accelerator.monitoring.engine import Baseline, Window, evaluate
from mlops_accelerator.settings.monitor import MonitorSignal
base, prod = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
sig = [MonitorSignal(signal="data_drift", feature_type="numerical", metric="normalized_wasserstein_distance",
                     threshold=0.1),
       MonitorSignal(signal="data_drift", feature_type="categorical", metric="jensen_shannon_distance", threshold=0.1)]
t = time.perf_counter()
res = evaluate(Baseline.from_frame(base), Window("prod", prod), sig)
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": {v["feature"]: v["value"] for v in res.values}}))
'''

SCIPY = r'''
import json, sys, time, resource
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
base, prod = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
t = time.perf_counter()
out = {}
for c in base.columns:
    if c.startswith("num"):
        b = base[c].to_numpy()
        out[c] = wasserstein_distance(b, prod[c].to_numpy()) / b.std()
    else:
        bc, pc = base[c].value_counts(normalize=True), prod[c].value_counts(normalize=True)
        cats = bc.index.union(pc.index)
        out[c] = float(jensenshannon(bc.reindex(cats, fill_value=0), pc.reindex(cats, fill_value=0), base=2))
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": out}))
'''

EVIDENTLY = r'''
import json, sys, time, resource
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
base, prod = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
num = [c for c in base.columns if c.startswith("num")]
cat = [c for c in base.columns if c.startswith("cat")]
dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
t = time.perf_counter()
snap = Report([DataDriftPreset(method="wasserstein", cat_method="jensenshannon")]).run(
    Dataset.from_pandas(prod, data_definition=dd), Dataset.from_pandas(base, data_definition=dd))
s = time.perf_counter() - t
values = {}
for m in snap.dict()["metrics"]:
    cfg = m.get("config", {})
    col = cfg.get("column")
    if col and isinstance(m.get("value"), (int, float)):
        values[col] = float(m["value"])
print(json.dumps({"seconds": s, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": values, "version": __import__("evidently").__version__}))
'''


def make_data(rows: int, folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(2024)

    def frame(shift: bool) -> pd.DataFrame:
        cols = {}
        for i in range(NUM):
            x = rng.normal(10 + i, 1 + i % 4, rows)
            cols[f"num{i:02d}"] = x + (0.5 * (1 + i % 4) if shift and i < 3 else 0.0)
        for j in range(CAT):
            k = 3 + j
            p = np.full(k, 1 / k)
            if shift and j < 2:
                p = np.linspace(1, 3, k)
                p /= p.sum()
            cols[f"cat{j:02d}"] = rng.choice([f"v{i}" for i in range(k)], rows, p=p)
        return pd.DataFrame(cols)

    b, p = folder / "baseline.parquet", folder / "production.parquet"
    frame(False).to_parquet(b)
    frame(True).to_parquet(p)
    return b, p


def run(python: str, code: str, files: tuple[Path, Path]) -> dict:
    proc = subprocess.run([python, "-c", code, str(files[0]), str(files[1])], capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-600:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--evidently-python", help="python of a virtual environment with evidently and pandas<3")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files = make_data(a.rows, Path(tmp))
        print(f"data: {a.rows:,} baseline + {a.rows:,} production rows, {NUM} numerical + {CAT} categorical "
              f"features ({time.perf_counter() - t:.1f} s to generate)")
        results = {"engine": run(sys.executable, ENGINE, files), "scipy": run(sys.executable, SCIPY, files)}
        if a.evidently_python:
            results["evidently"] = run(a.evidently_python, EVIDENTLY, files)
        else:
            results["evidently"] = {"error": "skipped: pass --evidently-python (a venv with evidently, pandas<3)"}
    eng = results["engine"]
    print(f"\n{'method':<10} {'seconds':>9} {'peak MiB':>9} {'x engine':>9}  max |value - engine|")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<10} {r['error']}")
            continue
        shared = set(r["values"]) & set(eng["values"])
        diff = max((abs(r["values"][c] - eng["values"][c]) for c in shared), default=float("nan"))
        worst = max(shared, key=lambda c: abs(r["values"][c] - eng["values"][c]), default="-")
        print(f"{name:<10} {r['seconds']:>9.2f} {r['peak_mib']:>9.0f} {r['seconds'] / eng['seconds']:>9.1f}  "
              f"{diff:.2e} ({worst}; {len(shared)} features compared)")
        for kind in ("num", "cat"):
            cols = sorted(c for c in shared if c.startswith(kind))
            if cols:
                d = max(abs(r["values"][c] - eng["values"][c]) for c in cols)
                ratios = [r["values"][c] / eng["values"][c] for c in cols if eng["values"][c] > 1e-3]
                print(f"{'':<10} {kind}: max |diff| {d:.2e}, value / engine {min(ratios):.3f}-{max(ratios):.3f}"
                      if ratios else f"{'':<10} {kind}: max |diff| {d:.2e}")
    drifted = sorted(c for c, v in eng["values"].items() if v > 0.1)
    print(f"\nengine: drift above 0.1 on {', '.join(drifted)} (shifted on purpose: num00-num02, cat00-cat01)")


if __name__ == "__main__":
    main()
