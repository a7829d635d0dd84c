"""A local HTTPS fake of the Azure Resource Manager and Azure ML REST APIs the product calls.

Started by the tests on 127.0.0.1 with a throw-away CA (tls.py). It checks the bearer token (a JWT
from credential.py whose audience is this endpoint), requires an api-version, validates request
bodies against the SDKs' own REST models (validation.py), keeps state (what was created can be read
back), follows the long-running-operation protocol (Azure-AsyncOperation / Location polling), and
injects faults on request (`inject`). It implements only the operations the product calls; any other
request is answered 501 and recorded in `unhandled`, so a test sees the product calling something new.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import arm_template
from .credential import decode_token
from .tls import STORAGE_DOMAIN, make_ca_and_cert
from .validation import BodyError, validate

SUB = r"/subscriptions/(?P<sub>[^/]+)"
AUTH = r"(?P<scope>/subscriptions/[^/]+(?:/resourcegroups/[^/]+)?)/providers/Microsoft\.Authorization/"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
WS = RG + r"/providers/microsoft\.machinelearningservices/workspaces/(?P<ws>[^/]+)"
DEPLOY = RG + r"/providers/microsoft\.resources/deployments/(?P<dep>[^/]+)"
REGISTRY_DISCOVERY = "/registrymanagement/v1.0/registries/"
MFE = "/mferp/managementfrontend"  # the registry data plane's path prefix
# Seconds to wait before polling again. Not "0": azure-core reads 0 as "no header" and waits its
# default instead (5 s in azure-ai-ml's endpoint pollers). The first answer of a PUT says "1" (some
# generated clients read that header as an integer); the operation's status answers say 0.05.
RETRY_AFTER_FIRST, RETRY_AFTER = "1", "0.05"

# Built-in roles the fake knows (actions as Azure defines them, trimmed to what matters here).
BUILTIN_ROLES = {
    "Owner": (["*"], []),
    "Contributor": (["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/elevateAccess/Action"]),
    "Reader": (["*/read"], []),
    "AzureML Data Scientist": (["Microsoft.MachineLearningServices/workspaces/*/read",
                                "Microsoft.MachineLearningServices/workspaces/*/action",
                                "Microsoft.MachineLearningServices/workspaces/*/write"],
                               ["Microsoft.MachineLearningServices/workspaces/computes/write",
                                "Microsoft.MachineLearningServices/workspaces/computes/*/write",
                                "Microsoft.MachineLearningServices/workspaces/write"]),
    "AzureML Compute Operator": (["Microsoft.MachineLearningServices/workspaces/computes/*",
                                  "Microsoft.MachineLearningServices/workspaces/computes/write"], []),
}


def workspace_guid(rid: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower()))


def role_definition_id(sub: str, name: str) -> str:
    return (f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}")


@dataclass
class Fault:
    method: str  # "*" for any
    path_contains: str
    status: int
    code: str
    message: str
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class State:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased id -> body
    providers: dict[str, str] = field(default_factory=lambda: {
        ns: "Registered" for ns in ("Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.KeyVault",
                                    "Microsoft.ContainerRegistry", "Microsoft.Insights",
                                    "Microsoft.OperationalInsights", "Microsoft.Network", "Microsoft.Consumption",
                                    "Microsoft.ManagedIdentity", "Microsoft.Resources", "Microsoft.Authorization")})
    granted_roles: list[str] = field(default_factory=lambda: ["Owner"])  # the caller's roles
    custom_roles: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # name -> (actions, not)
    vm_sizes: list[dict[str, Any]] = field(default_factory=lambda: [
        {"name": "Standard_DS3_v2", "family": "standardDSv2Family", "vCPUs": 4},
        {"name": "Standard_DS11_v2", "family": "standardDSv2Family", "vCPUs": 2},
        {"name": "Standard_D4s_v3", "family": "standardDSv3Family", "vCPUs": 4},
        {"name": "Standard_E4s_v3", "family": "standardESv3Family", "vCPUs": 4},
        {"name": "Standard_NC6s_v3", "family": "standardNCSv3Family", "vCPUs": 6}])
    quota: dict[str, tuple[int, int]] = field(default_factory=lambda: {  # family -> (used, limit)
        "standardDSv2Family": (0, 100), "standardDSv3Family": (0, 100), "standardESv3Family": (0, 100),
        "standardNCSv3Family": (0, 24), "lowPriorityCores": (0, 100)})
    taken_names: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) owned by someone else
    deleted_vaults: dict[str, str] = field(default_factory=dict)  # name -> location
    # Azure ML workspaces deleted but kept (soft delete): (subscription, resource group, name) -> location
    deleted_workspaces: dict[tuple[str, str, str], str] = field(default_factory=dict)
    deployment_polls: int = 1  # polls an LRO answers InProgress before it finishes
    deployment_never_finishes: bool = False
    deployment_error: dict[str, str] | None = None  # {"code", "message"}: the deployment fails
    job_failures: dict[str, str] = field(default_factory=dict)  # job-name fragment -> log of a job that fails
    # online/batch deployment name -> {"code", "message"}: its provisioning fails ("never": it never finishes)
    endpoint_deployment_faults: dict[str, dict[str, str]] = field(default_factory=dict)


class FakeAzure:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_bundle, cert, key = make_ca_and_cert(folder / "tls")
        self.state = State()
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self.rejected: list[str] = []  # bodies refused by validation (message)
        self.unhandled: list[str] = []
        self.operations: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, bytes] = {}  # "<container>/<path>" -> content (code snapshots, job artifacts)
        self.blob_meta: dict[str, dict[str, str]] = {}
        self.lake: dict[str, bytes] = {}  # "<account>/<container>/<path>" -> content (the datastores' accounts)
        self.jobs: dict[str, dict[str, Any]] = {}  # job name -> {"path", "proc", "cancelled"}
        self.lock = threading.RLock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.endpoint = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        # azure-ai-ml's storage URLs are https://<account>.blob.<suffix>: the port rides in the suffix
        self.storage_suffix = f"{STORAGE_DOMAIN}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FakeAzure:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- test-facing helpers ------------------------------------------------------------------------
    def inject(self, path_contains: str, status: int, code: str, message: str = "", *, method: str = "*",
               times: int = 1, headers: dict[str, str] | None = None) -> None:
        self.faults.append(Fault(method, path_contains.lower(), status, code, message or code, times,
                                 headers or {}))

    def seed(self, rid: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.state.resources[rid.lower()] = {"id": rid, "name": rid.rsplit("/", 1)[-1], **body}

    def get(self, rid: str) -> dict[str, Any] | None:
        return self.state.resources.get(rid.lower())

    def called(self, method: str, fragment: str) -> list[tuple[str, str, int]]:
        return [r for r in self.requests if r[0] == method and fragment.lower() in r[1].lower()]

    # --- request handling ---------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path).rstrip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        from .jobs import handle_blob, is_blob_path
        from .lake import handle_lake, lake_account

        if is_blob_path(path):  # storage: a SAS in the URL, never a bearer token
            return handle_blob(self, method, path, query, headers, body)
        account = lake_account(headers)
        if account:  # a datastore's account (stage 4's lake): a bearer token for Azure Storage
            return handle_lake(self, method, account, path, headers, body)
        if path == "/fake/discovery":  # public in Azure too: no token
            return _ROUTE_DISCOVERY(self)
        # Some of azure-ai-ml's registry clients ask for public Azure's audiences whatever the cloud
        # (a model's share: the discovery service's, ml.azure.com, and ARM's for the registry data
        # plane, MFE, whose paths are ARM-shaped behind a prefix); an MLClient on a registry asks for
        # its cloud's. Both are accepted there, as Azure does.
        audiences = {self.endpoint}
        if path.startswith(REGISTRY_DISCOVERY):
            audiences.add("https://ml.azure.com")
        elif path.startswith(MFE):
            path = path[len(MFE):]
            audiences.add("https://management.azure.com")
        auth = headers.get("Authorization", "")
        claims = decode_token(auth[7:]) if auth.startswith("Bearer ") else None
        if claims is None or claims.get("aud", "").rstrip("/") not in audiences:
            return _error(401, "InvalidAuthenticationToken",
                          f"the access token is missing, malformed or for another audience "
                          f"({claims.get('aud') if claims else 'no token'})")
        if not path.startswith(("/fake/", "/history/")) and "api-version" not in query:
            return _error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        f = self.injected(method, path)
        if f is not None:
            status, hdrs, payload = _error(f.status, f.code, f.message)
            return status, {**hdrs, **f.headers}, payload
        try:
            data = json.loads(body) if body else None
        except json.JSONDecodeError as exc:
            return _error(400, "InvalidRequestContent", f"the body is not JSON: {exc}")
        for verb, pattern, fn in ROUTES:
            m = re.fullmatch(pattern, path, flags=re.IGNORECASE)
            if m and verb == method:
                try:
                    with self.lock:
                        return fn(self, m.groupdict(), query, data, path)
                except BodyError as exc:
                    self.rejected.append(f"{method} {path}: {exc}")
                    return _error(400, "InvalidRequestContent", f"the request body is invalid: {exc}")
                except Exception as exc:  # a bug of the fake: answer (never hang the client) and record it
                    self.unhandled.append(f"{method} {path}: fake crashed: {type(exc).__name__}: {exc}")
                    return _error(500, "FakeCrashed", f"{type(exc).__name__}: {exc}")
        self.unhandled.append(f"{method} {path}")
        return _error(501, "NotImplementedInFake", f"the fake does not implement {method} {path}")

    def injected(self, method: str, path: str) -> Fault | None:
        """The injected fault this request meets, if any (each answers its number of times)."""
        with self.lock:
            for f in self.faults:
                if f.times and (f.method in ("*", method)) and f.path_contains in path.lower():
                    f.times -= 1
                    return f
        return None

    def new_operation(self, finish: Callable[[], dict[str, Any] | None], *, deployment: bool = False) -> str:
        op = uuid.uuid4().hex
        self.operations[op] = {"polls": self.state.deployment_polls, "finish": finish, "status": "InProgress",
                               "never": deployment and self.state.deployment_never_finishes, "result": None,
                               "error": None}
        return f"{self.endpoint}/fake/operations/{op}?api-version=2023-01-01"

    def poll(self, op_id: str) -> dict[str, Any]:
        op = self.operations[op_id]
        if op["status"] == "InProgress" and not op["never"]:
            if op["polls"] <= 0:
                try:
                    op["result"] = op["finish"]()
                    op["status"] = "Succeeded"
                except _OperationFailed as exc:
                    op["status"], op["error"] = "Failed", {"code": exc.code, "message": exc.message}
            op["polls"] -= 1
        return op


class _OperationFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    headers = {"x-ms-error-code": code}
    if status == 429:
        headers["Retry-After"] = "1"
    return status, headers, {"error": {"code": code, "message": message}}


def _ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    return status, headers or {}, body


def _not_found(path: str) -> tuple[int, dict[str, str], Any]:
    return _error(404, "ResourceNotFound", f"The resource '{path}' was not found.")


# ---------------------------------------------------------------------------------------------------
# Routes (method, path regex, handler). Handlers run under the fake's lock.

ROUTES: list[tuple[str, str, Callable[..., tuple[int, dict[str, str], Any]]]] = []


def route(method: str, pattern: str):
    def deco(fn):
        ROUTES.append((method, pattern, fn))
        return fn
    return deco


def _models(name: str) -> Any:
    if name in ("Deployment", "DeploymentWhatIf"):
        from azure.mgmt.resource.deployments import models
    else:
        from azure.ai.ml._restclient.arm_ml_service import models
    return getattr(models, name)


@route("GET", r"/fake/operations/(?P<op>[0-9a-f]+)")
def _operation(fake: FakeAzure, g, q, data, path):
    op = fake.operations.get(g["op"])
    if op is None:
        return _not_found(path)
    op = fake.poll(g["op"])
    body: dict[str, Any] = {"id": path, "name": g["op"], "status": op["status"]}
    if op["error"]:
        body["error"] = op["error"]
    # Azure says when to ask again; the SDKs' own default waits are 10-30 s, too long for the tests
    return _ok(body, 200, {"Retry-After": RETRY_AFTER} if op["status"] == "InProgress" else None)


@route("GET", r"/fake/results/(?P<op>[0-9a-f]+)")
def _result(fake: FakeAzure, g, q, data, path):  # what-if: Location polling, 202 until done
    op = fake.poll(g["op"])
    if op["status"] == "InProgress":
        return _ok(None, 202, {"Location": f"{fake.endpoint}{path}", "Retry-After": "0"})
    if op["status"] == "Failed":
        return _ok({"status": "Failed", "error": op["error"]})
    return _ok(op["result"])


@route("PUT", RG)
def _put_rg(fake: FakeAzure, g, q, data, path):
    # Shape from the published Resources REST spec (ResourceGroup): location required, tags a string map.
    errors = [] if isinstance((data or {}).get("location"), str) else ["location: required string"]
    errors += [f"{k}: unknown or read-only field" for k in (data or {}) if k not in ("location", "tags", "managedBy",
                                                                                      "properties")]
    if not isinstance((data or {}).get("tags", {}), dict) or not all(
            isinstance(v, str) for v in ((data or {}).get("tags") or {}).values()):
        errors.append("tags: must map names to strings")
    if errors:
        raise BodyError("; ".join(errors))
    existed = fake.get(path) is not None
    fake.seed(path, {"type": "Microsoft.Resources/resourceGroups", "location": data["location"],
                     "tags": data.get("tags") or {}, "properties": {"provisioningState": "Succeeded"}})
    return _ok(fake.get(path), 200 if existed else 201)


def _plan(g, props, location):
    """The resources an ARM deployment body would create (via the fake's template evaluator), or an
    InvalidTemplate error response."""
    ctx = {"subscription": g["sub"], "resource_group": g["rg"], "location": location}
    params = {k: v.get("value") for k, v in (props.get("parameters") or {}).items()}
    try:
        return arm_template.resources(props["template"], params, ctx), None
    except arm_template.TemplateError as exc:
        return None, _error(400, "InvalidTemplate", str(exc))


@route("PUT", DEPLOY)
def _put_deployment(fake: FakeAzure, g, q, data, path):
    validate(_models("Deployment"), data)
    props = data["properties"]
    rg = fake.get(f"/subscriptions/{g['sub']}/resourceGroups/{g['rg']}")
    if rg is None:
        return _error(404, "ResourceGroupNotFound", f"Resource group '{g['rg']}' could not be found.")
    planned, error = _plan(g, props, rg["location"])
    if error:
        return error
    fake.seed(path, {"type": "Microsoft.Resources/deployments",
                     "properties": {"provisioningState": "Running", "mode": props["mode"]}})

    def finish() -> None:
        err = fake.state.deployment_error
        if err:
            fake.get(path)["properties"].update(provisioningState="Failed", error=err)
            raise _OperationFailed(err["code"], err["message"])
        for r in planned:
            fake.seed(r["id"], {k: r[k] for k in ("type", "location", "tags", "properties")})
            fake.get(r["id"])["properties"] = {**(r["properties"] if isinstance(r["properties"], dict) else {}),
                                              "provisioningState": "Succeeded"}
        fake.get(path)["properties"].update(provisioningState="Succeeded",
                                            outputResources=[{"id": r["id"]} for r in planned])
    url = fake.new_operation(finish, deployment=True)
    return _ok(fake.get(path), 201, {"Azure-AsyncOperation": url, "Retry-After": "0"})


@route("POST", DEPLOY + r"/validate")
def _validate_deployment(fake: FakeAzure, g, q, data, path):
    validate(_models("Deployment"), data)
    props = data["properties"]
    planned, error = _plan(g, props, "westeurope")
    if error:
        return error
    return _ok({"id": path.rsplit("/validate", 1)[0], "name": g["dep"],
                "properties": {"provisioningState": "Succeeded", "mode": props["mode"],
                               "validatedResources": [{"id": r["id"]} for r in planned]}})


@route("POST", DEPLOY + r"/whatIf")
def _what_if(fake: FakeAzure, g, q, data, path):
    validate(_models("DeploymentWhatIf"), data)
    props = data["properties"]
    rg = fake.get(f"/subscriptions/{g['sub']}/resourceGroups/{g['rg']}") or {"location": "westeurope"}
    planned, error = _plan(g, props, rg["location"])
    if error:
        return error
    changes = [{"resourceId": r["id"], "changeType": "NoChange" if fake.get(r["id"]) else "Create"}
               for r in planned]
    op_url = fake.new_operation(lambda: {"status": "Succeeded", "properties": {"changes": changes}})
    op_id = op_url.split("/operations/")[1].split("?")[0]
    return _ok(None, 202, {"Location": f"{fake.endpoint}/fake/results/{op_id}", "Retry-After": "0"})


@route("GET", SUB + r"/providers/(?P<ns>[A-Za-z]+\.[A-Za-z]+)")
def _provider(fake: FakeAzure, g, q, data, path):
    ns = next((n for n in fake.state.providers if n.lower() == g["ns"].lower()), g["ns"])
    return _ok({"id": path, "namespace": ns, "registrationState": fake.state.providers.get(ns, "NotRegistered")})


@route("GET", AUTH + "permissions")
def _permissions(fake: FakeAzure, g, q, data, path):
    perms = [{"actions": BUILTIN_ROLES[r][0], "notActions": BUILTIN_ROLES[r][1], "dataActions": [],
              "notDataActions": []} for r in fake.state.granted_roles]
    return _ok({"value": perms})


@route("GET", AUTH + "roleDefinitions")
def _role_definitions(fake: FakeAzure, g, q, data, path):
    sub = g["scope"].split("/")[2]
    return _ok({"value": [{"id": role_definition_id(sub, n), "name": role_definition_id(sub, n).rsplit("/", 1)[1],
                           "type": "Microsoft.Authorization/roleDefinitions",
                           "properties": {"roleName": n, "type": "BuiltInRole",
                                          "permissions": [{"actions": a, "notActions": na}]}}
                          for n, (a, na) in {**BUILTIN_ROLES, **fake.state.custom_roles}.items()]})


@route("GET", AUTH + "roleAssignments")
def _role_assignments(fake: FakeAzure, g, q, data, path):
    principal = re.search(r"principalId eq '([^']+)'", q.get("$filter", ""))
    found = [r for r in fake.state.resources.values()
             if r.get("type") == "Microsoft.Authorization/roleAssignments"
             and (principal is None or r["properties"].get("principalId") == principal.group(1))]
    return _ok({"value": copy.deepcopy(found)})


@route("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)/vmSizes")
def _vm_sizes(fake: FakeAzure, g, q, data, path):
    return _ok({"value": copy.deepcopy(fake.state.vm_sizes)})


@route("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)/usages")
def _usages(fake: FakeAzure, g, q, data, path):
    return _ok({"value": [{"id": f"{path}/{fam}", "type": "Microsoft.MachineLearningServices/usages",
                           "unit": "Count", "currentValue": used, "limit": limit,
                           "name": {"value": fam, "localizedValue": fam}}
                          for fam, (used, limit) in fake.state.quota.items()]})


_NAME_TYPES = {"microsoft.storage": ("storage", "Microsoft.Storage/storageAccounts"),
               "microsoft.keyvault": ("key_vault", "Microsoft.KeyVault/vaults"),
               "microsoft.containerregistry": ("container_registry", "Microsoft.ContainerRegistry/registries")}


@route("POST", SUB + r"/providers/(?P<ns>Microsoft\.(?:Storage|KeyVault|ContainerRegistry))/checkNameAvailability")
def _name_available(fake: FakeAzure, g, q, data, path):
    kind, rtype = _NAME_TYPES[g["ns"].lower()]
    # Shape from the published REST specs: {"name": string, "type": "<the resource type>"}, both required.
    errors = [f"{k}: required" for k in ("name", "type") if not isinstance((data or {}).get(k), str)]
    errors += [f"{k}: unknown field" for k in (data or {}) if k not in ("name", "type")]
    if not errors and data["type"].lower() != rtype.lower():
        errors.append(f"type: must be {rtype}, got {data['type']!r}")
    if errors:
        raise BodyError("; ".join(errors))
    taken = (kind, data["name"].lower()) in {(k, n.lower()) for k, n in fake.state.taken_names}
    mine = any(r.get("type", "").lower() == rtype.lower() and r["name"].lower() == data["name"].lower()
               for r in fake.state.resources.values())
    if taken or mine:
        return _ok({"nameAvailable": False, "reason": "AlreadyExists",
                    "message": f"The name '{data['name']}' is already taken."})
    return _ok({"nameAvailable": True})


@route("GET", SUB + r"/providers/Microsoft\.KeyVault/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)")
def _deleted_vault(fake: FakeAzure, g, q, data, path):
    loc = fake.state.deleted_vaults.get(g["name"].lower())
    if loc is None or loc.lower() != g["loc"].lower():
        return _not_found(path)
    return _ok({"id": path, "name": g["name"], "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {"location": loc, "purgeProtectionEnabled": False,
                               "scheduledPurgeDate": "2027-01-01T00:00:00Z"}})


@route("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/workspaces")
def _list_workspaces(fake: FakeAzure, g, q, data, path):
    """The subscription's workspaces; soft-deleted ones are listed too, with provisioningState SoftDeleted."""
    prefix = f"/subscriptions/{g['sub']}/".lower()
    live = [copy.deepcopy(r) for k, r in fake.state.resources.items() if k.startswith(prefix)
            and r.get("type", "").lower() == "microsoft.machinelearningservices/workspaces"]
    gone = [{"id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/"
                   f"workspaces/{name}", "name": name, "type": "Microsoft.MachineLearningServices/workspaces",
             "location": loc, "properties": {"provisioningState": "SoftDeleted"}}
            for (sub, rg, name), loc in fake.state.deleted_workspaces.items() if sub.lower() == g["sub"].lower()]
    return _ok({"value": live + gone})


@route("GET", RG + r"/providers/Microsoft\.Consumption/budgets")
def _budgets(fake: FakeAzure, g, q, data, path):
    return _ok({"value": [copy.deepcopy(r) for r in fake.state.resources.values()
                          if r.get("type", "").lower() == "microsoft.consumption/budgets"
                          and r["id"].lower().startswith(path.lower().rsplit("/providers/", 1)[0] + "/")]})


def _aml_put(model: str, rtype: str, lro: bool):
    def handler(fake: FakeAzure, g, q, data, path):
        validate(_models(model), data)
        ws = re.split(r"/(?:computes|environments|data|datastores|schedules|onlineendpoints|batchendpoints)/",
                      path.lower())[0]
        if "/workspaces/" in path.lower() and fake.get(ws) is None:
            return _error(404, "ResourceNotFound", f"Workspace {g.get('ws')} was not found.")
        if "/workspaces/" not in path.lower() and fake.get(path.lower().split("/providers/")[0]) is None:
            return _error(404, "ResourceGroupNotFound", f"Resource group '{g.get('rg')}' could not be found.")
        body = copy.deepcopy(data)
        body.setdefault("properties", {})
        body["type"] = rtype
        if model == "Schedule":  # the REST API's default when the request leaves it out
            body["properties"].setdefault("isEnabled", True)
        existed = fake.get(path) is not None
        if not lro:
            fake.seed(path, body)
            return _ok(fake.get(path), 200 if existed else 201)
        body["properties"]["provisioningState"] = "Creating"
        fake.seed(path, body)

        def finish() -> None:
            fake.get(path)["properties"]["provisioningState"] = "Succeeded"
        url = fake.new_operation(finish)
        return _ok(fake.get(path), 200 if existed else 201, {"Azure-AsyncOperation": url,
                                                            "Retry-After": RETRY_AFTER_FIRST})
    return handler


route("PUT", WS + r"/computes/(?P<name>[^/]+)")(
    _aml_put("ComputeResource", "Microsoft.MachineLearningServices/workspaces/computes", True))
route("PUT", WS + r"/environments/(?P<name>[^/]+)/versions/(?P<v>[^/]+)")(
    _aml_put("EnvironmentVersion", "Microsoft.MachineLearningServices/workspaces/environments/versions", False))
route("PUT", WS + r"/data/(?P<name>[^/]+)/versions/(?P<v>[^/]+)")(
    _aml_put("DataVersionBase", "Microsoft.MachineLearningServices/workspaces/data/versions", False))
route("PUT", WS + r"/schedules/(?P<name>[^/]+)")(
    _aml_put("Schedule", "Microsoft.MachineLearningServices/workspaces/schedules", True))
route("PUT", WS + r"/datastores/(?P<name>[^/]+)")(
    _aml_put("Datastore", "Microsoft.MachineLearningServices/workspaces/datastores", False))
route("PUT", RG + r"/providers/Microsoft\.MachineLearningServices/registries/(?P<name>[^/]+)")(
    _aml_put("Registry", "Microsoft.MachineLearningServices/registries", True))


def _endpoint_put(model: str, rtype: str):
    """An online or batch endpoint: Azure refuses traffic to a deployment it does not have, and
    answers with the long-running-operation protocol."""
    put = _aml_put(model, rtype, True)

    def handler(fake: FakeAzure, g, q, data, path):
        validate(_models(model), data)
        traffic = ((data or {}).get("properties") or {}).get("traffic") or {}
        missing = [d for d in traffic if fake.get(f"{path}/deployments/{d}") is None]
        if missing:
            return _error(400, "BadArgument", f"traffic names deployment(s) {', '.join(missing)} that the endpoint "
                                              f"{g['name']} does not have")
        if traffic and sum(traffic.values()) != 100:
            return _error(400, "BadArgument", f"traffic adds up to {sum(traffic.values())}, not 100")
        return put(fake, g, q, data, path)
    return handler


def _canonical_collection_modes(body: dict[str, Any]) -> None:
    """Azure answers enum values in their canonical case: azure-ai-ml sends dataCollectionMode
    "enabled" and, reading the deployment back, recognises only "Enabled"."""
    collections = ((body["properties"].get("dataCollector") or {}).get("collections") or {})
    for conf in collections.values():
        mode = str(conf.get("dataCollectionMode") or "")
        if mode.lower() in ("enabled", "disabled"):
            conf["dataCollectionMode"] = mode.capitalize()


def _deployment_put(model: str, rtype: str):
    """An endpoint's deployment: the endpoint and the model version it names must exist; then it
    provisions (LRO), and fails or never finishes when a test injects it (endpoint_deployment_faults)."""
    def handler(fake: FakeAzure, g, q, data, path):
        validate(_models(model), data)
        endpoint = path.rsplit("/deployments/", 1)[0]
        if fake.get(endpoint) is None:
            return _error(404, "ResourceNotFound", f"endpoint {endpoint.rsplit('/', 1)[-1]} was not found")
        ref = str((data.get("properties") or {}).get("model") or "")
        if ref.startswith("/subscriptions/") and fake.get(ref) is None:
            return _error(400, "BadArgument", f"model {ref.split('/models/')[-1]} was not found in the workspace")
        if ref.startswith("azureml://registries/"):
            from .registries import registry_model

            if registry_model(fake, ref) is None:
                return _error(400, "BadArgument", f"model {ref} was not found in the registry")
        body = copy.deepcopy(data)
        body["type"] = rtype
        body["properties"]["provisioningState"] = "Creating"
        if model == "OnlineDeployment":  # what Azure fills in when the request leaves it out
            body["properties"].setdefault("scaleSettings", {"scaleType": "Default"})
            _canonical_collection_modes(body)
        existed = fake.get(path) is not None
        fake.seed(path, body)
        fault = fake.state.endpoint_deployment_faults.get(g["name"])

        def finish() -> None:
            if fault and fault.get("code"):
                fake.get(path)["properties"]["provisioningState"] = "Failed"
                raise _OperationFailed(fault["code"], fault["message"])
            fake.get(path)["properties"]["provisioningState"] = "Succeeded"
        url = fake.new_operation(finish, deployment=True)
        if fault and fault.get("never"):
            fake.operations[url.split("/operations/")[1].split("?")[0]]["never"] = True
        return _ok(fake.get(path), 200 if existed else 201, {"Azure-AsyncOperation": url,
                                                            "Retry-After": RETRY_AFTER_FIRST})
    return handler


route("PUT", WS + r"/onlineEndpoints/(?P<name>[^/]+)")(
    _endpoint_put("OnlineEndpoint", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"))
route("PUT", WS + r"/batchEndpoints/(?P<name>[^/]+)")(
    _endpoint_put("BatchEndpoint", "Microsoft.MachineLearningServices/workspaces/batchEndpoints"))
route("PUT", WS + r"/onlineEndpoints/(?P<ep>[^/]+)/deployments/(?P<name>[^/]+)")(
    _deployment_put("OnlineDeployment", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"))
route("PUT", WS + r"/batchEndpoints/(?P<ep>[^/]+)/deployments/(?P<name>[^/]+)")(
    _deployment_put("BatchDeployment", "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments"))


@route("GET", r"(?P<parent>/subscriptions/.+)/(?P<kind>computes|environments|versions|deployments)")
def _list_children(fake: FakeAzure, g, q, data, path):
    prefix = path.lower() + "/"
    items = [copy.deepcopy(r) for k, r in fake.state.resources.items()
             if k.startswith(prefix) and "/" not in k[len(prefix):]]
    if g["kind"] == "environments":  # containers are implied by their versions
        names = {k[len(prefix):].split("/")[0] for k in fake.state.resources if k.startswith(prefix)}
        items = [{"id": f"{path}/{n}", "name": n, "properties": {}} for n in sorted(names)]
    return _ok({"value": items})


@route("GET", r"/subscriptions/.+")
def _get_any(fake: FakeAzure, g, q, data, path):
    r = fake.get(path)
    if r is not None and r.get("type", "").lower() == "microsoft.machinelearningservices/workspaces":
        r.setdefault("properties", {})["discoveryUrl"] = f"{fake.endpoint}/fake/discovery"
        r["properties"].setdefault("workspaceId", workspace_guid(r["id"]))  # Azure's immutable id of it
    return _ok(copy.deepcopy(r)) if r is not None else _not_found(path)


def _ROUTE_DISCOVERY(fake: FakeAzure) -> tuple[int, dict[str, str], Any]:
    from .jobs import discovery

    return discovery(fake)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAzure
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.fake.handle(self.command, self.path, self.headers, body)
        self.fake.requests.append((self.command, self.path, status))
        raw = isinstance(payload, bytes)  # a blob's content, as stored
        out = payload if raw else b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if not raw:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in headers.items():
            if k != "Content-Length":
                self.send_header(k, v)
        self.send_header("Content-Length", headers.get("Content-Length") or str(len(out)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has headers only
            self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, *args) -> None:  # quiet: the fake records requests itself
        pass
