"""Stages 4-6 on Azure: what the stages' notebooks wrote as Azure ML specs, created in each
environment's workspace and read back as the "from Azure" evidence of the stage.

    data     azureml-data/<env>/datastores/*.yml, azureml-data/<env>/data-assets/*.yml
    models   azureml-models/<env>/online-endpoint.yml, deployment-<name>.yml (each waits for its
             provisioning), online-endpoint-traffic.yml, batch-endpoint.yml, batch-deployment.yml
    monitor  monitor/model-monitor.yml, in production's workspace (the last of the promotion path)

Every spec is read by azure-ai-ml's own loader (load_datastore, load_online_endpoint, ...), so what
is sent is what the SDK accepts. The model version a deployment names is registered in each
environment's workspace before its endpoints: when the workspace does not have it and it is the
version this run's stage 5 registered in the project's MLflow registry, its MLflow model folder is
uploaded to the workspace's default datastore and registered there with the same name, version and
tags (the SDK's own upload); any other missing version is named, and that environment's endpoints
are not created. With models.cross_env_model_transfer: aml_registry the deployments name the stage-3
registry's copy instead: the first environment registers this run's version in its workspace and
shares it to the registry (ml.models.share); the next ones find it there. Each spec is one step: a
failure names the environment, the spec and Azure's code and message, and the read-back of what
exists is kept all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .connection import AzureEnv, in_cloud, ml_client
from .stage3 import StepFailed, _finish, _message, _plain


def workspace_client(project: Any, cred: Any, env: AzureEnv) -> Any:
    """The environment's MLClient; StepFailed when its workspace is not on Azure (stage 3 makes it)."""
    from ..settings.design import resource_name
    from .arm import call
    from .connection import arm_client

    name = resource_name(project.settings("design"), "workspace_name", env.name)
    rid = (f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
           f"Microsoft.MachineLearningServices/workspaces/{name}")
    if call(arm_client(cred), "GET", rid, "ml") is None:
        raise StepFailed("workspace", f"{name} is not in {env.resource_group}: deploy stage 3 to Azure first "
                                      "('mlops-accelerator run deploy --target azureml')")
    return ml_client(cred, env, name, show_progress=False)


def _step(what: str, fn: Any) -> Any:
    """One spec on Azure; any error becomes StepFailed naming the spec."""
    try:
        return fn()
    except StepFailed:
        raise
    except Exception as exc:  # an Azure error or a spec the loader refuses
        raise StepFailed(what, f"{type(exc).__name__}: {_message(exc)}") from None


# -- stage 4: datastores and data assets --------------------------------------------------------------

def data_on_azure(ml: Any, folder: Path, upload: Any = None) -> tuple[dict[str, Any], list[str]]:
    """One environment's datastores and data assets (`folder` = azureml-data/<env>), each new asset
    version's files uploaded first through `upload` (assets.lake_uploader). Returns the read-back
    ({"datastores", "data_assets"}) and the failures."""
    from azure.ai.ml import load_datastore

    from .assets import create_data_assets

    stores, failures = [], []
    for path in sorted((folder / "datastores").glob("*.yml")):
        try:
            spec = _step(f"datastore {path.name}", lambda p=path: load_datastore(p))
            _step(f"datastore {path.name}", lambda s=spec: ml.datastores.create_or_update(s))
            back = _step(f"datastore {path.name}", lambda s=spec: ml.datastores.get(s.name))
        except StepFailed as exc:
            failures.append(str(exc))
            continue
        stores.append({"name": back.name, "type": str(_plain(back.type)).lower().split(".")[-1],
                       "account_name": getattr(back, "account_name", None),
                       "container": getattr(back, "container_name", None) or getattr(back, "filesystem", None)})
    if failures:  # data assets on a datastore that is not there would be refused one by one: stop here
        return {"datastores": stores, "data_assets": []}, failures
    assets, asset_failures = create_data_assets(ml, folder / "data-assets", upload)
    return {"datastores": stores, "data_assets": assets}, failures + asset_failures


# -- stage 5: model, endpoints, deployments, traffic -----------------------------------------------------

def _model_ref(ref: Any) -> tuple[str, str | None]:
    """'azureml:name:version' / 'azureml:name@latest' -> (name, version or None for @latest)."""
    text = str(ref).removeprefix("azureml:")
    if "@" in text:
        return text.split("@", 1)[0], None
    name, _, version = text.partition(":")
    return name, version or None


