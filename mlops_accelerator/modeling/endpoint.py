"""The local realtime endpoint: MLflow's scoring server on 127.0.0.1 with a data collector.

`serve` starts `python -m mlops_accelerator.modeling.collector_app` (MLflow's own scoring app for the
registered model, wrapped by the collector) in its own process group, waits until `/ping` answers
(bounded), and records the process in `.mlops-accelerator/endpoint.json`; `stop` ends exactly that
process; `status` reports it and pings it. Every wait is bounded: a dead or killed endpoint fails a
smoke test with the reason, never hangs it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import ModelingError

STATE_FILE = "endpoint.json"
INFERENCE_LOG = "inference-log"  # <project>/inference-log/<endpoint>/<deployment>/model_inputs|model_outputs/...
HOST = "127.0.0.1"


def _state_path(project_dir: Path) -> Path:
    return Path(project_dir).resolve() / ".mlops-accelerator" / STATE_FILE


def inference_log_dir(project_dir: str | Path) -> Path:
    return Path(project_dir).resolve() / INFERENCE_LOG


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the server binds (uvicorn sets SO_REUSEADDR): connections of an endpoint that just stopped,
        # left in TIME_WAIT, do not make the port busy; a program listening on it does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours counts as ended
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def http(method: str, url: str, body: Any = None, timeout: float = 10.0,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """(status, parsed JSON or text, headers); status 0 with the reason when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status, hdrs = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, dict(e.headers or {})
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        return 0, f"no answer from {url}: {getattr(e, 'reason', e)}", {}
    try:
        return status, json.loads(raw), hdrs
    except ValueError:
        return status, raw.decode(errors="replace"), hdrs


def serve(project_dir: str | Path, model_uri: str, port: int, *, endpoint: str, deployment: str,
          collect: bool = True, wait_s: float = 90.0) -> dict[str, Any]:
    """Start the endpoint and wait until healthy. ModelingError naming the port or the log otherwise."""
    from ..tracking import tracking_env

    project_dir = Path(project_dir).resolve()
    current = status(project_dir)
    if current.get("running"):
        raise ModelingError(f"the local endpoint already runs (pid {current['pid']}, port {current['port']}, "
                            f"{current['model_uri']}): 'mlops-accelerator endpoint stop' first")
    if not port_free(port):
        raise ModelingError(f"port {port} on {HOST} is already in use by another program: choose another with "
                            "'mlops-accelerator settings set models local_endpoint_port=<port>' or --port")
    logs = project_dir / ".mlops-accelerator" / "endpoint.log"
    logs.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "mlops_accelerator.modeling.collector_app", "--model-uri", model_uri,
           "--port", str(port), "--endpoint", endpoint, "--deployment", deployment,
           "--log-dir", str(inference_log_dir(project_dir))]
    if not collect:
        cmd.append("--no-collector")
    env = {**os.environ, **tracking_env(project_dir), "MLFLOW_DISABLE_TELEMETRY": "true"}
    with open(logs, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                cwd=project_dir)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = logs.read_text(errors="replace")[-1500:]
            raise ModelingError(f"the local endpoint exited with code {proc.returncode} before answering; "
                                f"log {logs}:\n{tail}")
        code, _, _ = http("GET", f"{url}/ping", timeout=2)
        if code == 200:
            break
        time.sleep(0.2)
    else:
        _terminate(proc.pid)
        raise ModelingError(f"the local endpoint did not answer /ping within {wait_s:.0f} s; log: {logs}")
    state = {"pid": proc.pid, "port": port, "url": url, "model_uri": model_uri, "endpoint": endpoint,
             "deployment": deployment, "collector": collect, "started": time.time(), "log": str(logs)}
    _state_path(project_dir).write_text(json.dumps(state, indent=2))
    return {**state, "running": True}


