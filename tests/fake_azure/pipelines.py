"""The fake's pipeline jobs, the workspace's MLflow registry, and the data planes a job's outputs are
read back through.

A pipeline job is run here as Azure ML runs one: each node after the nodes its inputs are bound to,
each as a child run in its own sandbox (tests/job_sandbox.py, with its component's environment), its
command's ${{inputs.x}} / ${{outputs.y}} replaced by folders:
  - a pipeline input of a data asset (azureml:<name>:<version>, sent as its ARM id) is the asset's
    folder, read from its datastore's storage account (the fake's lake, where stage 4 uploaded it);
  - a pipeline input of an uploaded file (uri_file, sent as a workspaceblobstore URI) is that blob;
  - a node's output is a folder that, once the node succeeds, is kept in the workspace's default
    datastore at azureml/<child run>/<port>/, as Azure ML's default output path is;
  - ${{parent.outputs.x}} on a node's output makes it the pipeline's output x.
Every child run tracks to the workspace's MLflow endpoint, which here is a SQLite store per workspace
(`mlflow_uri`), as Azure ML points MLFLOW_TRACKING_URI at the workspace for a job. A model version
registered there becomes a workspace model (models/<name>/versions/<v>, mlflow_model, its files in the
default datastore), as the workspace's registry is the MLflow registry on Azure. Versions created
through the REST API (ml.models.create_or_update) are not seen by that MLflow store: the tests that
train on the fake start from a workspace without the model.

The run-history `rundata` call answers a run's outputs as data asset ids, and the dataset data plane's
`batchGetResolvedUris` resolves them to datastore URIs: what `ml.jobs.download(output_name=...)` reads.
`state.job_failures` fails a node whose child-run name contains the fragment.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from job_sandbox import sandbox_env

from .jobs import HISTORY_WS, _environment_pins, _set_status, route, start_job
from .models import DEFAULT_DATASTORE, default_datastore
from .server import WS, FakeAzure, _error, _models, _not_found, _ok
from .validation import BodyError, validate

BINDING = re.compile(r"\$\{\{parent\.(?:inputs\.(?P<input>\w+)|jobs\.(?P<node>\w+)\.outputs\.(?P<port>\w+)|"
                     r"outputs\.(?P<output>\w+))\}\}")
DATA = r"/data/v1\.0/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/" \
       r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"


def mlflow_uri(fake: FakeAzure, ws: str) -> str:
    """The workspace's MLflow tracking and registry store (made with its artifact root on first use)."""
    name = re.sub(r"[^a-z0-9]+", "-", ws.lower().rsplit("/", 1)[-1])
    folder = fake.folder / "mlflow" / name
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with fake.lock:  # jobs start at once: one creates the store, the others wait for it
        if not folder.is_dir():
            _create_store(folder, uri)
    return uri


def _create_store(folder: Path, uri: str) -> None:
    import logging

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    for name in ("mlflow.store.db.utils", "alembic"):  # its schema set-up, said at INFO in the test's output
        logging.getLogger(name).setLevel(logging.WARNING)
    folder.mkdir(parents=True)
    # the Default experiment's artifacts go here, not under a job's (deleted) working folder
    SqlAlchemyStore(uri, (folder / "artifacts").as_uri()).engine.dispose()


@route("PUT", WS + r"/components/(?P<name>[^/]+)/versions/(?P<v>[^/]+)")
def _put_component(fake: FakeAzure, g, q, data, path):
    validate(_models("ComponentVersion"), data)
    spec = (data.get("properties") or {}).get("componentSpec") or {}
    for what in ("code", "environment"):
        rid = spec.get(what)
        if not isinstance(rid, str) or fake.get(rid.removeprefix("azureml:")) is None:
            raise BodyError(f"properties.componentSpec.{what}: {rid!r} does not exist in the workspace")
    existed = fake.get(path) is not None
    fake.seed(path, {**copy.deepcopy(data), "type": "Microsoft.MachineLearningServices/workspaces/components/versions"})
    return _ok(copy.deepcopy(fake.get(path)), 200 if existed else 201)


