"""The fake's Azure ML jobs: code upload (pending upload + SAS blobs), command jobs that really run,
cancel, the workspace discovery document and the run-history artifact API.

A submitted command job is run here: its code snapshot (the blobs the SDK uploaded) is unpacked into
a folder and its command executed there with bash, the test interpreter's bin folder first on PATH,
in a sandbox that lets it import only what the job's environment installs (its conda file's pip
packages and what they require; tests/job_sandbox.py): the fake's stand-in for the environment's
image, so a job whose environment lacks a package fails here as it would on Azure. Its status moves
NotStarted -> Queued -> Running -> Completed / Failed / Canceled; what the command wrote to ./outputs
and its log (user_logs/std_log.txt) become the run's artifacts, listed by the run-history API with
SAS URLs the fake serves. `state.job_failures` injects a job that fails without running (an image that does not
build, a node that never comes up).
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from job_sandbox import conda_pins, sandbox_env

from .server import ROUTES, WS, FakeAzure, _error, _models, _not_found, _ok
from .validation import BodyError, validate

HISTORY_WS = (r"/history/v1\.0/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
              r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)")
HISTORY = HISTORY_WS + r"/experiments/(?P<exp>[^/]+)/runs/(?P<run>[^/]+)/artifacts/prefix/contentinfo"
SAS = "sv=2023-01-03&sr=c&sig=fake-not-a-secret"  # the fake checks a SAS is present, not what it says


def route(method: str, pattern: str):
    """Registered ahead of the server's generic list/get routes, which would otherwise answer first."""
    def deco(fn):
        ROUTES.insert(0, (method, pattern, fn))
        return fn
    return deco


BLOB_CONTAINER_PREFIX = "azureml-"  # /<container>/<blob> at the fake's root, as on a storage account


def is_blob_path(path: str) -> bool:
    return path.split("/")[1].startswith(BLOB_CONTAINER_PREFIX) if path.count("/") >= 1 else False


def blob_url(fake: FakeAzure, path: str) -> str:
    return f"{fake.endpoint}/{path}"


def handle_blob(fake: FakeAzure, method: str, path: str, query: dict[str, str], headers: Any,
                body: bytes) -> tuple[int, dict[str, str], Any]:
    """Azure Blob Storage as the SDK uses it for uploads and the product for downloads (SAS only)."""
    if "sig" not in query:
        return _error(403, "AuthenticationFailed", "a SAS URL is required")
    key = path[1:]
    stamp = {"ETag": '"0x8D0000000000001"', "Last-Modified": "Sun, 29 Nov 2026 08:00:00 GMT",
             "x-ms-version": "2023-01-03"}
    with fake.lock:
        if method == "PUT" and query.get("comp") == "metadata":
            if key not in fake.blobs:
                return _error(404, "BlobNotFound", "The specified blob does not exist.")
            fake.blob_meta[key] = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}
            return 200, stamp, None
        if method == "PUT":
            if headers.get("x-ms-blob-type") != "BlockBlob":
                return _error(400, "InvalidHeaderValue", "x-ms-blob-type must be BlockBlob")
            fake.blobs[key] = body
            fake.blob_meta[key] = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}
            return 201, {**stamp, "x-ms-request-server-encrypted": "true"}, None
        if method in ("GET", "HEAD"):
            if query.get("restype") == "container" and query.get("comp") == "list":
                prefix = query.get("prefix", "")
                container = key.split("/", 1)[0]
                names = [k.split("/", 1)[1] for k in fake.blobs if k.startswith(f"{container}/{prefix}")]
                xml = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>"
                       + "".join(f"<Blob><Name>{n}</Name><Properties><Content-Length>"
                                 f"{len(fake.blobs[container + '/' + n])}</Content-Length>"
                                 "<BlobType>BlockBlob</BlobType></Properties></Blob>"
                                 for n in names) + "</Blobs><NextMarker /></EnumerationResults>")
                return 200, {**stamp, "Content-Type": "application/xml"}, xml.encode()
            data = fake.blobs.get(key)
            if data is None:
                return _error(404, "BlobNotFound", "The specified blob does not exist.")
            meta = {f"x-ms-meta-{k[10:]}": v for k, v in fake.blob_meta.get(key, {}).items()}
            hdrs = {**stamp, **meta, "x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"}
            wanted = headers.get("x-ms-range") or headers.get("Range")
            if wanted and method == "GET":  # the storage SDK downloads in ranges and wants 206 with Content-Range
                first, _, last = wanted.removeprefix("bytes=").partition("-")
                start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
                part = data[start:end + 1]
                return 206, {**hdrs, "Content-Range": f"bytes {start}-{max(end, start)}/{len(data)}",
                             "Content-Length": str(len(part))}, part
            return 200, {**hdrs, "Content-Length": str(len(data))}, (b"" if method == "HEAD" else data)
    return _error(405, "UnsupportedHttpVerb", f"{method} on a blob")