def _terminate(pid: int, grace_s: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def stop(project_dir: str | Path) -> dict[str, Any]:
    path = _state_path(Path(project_dir))
    if not path.is_file():
        return {"running": False, "stopped": False, "message": "no local endpoint is recorded"}
    state = json.loads(path.read_text())
    was = _alive(state["pid"])
    if was:
        _terminate(state["pid"])
    path.unlink(missing_ok=True)
    return {**state, "running": False, "stopped": was,
            "message": f"stopped pid {state['pid']}" if was else "the recorded endpoint was not running"}


def status(project_dir: str | Path) -> dict[str, Any]:
    path = _state_path(Path(project_dir))
    if not path.is_file():
        return {"running": False, "message": "no local endpoint is recorded"}
    state = json.loads(path.read_text())
    alive = _alive(state["pid"])
    code = http("GET", f"{state['url']}/ping", timeout=2)[0] if alive else 0
    return {**state, "running": alive, "healthy": code == 200}


def smoke_test(url: str, frame: Any, *, timeout: float = 10.0) -> dict[str, Any]:
    """POST rows in MLflow's dataframe_split format; valid = one 0/1 prediction per row."""
    import json as _json

    payload = {"dataframe_split": _json.loads(frame.to_json(orient="split", index=False, date_format="iso"))}
    t0 = time.perf_counter()
    code, body, headers = http("POST", f"{url}/invocations", payload, timeout=timeout,
                               headers={"x-request-id": f"smoke-{int(time.time() * 1000)}"})
    result: dict[str, Any] = {"status_code": code, "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
                              "rows": len(frame), "correlation_id": headers.get("x-request-id")}
    preds = body.get("predictions") if isinstance(body, dict) else None
    valid = isinstance(preds, list) and len(preds) == len(frame) and all(p in (0, 1) for p in preds)
    result.update(passed=code == 200 and valid, schema_valid=valid)
    if not result["passed"]:
        message = str(body.get("message", body)) if isinstance(body, dict) else str(body)
        # MLflow prints the whole input before the reason: keep the reason
        reason = message[message.rfind("Error:"):] if "Error:" in message else message
        result["error"] = reason[:500] if code != 200 else f"predictions not one 0/1 per row: {str(body)[:200]}"
    return result


def batch_score(model_uri: str, frame: Any, out_file: Path) -> dict[str, Any]:
    """Score a frame with the registered model (MLflow pyfunc) into a predictions CSV."""
    import mlflow

    t0 = time.perf_counter()
    import pandas as pd

    model = mlflow.pyfunc.load_model(model_uri)
    out = frame.copy()
    # Nullable integer columns (pandas Int64) become the doubles the signature declares; MLflow refuses
    # that conversion itself because it cannot tell it is safe.
    schema = model.metadata.get_input_schema()
    doubles = {c.name for c in (schema.inputs if schema else []) if getattr(c.type, "name", "") == "double"}
    ready = frame.astype({c: "float64" for c in frame.columns
                          if c in doubles and pd.api.types.is_integer_dtype(frame[c])})
    try:
        out["prediction"] = model.predict(ready)
    except Exception as exc:  # schema enforcement names the column and the expected type
        raise ModelingError(f"batch scoring with {model_uri} failed: the input does not match the model's "
                            f"signature {model.metadata.get_input_schema()}: {str(exc)[-300:]}") from exc
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(out_file, index=False)
    return {"status": "Completed", "rows": len(out), "output": out_file.name, "model_uri": model_uri,
            "seconds": round(time.perf_counter() - t0, 2)}


def collected(project_dir: str | Path, endpoint: str, deployment: str) -> dict[str, Any]:
    """Requests the data collector recorded for a deployment (lines in its model_inputs files)."""
    folder = inference_log_dir(project_dir) / endpoint / deployment
    files = sorted((folder / "model_inputs").rglob("*.jsonl")) if folder.is_dir() else []
    lines = sum(1 for f in files for _ in f.open(encoding="utf-8"))
    return {"requests": lines, "files": len(files),
            "folder": folder.relative_to(Path(project_dir).resolve()).as_posix()}
