"""Local endpoint cost of the data collector: latency and throughput with vs without it, one run.

    .venv/bin/python benchmarks/stage5_endpoint.py PROJECT [--requests 1000] [--clients 8]

PROJECT is a project where stage 5 ran (its registry has a `champion`), e.g. sample-project after
`make sample`. Both servers run the same app (MLflow's scoring app for the champion under uvicorn):
the baseline without the collector, then with it. Reports p50/p99 latency of N sequential single-row
requests and the throughput of C concurrent clients, and the ratio collector/baseline (the target:
the collector costs at most 10 % throughput).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlops_accelerator.modeling import endpoint


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _row(project: Path) -> dict:
    """One row of the training asset with the champion's input columns, as a scoring request."""
    import mlflow

    from mlops_accelerator.modeling.training import load_asset
    from mlops_accelerator.tracking import use_project_tracking

    use_project_tracking(project)
    info = mlflow.models.get_model_info("models:/churn-classifier@champion")
    columns = info.signature.inputs.input_names()
    df, _ = load_asset(project.resolve(), "churn-features:1")
    row = json.loads(df[columns].head(1).to_json(orient="split", index=False))
    return {"dataframe_split": {"columns": row["columns"], "data": row["data"]}}


def measure(project: Path, collect: bool, payload: dict, n: int, clients: int) -> dict:
    state = endpoint.serve(project, "models:/churn-classifier@champion", _port(), endpoint="bench",
                           deployment="collector" if collect else "baseline", collect=collect)
    url = state["url"] + "/invocations"
    try:
        for _ in range(20):  # warm-up
            endpoint.http("POST", url, payload)
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            code, _, _ = endpoint.http("POST", url, payload)
            lat.append((time.perf_counter() - t0) * 1000)
            assert code == 200
        lat.sort()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            codes = list(pool.map(lambda _: endpoint.http("POST", url, payload)[0], range(n)))
        wall = time.perf_counter() - t0
        assert set(codes) == {200}
    finally:
        endpoint.stop(project)
    return {"p50_ms": round(statistics.median(lat), 2), "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 2),
            "throughput_rps": round(n / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("project", type=Path)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    payload = _row(a.project)
    base = measure(a.project, False, payload, a.requests, a.clients)
    coll = measure(a.project, True, payload, a.requests, a.clients)
    print(json.dumps({"baseline (no collector)": base, "with collector": coll,
                      "throughput ratio collector/baseline": round(coll["throughput_rps"] / base["throughput_rps"], 3),
                      "p50 ratio": round(coll["p50_ms"] / base["p50_ms"], 3)}, indent=2))


if __name__ == "__main__":
    main()
