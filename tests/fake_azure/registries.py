"""The fake's Azure ML registry data plane: registry discovery (which region and resource group hold
a registry) and sharing a workspace's model version into a registry (`import`, a long-running
operation answered by Location polling), then reading it back. A registry model version keeps the
workspace version's type, flavors, tags and files; deployments may name it by its
azureml://registries/<registry>/models/<name>/versions/<version> id.

Bodies follow the published registry data-plane REST specification (ResourceManagementAssetReference:
properties with referenceType "Id", sourceAssetId, destinationName, destinationVersion); azure-ai-ml
builds that dict by hand, so no generated model exists to check it against.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .jobs import route
from .server import MFE, REGISTRY_DISCOVERY, RETRY_AFTER, RG, FakeAzure, _error, _not_found, _ok, workspace_guid
from .validation import BodyError

REGISTRY_TYPE = "microsoft.machinelearningservices/registries"
SOURCE = re.compile(r"azureml://locations/(?P<loc>[^/]+)/workspaces/(?P<guid>[^/]+)/models/(?P<name>[^/]+)"
                    r"/versions/(?P<v>[^/]+)")


def _registry(fake: FakeAzure, name: str) -> dict[str, Any] | None:
    return next((r for r in fake.state.resources.values() if r.get("type", "").lower() == REGISTRY_TYPE
                 and r["name"].lower() == name.lower()), None)


def registry_model(fake: FakeAzure, ref: str) -> dict[str, Any] | None:
    """The model version an azureml://registries/<r>/models/<n>/versions/<v> id names, if shared."""
    m = re.fullmatch(r"azureml://registries/([^/]+)/models/([^/]+)/versions/([^/]+)", ref)
    reg = _registry(fake, m[1]) if m else None
    return fake.get(f"{reg['id']}/models/{m[2]}/versions/{m[3]}") if reg and m else None


@route("GET", REGISTRY_DISCOVERY.rstrip("/") + r"/(?P<name>[^/]+)/discovery")
def _discovery(fake: FakeAzure, g, q, data, path):
    reg = _registry(fake, g["name"])
    if reg is None:
        return _error(404, "RegistryNotFound", f"Registry {g['name']} was not found.")
    parts = reg["id"].split("/")
    return _ok({"registryName": reg["name"], "tenantId": "00000000-0000-0000-0000-000000000000",
                "primaryRegion": reg.get("location"), "regions": [reg.get("location")],
                "subscriptionId": parts[2], "resourceGroup": parts[4],
                "primaryRegionResourceProviderUri": f"{fake.endpoint}/"})


def _check_import(data: Any) -> dict[str, str]:
    props = (data or {}).get("properties") if isinstance(data, dict) else None
    errors = [] if isinstance(props, dict) else ["properties: required object"]
    props = props if isinstance(props, dict) else {}
    errors += [f"{k}: unknown field" for k in (data or {}) if k != "properties"]
    if props.get("referenceType") != "Id":
        errors.append(f"properties.referenceType: must be 'Id', got {props.get('referenceType')!r}")
    errors += [f"properties.{k}: required string" for k in ("sourceAssetId", "destinationName", "destinationVersion")
               if not isinstance(props.get(k), str)]
    errors += [f"properties.{k}: unknown field" for k in props
               if k not in ("referenceType", "sourceAssetId", "destinationName", "destinationVersion")]
    if errors:
        raise BodyError("; ".join(errors))
    return props


@route("POST", RG + r"/providers/Microsoft\.MachineLearningServices/registries/(?P<reg>[^/]+)/import")
def _import(fake: FakeAzure, g, q, data, path):
    props = _check_import(data)
    reg = fake.get(path.rsplit("/import", 1)[0])
    if reg is None:
        return _not_found(path.rsplit("/import", 1)[0])
    src = SOURCE.fullmatch(props["sourceAssetId"])
    if src is None:
        raise BodyError(f"properties.sourceAssetId: {props['sourceAssetId']!r} is not a workspace model's asset id "
                        "(azureml://locations/<region>/workspaces/<workspace id>/models/<name>/versions/<version>)")
    ws = next((r for r in fake.state.resources.values() if workspace_guid(r["id"]) == src["guid"]
               and r.get("type", "").lower().endswith("/workspaces")), None)
    model = fake.get(f"{ws['id']}/models/{src['name']}/versions/{src['v']}") if ws else None
    if model is None:
        return _error(404, "ResourceNotFound", f"model {src['name']}:{src['v']} was not found in workspace "
                                               f"{src['guid']}")
    target = f"{reg['id']}/models/{props['destinationName']}/versions/{props['destinationVersion']}"
    if fake.get(target) is not None:  # versions are immutable
        return _error(409, "UserError", f"model {props['destinationName']}:{props['destinationVersion']} already "
                                        f"exists in registry {g['reg']}")

    def finish() -> None:
        body = copy.deepcopy(model)
        body["properties"]["modelUri"] = (f"azureml://registries/{g['reg']}/models/{props['destinationName']}/"
                                          f"versions/{props['destinationVersion']}")
        body["type"] = "Microsoft.MachineLearningServices/registries/models/versions"
        # Azure answers a registry asset's id in its azureml:// form (azure-ai-ml refuses the ARM form)
        body["id"], body["name"] = body["properties"]["modelUri"], props["destinationVersion"]
        fake.seed(target, body)
    op = fake.new_operation(finish).split("/operations/")[1].split("?")[0]
    # polled by the registry client, with its token: under the data plane's prefix
    return _ok(None, 202, {"Location": f"{fake.endpoint}{MFE}/fake/registry-results/{op}", "Retry-After": RETRY_AFTER})


@route("GET", r"/fake/registry-results/(?P<op>[0-9a-f]+)")
def _import_result(fake: FakeAzure, g, q, data, path):
    """Location polling: 202 until done (the client keeps the first Location), then 200 with no body,
    after which azure-ai-ml reads the registry's model version back."""
    op = fake.poll(g["op"])
    if op["status"] == "InProgress":
        return _ok(None, 202, {"Retry-After": RETRY_AFTER})
    if op["status"] == "Failed":
        return _error(400, op["error"]["code"], op["error"]["message"])
    return _ok(None)