def _order(nodes: dict[str, Any]) -> list[str]:
    """The nodes, each after the nodes its inputs are bound to; a binding to no node is refused."""
    needs = {}
    for name, node in nodes.items():
        wanted = set()
        for port, value in (node.get("inputs") or {}).items():
            m = BINDING.fullmatch(str(value.get("value") or "")) if isinstance(value, dict) else None
            if m and m["node"]:
                if m["node"] not in nodes:
                    raise BodyError(f"properties.jobs.{name}.inputs.{port}: binds to node {m['node']!r}, which "
                                    "the pipeline does not have")
                wanted.add(m["node"])
        needs[name] = wanted
    order: list[str] = []
    while len(order) < len(nodes):
        ready = [n for n in nodes if n not in order and needs[n] <= set(order)]
        if not ready:
            raise BodyError(f"properties.jobs: the nodes' bindings form a cycle ({sorted(set(nodes) - set(order))})")
        order += sorted(ready)
    return order


def put_pipeline(fake: FakeAzure, g: dict[str, str], data: dict[str, Any], path: str, ws: str):
    """A Pipeline job: every node's component, the compute and the inputs must exist; then it runs."""
    props = data["properties"]
    nodes = props.get("jobs") or {}
    if not nodes:
        raise BodyError("properties.jobs: a pipeline job needs at least one node")
    order = _order(nodes)
    for name, node in nodes.items():
        rid = node.get("componentId")
        if not rid or fake.get(rid) is None:
            return _error(400, "UserError", f"node {name}: its component {rid!r} does not exist in the workspace")
    compute = (props.get("settings") or {}).get("default_compute") or props.get("computeId")
    if compute and fake.get(compute) is None:
        return _error(400, "UserError", f"the pipeline's compute {compute!r} does not exist in the workspace")
    for name, value in (props.get("inputs") or {}).items():
        uri = str(value.get("uri") or "")
        if uri.startswith("/subscriptions/") and fake.get(uri) is None:
            return _error(400, "UserError", f"pipeline input {name}: {uri} does not exist in the workspace")
    return start_job(fake, g["name"], data, path, _run_pipeline, (ws, order), children={}, outputs={})


def _container(fake: FakeAzure, ws: str) -> str:
    return default_datastore(fake, ws)["properties"]["containerName"]


def materialise(fake: FakeAzure, ws: str, value: dict[str, Any], into: Path) -> Path:
    """A pipeline input on disk: a data asset's folder from its datastore's account, or an uploaded
    file from the workspace's default datastore."""
    uri = str(value.get("uri") or "")
    if uri.startswith("/subscriptions/"):  # a data asset version, by its ARM id
        uri = str(fake.get(uri)["properties"]["dataUri"])
    m = re.fullmatch(r"azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?datastores/"
                     r"(?P<ds>[^/]+)/paths/(?P<path>.+)", uri, flags=re.IGNORECASE)
    if m is None:
        raise RuntimeError(f"input {uri!r}: the fake materialises data assets and datastore paths only")
    path = m["path"]
    if m["ds"] == DEFAULT_DATASTORE:
        key = f"{_container(fake, ws)}/{path}"
        files = {k[len(key):].lstrip("/"): v for k, v in fake.blobs.items() if k == key or k.startswith(key)}
    else:
        store = fake.get(f"{ws}/datastores/{m['ds']}")["properties"]
        key = f"{store['accountName']}/{store.get('containerName') or store.get('filesystem')}/{path}"
        files = {k[len(key):].lstrip("/"): v for k, v in fake.lake.items() if k.startswith(key)}
    if not files:
        raise RuntimeError(f"input {uri!r}: nothing is stored there")
    if set(files) == {""}:  # one file (uri_file): the input is that file
        target = into / path.rsplit("/", 1)[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[""])
        return target
    for rel, content in files.items():
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        (into / rel).write_bytes(content)
    return into


def fill(command: str, paths: dict[str, str]) -> str:
    """${{inputs.x}} / ${{outputs.y}} replaced by their paths, shell-quoted as Azure ML's are."""
    return re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", lambda m: shlex.quote(paths[f"{m[1]}.{m[2]}"]), command)