@dataclass
class LocalModel:
    """The model version this run's stage 5 registered in the project's MLflow registry."""

    name: str
    version: str
    project_dir: Path
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    origin: str = "the project's MLflow registry"

    @classmethod
    def from_evidence(cls, evidence: dict[str, Any], project_dir: Path) -> LocalModel | None:
        m = evidence.get("model") or {}
        if not (m.get("name") and m.get("version")):
            return None  # this run registered nothing (gates failed, or the champion stayed)
        return cls(str(m["name"]), str(m["version"]), project_dir,
                   {str(k): str(v) for k, v in (m.get("tags") or {}).items()}, m.get("run_id"))

    def folder(self) -> Path:
        """The version's MLflow model folder (MLmodel and its files) in the project's artifact store."""
        from urllib.parse import unquote, urlsplit

        from ..tracking import project_client

        uri = project_client(self.project_dir).get_model_version_download_uri(self.name, self.version)
        path = Path(unquote(urlsplit(uri).path)) if uri.startswith("file:") else Path(uri)
        if not (path / "MLmodel").is_file():
            raise StepFailed(f"model {self.name}:{self.version}", f"its MLflow model folder {path} has no MLmodel "
                                                                  "file in the project's registry")
        return path


def _register(ml: Any, local: LocalModel) -> None:
    """Upload the MLflow model folder to the workspace's default datastore and register it there."""
    from azure.ai.ml.entities import Model

    from ..artifacts.azureml_specs import _quiet_sdk
    model = Model(name=local.name, version=local.version, type="mlflow_model", path=str(local.folder()),
                  tags=local.tags, properties={"mlflow_run_id": local.run_id} if local.run_id else {},
                  description=f"Registered by the MLOps Accelerator from {local.origin} (stage 5)")
    with in_cloud(), _quiet_sdk():  # the upload builds its storage URL from the current cloud
        ml.models.create_or_update(model)


def _get_or_add(ops: Any, name: str, version: str | None, spec: str, local: LocalModel | None, where: str,
                add: Any, hint: str) -> dict[str, Any]:
    """The model version `ops` (a workspace's or a registry's models) holds; when missing and it is the
    version this run registered, `add()` puts it there first. Any other missing version is named."""
    from azure.core.exceptions import ResourceNotFoundError

    def get() -> Any:
        return ops.get(name, version=version) if version else ops.get(name, label="latest")
    registered = "before this run"
    try:
        m = get()
    except ResourceNotFoundError:
        if local is None or (local.name, local.version) != (name, version):
            raise StepFailed(f"model {name}:{version or 'latest'} (named by {spec})",
                             f"not {where}, and not the version this run registered: {hint}") from None
        add()
        m = _step(f"model {name}:{version} (reading it back)", get)
        registered = "by this run"
    return {"name": m.name, "version": str(m.version), "type": _plain(m.type), "registered": registered,
            "path": str(m.path) if m.path else None, "tags": dict(m.tags or {})}


def _registered_model(ml: Any, ref: Any, spec: str, local: LocalModel | None = None) -> dict[str, Any]:
    name, version = _model_ref(ref)
    return _get_or_add(ml.models, name, version, spec, local, "registered in this workspace",
                       lambda: _step(f"model {name}:{version} (registering this run's version)",
                                     lambda: _register(ml, local)),
                       "register it there first (the training pipeline's register step, or the CD workflow's "
                       "train job)")


REGISTRY_MODEL = re.compile(r"azureml://registries/(?P<registry>[^/]+)/models/(?P<name>[^/]+)/"
                            r"(?:versions/(?P<version>[^/]+)|labels/latest)")


def _share(ml: Any, local: LocalModel, registry: str) -> None:
    """Copy the workspace's version of this run's model into the registry, same name and version."""
    from ..artifacts.azureml_specs import _quiet_sdk

    with in_cloud(), _quiet_sdk():  # registry discovery reads the current cloud; 'experimental' log lines
        ml.models.share(local.name, local.version, share_with_name=local.name, share_with_version=local.version,
                        registry_name=registry)


def _shared_model(ml: Any, registries: Any, ref: Any, spec: str, local: LocalModel | None) -> dict[str, Any]:
    """A deployment naming a registry's model (models.cross_env_model_transfer: aml_registry): when the
    registry lacks this run's version, it is registered in this environment's workspace (if missing
    there) and shared from it; later environments find it in the registry."""
    m = REGISTRY_MODEL.fullmatch(str(ref))
    registry, name, version = m["registry"], m["name"], m["version"]
    client = _step(f"registry {registry}", lambda: registries(registry))

    def add() -> None:
        _registered_model(ml, f"azureml:{name}:{version}", spec, local)
        _step(f"model {name}:{version} (sharing it to registry {registry})", lambda: _share(ml, local, registry))
    return {**_get_or_add(client.models, name, version, spec, local, f"in registry {registry}", add,
                          "share it there first (the CD workflow's train job does)"), "registry": registry}


def _read_online(ml: Any, name: str) -> dict[str, Any] | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        ep = ml.online_endpoints.get(name)
    except ResourceNotFoundError:
        return None
    deployments = []
    for d in ml.online_deployments.list(name):
        collector = getattr(d, "data_collector", None)
        deployments.append({
            "name": d.name, "model": str(d.model) if d.model else None, "instance_type": d.instance_type,
            "instance_count": d.instance_count, "state": _plain(d.provisioning_state),
            "data_collection": sorted((getattr(collector, "collections", None) or {}).keys())})
    return {"name": ep.name, "auth_mode": _plain(ep.auth_mode), "state": _plain(ep.provisioning_state),
            "traffic": dict(ep.traffic or {}), "scoring_uri": ep.scoring_uri, "deployments": deployments}