def discovery(fake: FakeAzure) -> tuple[int, dict[str, str], Any]:
    """The workspace discovery document: every data-plane service is this fake."""
    return _ok({"api": fake.endpoint, "catalog": fake.endpoint, "experimentation": fake.endpoint,
                "gallery": fake.endpoint, "history": fake.endpoint, "hyperdrive": fake.endpoint,
                "labeling": fake.endpoint, "modelmanagement": fake.endpoint, "pipelines": fake.endpoint,
                "studio": fake.endpoint})


@route("GET", WS + r"/codes/(?P<name>[^/]+)/versions")
def _code_versions(fake: FakeAzure, g, q, data, path):
    prefix = path.lower() + "/"
    found = [copy.deepcopy(r) for k, r in fake.state.resources.items() if k.startswith(prefix)
             and (r["properties"].get("properties") or {}).get("hash_sha256") == q.get("hash")] if q.get("hash") else []
    return _ok({"value": found})


@route("POST", WS + r"/codes/(?P<name>[^/]+)/versions/(?P<v>[^/]+)/startPendingUpload")
def _start_pending_upload(fake: FakeAzure, g, q, data, path):
    validate(_models("PendingUploadRequestDto"), data)
    uri = blob_url(fake, "azureml-snapshots")  # the container's URL, as Azure answers
    return _ok({"pendingUploadId": f"code-{g['name']}-{g['v']}".lower(), "pendingUploadType": "TemporaryBlobReference",
                "blobReferenceForConsumption": {
                    "blobUri": uri, "storageAccountArmId": None,
                    "credential": {"credentialType": "SAS", "sasUri": f"{blob_url(fake, 'azureml-snapshots')}?{SAS}"}}})


@route("PUT", WS + r"/codes/(?P<name>[^/]+)/versions/(?P<v>[^/]+)")
def _put_code(fake: FakeAzure, g, q, data, path):
    validate(_models("CodeVersion"), data)
    uri = (data["properties"].get("codeUri") or "")
    if not uri.startswith(blob_url(fake, "")):
        raise BodyError(f"properties.codeUri: {uri!r} is not a blob this workspace's storage holds")
    existed = fake.get(path) is not None
    fake.seed(path, {**copy.deepcopy(data), "type": "Microsoft.MachineLearningServices/workspaces/codes/versions"})
    return _ok(fake.get(path), 200 if existed else 201)


def _ws_of(path: str) -> str:
    return path.lower().split("/jobs/")[0]


@route("PUT", WS + r"/jobs/(?P<name>[^/]+)")
def _put_job(fake: FakeAzure, g, q, data, path):
    validate(_models("JobBase"), data)
    props = data["properties"]
    if props.get("jobType") not in ("Command", "Pipeline"):
        raise BodyError(f"properties.jobType: the fake runs Command and Pipeline jobs only, got "
                        f"{props.get('jobType')!r}")
    ws = _ws_of(path)
    if fake.get(ws) is None:
        return _error(404, "ResourceNotFound", f"Workspace {g['ws']} was not found.")
    if fake.get(path) is not None:
        return _error(409, "UserError", f"A job with this name already exists: {g['name']}")
    if props["jobType"] == "Pipeline":
        from .pipelines import put_pipeline

        return put_pipeline(fake, g, data, path, re.split(r"/jobs/", path, flags=re.IGNORECASE)[0])
    for what, rid in (("compute", props.get("computeId")), ("environment", props.get("environmentId")),
                      ("code", props.get("codeId"))):
        if not rid or fake.get(rid) is None:
            return _error(400, "UserError", f"the job's {what} {rid!r} does not exist in the workspace")
    return start_job(fake, g["name"], data, path, _run_job, ())


def start_job(fake: FakeAzure, name: str, data: dict[str, Any], path: str, run: Any, args: tuple,
              **state: Any) -> tuple[int, dict[str, str], Any]:
    """Keep the job as Azure answers it (NotStarted, with its studio link) and run it in a thread."""
    body = copy.deepcopy(data)
    body["type"] = "Microsoft.MachineLearningServices/workspaces/jobs"
    body["properties"]["status"] = "NotStarted"
    body["properties"]["services"] = {"Studio": {"jobServiceType": "Studio",
                                                 "endpoint": f"{fake.endpoint}/fake/studio/{name}"}}
    fake.seed(path, body)
    fake.jobs[name] = {"path": path, "proc": None, "cancelled": False, **state}
    threading.Thread(target=run, args=(fake, name, *args), daemon=True, name=f"fake-job-{name}").start()
    return _ok(copy.deepcopy(fake.get(path)), 201)


@route("POST", WS + r"/jobs/(?P<name>[^/]+)/cancel")
def _cancel_job(fake: FakeAzure, g, q, data, path):
    job_path = path.rsplit("/cancel", 1)[0]
    job = fake.jobs.get(g["name"])
    if job is None:
        return _not_found(job_path)
    job["cancelled"] = True
    if job["proc"] is not None and job["proc"].poll() is None:
        job["proc"].kill()
    status = fake.get(job_path)["properties"]["status"]
    if status not in ("Completed", "Failed"):
        fake.get(job_path)["properties"]["status"] = "Canceled"
    op = fake.new_operation(lambda: None).split("/operations/")[1].split("?")[0]
    return _ok(None, 202, {"Location": f"{fake.endpoint}/fake/results/{op}", "Retry-After": "0"})


