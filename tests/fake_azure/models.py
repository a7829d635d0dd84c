"""The fake's workspace storage and model registry: the default datastore Azure creates with every
workspace (workspaceblobstore, an account-key blob datastore), its secrets (a SAS, as
`listSecrets` answers for an expirable secret), and model versions, whose `modelUri` must name
files uploaded to one of the workspace's datastores (an MLflow model must hold its MLmodel file).

The storage account's host is https://<account>.blob.<STORAGE_DOMAIN>:<port>, which the tests
resolve to this server; its blobs are the fake's `blobs`, keyed "<container>/<path>" as for uploads.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from .jobs import SAS, route
from .server import WS, FakeAzure, _error, _models, _not_found, _ok
from .validation import BodyError, validate

DEFAULT_DATASTORE = "workspaceblobstore"
DS_TYPE = "Microsoft.MachineLearningServices/workspaces/datastores"


def _ws(path: str) -> str:
    return re.split(r"/(?:datastores|models)(?:/|$)", path, flags=re.IGNORECASE)[0]


def default_datastore(fake: FakeAzure, ws: str) -> dict[str, Any] | None:
    """The workspace's workspaceblobstore, made when first asked for (Azure makes it with the workspace)."""
    if fake.get(ws) is None:
        return None
    rid = f"{ws}/datastores/{DEFAULT_DATASTORE}"
    if fake.get(rid) is None:
        tag = hashlib.sha1(ws.lower().encode()).hexdigest()[:10]
        fake.seed(rid, {"type": DS_TYPE, "properties": {
            "datastoreType": "AzureBlob", "accountName": f"st{tag}", "containerName": f"azureml-blobstore-{tag}",
            "endpoint": fake.storage_suffix.split(":")[0], "protocol": "https", "isDefault": True,
            "credentials": {"credentialsType": "AccountKey"}, "description": "the workspace's default datastore"}})
    return fake.get(rid)


@route("GET", WS + r"/datastores")
def _list_datastores(fake: FakeAzure, g, q, data, path):
    if default_datastore(fake, _ws(path)) is None:
        return _error(404, "ResourceNotFound", f"Workspace {g['ws']} was not found.")
    prefix = path.lower() + "/"
    items = [copy.deepcopy(r) for k, r in fake.state.resources.items()
             if k.startswith(prefix) and "/" not in k[len(prefix):]]
    if str(q.get("isDefault", "")).lower() == "true":
        items = [r for r in items if r["properties"].get("isDefault")]
    return _ok({"value": items})


@route("GET", WS + r"/datastores/" + DEFAULT_DATASTORE)
def _get_default_datastore(fake: FakeAzure, g, q, data, path):
    found = default_datastore(fake, _ws(path))
    return _ok(copy.deepcopy(found)) if found else _not_found(path)


@route("POST", WS + r"/datastores/(?P<name>[^/]+)/listSecrets")
def _list_secrets(fake: FakeAzure, g, q, data, path):
    store = path.rsplit("/listSecrets", 1)[0]
    if g["name"] == DEFAULT_DATASTORE:
        default_datastore(fake, _ws(path))
    if fake.get(store) is None:
        return _not_found(store)
    if not isinstance(data, dict) or not isinstance(data.get("expirableSecret"), bool):
        raise BodyError("listSecrets: the body must say whether the secret expires (expirableSecret)")
    return _ok({"secretsType": "Sas", "sasToken": SAS})


def _datastore_files(fake: FakeAzure, ws: str, uri: str) -> tuple[str, list[str]]:
    """The blobs a `azureml://.../datastores/<name>/paths/<path>` URI names in this workspace."""
    m = re.fullmatch(r"azureml://subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/(?P<ws>[^/]+)/datastores/"
                     r"(?P<ds>[^/]+)/paths/(?P<path>.+)", uri, flags=re.IGNORECASE)
    if m is None:
        raise BodyError(f"properties.modelUri: {uri!r} is not a datastore URI of this workspace "
                        "(azureml://subscriptions/.../workspaces/<ws>/datastores/<name>/paths/<path>)")
    if m["ws"].lower() != ws.rsplit("/", 1)[-1].lower():
        raise BodyError(f"properties.modelUri: {uri!r} names workspace {m['ws']}, not this one")
    store = default_datastore(fake, ws) if m["ds"] == DEFAULT_DATASTORE else fake.get(f"{ws}/datastores/{m['ds']}")
    if store is None:
        raise BodyError(f"properties.modelUri: datastore {m['ds']!r} does not exist in the workspace")
    prefix = f"{store['properties']['containerName']}/{m['path'].rstrip('/')}"
    return m["ds"], [k[len(prefix):].lstrip("/") for k in fake.blobs if k == prefix or k.startswith(prefix + "/")]


@route("PUT", WS + r"/models/(?P<name>[^/]+)/versions/(?P<v>[^/]+)")
def _put_model_version(fake: FakeAzure, g, q, data, path):
    validate(_models("ModelVersion"), data)
    ws = _ws(path)
    if fake.get(ws) is None:
        return _error(404, "ResourceNotFound", f"Workspace {g['ws']} was not found.")
    if fake.get(path) is not None:  # versions are immutable: Azure refuses to change one
        return _error(409, "UserError", f"model {g['name']} version {g['v']} already exists with other content")
    props = data["properties"]
    _ds, files = _datastore_files(fake, ws, str(props.get("modelUri") or ""))
    if not files:
        raise BodyError(f"properties.modelUri: nothing was uploaded to {props.get('modelUri')!r}")
    if props.get("modelType") == "mlflow_model" and "MLmodel" not in files:
        raise BodyError(f"properties.modelUri: an mlflow_model needs an MLmodel file; {props.get('modelUri')!r} "
                        f"holds {sorted(files)[:5]}")
    body = copy.deepcopy(data)
    if props.get("modelType") == "mlflow_model":  # Azure reads the flavors from the MLmodel file
        body["properties"]["flavors"] = _flavors(fake, ws, str(props["modelUri"]))
    body["type"] = "Microsoft.MachineLearningServices/workspaces/models/versions"
    fake.seed(path, body)
    return _ok(copy.deepcopy(fake.get(path)), 201)


def _flavors(fake: FakeAzure, ws: str, uri: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    ds = re.search(r"/datastores/([^/]+)/paths/(.+)$", uri)
    container = fake.get(f"{ws}/datastores/{ds[1]}")["properties"]["containerName"]
    mlmodel = YAML(typ="safe").load(fake.blobs[f"{container}/{ds[2].rstrip('/')}/MLmodel"].decode())
    return {name: {"data": {k: str(v) for k, v in (conf or {}).items() if not isinstance(v, dict | list)}}
            for name, conf in (mlmodel.get("flavors") or {}).items()}
