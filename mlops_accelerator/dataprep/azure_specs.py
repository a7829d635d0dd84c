"""What stage 4 looks like on Azure ML: datastore and data asset YAML per environment, storage RBAC.

    write_datastores(output_dir, data, environments)         # every configured datastore
    write_asset_specs(output_dir, environments, registered)  # every registered version
    write_storage_rbac(output_dir / "rbac", data)            # ARM template + CSV

write `azureml-data/<env>/datastores/<name>.yml` and `azureml-data/<env>/data-assets/<name>-<version>.yml`
(built with azure-ai-ml entities, then loaded back with `load_datastore` / `load_data`, since the SDK
validates nothing when it writes), and `rbac/storage-role-assignments.json` (an ARM template whose
principals are parameters) plus a CSV of the same assignments. Nothing is sent to Azure.

Identity-based datastores carry no credentials at all. A datastore configured with a key, SAS token
or service principal gets placeholder values: the real secret is supplied when the datastore is
created (`az ml datastore create --file ... --set credentials.account_key=...`), never kept here.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from ..lean_imports import skip_iri_grammar  # before azure-ai-ml: half its import cost buys nothing here
from . import DataPrepError

# Built-in data-plane roles (role definition ids are the same in every tenant).
ROLE_IDS = {"Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
            "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe"}
PRINCIPAL_TYPES = {"group": "Group", "user": "User", "service_principal": "ServicePrincipal",
                   "compute_managed_identity": "ServicePrincipal", "workspace_managed_identity": "ServicePrincipal"}
PLACEHOLDER = "set-at-creation-never-stored-in-the-project"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"


def datastore_entity(d: Any, endpoint: str = "core.windows.net") -> Any:
    """A datastore setting as azure-ai-ml's entity; `endpoint`: the storage suffix of its cloud."""
    from azure.ai.ml.entities import (
        AccountKeyConfiguration,
        AzureBlobDatastore,
        AzureDataLakeGen2Datastore,
        AzureFileDatastore,
        SasTokenConfiguration,
        ServicePrincipalConfiguration,
    )

    creds = None
    if d.auth == "account_key":
        creds = AccountKeyConfiguration(account_key=PLACEHOLDER)
    elif d.auth == "sas_token":
        creds = SasTokenConfiguration(sas_token=PLACEHOLDER)
    elif d.auth == "service_principal":
        creds = ServicePrincipalConfiguration(tenant_id=PLACEHOLDER_ID, client_id=PLACEHOLDER_ID,
                                              client_secret=PLACEHOLDER)
    allowed = {"azure_data_lake_gen2": ("identity_based", "service_principal"),
               "azure_file": ("identity_based", "account_key", "sas_token")}.get(d.type)
    if allowed and d.auth not in allowed:
        raise DataPrepError(f"datastore '{d.name}': a {d.type} datastore takes {' or '.join(allowed)} access, "
                            f"not {d.auth}: change its authentication (stage 4, Datastores)")
    common = {"name": d.name, "account_name": d.account_name, "credentials": creds, "endpoint": endpoint,
              "description": f"{d.name} datastore ({d.auth.replace('_', '-')} access)"}
    if d.type == "azure_data_lake_gen2":
        return AzureDataLakeGen2Datastore(filesystem=d.container, **common)
    if d.type == "azure_file":
        return AzureFileDatastore(file_share_name=d.container, **common)
    return AzureBlobDatastore(container_name=d.container, **common)


def auth_of(entity: Any) -> str:
    """The settings' auth vocabulary for a loaded datastore."""
    kind = type(entity.credentials).__name__
    return {"AccountKeyConfiguration": "account_key", "SasTokenConfiguration": "sas_token",
            "ServicePrincipalConfiguration": "service_principal"}.get(kind, "identity_based")


def _container_of(entity: Any) -> str:
    return getattr(entity, "filesystem", None) or getattr(entity, "container_name", None) or \
        getattr(entity, "file_share_name", "")


def _entry(env: str, kind: str, path: Path, out: Path, problems: list[str]) -> dict[str, Any]:
    return {"environment": env, "kind": kind, "path": path.relative_to(out).as_posix(), "loaded": True,
            "problems": problems}


def write_datastores(output_dir: str | Path, data: Any, environments: list[str],
                     regions: dict[str, str] | None = None) -> dict[str, Any]:
    """Datastore YAML per environment, loaded back. Returns the report (files, datastores as loaded).
    `regions` (environment -> Azure region) sets each datastore's storage endpoint to its cloud's
    (a US Government or China region's accounts are not under core.windows.net)."""
    from ..naming import storage_suffix

    skip_iri_grammar()
    from azure.ai.ml import load_datastore

    out = Path(output_dir)
    report: dict[str, Any] = {"files": [], "datastores": [], "loader": "azure.ai.ml.load_datastore"}
    for env in environments:
        endpoint = storage_suffix((regions or {}).get(env, ""))
        for d in data.datastores:
            path = out / "azureml-data" / env / "datastores" / f"{d.name}.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            datastore_entity(d, endpoint).dump(path)
            back = load_datastore(path)
            got = {"name": back.name, "type": str(back.type).lower().split(".")[-1], "auth": auth_of(back),
                   "account_name": back.account_name, "container": _container_of(back), "endpoint": back.endpoint}
            want = {"name": d.name, "type": d.type, "auth": d.auth, "account_name": d.account_name,
                    "container": d.container, "endpoint": endpoint}
            report["files"].append(_entry(env, "datastore", path, out,
                                          [f"{k}: {got[k]} != {want[k]}" for k in want if got[k] != want[k]]))
            if env == environments[0]:
                report["datastores"].append(got)
    (out / "azureml-data").mkdir(parents=True, exist_ok=True)
    (out / "azureml-data" / "datastores-validation.json").write_text(json.dumps(report, indent=2))
    return report


