"""Replay the sample's production windows through the local endpoint, so the inference log is real.

The stage-5 endpoint (MLflow's scoring server with the data collector) scores each window's rows in
batches; the collector logs inputs and predictions exactly as for any caller. Rows keep their id and
timestamp columns (the model's signature ignores extra columns; the log keeps them), so monitoring
can window by month and join ground truth later. The label column is never sent: it is the ground
truth that "arrives later". A window already replayed (its request ids are in the log) is skipped,
so re-running stage 6 does not double the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BATCH = 2_000
PREFIX = "replay-"


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replayed_windows(deployment_dir: Path) -> set[str]:
    seen: set[str] = set()
    for f in sorted((deployment_dir / "model_inputs").rglob("*.jsonl")) if deployment_dir.is_dir() else []:
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                cid = json.loads(line).get("correlationid") or ""
            except ValueError:
                continue
            if cid.startswith(PREFIX):
                seen.add(cid[len(PREFIX):].rsplit("-b", 1)[0])
    return seen


def replay(project_dir: str | Path, models: Any, windows: list[Any], label: str | None) -> dict[str, Any]:
    """Send every not-yet-replayed window through the endpoint; returns what happened (never raises
    for a missing champion: production data then stays the sample windows, and says so)."""
    from ..modeling import ModelingError, endpoint
    from .data import INFERENCE_LOG

    project_dir = Path(project_dir).resolve()
    name = models.model_registration.name
    deployment = models.online_endpoint.deployments[0].name
    dep_dir = project_dir / INFERENCE_LOG / models.online_endpoint.name / deployment
    done = replayed_windows(dep_dir)
    todo = [w for w in windows if w.name not in done]
    out: dict[str, Any] = {"replayed": [], "already": sorted(done), "rows": 0, "endpoint": models.online_endpoint.name,
                           "deployment": deployment, "error": None}
    if not todo:
        return out
    state = endpoint.status(project_dir)
    started_here = False
    if not state.get("running"):
        port = models.local_endpoint_port
        if not endpoint.port_free(port):  # e.g. stage 5's smoke-test connections still in TIME_WAIT
            port = _free_port()
            out["note"] = f"port {models.local_endpoint_port} was busy; the replay endpoint used port {port}"
        try:
            state = endpoint.serve(project_dir, f"models:/{name}@champion", port,
                                   endpoint=models.online_endpoint.name, deployment=deployment)
            started_here = True
        except (ModelingError, Exception) as exc:  # no champion, port taken: say so, keep going
            out["error"] = f"the local endpoint could not start: {exc}"
            return out
    try:
        for w in todo:
            frame = w.inputs.drop(columns=[label], errors="ignore")
            for i, start in enumerate(range(0, len(frame), BATCH)):
                part = frame.iloc[start:start + BATCH]
                body = {"dataframe_split": json.loads(part.to_json(orient="split", index=False, date_format="iso"))}
                code, answer, _ = endpoint.http("POST", f"{state['url']}/invocations", body, timeout=60,
                                                headers={"x-request-id": f"{PREFIX}{w.name}-b{i}"})
                if code != 200:
                    out["error"] = f"window {w.name} batch {i}: HTTP {code}: {str(answer)[:300]}"
                    return out
                out["rows"] += len(part)
            out["replayed"].append(w.name)
    finally:
        if started_here:
            endpoint.stop(project_dir)
    return out