def _snapshot(fake: FakeAzure, component: dict[str, Any], work: Path) -> None:
    code = fake.get(component["properties"]["componentSpec"]["code"].removeprefix("azureml:"))
    prefix = code["properties"]["codeUri"][len(fake.endpoint) + 1:].rstrip("/") + "/"
    for key, data in list(fake.blobs.items()):
        if key.startswith(prefix):
            (work / key[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
            (work / key[len(prefix):]).write_bytes(data)


def _node(fake: FakeAzure, name: str, ws: str, node_name: str, node: dict[str, Any], tmp: Path,
          made: dict[tuple[str, str], Path]) -> bool:
    """One node as a child run: materialise, run its command in the sandbox, keep its outputs."""
    job = fake.jobs[name]
    pipeline = fake.get(job["path"])["properties"]
    component = fake.get(node["componentId"])
    spec = component["properties"]["componentSpec"]
    child = f"{name}_{node_name}"
    job["children"][node_name] = {"run": child, "status": "Running", "display": spec.get("display_name")}
    folder = tmp / node_name
    work = folder / "snapshot"
    work.mkdir(parents=True)
    _snapshot(fake, component, work)
    paths: dict[str, str] = {}
    for port, value in (node.get("inputs") or {}).items():
        bound = BINDING.fullmatch(str(value.get("value") or ""))
        if bound and bound["node"]:
            paths[f"inputs.{port}"] = str(made[(bound["node"], bound["port"])])
        elif bound and bound["input"]:
            given = (pipeline.get("inputs") or {})[bound["input"]]
            if given.get("jobInputType") == "literal":
                paths[f"inputs.{port}"] = str(given.get("value"))
            else:
                paths[f"inputs.{port}"] = str(materialise(fake, ws, given, folder / "inputs" / port))
        else:
            paths[f"inputs.{port}"] = str(value.get("value"))
    for port in (spec.get("outputs") or {}):
        out = folder / "outputs" / port
        out.mkdir(parents=True)
        paths[f"outputs.{port}"] = str(out)
        made[(node_name, port)] = out
    command = fill(spec["command"], paths)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "AZUREML_RUN_ID": child, "MLFLOW_TRACKING_URI": mlflow_uri(fake, ws), "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("AZUREML_CURRENT_CLOUD", None)
    env = sandbox_env(folder / ".sandbox", work, _environment_pins(fake, spec["environment"].removeprefix(
        "azureml:")), env)
    failure = next((msg for frag, msg in fake.state.job_failures.items() if frag in child), None)
    with open(folder / "std_log.txt", "wb") as log:
        if failure is not None:
            log.write(failure.encode())
            rc = 1
        else:
            proc = subprocess.Popen(["bash", "-c", command], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
            job["proc"] = proc
            if job["cancelled"]:
                proc.kill()
            rc = proc.wait()
    container = _container(fake, ws)
    with fake.lock:
        fake.blobs[f"azureml-artifacts/{child}/user_logs/std_log.txt"] = (folder / "std_log.txt").read_bytes()
        if rc == 0:
            for port, bound in (node.get("outputs") or {}).items():
                where = f"azureml/{child}/{port}"
                for f in sorted(made[(node_name, port)].rglob("*")):
                    if f.is_file():
                        fake.blobs[f"{container}/{where}/{f.relative_to(made[(node_name, port)]).as_posix()}"] = \
                            f.read_bytes()
                m = BINDING.fullmatch(str((bound or {}).get("value") or "")) if isinstance(bound, dict) else None
                if m and m["output"]:
                    job["outputs"][m["output"]] = where
        job["children"][node_name]["status"] = "Completed" if rc == 0 else "Failed"
    mirror_models(fake, ws)
    return rc == 0


def _run_pipeline(fake: FakeAzure, name: str, ws: str, order: list[str]) -> None:
    if not _set_status(fake, name, "Running"):
        return
    nodes = fake.get(fake.jobs[name]["path"])["properties"]["jobs"]
    made: dict[tuple[str, str], Path] = {}
    with tempfile.TemporaryDirectory(prefix="fake-azureml-pipeline-") as tmp:
        for node_name in order:
            if fake.jobs[name]["cancelled"]:
                return
            try:
                ok = _node(fake, name, ws, node_name, nodes[node_name], Path(tmp), made)
            except Exception as exc:  # noqa: BLE001 - the fake's own trouble fails the job, said in its log
                fake.blobs[f"azureml-artifacts/{name}_{node_name}/user_logs/std_log.txt"] = str(exc).encode()
                fake.jobs[name]["children"].setdefault(node_name, {"run": f"{name}_{node_name}"})["status"] = "Failed"
                ok = False
            if not ok:
                _set_status(fake, name, "Failed")
                return
    _set_status(fake, name, "Completed")


def mirror_models(fake: FakeAzure, ws: str) -> None:
    """The MLflow store's registered versions as the workspace's models (one registry on Azure); one
    job at a time."""
    with fake.lock:
        _mirror(fake, ws)


def _mirror(fake: FakeAzure, ws: str) -> None:
    from urllib.parse import unquote, urlsplit

    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking

    from .models import _flavors

    uri = mlflow_uri(fake, ws)
    # stores of its own, closed after: MlflowClient keeps one open per store URI for the process's life,
    # and every test's workspace has its own
    registry, tracking = Registry(uri), Tracking(uri, (Path(uri[len("sqlite:///"):]).parent / "artifacts").as_uri())
    try:
        container = _container(fake, ws)
        sub, rg, wsname = re.search(r"/subscriptions/([^/]+)/resourcegroups/([^/]+)/.*/workspaces/([^/]+)", ws,
                                    re.IGNORECASE).groups()
        for registered in registry.search_registered_models(max_results=1000):
            for mv in registry.search_model_versions(f"name='{registered.name}'", max_results=1000):
                rid = f"{ws}/models/{mv.name}/versions/{mv.version}"
                if fake.get(rid) is not None:
                    continue
                source = registry.get_model_version_download_uri(mv.name, mv.version)
                if source.startswith("runs:/"):  # the run's artifact folder, where the run logged it
                    run_id, _, inside = source[len("runs:/"):].partition("/")
                    source = f"{tracking.get_run(run_id).info.artifact_uri.rstrip('/')}/{inside}"
                folder = Path(unquote(urlsplit(source).path))
                where = f"mlflow/{mv.name}/{mv.version}"
                for f in sorted(folder.rglob("*")):
                    if f.is_file():
                        fake.blobs[f"{container}/{where}/{f.relative_to(folder).as_posix()}"] = f.read_bytes()
                model_uri = (f"azureml://subscriptions/{sub}/resourcegroups/{rg}/workspaces/{wsname}/datastores/"
                             f"{DEFAULT_DATASTORE}/paths/{where}")
                fake.seed(rid, {"type": "Microsoft.MachineLearningServices/workspaces/models/versions",
                                "properties": {"modelType": "mlflow_model", "modelUri": model_uri,
                                               "tags": dict(mv.tags), "properties": {"mlflow.runId": mv.run_id or ""},
                                               "flavors": _flavors(fake, ws, model_uri)}})
    finally:
        registry.engine.dispose()
        tracking.engine.dispose()


@route("POST", HISTORY_WS + r"/rundata")
def _rundata(fake: FakeAzure, g, q, data, path):
    run = str((data or {}).get("runId") or "")
    job = fake.jobs.get(run)
    if job is None:
        return _not_found(f"run {run}")
    outputs = {name: {"assetId": f"azureml://locations/fake/workspaces/{g['ws']}/data/{run}-{name}/versions/1",
                      "type": "uri_folder"} for name in job.get("outputs") or {}}
    return _ok({"runMetadata": {"runId": run, "status": fake.get(job["path"])["properties"]["status"],
                                "outputs": outputs}})


@route("POST", DATA + r"/dataversion/batchGetResolvedUris")
def _resolved_uris(fake: FakeAzure, g, q, data, path):
    ids = (data or {}).get("values") or []
    out = {}
    for asset in ids:
        m = re.search(r"/data/(?P<run>.+)-(?P<output>[^-/]+)/versions/1$", str(asset))
        job = fake.jobs.get(m["run"]) if m else None
        where = (job or {}).get("outputs", {}).get(m["output"]) if m else None
        if where is None:
            return _not_found(f"data asset {asset}")
        out[asset] = {"uri": f"azureml://subscriptions/{g['sub']}/resourcegroups/{g['rg']}/workspaces/{g['ws']}/"
                             f"datastores/{DEFAULT_DATASTORE}/paths/{where}/", "type": "uri_folder"}
    return _ok({"values": out})


@route("GET", HISTORY_WS + r"/runs/(?P<run>[^/]+)/children")
def _children(fake: FakeAzure, g, q, data, path):
    job = fake.jobs.get(g["run"])
    if job is None:
        return _not_found(f"run {g['run']}")
    runs = [{"runId": c["run"], "displayName": c.get("display") or node, "status": c.get("status"),
             "runUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, c["run"])), "parentRunId": g["run"],
             "runType": "azureml.StepRun", "properties": {}, "tags": {}}
            for node, c in job.get("children", {}).items()]
    return _ok({"value": runs, "nextLink": None})