@route("GET", HISTORY)
def _artifacts(fake: FakeAzure, g, q, data, path):
    prefix = f"azureml-artifacts/{g['run']}/{q.get('path', '')}".rstrip("/") + "/"
    items = [{"contentUri": f"{blob_url(fake, k)}?{SAS}", "origin": "ExperimentRun",
              "container": f"dcid.{g['run']}", "path": k[len(f'azureml-artifacts/{g["run"]}/'):]}
             for k in sorted(fake.blobs) if k.startswith(prefix)]
    return _ok({"value": items, "continuationToken": None, "nextLink": None})


def _set_status(fake: FakeAzure, name: str, status: str) -> bool:
    """Move a job on unless it was cancelled meanwhile (then it stays Canceled)."""
    with fake.lock:
        job = fake.jobs[name]
        if job["cancelled"]:
            return False
        fake.get(job["path"])["properties"]["status"] = status
        return True


def _environment_pins(fake: FakeAzure, environment_id: str) -> list[str]:
    """The pip packages the job's environment installs (its conda file); an image alone installs none."""
    from ruamel.yaml import YAML

    conda = (fake.get(environment_id) or {}).get("properties", {}).get("condaFile")
    return conda_pins(YAML(typ="safe").load(conda) or {}) if conda else []


def _run_job(fake: FakeAzure, name: str) -> None:
    job = fake.jobs[name]
    props = fake.get(job["path"])["properties"]
    code = fake.get(props["codeId"])["properties"]["codeUri"]
    prefix = code[len(blob_url(fake, "")):].rstrip("/") + "/"
    if not _set_status(fake, name, "Queued"):
        return
    failure = next((msg for frag, msg in fake.state.job_failures.items() if frag in name), None)
    if failure is not None:
        fake.blobs[f"azureml-artifacts/{name}/user_logs/std_log.txt"] = failure.encode()
        _set_status(fake, name, "Failed")
        return
    with tempfile.TemporaryDirectory(prefix="fake-azureml-job-") as tmp:
        work = Path(tmp) / "snapshot"
        work.mkdir()
        for key, data in list(fake.blobs.items()):
            if key.startswith(prefix):
                target = work / key[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if not _set_status(fake, name, "Running"):
            return
        from .pipelines import fill, materialise, mirror_models, mlflow_uri

        ws = re.split(r"/jobs/", job["path"], flags=re.IGNORECASE)[0]
        command, paths = props["command"], {}
        try:
            for port, given in (props.get("inputs") or {}).items():  # each input on disk, as Azure ML mounts it
                paths[f"inputs.{port}"] = str(given.get("value")) if given.get("jobInputType") == "literal" else \
                    str(materialise(fake, ws, given, Path(tmp) / "inputs" / port))
            command = fill(command, paths)
        except Exception as exc:  # noqa: BLE001 - an input that cannot be mounted fails the job, in its log
            fake.blobs[f"azureml-artifacts/{name}/user_logs/std_log.txt"] = str(exc).encode()
            _set_status(fake, name, "Failed")
            return
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "AZUREML_RUN_ID": name, "MLFLOW_DISABLE_TELEMETRY": "true",
               "MLFLOW_TRACKING_URI": mlflow_uri(fake, ws)}  # Azure ML points MLflow at the workspace
        env.pop("AZUREML_CURRENT_CLOUD", None)
        # the job gets what its environment installs, nothing more of this machine's (job_sandbox)
        env = sandbox_env(Path(tmp) / ".sandbox", work, _environment_pins(fake, props["environmentId"]), env)
        with open(work / "std_log.txt", "wb") as log:
            proc = subprocess.Popen(["bash", "-c", command], cwd=work, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
            job["proc"] = proc
            if job["cancelled"]:
                proc.kill()
            code_rc = proc.wait()
        with fake.lock:  # what the job wrote becomes its artifacts, as Azure ML uploads ./outputs
            for f in sorted((work / "outputs").rglob("*")) if (work / "outputs").is_dir() else []:
                if f.is_file():
                    fake.blobs[f"azureml-artifacts/{name}/outputs/{f.relative_to(work / 'outputs').as_posix()}"] = \
                        f.read_bytes()
            fake.blobs[f"azureml-artifacts/{name}/user_logs/std_log.txt"] = (work / "std_log.txt").read_bytes()
        try:
            mirror_models(fake, ws)
        except Exception as exc:  # noqa: BLE001 - the fake's own trouble fails the job (never leaves it Running)
            fake.blobs[f"azureml-artifacts/{name}/user_logs/std_log.txt"] += f"\nthe fake: {exc!r}".encode()
            code_rc = 1
        _set_status(fake, name, "Completed" if code_rc == 0 else "Failed")


def wait_quiet(fake: FakeAzure, timeout: float = 30) -> None:
    """Wait until no fake job process is running (a test's teardown; bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fake.lock:
            busy = [j for j in fake.jobs.values() if j["proc"] is not None and j["proc"].poll() is None]
        if not busy:
            return
        time.sleep(0.05)
