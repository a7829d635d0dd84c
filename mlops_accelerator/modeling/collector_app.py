"""The local endpoint process: MLflow's scoring app for a model, wrapped by a data collector.

    python -m mlops_accelerator.modeling.collector_app --model-uri models:/churn@champion --port 5005 \
        --endpoint contoso-churn-online --deployment blue --log-dir <project>/inference-log

The app is MLflow's own (`mlflow.pyfunc.scoring_server.init`, what `mlflow models serve` runs) under
uvicorn on 127.0.0.1. The collector is ASGI middleware: for every /invocations request it appends
the inputs and the outputs, each a CloudEvents-style JSON line as Azure ML's data collector writes
them (`id`/`correlationid`, `time`, `data` rows), to
`<log-dir>/<endpoint>/<deployment>/model_inputs|model_outputs/YYYY/MM/DD/HH/data.jsonl`.
The correlation id is the caller's `x-request-id` (or a new UUID) and is returned in the response.
"""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def rows_of(payload: Any) -> list[Any]:
    """Input rows of an MLflow scoring request (dataframe_split / dataframe_records / inputs)."""
    if not isinstance(payload, dict):
        return []
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        cols = split.get("columns") or []
        return [dict(zip(cols, row, strict=False)) for row in split.get("data") or []]
    for key in ("dataframe_records", "instances", "inputs"):
        if isinstance(payload.get(key), list):
            return payload[key]
    return []


class DataCollector:
    """Appends one line per request and stream; files roll over by UTC hour, as in Azure ML."""

    def __init__(self, log_dir: Path, endpoint: str, deployment: str):
        self.base = Path(log_dir) / endpoint / deployment
        self.source = f"/local/onlineEndpoints/{endpoint}/deployments/{deployment}"
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], Any] = {}

    def _file(self, stream: str, now: datetime) -> Any:
        hour = now.strftime("%Y/%m/%d/%H")
        key = (stream, hour)
        if key not in self._files:
            for old in [k for k in self._files if k[0] == stream]:
                self._files.pop(old).close()
            folder = self.base / stream / hour
            folder.mkdir(parents=True, exist_ok=True)
            self._files[key] = open(folder / "data.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept open
        return self._files[key]

    def record(self, correlation_id: str, inputs: list[Any], outputs: list[Any]) -> None:
        now = datetime.now(timezone.utc)
        stamp = now.isoformat().replace("+00:00", "Z")
        with self._lock:
            for stream, data in (("model_inputs", inputs), ("model_outputs", outputs)):
                line = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": self.source,
                        "type": f"azureml.inference.{stream}", "datacontenttype": "application/json",
                        "time": stamp, "correlationid": correlation_id, "data": data}
                f = self._file(stream, now)
                f.write(json.dumps(line, default=str) + "\n")
                f.flush()


class CollectorMiddleware:
    """ASGI middleware around the scoring app: records /invocations inputs and outputs."""

    def __init__(self, app: Any, collector: DataCollector):
        self.app, self.collector = app, collector

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path") != "/invocations":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cid = (headers.get(b"x-request-id") or b"").decode() or str(uuid.uuid4())
        body = bytearray()

        async def receive_and_keep() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        status, length, out, recorded = [0], [None], bytearray(), [False]

        async def send_and_keep(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                sizes = [v for k, v in message.get("headers", []) if k.lower() == b"content-length"]
                length[0] = int(sizes[0]) if sizes else None
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", cid.encode())]}
            elif message["type"] == "http.response.body":
                out.extend(message.get("body", b""))
                # Record before the caller has its whole answer, so the log is never behind: on the last
                # chunk, or on the chunk that completes Content-Length (an empty last chunk may follow it,
                # after the caller has already read the answer).
                complete = not message.get("more_body") or (length[0] is not None and len(out) >= length[0])
                if complete and not recorded[0] and status[0] == 200:
                    recorded[0] = True
                    self._record(cid, body, out)
            await send(message)

        await self.app(scope, receive_and_keep, send_and_keep)

    def _record(self, cid: str, body: bytes, out: bytes) -> None:
        try:
            inputs = rows_of(json.loads(bytes(body)))
            outputs = json.loads(bytes(out)).get("predictions", [])
        except ValueError:
            return
        self.collector.record(cid, inputs, outputs)


def build_app(model_uri: str, log_dir: Path | None, endpoint: str, deployment: str) -> Any:
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    app = scoring_server.init(mlflow.pyfunc.load_model(model_uri))
    return CollectorMiddleware(app, DataCollector(log_dir, endpoint, deployment)) if log_dir else app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-uri", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--endpoint", default="local")
    ap.add_argument("--deployment", default="blue")
    ap.add_argument("--log-dir", type=Path)
    ap.add_argument("--no-collector", action="store_true")
    a = ap.parse_args(argv)
    app = build_app(a.model_uri, None if a.no_collector else a.log_dir, a.endpoint, a.deployment)
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