def write_asset_specs(output_dir: str | Path, environments: list[str],
                      registered: list[dict[str, Any]]) -> dict[str, Any]:
    """Data asset YAML per environment for every registered version, loaded back with load_data."""
    skip_iri_grammar()
    from azure.ai.ml import load_data
    from azure.ai.ml.entities import Data

    out = Path(output_dir)
    report: dict[str, Any] = {"files": [], "loader": "azure.ai.ml.load_data"}
    for env in environments:
        for rec in registered:
            path = out / "azureml-data" / env / "data-assets" / f"{rec['name']}-{rec['version']}.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            Data(name=rec["name"], version=rec["version"], type=rec["type"], path=rec["path"],
                 description=rec.get("description") or None, tags=rec.get("tags") or {}).dump(path)
            back = load_data(path)
            report["files"].append(_entry(env, "data asset", path, out,
                                          [f"{k}: {getattr(back, k)} != {rec[k]}"
                                           for k in ("name", "version", "type", "path")
                                           if str(getattr(back, k)) != str(rec[k])]))
    (out / "azureml-data").mkdir(parents=True, exist_ok=True)
    (out / "azureml-data" / "data-assets-validation.json").write_text(json.dumps(report, indent=2))
    return report


def _literal(text: str) -> str:
    """A string ARM must not read as an expression: a leading '[' is escaped as '[['."""
    return "[" + text if text.startswith("[") else text


def _unliteral(text: str) -> str:
    return text[1:] if text.startswith("[[") else text


def _param(principal: str) -> str:
    return "principalId_" + re.sub(r"[^A-Za-z0-9]", "_", principal)


def write_storage_rbac(folder: Path, data: Any) -> list[dict[str, Any]]:
    """ARM template + CSV of the data-plane role assignments; returns them as read back from the template."""
    folder.mkdir(parents=True, exist_ok=True)
    stores = {d.name: d for d in data.datastores}
    accounts = sorted({d.account_name for d in data.datastores})
    param_of: dict[str, str] = {}
    for r in data.storage_rbac:
        if r.principal not in param_of:
            name = _param(r.principal)
            while name in param_of.values():  # two principals that differ only in punctuation
                name += "_"
            param_of[r.principal] = name
    params = {p: {"type": "string", "metadata": {"description": _literal(f"Object id of {n}")}}
              for n, p in param_of.items()}
    resources = []
    for r in data.storage_rbac:
        # container scope: that datastore's container; account scope: every account holding data
        targets = [stores[r.datastore]] if r.scope == "container" else \
            [next(d for d in data.datastores if d.account_name == a) for a in accounts]
        for d in targets:
            scope = f"Microsoft.Storage/storageAccounts/{d.account_name}"
            if r.scope == "container":
                scope += f"/blobServices/default/containers/{d.container}"
            role_id = ROLE_IDS[r.role]
            resources.append({
                "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
                "name": f"[guid('{scope}', parameters('{param_of[r.principal]}'), '{role_id}')]",
                "scope": scope,
                "properties": {
                    "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
                                        f"'{role_id}')]",
                    "principalId": f"[parameters('{param_of[r.principal]}')]",
                    "principalType": PRINCIPAL_TYPES[r.principal_type],
                    "description": _literal(f"{r.principal}: {r.role} on "
                                            f"{r.datastore if r.scope == 'container' else 'account'}"),
                },
                "metadata": {"principal": _literal(r.principal), "role": r.role, "scope": r.scope,
                             "datastore": r.datastore},
            })
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "parameters": params, "resources": resources}
    path = folder / "storage-role-assignments.json"
    path.write_text(json.dumps(template, indent=2))
    with open(folder / "storage-role-assignments.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["principal", "principal_type", "role", "scope", "datastore", "resource_scope"])
        for res in resources:
            m = res["metadata"]
            w.writerow([m["principal"], res["properties"]["principalType"], m["role"], m["scope"],
                        m["datastore"] or "", res["scope"]])
    names = {v: k for k, v in ROLE_IDS.items()}
    read = json.loads(path.read_text())
    seen = []
    for res in read["resources"]:
        role = names[re.search(r"'([0-9a-f-]{36})'\)\]$", res["properties"]["roleDefinitionId"]).group(1)]
        row = {"principal": _unliteral(res["metadata"]["principal"]), "role": role, "scope": res["metadata"]["scope"],
               "datastore": res["metadata"]["datastore"]}
        if row not in seen:
            seen.append(row)
    return seen