def _read_batch(ml: Any, name: str) -> dict[str, Any] | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        ep = ml.batch_endpoints.get(name)
    except ResourceNotFoundError:
        return None
    return {"name": ep.name, "state": _plain(ep.provisioning_state), "deployments": [
        {"name": d.name, "model": str(d.model) if d.model else None, "compute": d.compute,
         "state": _plain(d.provisioning_state)} for d in ml.batch_deployments.list(name)]}


def deploying(ref: Any, model: Any) -> str:
    """A deployment spec's model reference pointed at `model` (its name and version): the same
    registry when the spec names a registry's model, else the workspace's."""
    m = REGISTRY_MODEL.fullmatch(str(ref))
    if m:
        return f"azureml://registries/{m['registry']}/models/{model.name}/versions/{model.version}"
    return f"azureml:{model.name}:{model.version}"


def models_on_azure(ml: Any, folder: Path, local: Any = None, registries: Any = None,
                    deploy: bool = True, trained: bool = False) -> tuple[dict[str, Any], list[str]]:
    """One environment's endpoints from `folder` (= azureml-models/<env>): the model (registered from
    `local` when it is the one named and missing; shared to the registry a deployment names, through
    `registries(name)` -> its MLClient), the online endpoint, each deployment, the traffic split, the
    batch endpoint and deployment; then read back. `trained`: `local` is the version the training job
    registered on Azure (azure/training.py), which every deployment then names instead of the
    notebook's. `deploy=False` only reads back (the training kept the current champion)."""
    import azure.ai.ml as aml

    failures: list[str] = []
    out: dict[str, Any] = {"model": None, "online_endpoint": None, "batch_endpoint": None}
    online = folder / "online-endpoint.yml"
    batch = folder / "batch-endpoint.yml"
    deployments = sorted(folder.glob("deployment-*.yml")) if deploy else []

    def load(loader: str, path: Path) -> Any:
        return _step(path.name, lambda: getattr(aml, loader)(source=path))

    try:
        # azure-ai-ml resolves a registry's model through registry discovery at the current cloud's
        # endpoint: without this, a custom cloud's deployments would ask public Azure
        with in_cloud():
            specs = [load("load_online_deployment", p) for p in deployments]
            if deploy and (folder / "batch-deployment.yml").is_file():
                specs.append(load("load_batch_deployment", folder / "batch-deployment.yml"))
            if trained:
                for spec in specs:
                    spec.model = deploying(spec.model, local)
            if specs:
                named_by = deployments[0].name if deployments else "batch-deployment.yml"
                if REGISTRY_MODEL.fullmatch(str(specs[0].model)):
                    if registries is None:
                        raise StepFailed(named_by, f"names a registry's model ({specs[0].model}): no registry "
                                                   "client was given")
                    out["model"] = _shared_model(ml, registries, specs[0].model, named_by, local)
                else:
                    out["model"] = _registered_model(ml, specs[0].model, named_by, local)
            if online.is_file() and deploy:
                ep = load("load_online_endpoint", online)
                _step(online.name, lambda: _finish(ml.online_endpoints.begin_create_or_update(ep), online.name,
                                                   ep.name))
                for path, dep in zip(deployments, specs, strict=False):
                    _step(path.name, lambda d=dep, p=path: _finish(ml.online_deployments.begin_create_or_update(
                        d, skip_script_validation=True), p.name, f"deployment {d.name}"))
                traffic = folder / "online-endpoint-traffic.yml"
                if traffic.is_file():
                    split = load("load_online_endpoint", traffic)
                    _step(traffic.name, lambda: _finish(ml.online_endpoints.begin_create_or_update(split),
                                                        traffic.name, split.name))
            if batch.is_file() and deploy:
                bep = load("load_batch_endpoint", batch)
                _step(batch.name, lambda: _finish(ml.batch_endpoints.begin_create_or_update(bep), batch.name,
                                                  bep.name))
                bdep = specs[-1]
                _step("batch-deployment.yml", lambda: _finish(ml.batch_deployments.begin_create_or_update(
                    bdep, skip_script_validation=True), "batch-deployment.yml", f"batch deployment {bdep.name}"))
    except StepFailed as exc:
        failures.append(str(exc))
    # What exists now, whatever failed above: the evidence is what Azure returns, never what was sent.
    try:
        if online.is_file():
            out["online_endpoint"] = _read_online(ml, load("load_online_endpoint", online).name)
        if batch.is_file():
            out["batch_endpoint"] = _read_batch(ml, load("load_batch_endpoint", batch).name)
    except Exception as exc:  # a read that fails is one more failure, not a lost evidence file
        failures.append(f"read back: {type(exc).__name__}: {_message(exc)}")
    return out, failures
